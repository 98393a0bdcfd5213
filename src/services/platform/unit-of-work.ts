import type { DataSource, EntityManager } from 'typeorm';
import type { Clock } from './clock';

/** NOTIFY channel an outbox write sends at commit, so the relay wakes at once. */
export const DOMAIN_EVENT_CHANNEL = 'domain_event';

export interface DomainEventInput {
  tenantId: string;
  type: string;
  subjectType: string;
  subjectId: string;
  payload: Record<string, unknown>;
  actorId?: string | null;
  /** How many rule executions led here (set by the rules engine on what its actions cause). */
  depth?: number;
  /** The rule execution whose action caused it. */
  causationId?: string | null;
}

/** What a service sees inside one database transaction. */
export interface UnitOfWork {
  manager: EntityManager;
  /** Writes an outbox row in this transaction. */
  record(event: DomainEventInput): Promise<void>;
  /** Writes several outbox rows in this transaction, in one statement. */
  recordAll(events: DomainEventInput[]): Promise<void>;
  /** Runs after a successful commit (live publication); dropped on rollback. */
  afterCommit(action: () => void): void;
}

/**
 * Runs `work` in one transaction: state changes and their DomainEvent rows commit
 * together or not at all; live publications happen only after the commit.
 */
export class Transactor {
  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  /**
   * `on`: run on this manager's connection (a relay lane holds one of its own); or join
   * a unit of work already open (a rule's action runs in the relay's transaction), whose
   * commit then commits this work too.
   */
  async run<T>(work: (uow: UnitOfWork) => Promise<T>, on: EntityManager | UnitOfWork = this.dataSource.manager): Promise<T> {
    if (isUnitOfWork(on)) return work(on);
    const afterCommit: Array<() => void> = [];
    const result = await on.transaction(async (manager) => {
      const recordAll = async (events: DomainEventInput[]) => {
        if (!events.length) return;
        // One INSERT for the lot; the outbox rows need nothing back.
        await manager.query(
          `INSERT INTO domain_event ("tenantId", type, "subjectType", "subjectId", payload, "actorId", depth, "causationId", "occurredAt")
           SELECT v.*, $9::timestamptz
             FROM unnest($1::uuid[], $2::varchar[], $3::varchar[], $4::uuid[], $5::jsonb[], $6::uuid[], $7::smallint[], $8::uuid[]) AS v`,
          [
            events.map((event) => event.tenantId),
            events.map((event) => event.type),
            events.map((event) => event.subjectType),
            events.map((event) => event.subjectId),
            events.map((event) => JSON.stringify(event.payload)),
            events.map((event) => event.actorId ?? null),
            events.map((event) => event.depth ?? 0),
            events.map((event) => event.causationId ?? null),
            this.clock.now(),
          ],
        );
        // Delivered at commit: the relay wakes as soon as the events are visible.
        await manager.query(`SELECT pg_notify($1, '')`, [DOMAIN_EVENT_CHANNEL]);
      };
      return work({
        manager,
        record: (event) => recordAll([event]),
        recordAll,
        afterCommit: (action) => afterCommit.push(action),
      });
    });
    for (const action of afterCommit) action();
    return result;
  }
}

function isUnitOfWork(on: EntityManager | UnitOfWork): on is UnitOfWork {
  return 'recordAll' in on && 'afterCommit' in on;
}
