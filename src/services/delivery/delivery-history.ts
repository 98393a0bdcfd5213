import { type DataSource, type EntityManager, In } from 'typeorm';
import { type Channel, DeliveryStatus } from '../../entities/channel';
import { DeliveryEvent, DeliveryEventType } from '../../entities/delivery-event.entity';
import { Delivery, type MetaTemplateMessage } from '../../entities/delivery.entity';
import type { Clock } from '../platform/clock';
import { deliveriesRecorded, tenantLabel } from '../platform/metrics';
import type { LiveEvents } from '../platform/live-events';
import { hotRows, isConnectionLoss, returningRows } from '../platform/sql';
import { Transactor, type UnitOfWork } from '../platform/unit-of-work';

/** NOTIFY channel that wakes the dispatchers: sent at commit by whatever queues a delivery. */
export const DELIVERY_WAKE_CHANNEL = 'delivery_queued';

/**
 * Bulk changes of at most this many deliveries reach deliveryStatusChanged subscribers one
 * by one; a larger one (a campaign's batch of thousands) is told by its campaign's progress
 * instead, so one pause does not push a hundred thousand events through every API process.
 */
export const BULK_LIVE_LIMIT = 500;

/** A delivery to queue, rendered and addressed (enqueueMany). */
export interface NewDelivery {
  id: string;
  tenantId: string;
  channel: Channel;
  recipient: string;
  contactId: string | null;
  userId?: string | null;
  templateId: string | null;
  subject: string | null;
  body: string;
  metaTemplate: MetaTemplateMessage | null;
  notificationType: string;
  campaignId?: string | null;
  maxAttempts: number;
  nextAttemptAt: Date;
  validUntil: Date;
  idempotencyKey: string;
  unsubscribeUrl?: string | null;
}

/**
 * Which queued deliveries a bulk change applies to: one tenant's, narrowed by campaign,
 * contact and channel; `campaignMessages`: only campaign messages ('any'), or only those
 * of marketing campaigns ('marketing').
 */
export interface QueuedSelector {
  tenantId: string;
  campaignId?: string;
  contactId?: string;
  channel?: Channel;
  campaignMessages?: 'any' | 'marketing';
}

/** One step to append to a delivery's history. */
export interface HistoryStep {
  type: DeliveryEventType;
  providerId?: string | null;
  providerCode?: string | null;
  message?: string | null;
  payload?: Record<string, unknown> | null;
  occurredAt?: Date;
}

/**
 * The one owner of a delivery's state and its history: every status change and every
 * history step goes through here, and subscribers hear of a change once it is committed.
 * The provider's own reports (sent, delivered, read, failed) appear once per delivery
 * however often a webhook is redelivered: a partial unique index says so and every write
 * here skips a step that is already there.
 */
export class DeliveryHistory {
  /** Each provider account's kind, for the `provider` label of deliveries_total (a kind never changes). */
  private readonly providerKinds = new Map<string, string>();

  /** Transactions of its own, for the rare outcome batch whose fallbacks must commit with it. */
  private readonly transactor: Transactor;

  constructor(
    private readonly dataSource: DataSource,
    private readonly live: LiveEvents,
    private readonly clock: Clock,
  ) {
    this.transactor = new Transactor(dataSource, clock);
  }

  /** Applies changes to a delivery in a unit of work, appends the step and publishes the new state after commit. */
  async transition(
    uow: UnitOfWork,
    delivery: Delivery,
    changes: Partial<Delivery>,
    step: HistoryStep,
    publish = true,
  ): Promise<void> {
    if (Object.keys(changes).length) {
      if (changes.status && changes.status !== delivery.status) {
        await this.count(uow.manager, { ...delivery, ...changes } as Delivery, changes.status);
      }
      Object.assign(delivery, changes, { updatedAt: this.clock.now() });
      await uow.manager.update(Delivery, { id: delivery.id }, { ...changes, updatedAt: delivery.updatedAt } as never);
    }
    await this.append(uow.manager, delivery, step);
    if (publish) this.publishAfterCommit(uow, delivery);
  }

  /** Counts a delivery reaching `status` in deliveries_total, by channel, provider kind (and tenant, if asked). */
  private async count(manager: EntityManager, delivery: Delivery, status: string): Promise<void> {
    const provider = delivery.providerId ? await this.providerKind(manager, delivery.providerId) : 'none';
    deliveriesRecorded.inc({ channel: delivery.channel, status, provider, ...tenantLabel(delivery.tenantId) });
  }

  /** A provider account's kind: read once per process (it never changes), 'unknown' for an account gone. */
  private async providerKind(manager: EntityManager, providerId: string): Promise<string> {
    const known = this.providerKinds.get(providerId);
    if (known) return known;
    const [row] = (await manager.query(`SELECT kind FROM channel_provider WHERE id = $1`, [providerId])) as Array<{
      kind: string;
    }>;
    if (!row) return 'unknown';
    if (this.providerKinds.size < 10_000) this.providerKinds.set(providerId, row.kind);
    return row.kind;
  }

  /** Appends one step; a provider report the delivery already has is skipped. */
  async append(manager: EntityManager, delivery: Delivery, step: HistoryStep): Promise<void> {
    await manager
      .createQueryBuilder()
      .insert()
      .into(DeliveryEvent)
      .values({
        tenantId: delivery.tenantId,
        deliveryId: delivery.id,
        type: step.type,
        providerId: step.providerId ?? null,
        providerCode: step.providerCode ?? null,
        message: step.message ?? null,
        payload: (step.payload ?? null) as never,
        occurredAt: step.occurredAt ?? this.clock.now(),
      })
      .orIgnore()
      .execute();
  }

  /** Whether the delivery's history already has a step of this type. */
  async has(manager: EntityManager, deliveryId: string, type: DeliveryEventType): Promise<boolean> {
    return manager.existsBy(DeliveryEvent, { deliveryId, type });
  }

  /** The delivery's new state reaches deliveryStatusChanged subscribers once the transaction commits. */
  publishAfterCommit(uow: UnitOfWork, delivery: Delivery): void {
    const snapshot = Object.assign(new Delivery(), delivery);
    uow.afterCommit(() => this.live.publish('deliveryStatusChanged', delivery.tenantId, snapshot));
  }

  /**
   * Queues many rendered deliveries at once (a campaign's batch): the rows and their
   * `queued` steps in one statement, each skipped when its idempotency key exists. The
   * dispatchers wake at commit. Returns how many were queued.
   */
  async enqueueMany(uow: UnitOfWork, rows: NewDelivery[]): Promise<number> {
    if (!rows.length) return 0;
    // A small batch comes back row by row, for its subscribers; a large one as counts (no 5,000 rows to parse).
    const oneByOne = rows.length <= BULK_LIVE_LIMIT;
    const now = this.clock.now();
    const column = <T>(pick: (row: NewDelivery) => T) => rows.map(pick);
    // Columns as arrays (unnest): cheaper for PostgreSQL to take apart than one JSON document of the batch.
    const queued = returningRows<{ id: string | null; tenantId: string; channel: Channel; count: number }>(
      await uow.manager.query(
        `WITH inserted AS (
           INSERT INTO delivery (id, "tenantId", channel, recipient, "contactId", "userId", "templateId", subject, body,
                                 "metaTemplate", "notificationType", "campaignId", status, "maxAttempts", "nextAttemptAt",
                                 "validUntil", "idempotencyKey", "unsubscribeUrl", "createdAt", "updatedAt")
           SELECT v.id, v."tenantId", v.channel::channel, v.recipient, v."contactId", v."userId", v."templateId", v.subject,
                  v.body, v."metaTemplate", v."notificationType", v."campaignId", 'queued', v."maxAttempts", v."nextAttemptAt",
                  v."validUntil", v."idempotencyKey", v."unsubscribeUrl", $18, $18
             FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::uuid[], $6::uuid[], $7::uuid[], $8::text[],
                         $9::text[], $10::jsonb[], $11::text[], $12::uuid[], $13::int[], $14::timestamptz[], $15::timestamptz[],
                         $16::text[], $17::text[])
               AS v(id, "tenantId", channel, recipient, "contactId", "userId", "templateId", subject, body, "metaTemplate",
                    "notificationType", "campaignId", "maxAttempts", "nextAttemptAt", "validUntil", "idempotencyKey",
                    "unsubscribeUrl")
           ON CONFLICT ("tenantId", "idempotencyKey") DO NOTHING
           RETURNING id, "tenantId", channel),
         steps AS (
           INSERT INTO delivery_event ("tenantId", "deliveryId", type, "occurredAt")
           SELECT "tenantId", id, 'queued', $18 FROM inserted)
         ${
           oneByOne
             ? `SELECT id, "tenantId", channel, 1 AS count FROM inserted`
             : `SELECT NULL::uuid AS id, "tenantId", channel, count(*)::int AS count FROM inserted GROUP BY 2, 3`
         }`,
        [
          column((row) => row.id),
          column((row) => row.tenantId),
          column((row) => row.channel),
          column((row) => row.recipient),
          column((row) => row.contactId),
          column((row) => row.userId ?? null),
          column((row) => row.templateId),
          column((row) => row.subject),
          column((row) => row.body),
          column((row) => (row.metaTemplate ? JSON.stringify(row.metaTemplate) : null)),
          column((row) => row.notificationType),
          column((row) => row.campaignId ?? null),
          column((row) => row.maxAttempts),
          column((row) => row.nextAttemptAt),
          column((row) => row.validUntil),
          column((row) => row.idempotencyKey),
          column((row) => row.unsubscribeUrl ?? null),
          now,
        ],
      ),
    );
    if (!queued.length) return 0;
    await uow.manager.query(`SELECT pg_notify($1, '')`, [DELIVERY_WAKE_CHANNEL]);
    this.countBulk(
      queued.map((row) => ({ ...row, providerId: null })),
      DeliveryStatus.QUEUED,
    );
    if (oneByOne) {
      const ids = new Set(queued.map((row) => row.id!));
      for (const row of rows) {
        if (ids.has(row.id)) {
          this.publishAfterCommit(
            uow,
            Object.assign(new Delivery(), row, {
              userId: row.userId ?? null,
              campaignId: row.campaignId ?? null,
              unsubscribeUrl: row.unsubscribeUrl ?? null,
              status: DeliveryStatus.QUEUED,
              originalRecipient: null,
              providerId: null,
              providerMessageId: null,
              failedOver: false,
              attempts: 0,
              leaseUntil: null,
              lastErrorCode: null,
              lastErrorMessage: null,
              parentDeliveryId: null,
              fallbacks: [],
              ticketId: null,
              ticketMessageId: null,
              escalationId: null,
              ruleExecutionId: null,
              completionRequestId: null,
              createdAt: now,
              updatedAt: now,
              sentAt: null,
              deliveredAt: null,
              readAt: null,
            }),
          );
        }
      }
    }
    return queued.reduce((sum, row) => sum + row.count, 0);
  }

  /** Cancels the queued deliveries the selector names, each with a `cancelled` step giving the reason. Returns how many. */
  cancelWhere(uow: UnitOfWork, selector: QueuedSelector, reason: { code: string; message: string }): Promise<number> {
    return this.bulkChange(
      uow,
      selector,
      `status = 'cancelled', "lastErrorCode" = $CODE, "lastErrorMessage" = $MESSAGE`,
      { type: DeliveryEventType.CANCELLED, code: reason.code, message: reason.message },
      DeliveryStatus.CANCELLED,
    );
  }

  /**
   * Holds the queued deliveries the selector names (a paused campaign): nothing of them
   * goes out until released, and one whose validity ends meanwhile expires then, as any
   * other (its next attempt waits at its validity's end). Returns how many.
   */
  holdWhere(uow: UnitOfWork, selector: QueuedSelector, message: string): Promise<number> {
    return this.bulkChange(uow, selector, `"nextAttemptAt" = d."validUntil"`, {
      type: DeliveryEventType.HELD,
      code: null,
      message,
    });
  }

  /**
   * Releases the queued deliveries the selector names, spread `gapMs` apart from `from` in
   * the order they were planned (a campaign recipient's planned time, which also keeps
   * local send times and quiet hours), each no sooner than planned and no later than its
   * validity. Returns how many.
   */
  releaseWhere(uow: UnitOfWork, selector: QueuedSelector, spread: { from: Date; gapMs: number }): Promise<number> {
    return this.bulkChange(
      uow,
      selector,
      `"nextAttemptAt" = LEAST(d."validUntil", o.at)`,
      { type: DeliveryEventType.RELEASED, code: null, message: null },
      undefined,
      {
        // The order and spread: each row's planned time, then its place in the order times the gap.
        from: `(SELECT q.id, GREATEST(COALESCE(r."plannedAt", q."createdAt"),
                                      $FROM::timestamptz + (row_number() OVER (ORDER BY COALESCE(r."plannedAt", q."createdAt"), q.id) - 1)
                                                           * $GAP * interval '1 millisecond') AS at
                  FROM delivery q LEFT JOIN campaign_recipient r ON r."deliveryId" = q.id
                 WHERE QUEUED_MATCH) o`,
        join: `d.id = o.id`,
        params: { FROM: spread.from, GAP: spread.gapMs },
      },
    );
  }

  /**
   * One set-based change of queued deliveries and its history steps, in one statement; each
   * changed row is counted and (up to BULK_LIVE_LIMIT) published after commit.
   */
  private async bulkChange(
    uow: UnitOfWork,
    selector: QueuedSelector,
    set: string,
    step: { type: DeliveryEventType; code: string | null; message: string | null },
    countAs?: DeliveryStatus,
    source?: { from: string; join: string; params: Record<string, unknown> },
  ): Promise<number> {
    const params: unknown[] = [];
    const bind = (value: unknown) => `$${params.push(value)}`;
    const named: Record<string, string> = {
      NOW: bind(this.clock.now()),
      CODE: bind(step.code),
      MESSAGE: bind(step.message),
      TYPE: bind(step.type),
    };
    for (const [name, value] of Object.entries(source?.params ?? {})) named[name] = bind(value);
    const match = (alias: string) => {
      const where = [`${alias}."tenantId" = ${bind(selector.tenantId)}`, `${alias}.status = 'queued'`];
      if (selector.campaignId) where.push(`${alias}."campaignId" = ${bind(selector.campaignId)}`);
      if (selector.contactId) where.push(`${alias}."contactId" = ${bind(selector.contactId)}`);
      if (selector.channel) where.push(`${alias}.channel = ${bind(selector.channel)}`);
      if (selector.campaignMessages === 'any') where.push(`${alias}."campaignId" IS NOT NULL`);
      if (selector.campaignMessages === 'marketing') {
        where.push(`EXISTS (SELECT 1 FROM campaign c WHERE c.id = ${alias}."campaignId" AND c.category = 'marketing')`);
      }
      return where.join(' AND ');
    };
    const fill = (sql: string) => sql.replace(/\$([A-Z]+)\b/g, (whole, name: string) => named[name] ?? whole);
    const from = source ? `FROM ${fill(source.from).replace('QUEUED_MATCH', match('q'))}` : '';
    const where = [match('d'), ...(source ? [source.join] : [])].join(' AND ');
    const changed = returningRows<{ id: string; tenantId: string; channel: Channel; providerId: string | null }>(
      await uow.manager.query(
        `WITH changed AS (
           UPDATE delivery d SET ${fill(set)}, "updatedAt" = ${named.NOW}
             ${from}
            WHERE ${where}
        RETURNING d.id, d."tenantId", d.channel, d."providerId"),
         steps AS (
           INSERT INTO delivery_event ("tenantId", "deliveryId", type, "providerCode", message, "occurredAt")
           SELECT "tenantId", id, ${named.TYPE}::varchar, ${named.CODE}::varchar, ${named.MESSAGE}::text, ${named.NOW}::timestamptz
             FROM changed)
         SELECT * FROM changed`,
        params,
      ),
    );
    if (countAs) this.countBulk(changed, countAs);
    if (changed.length && changed.length <= BULK_LIVE_LIMIT) {
      const rows = await uow.manager.findBy(Delivery, { id: In(changed.map((row) => row.id)) });
      for (const row of rows) this.publishAfterCommit(uow, row);
    }
    return changed.length;
  }

  /** Counts a bulk change in deliveries_total, by channel and provider kind, as one increment per group. */
  private countBulk(
    rows: Array<{ tenantId: string; channel: Channel; providerId: string | null }>,
    status: DeliveryStatus,
  ): void {
    const groups = new Map<string, { row: (typeof rows)[number]; count: number }>();
    for (const row of rows) {
      const key = `${row.channel}|${row.providerId ?? ''}|${row.tenantId}`;
      const group = groups.get(key) ?? { row, count: 0 };
      group.count++;
      groups.set(key, group);
    }
    for (const { row, count } of groups.values()) {
      const provider = row.providerId ? (this.providerKinds.get(row.providerId) ?? 'unknown') : 'none';
      deliveriesRecorded.inc({ channel: row.channel, status, provider, ...tenantLabel(row.tenantId) }, count);
    }
  }

  /**
   * Deliveries among `ids` that died on their channel (failed or dead) and have a fallback
   * go again on the next channel: a child delivery (parentDeliveryId) of the message
   * rendered for it, keyed `<key>:fallback:<channel>` so it happens once, with the rest of
   * the fallbacks and the parent's validity; both get a history step. In the caller's
   * transaction, so the fallback commits with the death. Returns the children queued.
   */
  async fallBackFrom(uow: UnitOfWork, ids: string[]): Promise<Delivery[]> {
    if (!ids.length) return [];
    const now = this.clock.now();
    const rows = returningRows<Record<string, unknown>>(
      await uow.manager.query(
        `WITH parents AS (
           SELECT d.*, d.fallbacks -> 0 AS next FROM delivery d
            WHERE d.id = ANY($1::uuid[]) AND d.status IN ('failed', 'dead') AND jsonb_array_length(d.fallbacks) > 0),
         children AS (
           INSERT INTO delivery (id, "tenantId", channel, recipient, "contactId", "userId", "templateId", subject, body,
                                 "metaTemplate", "notificationType", "ticketId", "ticketMessageId", "escalationId",
                                 "ruleExecutionId", "campaignId", "completionRequestId", "parentDeliveryId", "sentById", status,
                                 "maxAttempts", "nextAttemptAt", "validUntil", "idempotencyKey", fallbacks, attachment, "createdAt", "updatedAt")
           SELECT gen_random_uuid(), p."tenantId", (p.next ->> 'channel')::channel, p.next ->> 'recipient', p."contactId", p."userId",
                  (p.next ->> 'templateId')::uuid, p.next ->> 'subject', p.next ->> 'body', NULLIF(p.next -> 'metaTemplate', 'null'),
                  p."notificationType", p."ticketId", p."ticketMessageId", p."escalationId", p."ruleExecutionId", p."campaignId",
                  p."completionRequestId", p.id, p."sentById", 'queued', p."maxAttempts", $2, p."validUntil",
                  left(p."idempotencyKey", 270) || ':fallback:' || (p.next ->> 'channel'), p.fallbacks - 0, p.attachment, $2, $2
             FROM parents p
           ON CONFLICT ("tenantId", "idempotencyKey") DO NOTHING
           RETURNING *),
         steps AS (
           INSERT INTO delivery_event ("tenantId", "deliveryId", type, message, "occurredAt")
           SELECT "tenantId", id, 'queued', 'Fallback of delivery ' || "parentDeliveryId", $2 FROM children
           UNION ALL
           SELECT "tenantId", "parentDeliveryId", 'fallback', 'Goes again on ' || channel || ' as delivery ' || id, $2 FROM children)
         SELECT * FROM children`,
        [ids, now],
      ),
    );
    if (!rows.length) return [];
    await uow.manager.query(`SELECT pg_notify($1, '')`, [DELIVERY_WAKE_CHANNEL]);
    const children = rows.map((row) => uow.manager.create(Delivery, row as Partial<Delivery>));
    this.countBulk(children, DeliveryStatus.QUEUED);
    for (const child of children) this.publishAfterCommit(uow, child);
    return children;
  }

  /**
   * The dispatcher's outcomes for claimed deliveries, however many, in one statement: each
   * written only while its claim (its lease) is still this worker's (a reclaimed row
   * belongs to someone else now), with its steps or not at all. Returns the ids written.
   */
  async recordDispatches(outcomes: DispatchOutcome[]): Promise<Set<string>> {
    if (!outcomes.length) return new Set();
    const now = this.clock.now();
    const input = outcomes.map(({ claimed, next, steps }) => ({
      id: claimed.id,
      lease: claimed.leaseUntil,
      status: next.status,
      providerId: next.providerId,
      providerMessageId: next.providerMessageId,
      failedOver: next.failedOver,
      recipient: next.recipient,
      originalRecipient: next.originalRecipient,
      sentAt: next.sentAt,
      lastErrorCode: next.lastErrorCode,
      lastErrorMessage: next.lastErrorMessage,
      nextAttemptAt: next.nextAttemptAt,
      attempts: next.attempts,
      steps: steps.map((step, n) => ({
        n,
        type: step.type,
        providerId: step.providerId ?? null,
        providerCode: step.providerCode ?? null,
        message: step.message ?? null,
      })),
    }));
    const params = [JSON.stringify(input), now];
    // A death with somewhere to fall back to commits with its fallback (rare: one transaction);
    // every other batch is one prepared statement, hundreds a second under load.
    const dying = outcomes.filter(
      ({ claimed, next }) =>
        claimed.fallbacks?.length && (next.status === DeliveryStatus.FAILED || next.status === DeliveryStatus.DEAD),
    );
    const written = dying.length
      ? await this.transactor.run(async (uow) => {
          const rows = (await uow.manager.query(OUTCOME_WRITE, params)) as Array<{ id: string }>;
          const held = new Set(rows.map((row) => row.id));
          await this.fallBackFrom(
            uow,
            dying.map(({ claimed }) => claimed.id).filter((id) => held.has(id)),
          );
          return rows;
        })
      : await hotRows<{ id: string }>(this.dataSource, OUTCOME_WRITE, params);
    const ids = new Set(written.map((row) => row.id));
    for (const { next, steps } of outcomes) {
      if (ids.has(next.id)) await this.count(this.dataSource.manager, next, countedAs(next, steps));
      // A quiet deferral (provider busy) is still queued to subscribers: nothing to tell them.
      if (ids.has(next.id) && (steps.length || next.status !== DeliveryStatus.QUEUED)) {
        this.live.publish('deliveryStatusChanged', next.tenantId, Object.assign(next, { updatedAt: now }));
      }
    }
    return ids;
  }
}

/** One claimed delivery's outcome as the dispatcher decided it. */
export interface DispatchOutcome {
  claimed: Delivery;
  next: Delivery;
  steps: HistoryStep[];
}

/**
 * Gathers the dispatcher's outcomes for a moment (or until `maxBatch` are waiting) and
 * writes them in one statement: at thousands of sends a second, a statement per message
 * would be the bottleneck. Each caller's promise settles when its outcome is written.
 */
export class OutcomeWriter {
  private pending: Array<DispatchOutcome & { settle: (written: boolean) => void; fail: (error: unknown) => void }> = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly history: DeliveryHistory,
    private readonly maxBatch = 250,
    private readonly gatherMs = 2,
  ) {}

  write(outcome: DispatchOutcome): Promise<boolean> {
    return new Promise((settle, fail) => {
      this.pending.push({ ...outcome, settle, fail });
      if (this.pending.length >= this.maxBatch) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.gatherMs);
    });
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.pending;
    this.pending = [];
    this.record(batch).then(
      (written) => batch.forEach((item) => item.settle(written.has(item.claimed.id))),
      (error: unknown) => batch.forEach((item) => item.fail(error)),
    );
  }

  /**
   * Writes a batch, again on a fresh connection when the database connection was lost
   * (a restart, a failover): these messages were sent, and an outcome left unwritten
   * would send them again once their lease ran out. The write is idempotent (it only
   * moves deliveries still leased by this claim).
   */
  private async record(batch: DispatchOutcome[]): Promise<Set<string>> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.history.recordDispatches(batch);
      } catch (error) {
        if (attempt >= OUTCOME_WRITE_ATTEMPTS || !isConnectionLoss(error)) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
      }
    }
  }
}

const OUTCOME_WRITE_ATTEMPTS = 5;

/** What a dispatch outcome counts as: its new status, or `retried` for one queued again after a failed attempt. */
function countedAs(next: Delivery, steps: HistoryStep[]): string {
  if (next.status === DeliveryStatus.QUEUED) return steps.length ? 'retried' : 'deferred';
  return next.status;
}

/**
 * The dispatcher's outcome write: each delivery moved only while its claim (lease) is
 * still this worker's, with its history steps, in one statement.
 */
const OUTCOME_WRITE = `WITH input AS (
           SELECT * FROM jsonb_to_recordset($1::jsonb) AS v(
             id uuid, lease timestamptz, status text, "providerId" uuid, "providerMessageId" text, "failedOver" boolean,
             recipient text, "originalRecipient" text, "sentAt" timestamptz, "lastErrorCode" text, "lastErrorMessage" text,
             "nextAttemptAt" timestamptz, attempts int, steps jsonb)),
         held AS (
           UPDATE delivery d
              SET status = v.status::delivery_status, "leaseUntil" = NULL, "updatedAt" = $2, "providerId" = v."providerId",
                  "providerMessageId" = v."providerMessageId", "failedOver" = v."failedOver", recipient = v.recipient,
                  "originalRecipient" = v."originalRecipient", "sentAt" = v."sentAt", "lastErrorCode" = v."lastErrorCode",
                  "lastErrorMessage" = v."lastErrorMessage", "nextAttemptAt" = v."nextAttemptAt", attempts = v.attempts
             FROM input v
            WHERE d.id = v.id AND d.status = 'sending' AND d."leaseUntil" = v.lease
        RETURNING d.id, d."tenantId"),
         steps AS (
           INSERT INTO delivery_event ("tenantId", "deliveryId", type, "providerId", "providerCode", message, "occurredAt")
           SELECT held."tenantId", held.id, e.type, e."providerId", e."providerCode", e.message, $2
             FROM held JOIN input v ON v.id = held.id,
                  jsonb_to_recordset(v.steps) AS e(n int, type text, "providerId" uuid, "providerCode" text, message text)
            ORDER BY held.id, e.n
               ON CONFLICT DO NOTHING)
         SELECT id FROM held`;
