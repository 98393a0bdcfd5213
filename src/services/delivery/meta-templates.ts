import type { DataSource } from 'typeorm';
import { type MetaTemplateApi, MetaApiError, type MetaTemplateRecord } from '../../channels/meta-templates';
import { ProviderKind } from '../../entities/channel';
import type { ChannelProvider } from '../../entities/channel-provider.entity';
import { MetaTemplate, MetaTemplateCategory, MetaTemplateStatus } from '../../entities/meta-template.entity';
import { Role } from '../../entities/user.entity';
import type { Clock } from '../platform/clock';
import { DomainError, ErrorCode, badInput, notFound } from '../platform/errors';
import type { Principal } from '../directory/principal';
import type { StaffNotificationService } from '../notifications/staff-notification.service';
import type { Transactor, UnitOfWork } from '../platform/unit-of-work';
import type { ChannelProviderService } from './channel-provider.service';
import type { MessagingService } from './messaging.service';
import type { MetaTemplateStatusUpdate } from '../../channels/meta-webhook';

/** Statuses in which Meta will not send a template: admins are told when one lands there. */
const UNUSABLE = new Set<string>([
  MetaTemplateStatus.REJECTED,
  MetaTemplateStatus.PAUSED,
  MetaTemplateStatus.DISABLED,
  MetaTemplateStatus.PENDING_DELETION,
  MetaTemplateStatus.DELETED,
  MetaTemplateStatus.ARCHIVED,
  MetaTemplateStatus.LIMIT_EXCEEDED,
]);

/** Whether a message may go as this template, by what Meta last said of it (never heard of: Meta decides). */
export const templateUsable = (status: string | undefined): boolean =>
  status === undefined || status === MetaTemplateStatus.APPROVED;

/**
 * SQL for what Meta last said of a delivery row's (`alias`) template, for a statement that
 * reads deliveries (the dispatcher's claim): a JSON object of provider id to status, or
 * null when it has no Meta template. Read it with parseStatuses.
 */
export const templateStatusesOf = (alias: string): string =>
  `CASE WHEN ${alias}."metaTemplate" IS NOT NULL THEN (SELECT jsonb_object_agg(t."providerId", t.status) FROM meta_template t
          WHERE t."tenantId" = ${alias}."tenantId" AND t.name = ${alias}."metaTemplate" ->> 'name'
            AND t.language = ${alias}."metaTemplate" ->> 'language') END`;

export function parseStatuses(value: unknown): ReadonlyMap<string, string> {
  return new Map(value && typeof value === 'object' ? Object.entries(value as Record<string, string>) : []);
}

/** Meta's own words for a status, upper case; anything unknown is kept as Meta wrote it. */
const statusOf = (value: string): MetaTemplateStatus => value.toUpperCase() as MetaTemplateStatus;

export interface SyncResult {
  templates: MetaTemplate[];
  added: number;
  changed: number;
  removed: number;
}

export interface SubmitInput {
  providerId: string;
  /** The product's WhatsApp template to submit. */
  templateId: string;
  category: MetaTemplateCategory;
  /** Meta's language code; the template's metaLanguage, else en_US. */
  language?: string | null;
  /** An example value for each placeholder, in order (Meta's reviewers see them). */
  examples?: string[] | null;
}

/** Meta's rule for template names: lower-case letters, digits and underscores. */
export function metaTemplateName(name: string): string {
  const cleaned = name
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return (cleaned || 'template').slice(0, 512);
}

/**
 * A product template body as Meta's: each placeholder, in order and repeats included (as
 * templateParameters fills them), becomes {{1}}, {{2}}, ...; fallbacks are the product's
 * affair and are dropped.
 */
export function metaBody(body: string): { text: string; placeholders: string[] } {
  const placeholders: string[] = [];
  const text = body.replace(/\{\{\s*([a-zA-Z_][\w.]*)\s*(?:\|\s*([^}]*?)\s*)?\}\}/g, (_, name: string) => {
    placeholders.push(name);
    return `{{${placeholders.length}}}`;
  });
  return { text, placeholders };
}

/**
 * The owner of `meta_template`: the message templates of the tenant's WhatsApp Business
 * Accounts, read from Meta (syncMetaTemplates), submitted to it (submitMetaTemplate) and kept
 * current by its `message_template_status_update` webhook.
 */
export class MetaTemplateService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly transactor: Transactor,
    private readonly providers: ChannelProviderService,
    private readonly messaging: MessagingService,
    private readonly api: MetaTemplateApi,
    private readonly notifications: StaffNotificationService,
    private readonly clock: Clock,
  ) {}

  /** What Meta last said of one template, by provider, for a delivery not read by a claim. */
  async statusesOf(tenantId: string, name: string, language: string): Promise<ReadonlyMap<string, string>> {
    const rows = await this.dataSource.getRepository(MetaTemplate).findBy({ tenantId, name, language });
    return new Map(rows.map((row) => [row.providerId, row.status]));
  }

  list(actor: Principal, providerId?: string | null): Promise<MetaTemplate[]> {
    return this.dataSource.getRepository(MetaTemplate).find({
      where: { tenantId: actor.tenantId, ...(providerId ? { providerId } : {}) },
      order: { name: 'ASC', language: 'ASC' },
    });
  }

  /** Reads every template of the provider's business account and stores them; templates gone at Meta go here too. */
  async sync(actor: Principal, providerId: string): Promise<SyncResult> {
    const provider = await this.metaProvider(actor, providerId);
    const records = await this.fromMeta(() => this.api.list(this.providers.account(provider)));
    return this.transactor.run(async (uow) => {
      const repository = uow.manager.getRepository(MetaTemplate);
      const existing = await repository.findBy({ providerId: provider.id });
      const byKey = new Map(existing.map((row) => [`${row.name}:${row.language}`, row]));
      const now = this.clock.now();
      let added = 0;
      let changed = 0;
      const kept = new Set<string>();
      for (const record of records) {
        const key = `${record.name}:${record.language}`;
        if (kept.has(key)) continue;
        kept.add(key);
        const row = byKey.get(key);
        const status = statusOf(String(record.status ?? 'PENDING'));
        if (!row) added++;
        else if (row.status !== status) changed++;
        const saved = await repository.save(
          Object.assign(row ?? repository.create({ tenantId: provider.tenantId, providerId: provider.id }), {
            metaId: String(record.id ?? '') || null,
            name: record.name,
            language: String(record.language ?? ''),
            category: String(record.category ?? ''),
            status,
            reason: reasonOf(record),
            components: Array.isArray(record.components) ? record.components : [],
            syncedAt: now,
          }),
        );
        if (UNUSABLE.has(status) && row?.status !== status) await this.tellAdmins(uow, saved, row?.status ?? null);
      }
      const gone = existing.filter((row) => !kept.has(`${row.name}:${row.language}`));
      if (gone.length) await repository.delete(gone.map((row) => row.id));
      return {
        templates: await repository.find({ where: { providerId: provider.id }, order: { name: 'ASC', language: 'ASC' } }),
        added,
        changed,
        removed: gone.length,
      };
    });
  }

  /**
   * Submits a product WhatsApp template for Meta's review: its body with numbered
   * parameters and an example for each, under its Meta name (metaTemplateName, else its own
   * name made Meta-safe). The product template is mapped to it, and it is stored PENDING
   * (or as Meta answered) until the status webhook or a sync says more.
   */
  async submit(actor: Principal, input: SubmitInput): Promise<MetaTemplate> {
    const provider = await this.metaProvider(actor, input.providerId);
    const template = await this.messaging.whatsappTemplate(actor, input.templateId);
    if (!template) throw notFound('WhatsApp template', input.templateId);
    const { text, placeholders } = metaBody(template.body);
    const examples = input.examples ?? [];
    if (examples.length && examples.length !== placeholders.length)
      throw badInput(
        `Give one example for each of the template's ${placeholders.length} placeholder(s), in order: ${placeholders.join(', ')}`,
        'examples',
      );
    const name = template.metaTemplateName ?? metaTemplateName(template.name);
    const language = input.language ?? template.metaLanguage ?? 'en_US';
    const body: Record<string, unknown> = { type: 'BODY', text };
    if (placeholders.length)
      body.example = { body_text: [placeholders.map((placeholder, index) => examples[index] ?? `[${placeholder}]`)] };
    const created = await this.fromMeta(() =>
      this.api.create(this.providers.account(provider), { name, language, category: input.category, components: [body] }),
    );
    return this.transactor.run(async (uow) => {
      await this.messaging.mapToMetaTemplate(uow, template, name, language);
      const repository = uow.manager.getRepository(MetaTemplate);
      const row =
        (await repository.findOneBy({ providerId: provider.id, name, language })) ??
        repository.create({ tenantId: provider.tenantId, providerId: provider.id, name, language });
      return repository.save(
        Object.assign(row, {
          metaId: created.id,
          category: created.category,
          status: statusOf(created.status),
          reason: null,
          components: [body],
          syncedAt: this.clock.now(),
        }),
      );
    });
  }

  /**
   * Meta's `message_template_status_update` for a business account: the stored template of
   * every provider of that account gets the new status; a template that became unusable is
   * told to that tenant's admins, once per status change.
   */
  async applyStatusUpdate(update: MetaTemplateStatusUpdate): Promise<number> {
    return this.transactor.run(async (uow) => {
      const providers = (await uow.manager.query(
        `SELECT id, "tenantId" FROM channel_provider WHERE kind = $1 AND settings ->> 'businessAccountId' = $2`,
        [ProviderKind.META_WHATSAPP, update.businessAccountId],
      )) as Array<{ id: string; tenantId: string }>;
      const repository = uow.manager.getRepository(MetaTemplate);
      let applied = 0;
      for (const provider of providers) {
        const row =
          (update.metaId ? await repository.findOneBy({ providerId: provider.id, metaId: update.metaId }) : null) ??
          (await repository.findOneBy({ providerId: provider.id, name: update.name, language: update.language }));
        // Only templates a sync or a submission stored: those the tenant's own token proved it can read.
        // A provider naming another business's account id learns nothing from its webhooks.
        if (!row) continue;
        const previous = row.status;
        const status = statusOf(update.status);
        if (previous === status) continue;
        const saved = await repository.save(
          Object.assign(row, { metaId: update.metaId ?? row.metaId, status, reason: update.reason, syncedAt: this.clock.now() }),
        );
        applied++;
        if (UNUSABLE.has(status)) await this.tellAdmins(uow, saved, previous);
      }
      return applied;
    });
  }

  private async tellAdmins(uow: UnitOfWork, template: MetaTemplate, previous: string | null): Promise<void> {
    const admins = (await uow.manager.query(`SELECT id FROM "user" WHERE "tenantId" = $1 AND role = $2 AND active`, [
      template.tenantId,
      Role.ADMIN,
    ])) as Array<{ id: string }>;
    await this.notifications.notify(
      uow,
      template.tenantId,
      admins.map((admin) => admin.id),
      {
        title: `WhatsApp template ${template.name} (${template.language}) is ${template.status}`,
        body:
          `Meta ${previous ? `moved it from ${previous} to` : 'reports it as'} ${template.status}` +
          `${template.reason ? ` (${template.reason})` : ''}. It is not used while it is not APPROVED: messages from templates mapped to it go as free text inside the customer's 24-hour window, through a gateway, or fail with OUTSIDE_SERVICE_WINDOW. Edit it at Meta or submit a new one.`,
      },
      `meta-template:${template.id}:${previous ?? 'new'}-${template.status}:${template.syncedAt.toISOString()}`,
    );
  }

  private async metaProvider(actor: Principal, providerId: string): Promise<ChannelProvider> {
    const provider = await this.providers.get(actor, providerId);
    if (provider.kind !== ProviderKind.META_WHATSAPP)
      throw badInput('Message templates live in a Meta WhatsApp provider’s business account', 'providerId');
    if (typeof provider.settings.businessAccountId !== 'string' || !provider.settings.businessAccountId)
      throw badInput('Set the provider’s settings.businessAccountId (the WhatsApp Business Account id) first', 'providerId');
    return provider;
  }

  private async fromMeta<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof MetaApiError)) throw error;
      throw new DomainError(ErrorCode.ProviderRefused, `Meta: ${error.message}`, {
        providerCode: error.code,
        accountFault: error.accountFault,
      });
    }
  }
}

function reasonOf(record: MetaTemplateRecord): string | null {
  const reason = record.rejected_reason;
  return reason && reason !== 'NONE' ? String(reason).slice(0, 300) : null;
}
