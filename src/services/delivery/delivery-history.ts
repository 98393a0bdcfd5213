import type { DataSource, EntityManager } from 'typeorm';
import { DeliveryStatus } from '../../entities/channel';
import { DeliveryEvent, DeliveryEventType } from '../../entities/delivery-event.entity';
import { Delivery } from '../../entities/delivery.entity';
import type { Clock } from '../platform/clock';
import { deliveriesRecorded, tenantLabel } from '../platform/metrics';
import type { LiveEvents } from '../platform/live-events';
import { hotRows, isConnectionLoss } from '../platform/sql';
import type { UnitOfWork } from '../platform/unit-of-work';

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

  constructor(
    private readonly dataSource: DataSource,
    private readonly live: LiveEvents,
    private readonly clock: Clock,
  ) {}

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
    // A prepared statement: one per moment of sends, hundreds a second under load.
    const written = await hotRows<{ id: string }>(
      this.dataSource,
      `WITH input AS (
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
         SELECT id FROM held`,
      [JSON.stringify(input), now],
    );
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
