import type { EntityManager } from 'typeorm';
import { AutomationRule, RuleTriggerType } from '../../entities/automation-rule.entity';

interface TenantRules {
  version: string;
  rules: AutomationRule[];
  byType: Map<string, AutomationRule[]>;
}

/**
 * Each tenant's active event rules, kept in memory by the process that matches events.
 *
 * Correct without any message between processes: a trigger bumps `tenant.rulesVersion`
 * in the transaction that writes a rule, and matching reads the tenant row anyway, so a
 * cached list is used only while the version it was loaded at is still the one the
 * caller's transaction sees. Counters are not part of it; a rule with `maxExecutions`
 * has its count read fresh before it acts (RuleEngine).
 */
export class RuleCache {
  private readonly tenants = new Map<string, TenantRules>();

  constructor(private readonly maxTenants = 1000) {}

  /** The active event rules listening to `type` (exact, `*` or a prefix such as `ticket.*`), highest priority first. */
  async listening(manager: EntityManager, tenantId: string, version: string, type: string): Promise<AutomationRule[]> {
    let entry = this.tenants.get(tenantId);
    if (!entry || entry.version !== version) {
      entry = { version, rules: await this.load(manager, tenantId), byType: new Map() };
      this.tenants.delete(tenantId);
      if (this.tenants.size >= this.maxTenants) this.tenants.delete(this.tenants.keys().next().value as string);
      this.tenants.set(tenantId, entry);
    }
    let rules = entry.byType.get(type);
    if (!rules) {
      const accepted = new Set(['*', type, ...type.split('.').map((_, n, parts) => `${parts.slice(0, n + 1).join('.')}.*`)]);
      rules = entry.rules.filter((rule) => rule.eventTypes.some((listened) => accepted.has(listened)));
      if (entry.byType.size < 10_000) entry.byType.set(type, rules);
    }
    return rules;
  }

  private load(manager: EntityManager, tenantId: string): Promise<AutomationRule[]> {
    return manager.find(AutomationRule, {
      where: { tenantId, active: true, triggerType: RuleTriggerType.EVENT },
      order: { priority: 'DESC', createdAt: 'ASC' },
    });
  }
}
