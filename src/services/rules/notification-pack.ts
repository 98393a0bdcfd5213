import type { EntityManager } from 'typeorm';
import { PACK_RULES, PACK_TEMPLATES, type PackRule, type PackTemplate } from './notification-pack.v1';
import { PACK_V2_TEMPLATES } from './notification-pack.v2';

/** Every version of the pack, as a new tenant gets it. */
export const CURRENT_PACK: { templates: PackTemplate[]; rules: PackRule[] } = {
  templates: [...PACK_TEMPLATES, ...PACK_V2_TEMPLATES],
  rules: PACK_RULES,
};

/**
 * Installs a version of the built-in notification pack for a tenant: its templates and
 * its rules, active. What the tenant already has (a template or rule of the same name,
 * perhaps edited) is left alone, so installing again is harmless. Plain SQL, so the
 * migration that installs it for existing tenants does not depend on today's entities.
 */
export async function installNotificationPack(
  manager: EntityManager,
  tenantId: string,
  pack: { templates: PackTemplate[]; rules: PackRule[] } = CURRENT_PACK,
): Promise<void> {
  await manager.query(
    `INSERT INTO message_template ("tenantId", channel, name, subject, body)
     SELECT $1, v.channel::channel, v.name, v.subject, v.body
       FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS v(channel, name, subject, body)
     ON CONFLICT ("tenantId", channel, name) DO NOTHING`,
    [
      tenantId,
      pack.templates.map((template) => template.channel),
      pack.templates.map((template) => template.name),
      pack.templates.map((template) => template.subject ?? null),
      pack.templates.map((template) => template.body),
    ],
  );
  if (!pack.rules.length) return;
  await manager.query(
    `INSERT INTO automation_rule ("tenantId", name, description, active, "triggerType", "eventTypes", "dateTrigger", cron,
                                  conditions, delay, actions, "maxExecutionsPerSubject", "builtIn")
     SELECT $1, r.name, r.description, true, r."triggerType", ARRAY(SELECT jsonb_array_elements_text(r."eventTypes")),
            r."dateTrigger", r.cron, r.conditions, r.delay, r.actions, r."maxExecutionsPerSubject", r.key
       FROM jsonb_to_recordset($2::jsonb) AS r(key text, name text, description text, "triggerType" text, "eventTypes" jsonb,
                                               "dateTrigger" jsonb, cron text, conditions jsonb, delay jsonb, actions jsonb,
                                               "maxExecutionsPerSubject" int)
     ON CONFLICT ("tenantId", name) DO NOTHING`,
    [
      tenantId,
      JSON.stringify(
        pack.rules.map(({ key, rule }) => ({
          key,
          name: rule.name,
          description: rule.description ?? null,
          triggerType: rule.triggerType,
          eventTypes: rule.eventTypes ?? [],
          dateTrigger: rule.dateTrigger ?? null,
          cron: rule.cron ?? null,
          conditions: rule.conditions ?? null,
          delay: rule.delay ?? null,
          actions: rule.actions,
          maxExecutionsPerSubject: rule.maxExecutionsPerSubject ?? null,
        })),
      ),
    ],
  );
}
