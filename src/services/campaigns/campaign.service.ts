import { CronExpressionParser } from 'cron-parser';
import { type DataSource, type EntityManager, In } from 'typeorm';
import { Channel } from '../../entities/channel';
import { CampaignRecipient } from '../../entities/campaign-recipient.entity';
import { CampaignRun } from '../../entities/campaign-run.entity';
import { Campaign, type CampaignAudience, CampaignCategory, CampaignStatus, CampaignType } from '../../entities/campaign.entity';
import { Contact } from '../../entities/contact.entity';
import { MessageTemplate } from '../../entities/message-template.entity';
import { Tenant } from '../../entities/tenant.entity';
import type { DeliveryService } from '../delivery/delivery.service';
import type { StaffPrincipal } from '../directory/principal';
import type { Clock } from '../platform/clock';
import { DomainError, ErrorCode, badInput, notFound } from '../platform/errors';
import { isUuid } from '../platform/ids';
import type { LiveEvents } from '../platform/live-events';
import { type Page, type PageRequest, newestFirstPage } from '../platform/pagination';
import type { Transactor, UnitOfWork } from '../platform/unit-of-work';
import type { AudienceService } from './audience.service';
import { type MaintenancePreset, type PromotionPreset, presetDefaults } from './campaign-presets';
import { type CampaignMessage, campaignMessageFor, loadCampaignTemplates } from './campaign-message';
import type { DeliveryHistory } from '../delivery/delivery-history';
import { MAX_VALIDITY_MINUTES } from '../delivery/validity';

export interface CampaignInput {
  name: string;
  description?: string | null;
  type?: CampaignType | null;
  category?: CampaignCategory | null;
  channels: Channel[];
  template?: string | null;
  text?: string | null;
  subject?: string | null;
  variables?: Record<string, unknown> | null;
  audience?: CampaignAudience | null;
  sendAt?: Date | null;
  cron?: string | null;
  timezone?: string | null;
  /** Recurring: no run starts after it. */
  endsAt?: Date | null;
  /** Recurring: runs in all. */
  maxRuns?: number | null;
  localSendTime?: string | null;
  quietFrom?: string | null;
  quietUntil?: string | null;
  throttlePerMinute?: number | null;
  validForMinutes?: number | null;
  conversionEventType?: string | null;
  conversionWindowHours?: number | null;
  maintenance?: MaintenancePreset | null;
  promotion?: PromotionPreset | null;
}

export interface CampaignFilter {
  statuses?: CampaignStatus[] | null;
  categories?: CampaignCategory[] | null;
  search?: string | null;
}

/** The figures of a slice of a campaign's recipients (a run, a day). */
export interface CampaignFigures {
  targeted: number;
  skipped: number;
  queued: number;
  sent: number;
  delivered: number;
  read: number;
  failed: number;
  replied: number;
  clicked: number;
  converted: number;
}

export interface CampaignRunFigures extends CampaignFigures {
  runId: string;
  occurrence: Date;
  startedAt: Date;
  finishedAt: Date | null;
}

export interface CampaignDayFigures extends CampaignFigures {
  /** YYYY-MM-DD in the campaign's (else the business's) time zone. */
  day: string;
}

/** Bounds of the figures over time: the latest runs and days. */
export const MAX_RUN_FIGURES = 100;
export const MAX_DAY_FIGURES = 366;

const FIGURES_SQL = `count(r.id)::int AS targeted,
  count(r."skipReason")::int AS skipped,
  count(*) FILTER (WHERE d.status IN ('queued', 'sending'))::int AS queued,
  count(*) FILTER (WHERE d.status IN ('sent', 'delivered', 'read'))::int AS sent,
  count(*) FILTER (WHERE d.status IN ('delivered', 'read'))::int AS delivered,
  count(*) FILTER (WHERE d.status = 'read')::int AS read,
  count(*) FILTER (WHERE d.status IN ('failed', 'dead'))::int AS failed,
  count(r."repliedAt")::int AS replied,
  count(r."clickedAt")::int AS clicked,
  count(r."convertedAt")::int AS converted`;

export interface CampaignStats {
  campaignId: string;
  status: CampaignStatus;
  runs: number;
  targeted: number;
  skipped: number;
  skippedOptedOut: number;
  skippedNoAddress: number;
  skippedDuplicate: number;
  queued: number;
  sent: number;
  delivered: number;
  read: number;
  failed: number;
  cancelled: number;
  replied: number;
  clicked: number;
  unsubscribed: number;
  converted: number;
}

export interface RecipientFilter {
  statuses?: string[] | null;
  skipped?: boolean | null;
}

const TIME_OF_DAY = /^([01]\d|2[0-3]):[0-5]\d$/;
const CAMPAIGN_CHANNELS = [Channel.WHATSAPP, Channel.SMS, Channel.EMAIL];

/** What each state allows: the mutation that moves it, and where to. */
const TRANSITIONS: Record<CampaignStatus, Partial<Record<string, CampaignStatus>>> = {
  [CampaignStatus.DRAFT]: {
    scheduleCampaign: CampaignStatus.SCHEDULED,
    sendCampaignNow: CampaignStatus.RUNNING,
    cancelCampaign: CampaignStatus.CANCELLED,
  },
  [CampaignStatus.SCHEDULED]: {
    sendCampaignNow: CampaignStatus.RUNNING,
    pauseCampaign: CampaignStatus.PAUSED,
    cancelCampaign: CampaignStatus.CANCELLED,
  },
  [CampaignStatus.RUNNING]: { pauseCampaign: CampaignStatus.PAUSED, cancelCampaign: CampaignStatus.CANCELLED },
  [CampaignStatus.PAUSED]: { resumeCampaign: CampaignStatus.RUNNING, cancelCampaign: CampaignStatus.CANCELLED },
  [CampaignStatus.COMPLETED]: {},
  [CampaignStatus.CANCELLED]: {},
};

/**
 * Campaigns: a message to an audience, one-off or recurring, with a lifecycle
 * (DRAFT → SCHEDULED → RUNNING → COMPLETED, PAUSED, CANCELLED) and per-recipient
 * tracking. The worker's CampaignSender starts due runs and enqueues their recipients.
 */
export class CampaignService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly transactor: Transactor,
    private readonly audiences: AudienceService,
    private readonly deliveries: DeliveryService,
    private readonly history: DeliveryHistory,
    private readonly live: LiveEvents,
    private readonly clock: Clock,
  ) {}

  list(actor: StaffPrincipal, filter: CampaignFilter, page: PageRequest): Promise<Page<Campaign>> {
    const query = this.dataSource
      .getRepository(Campaign)
      .createQueryBuilder('c')
      .where('c."tenantId" = :tenantId', { tenantId: actor.tenantId });
    if (filter.statuses?.length) query.andWhere('c.status IN (:...statuses)', { statuses: filter.statuses });
    if (filter.categories?.length) query.andWhere('c.category IN (:...categories)', { categories: filter.categories });
    if (filter.search?.trim()) {
      query.andWhere('c.name ILIKE :search', { search: `%${filter.search.trim().replace(/[\\%_]/g, (c) => '\\' + c)}%` });
    }
    return newestFirstPage(query, 'c', page);
  }

  async get(actor: StaffPrincipal, id: string, manager: EntityManager = this.dataSource.manager): Promise<Campaign> {
    const campaign = isUuid(id) ? await manager.findOneBy(Campaign, { id, tenantId: actor.tenantId }) : null;
    if (!campaign) throw notFound('Campaign', id);
    return campaign;
  }

  async create(actor: StaffPrincipal, input: CampaignInput): Promise<Campaign> {
    const columns = await this.columns(actor.tenantId, input, this.dataSource.manager, input.sendAt != null);
    return this.dataSource.getRepository(Campaign).save({
      ...columns,
      tenantId: actor.tenantId,
      status: CampaignStatus.DRAFT,
      createdById: actor.userId,
    });
  }

  /** Drafts and scheduled campaigns only: what is going out cannot change under it. */
  async update(actor: StaffPrincipal, id: string, input: CampaignInput): Promise<Campaign> {
    return this.transactor.run(async ({ manager }) => {
      const campaign = await this.locked(manager, actor, id);
      if (campaign.status !== CampaignStatus.DRAFT && campaign.status !== CampaignStatus.SCHEDULED) {
        throw this.invalid(campaign, 'updateCampaign', 'Only draft and scheduled campaigns can be changed');
      }
      // The schedule stays unless the update changes it: a scheduled campaign always has its time.
      const sendAt = input.sendAt === undefined ? campaign.sendAt : input.sendAt;
      const columns = await this.columns(actor.tenantId, { ...input, sendAt }, manager, input.sendAt != null);
      if (campaign.status === CampaignStatus.SCHEDULED && columns.type === CampaignType.ONE_OFF && !columns.sendAt)
        throw badInput('A scheduled campaign needs sendAt; pause or cancel it instead of clearing its time', 'sendAt');
      Object.assign(campaign, columns);
      if (campaign.status === CampaignStatus.SCHEDULED) campaign.nextRunAt = this.firstRun(campaign);
      return manager.save(campaign);
    });
  }

  async duplicate(actor: StaffPrincipal, id: string): Promise<Campaign> {
    const original = await this.get(actor, id);
    const { id: _id, createdAt: _c, updatedAt: _u, ...copy } = original;
    return this.dataSource.getRepository(Campaign).save({
      ...copy,
      name: `${original.name} (copy)`.slice(0, 200),
      status: CampaignStatus.DRAFT,
      nextRunAt: null,
      pausedFrom: null,
      finishedAt: null,
      createdById: actor.userId,
    });
  }

  async schedule(actor: StaffPrincipal, id: string, sendAt?: Date | null): Promise<Campaign> {
    return this.move(actor, id, 'scheduleCampaign', async (campaign) => {
      if (sendAt) campaign.sendAt = sendAt;
      if (campaign.type === CampaignType.ONE_OFF && !campaign.sendAt) throw badInput('Give sendAt, or send it now', 'sendAt');
      if (campaign.type === CampaignType.ONE_OFF && campaign.sendAt! < this.clock.now()) throw pastSendAt();
      campaign.nextRunAt = this.firstRun(campaign);
      if (campaign.endsAt && campaign.nextRunAt && campaign.nextRunAt > campaign.endsAt)
        throw badInput('endsAt comes before its first run', 'endsAt');
    });
  }

  /** Starts a run now (a recurring campaign runs now once more and keeps its schedule). */
  async sendNow(actor: StaffPrincipal, id: string): Promise<Campaign> {
    return this.move(actor, id, 'sendCampaignNow', async (campaign, uow) => {
      if (campaign.type === CampaignType.RECURRING) {
        // A recurring campaign stays SCHEDULED between runs; this run is extra, and counts toward maxRuns.
        await this.startRun(uow.manager, campaign, this.clock.now());
        campaign.status = CampaignStatus.SCHEDULED;
        campaign.nextRunAt ??= this.firstRun(campaign);
        if (campaign.maxRuns != null && !(await this.nextRunAfter(uow.manager, campaign, 'UTC'))) {
          // That was its last run: it completes once its messages have left the queue.
          campaign.status = CampaignStatus.RUNNING;
          campaign.nextRunAt = null;
        }
        return;
      }
      campaign.nextRunAt = null;
      await this.startRun(uow.manager, campaign, this.clock.now());
    });
  }

  /** Stops new runs and holds every queued message of the campaign; the worker sends nothing of it until resumed. */
  async pause(actor: StaffPrincipal, id: string): Promise<Campaign> {
    return this.move(actor, id, 'pauseCampaign', async (campaign, uow, from) => {
      campaign.pausedFrom = from;
      await this.history.holdWhere(uow, { tenantId: campaign.tenantId, campaignId: campaign.id }, 'The campaign was paused');
    });
  }

  async resume(actor: StaffPrincipal, id: string): Promise<Campaign> {
    return this.transactor.run(async (uow) => {
      const campaign = await this.locked(uow.manager, actor, id);
      const to = campaign.status === CampaignStatus.PAUSED ? (campaign.pausedFrom ?? CampaignStatus.RUNNING) : null;
      if (!to) throw this.invalid(campaign, 'resumeCampaign');
      campaign.status = to;
      campaign.pausedFrom = null;
      if (to === CampaignStatus.SCHEDULED && campaign.nextRunAt && campaign.nextRunAt < this.clock.now()) {
        campaign.nextRunAt = campaign.type === CampaignType.RECURRING ? this.firstRun(campaign) : this.clock.now();
      }
      await this.respread(uow, campaign);
      const saved = await uow.manager.save(campaign);
      uow.afterCommit(() => this.changed(saved));
      return saved;
    });
  }

  /**
   * Deletes a draft, or a cancelled campaign with its runs and recipients (its tracked and
   * unsubscribe links stop working). Messages it sent stay in the delivery log under its
   * id. Scheduled, running, paused and completed campaigns are kept: cancel first.
   */
  async delete(actor: StaffPrincipal, id: string): Promise<string> {
    return this.transactor.run(async (uow) => {
      const campaign = await this.locked(uow.manager, actor, id);
      if (campaign.status !== CampaignStatus.DRAFT && campaign.status !== CampaignStatus.CANCELLED) {
        throw this.invalid(
          campaign,
          'deleteCampaign',
          `A ${campaign.status.toUpperCase()} campaign cannot be deleted; only drafts and cancelled campaigns can`,
        );
      }
      const where = { tenantId: campaign.tenantId, campaignId: campaign.id };
      await uow.manager.delete(CampaignRecipient, where);
      await uow.manager.delete(CampaignRun, where);
      await uow.manager.delete(Campaign, { tenantId: campaign.tenantId, id: campaign.id });
      uow.afterCommit(() => this.changed(campaign));
      return campaign.id;
    });
  }

  /** Cancels what has not gone out; what was sent stays sent and counted. */
  async cancel(actor: StaffPrincipal, id: string): Promise<Campaign> {
    return this.move(actor, id, 'cancelCampaign', async (campaign, uow) => {
      const now = this.clock.now();
      campaign.nextRunAt = null;
      campaign.finishedAt = now;
      await this.history.cancelWhere(
        uow,
        { tenantId: campaign.tenantId, campaignId: campaign.id },
        { code: 'CAMPAIGN_CANCELLED', message: 'The campaign was cancelled' },
      );
      await uow.manager.query(
        `UPDATE campaign_run SET "enqueuedAt" = COALESCE("enqueuedAt", $2), "finishedAt" = COALESCE("finishedAt", $2)
          WHERE "campaignId" = $1`,
        [campaign.id, now],
      );
    });
  }

  /** One message rendered for a chosen contact, sent to a given address (test mode and the pipeline apply). */
  async test(actor: StaffPrincipal, id: string, contactId: string, to: string, channel?: Channel | null) {
    const campaign = await this.get(actor, id);
    const contact = isUuid(contactId)
      ? await this.dataSource.getRepository(Contact).findOneBy({ id: contactId, tenantId: actor.tenantId })
      : null;
    if (!contact) throw notFound('Contact', contactId);
    const via = channel ?? campaign.channels[0];
    if (!campaign.channels.includes(via)) throw badInput(`The campaign is not sent on ${via}`, 'channel');
    const tenant = await this.dataSource.getRepository(Tenant).findOneByOrFail({ id: actor.tenantId });
    const templates = await loadCampaignTemplates(this.dataSource.manager, campaign);
    const message: CampaignMessage = campaignMessageFor(campaign, templates, via, contact, tenant, null);
    return this.deliveries.enqueue(actor.tenantId, {
      channel: via,
      to,
      text: message.body,
      subject: message.subject,
      notificationType: 'campaign_test',
      idempotencyKey: `campaign-test:${campaign.id}:${this.clock.now().getTime()}:${to}`,
      campaignId: null,
    });
  }

  recipients(actor: StaffPrincipal, id: string, filter: RecipientFilter, page: PageRequest) {
    return this.get(actor, id).then((campaign) => {
      const query = this.dataSource
        .getRepository(CampaignRecipient)
        .createQueryBuilder('r')
        .where('r."tenantId" = :tenantId AND r."campaignId" = :campaignId', {
          tenantId: actor.tenantId,
          campaignId: campaign.id,
        });
      if (filter.skipped != null) query.andWhere(filter.skipped ? 'r."skipReason" IS NOT NULL' : 'r."skipReason" IS NULL');
      if (filter.statuses?.length) {
        query.andWhere('EXISTS (SELECT 1 FROM delivery d WHERE d.id = r."deliveryId" AND d.status::text IN (:...statuses))', {
          statuses: filter.statuses.map((status) => status.toLowerCase()),
        });
      }
      return newestFirstPage(query, 'r', page);
    });
  }

  /** Every figure of the campaign, in one statement. */
  async stats(actor: StaffPrincipal, id: string): Promise<CampaignStats> {
    const campaign = await this.get(actor, id);
    return this.statsOf(campaign);
  }

  async statsOf(campaign: Campaign): Promise<CampaignStats> {
    const [row] = (await this.dataSource.query(
      `SELECT (SELECT count(*)::int FROM campaign_run WHERE "campaignId" = $1) AS runs,
              count(r.id)::int AS targeted,
              count(r."skipReason")::int AS skipped,
              count(*) FILTER (WHERE r."skipReason" = 'opted_out')::int AS "skippedOptedOut",
              count(*) FILTER (WHERE r."skipReason" = 'no_address')::int AS "skippedNoAddress",
              count(*) FILTER (WHERE r."skipReason" = 'duplicate')::int AS "skippedDuplicate",
              count(*) FILTER (WHERE d.status IN ('queued', 'sending'))::int AS queued,
              count(*) FILTER (WHERE d.status IN ('sent', 'delivered', 'read'))::int AS sent,
              count(*) FILTER (WHERE d.status IN ('delivered', 'read'))::int AS delivered,
              count(*) FILTER (WHERE d.status = 'read')::int AS read,
              count(*) FILTER (WHERE d.status IN ('failed', 'dead'))::int AS failed,
              count(*) FILTER (WHERE d.status = 'cancelled')::int AS cancelled,
              count(r."repliedAt")::int AS replied,
              count(r."clickedAt")::int AS clicked,
              count(r."unsubscribedAt")::int AS unsubscribed,
              count(r."convertedAt")::int AS converted
         FROM campaign_recipient r LEFT JOIN delivery d ON d.id = r."deliveryId"
        WHERE r."campaignId" = $1`,
      [campaign.id],
    )) as Array<Omit<CampaignStats, 'campaignId' | 'status'>>;
    return { campaignId: campaign.id, status: campaign.status, ...row };
  }

  /** What each run did, oldest first (the latest MAX_RUN_FIGURES runs). */
  async runFigures(actor: StaffPrincipal, id: string): Promise<CampaignRunFigures[]> {
    const campaign = await this.get(actor, id);
    return (await this.dataSource.query(
      `SELECT * FROM (
         SELECT run.id AS "runId", run.occurrence, run."startedAt", run."finishedAt", ${FIGURES_SQL}
           FROM campaign_run run
           LEFT JOIN campaign_recipient r ON r."runId" = run.id
           LEFT JOIN delivery d ON d.id = r."deliveryId"
          WHERE run."campaignId" = $1 AND run."tenantId" = $2
          GROUP BY run.id ORDER BY run."startedAt" DESC, run.id DESC LIMIT ${MAX_RUN_FIGURES}) latest
        ORDER BY "startedAt", "runId"`,
      [campaign.id, campaign.tenantId],
    )) as CampaignRunFigures[];
  }

  /**
   * What went out each day, oldest first (the latest MAX_DAY_FIGURES days): messages by
   * the day they were sent (else planned) in the campaign's time zone, else the business's,
   * and what became of them.
   */
  async dayFigures(actor: StaffPrincipal, id: string): Promise<CampaignDayFigures[]> {
    const campaign = await this.get(actor, id);
    return (await this.dataSource.query(
      `SELECT * FROM (
         SELECT to_char((coalesce(d."sentAt", r."plannedAt", r."createdAt") AT TIME ZONE coalesce(c.timezone, tn.timezone))::date,
                        'YYYY-MM-DD') AS day, ${FIGURES_SQL}
           FROM campaign_recipient r
           JOIN campaign c ON c.id = r."campaignId"
           JOIN tenant tn ON tn.id = c."tenantId"
           LEFT JOIN delivery d ON d.id = r."deliveryId"
          WHERE r."campaignId" = $1 AND c."tenantId" = $2
          GROUP BY 1 ORDER BY 1 DESC LIMIT ${MAX_DAY_FIGURES}) latest
        ORDER BY day`,
      [campaign.id, campaign.tenantId],
    )) as CampaignDayFigures[];
  }

  /** Publishes the campaign's figures to campaignProgress subscribers. */
  changed(campaign: Campaign): void {
    this.live.publish('campaignProgress', campaign.id, { campaignId: campaign.id, tenantId: campaign.tenantId });
  }

  // ---- runs (shared with the sender) ----

  /** Opens a run for an occurrence (once: a second start for the same occurrence is a no-op). */
  async startRun(manager: EntityManager, campaign: Campaign, occurrence: Date): Promise<void> {
    await manager.query(
      `INSERT INTO campaign_run ("tenantId", "campaignId", occurrence, "startedAt", "groupsDone")
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT ("campaignId", occurrence) DO NOTHING`,
      [campaign.tenantId, campaign.id, occurrence, this.clock.now(), !campaign.audience.whatsappGroups?.length],
    );
  }

  /**
   * A recurring campaign's next run after one just started, in its time zone (else the
   * business's): null when it has made `maxRuns` runs or the next occurrence is past `endsAt`.
   */
  async nextRunAfter(manager: EntityManager, campaign: Campaign, zone: string): Promise<Date | null> {
    if (campaign.maxRuns != null) {
      const [{ runs }] = await manager.query(`SELECT count(*)::int AS runs FROM campaign_run WHERE "campaignId" = $1`, [
        campaign.id,
      ]);
      if (runs >= campaign.maxRuns) return null;
    }
    const next = CronExpressionParser.parse(campaign.cron!, { tz: campaign.timezone ?? zone, currentDate: this.clock.now() })
      .next()
      .toDate();
    return campaign.endsAt && next > campaign.endsAt ? null : next;
  }

  /** When a scheduled campaign's first (or next) run starts. */
  firstRun(campaign: Campaign, after: Date = this.clock.now()): Date | null {
    if (campaign.type === CampaignType.ONE_OFF) return campaign.sendAt ?? after;
    return CronExpressionParser.parse(campaign.cron!, { tz: campaign.timezone ?? 'UTC', currentDate: after })
      .next()
      .toDate();
  }

  // ---- helpers ----

  private async move(
    actor: StaffPrincipal,
    id: string,
    mutation: string,
    apply: (campaign: Campaign, uow: UnitOfWork, from: CampaignStatus) => Promise<void>,
  ): Promise<Campaign> {
    return this.transactor.run(async (uow) => {
      const campaign = await this.locked(uow.manager, actor, id);
      const to = TRANSITIONS[campaign.status][mutation];
      if (!to) throw this.invalid(campaign, mutation);
      const from = campaign.status;
      campaign.status = to;
      await apply(campaign, uow, from);
      if (to === CampaignStatus.CANCELLED || to === CampaignStatus.COMPLETED) campaign.finishedAt ??= this.clock.now();
      const saved = await uow.manager.save(campaign);
      uow.afterCommit(() => this.changed(saved));
      return saved;
    });
  }

  private async locked(manager: EntityManager, actor: StaffPrincipal, id: string): Promise<Campaign> {
    const campaign = isUuid(id)
      ? await manager.findOne(Campaign, { where: { id, tenantId: actor.tenantId }, lock: { mode: 'pessimistic_write' } })
      : null;
    if (!campaign) throw notFound('Campaign', id);
    return campaign;
  }

  private invalid(campaign: Campaign, mutation: string, message?: string): DomainError {
    const allowed = Object.keys(TRANSITIONS[campaign.status]);
    if (campaign.status === CampaignStatus.DRAFT || campaign.status === CampaignStatus.SCHEDULED) allowed.push('updateCampaign');
    return new DomainError(
      ErrorCode.InvalidTransition,
      message ?? `A ${campaign.status.toUpperCase()} campaign cannot take ${mutation}; allowed: ${allowed.join(', ') || 'none'}`,
      { status: campaign.status.toUpperCase(), allowed },
    );
  }

  /** Queued messages of a resumed campaign go out again, at its throttle from now (none past its validity). */
  private async respread(uow: UnitOfWork, campaign: Campaign): Promise<void> {
    await this.history.releaseWhere(
      uow,
      { tenantId: campaign.tenantId, campaignId: campaign.id },
      { from: this.clock.now(), gapMs: campaign.throttlePerMinute ? 60_000 / campaign.throttlePerMinute : 0 },
    );
  }

  /** The campaign's columns from an input, checked; `newSendAt`: the input sets sendAt, which must not be past. */
  private async columns(
    tenantId: string,
    input: CampaignInput,
    manager: EntityManager = this.dataSource.manager,
    newSendAt = false,
  ) {
    if (newSendAt && input.sendAt && input.sendAt < this.clock.now()) throw pastSendAt();
    const preset = presetDefaults(input.maintenance, input.promotion);
    const name = input.name?.trim();
    if (!name || name.length > 200) throw badInput('name must be 1-200 characters', 'name');
    const type = input.type ?? CampaignType.ONE_OFF;
    const category = input.category ?? preset?.category;
    if (!category) throw badInput('Give the category: MARKETING, TRANSACTIONAL or OPERATIONAL', 'category');
    if (!input.channels?.length) throw badInput('Give at least one channel', 'channels');
    const badChannel = input.channels.findIndex((channel) => !CAMPAIGN_CHANNELS.includes(channel));
    if (badChannel >= 0) throw badInput('Campaigns go out on WHATSAPP, SMS or EMAIL', `channels[${badChannel}]`);
    const text = input.text ?? (input.template ? null : (preset?.text ?? null));
    if (!input.template && !text?.trim()) throw badInput('Give the message text or a template name', 'text');
    if (input.template && input.text) throw badInput('Give a template or a text, not both', 'text');
    if (input.template) {
      const found = await manager.find(MessageTemplate, {
        where: { tenantId, channel: In(input.channels) },
        select: { name: true, channel: true },
      });
      const has = (channel: Channel) =>
        found.some(
          (template) =>
            template.channel === channel && (template.name === input.template || template.name.startsWith(`${input.template}.`)),
        );
      const missing = input.channels.find((channel) => !has(channel));
      if (missing) throw badInput(`No ${missing} template named ${input.template}`, 'template');
    }
    const audience = input.audience ?? preset?.audience;
    if (!audience) throw badInput('Give the audience', 'audience');
    this.audiences.checkAudience(audience);
    if (audience.segmentId) await this.audiences.predicate(manager, tenantId, audience);
    if (audience.whatsappGroups?.length && !input.channels.includes(Channel.WHATSAPP))
      throw badInput('WhatsApp groups need the WHATSAPP channel', 'audience.whatsappGroups');
    if (type === CampaignType.RECURRING) {
      if (!input.cron) throw badInput('A recurring campaign needs a cron schedule', 'cron');
      try {
        CronExpressionParser.parse(input.cron, { tz: input.timezone ?? 'UTC' });
      } catch {
        throw badInput(`Not a cron expression (or time zone): ${input.cron}`, 'cron');
      }
      if (input.maxRuns != null && !(Number.isInteger(input.maxRuns) && input.maxRuns >= 1 && input.maxRuns <= 10_000))
        throw badInput('maxRuns must be 1-10000', 'maxRuns');
      if (input.endsAt != null && input.endsAt <= this.clock.now()) throw badInput('endsAt must be in the future', 'endsAt');
    } else if (input.cron) throw badInput('Only recurring campaigns take a cron schedule', 'cron');
    else if (input.endsAt != null || input.maxRuns != null)
      throw badInput('Only recurring campaigns end by a date or a number of runs', input.endsAt != null ? 'endsAt' : 'maxRuns');
    if (input.timezone && !isZone(input.timezone)) throw badInput(`Unknown time zone ${input.timezone}`, 'timezone');
    for (const field of ['localSendTime', 'quietFrom', 'quietUntil'] as const) {
      const value = input[field];
      if (value != null && !TIME_OF_DAY.test(value)) throw badInput(`${field} must be HH:MM`, field);
    }
    if ((input.quietFrom == null) !== (input.quietUntil == null))
      throw badInput('Give both ends of the quiet hours', 'quietUntil');
    if (
      input.throttlePerMinute != null &&
      !(Number.isInteger(input.throttlePerMinute) && input.throttlePerMinute >= 1 && input.throttlePerMinute <= 1_000_000)
    )
      throw badInput('throttlePerMinute must be 1-1000000', 'throttlePerMinute');
    if (
      input.validForMinutes != null &&
      !(Number.isInteger(input.validForMinutes) && input.validForMinutes >= 1 && input.validForMinutes <= MAX_VALIDITY_MINUTES)
    )
      throw badInput(`validForMinutes must be 1-${MAX_VALIDITY_MINUTES} (30 days)`, 'validForMinutes');
    const window = input.conversionWindowHours ?? 168;
    if (!(Number.isInteger(window) && window >= 1 && window <= 2160))
      throw badInput('conversionWindowHours must be 1-2160', 'conversionWindowHours');
    if (input.conversionEventType != null && !/^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$/.test(input.conversionEventType))
      throw badInput('conversionEventType is an event type such as payment.received', 'conversionEventType');
    const variables = { ...(preset?.variables ?? {}), ...(input.variables ?? {}) };
    if (JSON.stringify(variables).length > 20_000) throw badInput('variables hold at most 20 kB', 'variables');
    return {
      name,
      description: input.description ?? null,
      type,
      category,
      channels: [...new Set(input.channels)],
      template: input.template ?? null,
      text,
      subject: input.subject ?? null,
      variables,
      audience,
      preset: preset?.preset ?? null,
      sendAt: input.sendAt ?? null,
      cron: input.cron ?? null,
      timezone: input.timezone ?? null,
      endsAt: input.endsAt ?? null,
      maxRuns: input.maxRuns ?? null,
      localSendTime: input.localSendTime ?? null,
      quietFrom: input.quietFrom ?? null,
      quietUntil: input.quietUntil ?? null,
      throttlePerMinute: input.throttlePerMinute ?? null,
      validForMinutes: input.validForMinutes ?? null,
      conversionEventType: input.conversionEventType ?? null,
      conversionWindowHours: window,
    };
  }
}

/** One answer for a sendAt in the past, wherever it is given (create, update, schedule). */
function pastSendAt(): DomainError {
  return badInput('sendAt is in the past; send it now instead', 'sendAt');
}

function isZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
