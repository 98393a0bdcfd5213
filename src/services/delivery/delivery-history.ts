import type { DataSource, EntityManager } from 'typeorm';
import { DeliveryStatus } from '../../entities/channel';
import { DeliveryEvent, DeliveryEventType } from '../../entities/delivery-event.entity';
import { Delivery } from '../../entities/delivery.entity';
import type { Clock } from '../platform/clock';
import type { LiveEvents } from '../platform/live-events';
import { returningRows } from '../platform/sql';
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
      Object.assign(delivery, changes, { updatedAt: this.clock.now() });
      await uow.manager.update(Delivery, { id: delivery.id }, { ...changes, updatedAt: delivery.updatedAt } as never);
    }
    await this.append(uow.manager, delivery, step);
    if (publish) this.publishAfterCommit(uow, delivery);
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
   * The dispatcher's outcome for a claimed delivery, in one statement: written only while
   * the claim (its lease) is still this worker's (a reclaimed row belongs to someone else
   * now), with its steps or not at all. Returns whether it was written.
   */
  async recordDispatch(claimed: Delivery, next: Delivery, steps: HistoryStep[]): Promise<boolean> {
    const now = this.clock.now();
    const written = returningRows(
      await this.dataSource.query(
        `WITH held AS (
           UPDATE delivery
              SET status = $3, "leaseUntil" = NULL, "updatedAt" = $4, "providerId" = $5, "providerMessageId" = $6, "failedOver" = $7,
                  recipient = $8, "originalRecipient" = $9, "sentAt" = $10, "lastErrorCode" = $11, "lastErrorMessage" = $12,
                  "nextAttemptAt" = $13, attempts = $15
            WHERE id = $1 AND status = 'sending' AND "leaseUntil" = $2
        RETURNING id, "tenantId"),
         steps AS (
           INSERT INTO delivery_event ("tenantId", "deliveryId", type, "providerId", "providerCode", message, "occurredAt")
           SELECT held."tenantId", held.id, e.type, e."providerId", e."providerCode", e.message, $4
             FROM held, jsonb_to_recordset($14::jsonb) AS e(n int, type text, "providerId" uuid, "providerCode" text, message text)
            ORDER BY e.n
               ON CONFLICT DO NOTHING)
         SELECT id FROM held`,
        [
          claimed.id,
          claimed.leaseUntil,
          next.status,
          now,
          next.providerId,
          next.providerMessageId,
          next.failedOver,
          next.recipient,
          next.originalRecipient,
          next.sentAt,
          next.lastErrorCode,
          next.lastErrorMessage,
          next.nextAttemptAt,
          JSON.stringify(
            steps.map((step, n) => ({
              n,
              type: step.type,
              providerId: step.providerId ?? null,
              providerCode: step.providerCode ?? null,
              message: step.message ?? null,
            })),
          ),
          next.attempts,
        ],
      ),
    );
    if (!written.length) return false;
    // A quiet deferral (provider busy) is still queued to subscribers: nothing to tell them.
    if (steps.length || next.status !== DeliveryStatus.QUEUED) {
      this.live.publish('deliveryStatusChanged', next.tenantId, Object.assign(next, { updatedAt: now }));
    }
    return true;
  }
}
