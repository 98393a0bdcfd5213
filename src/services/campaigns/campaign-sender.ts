import { randomBytes, randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import type { DataSource } from 'typeorm';
import { Channel } from '../../entities/channel';
import { CampaignRun } from '../../entities/campaign-run.entity';
import { Campaign, CampaignCategory, CampaignStatus, CampaignType } from '../../entities/campaign.entity';
import type { Contact } from '../../entities/contact.entity';
import { Tenant } from '../../entities/tenant.entity';
import type { DeliveryHistory, NewDelivery } from '../delivery/delivery-history';
import { validUntil, validityMinutes } from '../delivery/validity';
import type { Clock } from '../platform/clock';
import { DomainError } from '../platform/errors';
import type { AudienceService } from './audience.service';
import { campaignMessageFor, loadCampaignTemplates } from './campaign-message';
import type { CampaignService } from './campaign.service';
import { hashToken } from './consent.service';
import type { Transactor, UnitOfWork } from '../platform/unit-of-work';

export interface CampaignSenderSettings {
  /** Contacts enqueued per transaction (one INSERT of deliveries and one of recipients each). */
  batchSize: number;
  /** Attempts a campaign delivery gets, as any other. */
  maxAttempts: number;
  /** Base of tracked and unsubscribe links, e.g. https://api.example.com. */
  publicUrl: string;
  /** DELIVERY_DEFAULT_VALIDITY, for campaign messages without a validity of their own. */
  defaultValidityMinutes: number;
}

type AudienceRow = Pick<
  Contact,
  | 'id'
  | 'name'
  | 'phone'
  | 'email'
  | 'locale'
  | 'timezone'
  | 'area'
  | 'tags'
  | 'attributes'
  | 'externalId'
  | 'consent'
  | 'optedOutChannels'
  | 'birthday'
  | 'anniversary'
>;

interface Planned {
  recipientId: string;
  contactId: string | null;
  address: string;
  skipReason: string | null;
  delivery: NewDelivery | null;
  tokenHash: string | null;
  links: string[];
  plannedAt: Date | null;
}

/**
 * The worker's side of campaigns: starts runs that are due, enqueues each run's
 * recipients in batches (one INSERT … SELECT FROM unnest for the deliveries and one for
 * the recipients per batch, each delivery keyed by run and contact), and completes runs
 * whose messages have all left the queue. A batch and the run's cursor commit together,
 * so a crash resumes after the last committed batch and nobody gets a message twice.
 */
export class CampaignSender {
  /** Where tracked and unsubscribe links point, without a trailing slash. */
  private readonly linkBase: string;

  constructor(
    private readonly dataSource: DataSource,
    private readonly transactor: Transactor,
    private readonly history: DeliveryHistory,
    private readonly campaigns: CampaignService,
    private readonly audiences: AudienceService,
    private readonly clock: Clock,
    private readonly settings: CampaignSenderSettings,
  ) {
    this.linkBase = settings.publicUrl.replace(/\/$/, '');
  }

  /**
   * One tick, of one tenant or of all: start due runs, enqueue what is waiting, complete
   * what is done, mark conversions. Returns what it did.
   */
  async tick(tenantId: string | null = null): Promise<{ started: number; batches: number; finished: number; converted: number }> {
    const started = await this.startDue(50, tenantId);
    let batches = 0;
    while (await this.enqueueNext(tenantId)) batches++;
    const finished = await this.finishDone(tenantId);
    const converted = await this.scanConversions(tenantId);
    return { started, batches, finished, converted };
  }

  /** Tenants with campaign work: a run due or enqueuing, messages to finish, or conversions to mark. */
  async tenantsWithWork(): Promise<string[]> {
    const rows: Array<{ tenantId: string }> = await this.dataSource.query(
      `SELECT DISTINCT "tenantId" FROM campaign
        WHERE (status = 'scheduled' AND "nextRunAt" <= $1) OR status = 'running'
       UNION
       SELECT DISTINCT "tenantId" FROM campaign_run WHERE "finishedAt" IS NULL
       UNION
       SELECT DISTINCT "tenantId" FROM campaign
        WHERE "conversionEventType" IS NOT NULL AND status IN ('running', 'scheduled', 'paused', 'completed')
          AND ("finishedAt" IS NULL OR "finishedAt" > $1::timestamptz - "conversionWindowHours" * interval '1 hour')`,
      [this.clock.now()],
    );
    return rows.map((row) => row.tenantId);
  }

  /**
   * Marks recipients converted by their campaign's conversion event (e.g. payment.received
   * about them, or about one of their records) within its window after the send. Each
   * scan re-reads the last minute before the previous one, so an event committed late is
   * not missed; marking is idempotent.
   */
  async scanConversions(tenantId: string | null = null): Promise<number> {
    const now = this.clock.now();
    const campaigns = (await this.dataSource.query(
      `SELECT id, "tenantId", "conversionEventType", "conversionWindowHours", COALESCE("conversionScannedAt", "createdAt") AS since
         FROM campaign
        WHERE "conversionEventType" IS NOT NULL AND status IN ('running', 'scheduled', 'paused', 'completed')
          AND ("finishedAt" IS NULL OR "finishedAt" > $1::timestamptz - "conversionWindowHours" * interval '1 hour')
          AND ($2::uuid IS NULL OR "tenantId" = $2)`,
      [now, tenantId],
    )) as Array<{ id: string; tenantId: string; conversionEventType: string; conversionWindowHours: number; since: Date }>;
    let marked = 0;
    for (const campaign of campaigns) {
      const [, count] = (await this.dataSource.query(
        `WITH events AS (
           SELECT e."occurredAt", COALESCE(CASE WHEN e."subjectType" = 'contact' THEN e."subjectId" END, b."contactId") AS "contactId"
             FROM domain_event e
             LEFT JOIN business_record b ON e."subjectType" = 'business_record' AND b.id = e."subjectId"
            WHERE e."tenantId" = $1 AND e.type = $2 AND e."occurredAt" >= $3::timestamptz - interval '1 minute')
         UPDATE campaign_recipient r SET "convertedAt" = ev."occurredAt"
           FROM events ev, delivery d
          WHERE r."campaignId" = $4 AND r."convertedAt" IS NULL AND r."contactId" = ev."contactId"
            AND d.id = r."deliveryId" AND d."sentAt" IS NOT NULL
            AND ev."occurredAt" >= d."sentAt" AND ev."occurredAt" <= d."sentAt" + $5 * interval '1 hour'`,
        [campaign.tenantId, campaign.conversionEventType, campaign.since, campaign.id, campaign.conversionWindowHours],
      )) as [unknown, number];
      await this.dataSource.query(`UPDATE campaign SET "conversionScannedAt" = $2 WHERE id = $1`, [campaign.id, now]);
      marked += count;
    }
    return marked;
  }

  /** Scheduled campaigns whose time has come: a run each (recurring ones move to their next occurrence). */
  async startDue(limit = 50, tenantId: string | null = null): Promise<number> {
    return this.dataSource.transaction(async (manager) => {
      const query = manager
        .getRepository(Campaign)
        .createQueryBuilder('c')
        .where(`c.status = :status AND c."nextRunAt" <= :now`, { status: CampaignStatus.SCHEDULED, now: this.clock.now() });
      if (tenantId) query.andWhere('c."tenantId" = :tenantId', { tenantId });
      const due = await query
        .orderBy('c."nextRunAt"')
        .limit(limit)
        .setLock('pessimistic_write')
        .setOnLocked('skip_locked')
        .getMany();
      for (const campaign of due) {
        await this.campaigns.startRun(manager, campaign, campaign.nextRunAt!);
        if (campaign.type === CampaignType.RECURRING) {
          const tenant = await manager.findOneByOrFail(Tenant, { id: campaign.tenantId });
          campaign.nextRunAt = await this.campaigns.nextRunAfter(manager, campaign, tenant.timezone);
          // Its last run (endsAt, maxRuns): it completes once this run's messages have left the queue.
          if (!campaign.nextRunAt) campaign.status = CampaignStatus.RUNNING;
        } else {
          campaign.status = CampaignStatus.RUNNING;
          campaign.nextRunAt = null;
        }
        await manager.save(campaign);
      }
      return due.length;
    });
  }

  /** Enqueues the next batch of one run still enqueuing; false when there is none. */
  /**
   * The campaign row is held (FOR SHARE) while a batch is written, so a pause or a cancel
   * (which lock it) waits for the batch and then holds or cancels its messages too, and a
   * batch that starts after them sees the campaign is no longer sending.
   */
  async enqueueNext(tenantId: string | null = null): Promise<boolean> {
    return this.transactor
      .run(async (uow): Promise<Campaign | null> => {
        const [run] = (await uow.manager.query(
          `SELECT r.id FROM campaign_run r JOIN campaign c ON c.id = r."campaignId"
          WHERE r."enqueuedAt" IS NULL AND c.status IN ('running', 'scheduled') AND ($1::uuid IS NULL OR c."tenantId" = $1)
          ORDER BY r."startedAt" LIMIT 1 FOR UPDATE OF r SKIP LOCKED FOR SHARE OF c`,
          [tenantId],
        )) as Array<{ id: string }>;
        if (!run) return null;
        return this.enqueueBatch(uow, run.id);
      })
      .then((campaign) => {
        if (campaign) this.campaigns.changed(campaign);
        return campaign !== null;
      });
  }

  private async enqueueBatch(uow: UnitOfWork, runId: string): Promise<Campaign> {
    const { manager } = uow;
    const run = await manager.findOneByOrFail(CampaignRun, { id: runId });
    const campaign = await manager.findOneByOrFail(Campaign, { id: run.campaignId });
    const tenant = await manager.findOneByOrFail(Tenant, { id: campaign.tenantId });
    const now = this.clock.now();
    const planned: Planned[] = [];
    const templates = await loadCampaignTemplates(manager, campaign);
    const plan = this.planner(campaign, tenant, run, templates, now);

    if (!run.groupsDone) {
      for (const group of campaign.audience.whatsappGroups ?? []) planned.push(plan(null, group));
      run.groupsDone = true;
    }
    const { sql, params } = await this.audiences.predicate(manager, campaign.tenantId, campaign.audience);
    params.push(run.cursor, this.settings.batchSize);
    const contacts = (await manager.query(
      `SELECT c.id, c.name, c.phone, c.email, c.locale, c.timezone, c.area, c.tags, c.attributes, c."externalId",
              c.consent, c."optedOutChannels", to_char(c.birthday, 'YYYY-MM-DD') AS birthday,
              to_char(c.anniversary, 'YYYY-MM-DD') AS anniversary
         FROM contact c
        WHERE ${sql} AND ($${params.length - 1}::uuid IS NULL OR c.id > $${params.length - 1}::uuid)
        ORDER BY c.id LIMIT $${params.length}`,
      params,
    )) as AudienceRow[];

    const addresses = new Set<string>(
      (
        (await manager.query(
          `SELECT address FROM campaign_recipient WHERE "runId" = $1 AND address = ANY($2::text[]) AND "skipReason" IS NULL`,
          [run.id, contacts.flatMap((contact) => [contact.phone, contact.email].filter(Boolean))],
        )) as Array<{ address: string }>
      ).map((row) => row.address),
    );
    for (const contact of contacts) {
      const row = plan(contact, null);
      if (!row.skipReason && addresses.has(row.address)) {
        // Two contacts sharing a phone or e-mail: the second is not sent it again.
        Object.assign(row, { skipReason: 'duplicate', delivery: null, tokenHash: null, links: [], plannedAt: null });
      }
      if (!row.skipReason) addresses.add(row.address);
      planned.push(row);
    }
    await this.write(uow, campaign, run, planned, now);
    run.cursor = contacts.length ? contacts[contacts.length - 1].id : run.cursor;
    run.targeted += planned.length;
    if (contacts.length < this.settings.batchSize) run.enqueuedAt = now;
    await manager.save(run);
    return campaign;
  }

  /** Decides, for one contact or group, the channel, the address, the message and when it goes. */
  private planner(
    campaign: Campaign,
    tenant: Tenant,
    run: CampaignRun,
    templates: Awaited<ReturnType<typeof loadCampaignTemplates>>,
    now: Date,
  ) {
    const withheld = (contact: AudienceRow, channel: Channel) =>
      contact.optedOutChannels.includes(channel) ||
      ((campaign.category === CampaignCategory.MARKETING || tenant.optOutCoversAll) &&
        contact.consent?.[channel]?.granted === false);
    const gapMs = campaign.throttlePerMinute ? 60_000 / campaign.throttlePerMinute : 0;
    let queued = run.targeted;
    return (contact: AudienceRow | null, group: string | null): Planned => {
      const recipientId = randomUUID();
      let channel: Channel | undefined;
      let address: string | null = group;
      let optedOut = false;
      if (contact) {
        for (const candidate of campaign.channels) {
          const reach = candidate === Channel.EMAIL ? contact.email : contact.phone;
          if (!reach) continue;
          if (withheld(contact, candidate)) {
            optedOut = true;
            continue;
          }
          channel = candidate;
          address = reach;
          break;
        }
      } else channel = Channel.WHATSAPP;
      const skip = (reason: string, at: string): Planned => ({
        recipientId,
        contactId: contact?.id ?? null,
        address: at,
        skipReason: reason,
        delivery: null,
        tokenHash: null,
        links: [],
        plannedAt: null,
      });
      if (!channel || !address)
        return skip(optedOut ? 'opted_out' : 'no_address', contact?.phone ?? contact?.email ?? contact!.id);
      const token = randomBytes(16).toString('base64url');
      let message;
      try {
        message = campaignMessageFor(campaign, templates, channel, contact ?? { name: '', locale: null }, tenant, {
          base: this.linkBase,
          token,
        });
      } catch (error) {
        if (error instanceof DomainError) return skip('missing_value', address);
        throw error;
      }
      const zone = contact?.timezone ?? campaign.timezone ?? tenant.timezone;
      let at: DateTime<boolean> | null = campaign.localSendTime || campaign.quietFrom ? DateTime.fromJSDate(now, { zone }) : null;
      if (at && campaign.localSendTime) {
        const [hour, minute] = campaign.localSendTime.split(':').map(Number);
        let local = at.set({ hour, minute, second: 0, millisecond: 0 });
        if (local < at) local = local.plus({ days: 1 });
        at = local;
      }
      if (at && campaign.quietFrom && campaign.quietUntil) at = outOfQuietHours(at, campaign.quietFrom, campaign.quietUntil);
      const throttled = new Date(now.getTime() + queued * gapMs);
      queued++;
      const plannedAt = new Date(Math.max(at ? at.toMillis() : now.getTime(), throttled.getTime()));
      const validity = validityMinutes({
        requested: campaign.validForMinutes,
        template: templates.find((template) => template.id === message.templateId)?.validForMinutes,
        notificationType: 'campaign',
        defaultMinutes: this.settings.defaultValidityMinutes,
      });
      return {
        recipientId,
        contactId: contact?.id ?? null,
        address,
        skipReason: null,
        tokenHash: hashToken(token),
        links: message.links,
        plannedAt,
        delivery: {
          id: randomUUID(),
          tenantId: campaign.tenantId,
          channel,
          recipient: address,
          contactId: contact?.id ?? null,
          templateId: message.templateId,
          subject: message.subject,
          body: message.body,
          metaTemplate: message.metaTemplate,
          notificationType: 'campaign',
          campaignId: campaign.id,
          maxAttempts: this.settings.maxAttempts,
          nextAttemptAt: plannedAt,
          validUntil: validUntil(plannedAt, validity),
          idempotencyKey: `campaign:${run.id}:${contact?.id ?? address}`,
          unsubscribeUrl: channel === Channel.EMAIL ? `${this.linkBase}/u/${token}` : null,
        },
      };
    };
  }

  private async write(uow: UnitOfWork, campaign: Campaign, run: CampaignRun, rows: Planned[], now: Date): Promise<void> {
    const { manager } = uow;
    await this.history.enqueueMany(
      uow,
      rows.flatMap((row) => (row.delivery ? [row.delivery] : [])),
    );
    if (!rows.length) return;
    await manager.query(
      `INSERT INTO campaign_recipient (id, "tenantId", "campaignId", "runId", "contactId", address, "skipReason", "deliveryId",
                                       "tokenHash", links, "plannedAt", "createdAt")
       SELECT v.id, $1, $2, $3, v.contact, v.address, v.skip, v.delivery, v.token, COALESCE(v.links, '{}')::text[], v.planned, $4
         FROM unnest($5::uuid[], $6::uuid[], $7::text[], $8::text[], $9::uuid[], $10::text[], $11::text[], $12::timestamptz[])
           AS v(id, contact, address, skip, delivery, token, links, planned)
       ON CONFLICT DO NOTHING`,
      [
        campaign.tenantId,
        campaign.id,
        run.id,
        now,
        rows.map((row) => row.recipientId),
        rows.map((row) => row.contactId),
        rows.map((row) => row.address),
        rows.map((row) => row.skipReason),
        rows.map((row) => row.delivery?.id ?? null),
        rows.map((row) => row.tokenHash),
        rows.map((row) => `{${row.links.map((link) => `"${link.replace(/["\\]/g, (c) => '\\' + c)}"`).join(',')}}`),
        rows.map((row) => row.plannedAt),
      ],
    );
  }

  /** Runs fully enqueued whose campaign has nothing left in the queue; a one-off campaign then completes. */
  async finishDone(tenantId: string | null = null): Promise<number> {
    const now = this.clock.now();
    const finished = (await this.dataSource.query(
      `UPDATE campaign_run r SET "finishedAt" = $1
        WHERE r."enqueuedAt" IS NOT NULL AND r."finishedAt" IS NULL
          AND ($2::uuid IS NULL OR r."tenantId" = $2)
          AND NOT EXISTS (SELECT 1 FROM delivery d WHERE d."campaignId" = r."campaignId" AND d.status IN ('queued', 'sending'))
       RETURNING r."campaignId"`,
      [now, tenantId],
    )) as [Array<{ campaignId: string }>, number];
    const ids = [...new Set(finished[0].map((row) => row.campaignId))];
    if (!ids.length) return 0;
    const completed = (await this.dataSource.query(
      `UPDATE campaign SET status = 'completed', "finishedAt" = $2, "updatedAt" = $2
        WHERE id = ANY($1::uuid[]) AND status = 'running' AND (type = 'one_off' OR "nextRunAt" IS NULL)
       RETURNING *`,
      [ids, now],
    )) as [Campaign[], number];
    for (const id of ids) {
      const campaign = completed[0].find((row) => row.id === id);
      this.campaigns.changed(campaign ?? ({ id, tenantId: '' } as Campaign));
    }
    return ids.length;
  }
}

/** Moves a local time out of quiet hours (which may wrap midnight, e.g. 21:00-08:00) to their end. */
export function outOfQuietHours(at: DateTime<boolean>, from: string, until: string): DateTime<boolean> {
  const minutes = (text: string) => Number(text.slice(0, 2)) * 60 + Number(text.slice(3, 5));
  const start = minutes(from);
  const end = minutes(until);
  const now = at.hour * 60 + at.minute;
  const inside = start <= end ? now >= start && now < end : now >= start || now < end;
  if (!inside) return at;
  let moved = at.set({ hour: Math.floor(end / 60), minute: end % 60, second: 0, millisecond: 0 });
  if (moved <= at) moved = moved.plus({ days: 1 });
  return moved;
}
