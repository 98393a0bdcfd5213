import { type DataSource, In, type QueryRunner } from 'typeorm';
import { DomainEvent } from '../../entities/domain-event.entity';
import { EventHandlingStatus } from '../../entities/event-handling.entity';
import type { Clock } from '../platform/clock';
import { badInput } from '../platform/errors';
import { returningRows } from '../platform/sql';
import { DOMAIN_EVENT_CHANNEL, type Transactor, type UnitOfWork } from '../platform/unit-of-work';
import type { EventConsumer, EventConsumerRegistry } from './event-consumers';

export interface RelaySettings {
  /** Events handed on per fan-out pass. */
  batchSize: number;
  /** Tries of one event by one consumer before it is parked. */
  maxAttempts: number;
  /** First retry delay of a failing consumer, doubling up to five minutes. */
  backoffBaseMs: number;
  /** How long handled events are kept. */
  retentionMs: number;
}

export interface ConsumerStatus {
  consumer: string;
  description: string;
  /** Events waiting for this consumer (handed on but not yet handled, or not yet handed on). */
  lag: number;
  /** When the oldest of them happened. */
  oldestPendingAt: Date | null;
  parked: number;
  lastError: string | null;
}

export interface RelayPass {
  handedOn: number;
  handled: number;
  failed: number;
  parked: number;
}

/** Events of one lane handled in one transaction, each under its own savepoint. */
const PAGE_SIZE = 100;

/** A consumer's queue of one tenant: handled one event at a time, in commit order. */
interface Lane {
  consumer: string;
  tenantId: string;
}

/**
 * The transactional outbox's reader. Services write DomainEvent rows with their changes;
 * this relay hands each event to the registered consumers that want its type, and runs
 * each consumer over each tenant's events in commit order:
 *
 * - handing on (fan-out) is serialised by an advisory lock, so the order of `seq` is the
 *   order events became visible, i.e. commit order;
 * - one lane (consumer x tenant) runs on one worker at a time (session advisory lock), so
 *   several workers share the work and each lane stays in order;
 * - a consumer's effects and its "done" mark commit together: never lost, never twice;
 * - a failing event is retried with backoff and holds back only its own lane; after
 *   `maxAttempts` it is parked and the lane moves on, until an operator retries it.
 */
export class EventRelayService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly transactor: Transactor,
    private readonly consumers: EventConsumerRegistry,
    private readonly clock: Clock,
    private readonly settings: RelaySettings,
  ) {}

  /** One pass: hand on new events, then run every lane that has a due event. */
  async runOnce(): Promise<RelayPass> {
    const handedOn = await this.handOn();
    const pass: RelayPass = { handedOn, handled: 0, failed: 0, parked: 0 };
    for (const lane of await this.dueLanes()) {
      const outcome = await this.runLane(lane);
      pass.handled += outcome.handled;
      pass.failed += outcome.failed;
      pass.parked += outcome.parked;
    }
    return pass;
  }

  /** Creates the handling rows of new events for the consumers that want them, in one serialised statement. */
  async handOn(): Promise<number> {
    const registered = this.consumers.all();
    const now = this.clock.now();
    return this.dataSource.transaction(async (manager) => {
      // One fan-out at a time across workers: seq then follows visibility (commit) order.
      await manager.query(`SELECT pg_advisory_xact_lock(hashtext('domain_event:hand-on'))`);
      const rows = returningRows<{ id: string }>(
        await manager.query(
          `WITH batch AS (
             SELECT id, "tenantId", type FROM domain_event
              WHERE "processedAt" IS NULL ORDER BY id LIMIT $1),
           marked AS (
             UPDATE domain_event e SET "processedAt" = $2 FROM batch WHERE e.id = batch.id RETURNING e.id),
           handed AS (
             INSERT INTO event_handling ("eventId", consumer, "tenantId", "nextAttemptAt")
             SELECT DISTINCT b.id, c.name, b."tenantId", $2::timestamptz
               FROM batch b JOIN unnest($3::text[], $4::text[]) AS c(name, pattern) ON b.type LIKE c.pattern
              ORDER BY b.id, c.name
             ON CONFLICT DO NOTHING)
           SELECT id FROM marked`,
          [
            this.settings.batchSize,
            now,
            registered.flatMap((consumer) => consumer.types.map(() => consumer.name)),
            registered.flatMap((consumer) => consumer.types.map(likePattern)),
          ],
        ),
      );
      return rows.length;
    });
  }

  /** Lanes whose oldest pending event is due (a lane waiting out a retry keeps its order by waiting). */
  private async dueLanes(limit = 200): Promise<Lane[]> {
    return this.dataSource.query(
      `SELECT consumer, "tenantId" FROM (
         SELECT DISTINCT ON (consumer, "tenantId") consumer, "tenantId", "nextAttemptAt", seq
           FROM event_handling WHERE status = 'pending'
          ORDER BY consumer, "tenantId", seq) AS heads
        WHERE "nextAttemptAt" <= $1
        ORDER BY seq
        LIMIT $2`,
      [this.clock.now(), limit],
    );
  }

  /** Runs one lane on a connection of its own, if no other worker is running it. */
  private async runLane(lane: Lane, maxEvents = 500): Promise<Omit<RelayPass, 'handedOn'>> {
    const outcome = { handled: 0, failed: 0, parked: 0 };
    const consumer = this.consumers.get(lane.consumer);
    if (!consumer) return outcome;
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    const key = `event-lane:${lane.consumer}:${lane.tenantId}`;
    try {
      const [{ locked }] = await runner.query(`SELECT pg_try_advisory_lock(hashtext($1)) AS locked`, [key]);
      if (!locked) return outcome;
      try {
        while (outcome.handled + outcome.parked < maxEvents) {
          const page = await this.runPage(runner, consumer, lane, PAGE_SIZE);
          outcome.handled += page.handled;
          outcome.failed += page.failed;
          outcome.parked += page.parked;
          if (page.failed || page.handled + page.parked < PAGE_SIZE) break;
        }
      } finally {
        await runner.query(`SELECT pg_advisory_unlock(hashtext($1))`, [key]);
      }
    } finally {
      await runner.release();
    }
    return outcome;
  }

  /**
   * Up to `size` due events of the lane, in order, in one transaction: each under a savepoint,
   * so a failing event's effects are undone while the ones before it commit with their done
   * marks; the failure is recorded and the page stops there (later events wait, for order).
   * A crash rolls the whole page back: its events are handled again, never lost, never twice.
   */
  private async runPage(
    runner: QueryRunner,
    consumer: EventConsumer,
    lane: Lane,
    size: number,
  ): Promise<Omit<RelayPass, 'handedOn'>> {
    const outcome = { handled: 0, failed: 0, parked: 0 };
    await this.transactor.run(async (uow) => {
      const heads = (await uow.manager.query(
        `SELECT h."eventId", h.attempts, h."nextAttemptAt" FROM event_handling h
          WHERE h.consumer = $1 AND h."tenantId" = $2 AND h.status = 'pending'
          ORDER BY h.seq LIMIT $3`,
        [lane.consumer, lane.tenantId, size],
      )) as Array<{ eventId: string; attempts: number; nextAttemptAt: Date }>;
      const now = this.clock.now();
      // Stops at the first event still waiting out a retry: the ones after it keep their order.
      const firstNotDue = heads.findIndex((head) => head.nextAttemptAt > now);
      const due = firstNotDue === -1 ? heads : heads.slice(0, firstNotDue);
      if (!due.length) return;
      const events = new Map(
        (await uow.manager.findBy(DomainEvent, { id: In(due.map((head) => head.eventId)) })).map((event) => [event.id, event]),
      );
      for (const head of due) {
        const event = events.get(head.eventId);
        if (!event) continue;
        const result = await this.handleOne(uow, consumer, event, head.attempts);
        outcome[result]++;
        if (result === 'failed') break;
      }
    }, runner.manager);
    return outcome;
  }

  private async handleOne(
    uow: UnitOfWork,
    consumer: EventConsumer,
    event: DomainEvent,
    attempts: number,
  ): Promise<'handled' | 'failed' | 'parked'> {
    const later: Array<() => void> = [];
    await uow.manager.query('SAVEPOINT relay_event');
    try {
      // The consumer's after-commit actions count only if its savepoint holds.
      await consumer.handle(event, { ...uow, afterCommit: (action) => later.push(action) });
      await uow.manager.query(
        `UPDATE event_handling SET status = 'done', attempts = attempts + 1, "handledAt" = $3, "lastError" = NULL
          WHERE "eventId" = $1 AND consumer = $2 AND status = 'pending'`,
        [event.id, consumer.name, this.clock.now()],
      );
      await uow.manager.query('RELEASE SAVEPOINT relay_event');
      for (const action of later) uow.afterCommit(action);
      return 'handled';
    } catch (error) {
      await uow.manager.query('ROLLBACK TO SAVEPOINT relay_event');
      const tries = attempts + 1;
      const parked = tries >= this.settings.maxAttempts;
      const delay = Math.min(this.settings.backoffBaseMs * 2 ** (tries - 1), 5 * 60_000);
      await uow.manager.query(
        `UPDATE event_handling SET attempts = $3, status = $4, "lastError" = $5, "nextAttemptAt" = $6
          WHERE "eventId" = $1 AND consumer = $2`,
        [
          event.id,
          consumer.name,
          tries,
          parked ? EventHandlingStatus.PARKED : EventHandlingStatus.PENDING,
          (error instanceof Error ? error.message : String(error)).slice(0, 2000),
          new Date(this.clock.now().getTime() + delay),
        ],
      );
      return parked ? 'parked' : 'failed';
    }
  }

  /** Deletes handled events older than the retention period, a bounded batch at a time; returns how many. */
  async prune(batchSize = 5000): Promise<number> {
    const cutoff = new Date(this.clock.now().getTime() - this.settings.retentionMs);
    const rows = returningRows(
      await this.dataSource.query(
        `DELETE FROM domain_event WHERE id IN (
           SELECT e.id FROM domain_event e
            WHERE e."processedAt" < $1
              AND NOT EXISTS (SELECT 1 FROM event_handling h WHERE h."eventId" = e.id AND h.status <> 'done')
            ORDER BY e."processedAt" LIMIT $2)
         RETURNING id`,
        [cutoff, batchSize],
      ),
    );
    return rows.length;
  }

  /** Every registered consumer with its lag, parked events and last error for one tenant. */
  async status(tenantId: string): Promise<ConsumerStatus[]> {
    const rows = (await this.dataSource.query(
      `SELECT h.consumer,
              count(*) FILTER (WHERE h.status = 'pending')::int AS pending,
              count(*) FILTER (WHERE h.status = 'parked')::int AS parked,
              min(e."occurredAt") FILTER (WHERE h.status = 'pending') AS "oldestPendingAt",
              (array_agg(h."lastError" ORDER BY h.seq DESC) FILTER (WHERE h."lastError" IS NOT NULL))[1] AS "lastError"
         FROM event_handling h JOIN domain_event e ON e.id = h."eventId"
        WHERE h."tenantId" = $1 AND h.status <> 'done'
        GROUP BY h.consumer`,
      [tenantId],
    )) as Array<{ consumer: string; pending: number; parked: number; oldestPendingAt: Date | null; lastError: string | null }>;
    const [waiting] = (await this.dataSource.query(
      `SELECT count(*)::int AS count, min("occurredAt") AS oldest FROM domain_event WHERE "tenantId" = $1 AND "processedAt" IS NULL`,
      [tenantId],
    )) as Array<{ count: number; oldest: Date | null }>;
    return this.consumers.all().map((consumer) => {
      const row = rows.find((candidate) => candidate.consumer === consumer.name);
      const oldest = [row?.oldestPendingAt, waiting.oldest].filter((date): date is Date => !!date);
      return {
        consumer: consumer.name,
        description: consumer.description,
        lag: (row?.pending ?? 0) + waiting.count,
        oldestPendingAt: oldest.length ? new Date(Math.min(...oldest.map((date) => date.getTime()))) : null,
        parked: row?.parked ?? 0,
        lastError: row?.lastError ?? null,
      };
    });
  }

  /** Puts a consumer's parked events of one tenant back in its lane, due now; returns how many. */
  async retryParked(tenantId: string, consumerName: string): Promise<number> {
    if (!this.consumers.get(consumerName)) {
      throw badInput(`Unknown event consumer "${consumerName}"; see eventConsumers for the names`, 'consumer');
    }
    const rows = returningRows(
      await this.dataSource.query(
        `UPDATE event_handling SET status = 'pending', attempts = 0, "nextAttemptAt" = $3
          WHERE "tenantId" = $1 AND consumer = $2 AND status = 'parked'
        RETURNING "eventId"`,
        [tenantId, consumerName, this.clock.now()],
      ),
    );
    if (rows.length) await this.dataSource.query(`SELECT pg_notify($1, '')`, [DOMAIN_EVENT_CHANNEL]);
    return rows.length;
  }
}

/** A consumer's type pattern as SQL LIKE: `*` alone is every type, `ticket.*` every ticket event. */
function likePattern(type: string): string {
  return type.replace(/[\\%_]/g, (c) => '\\' + c).replace(/\*/g, '%');
}
