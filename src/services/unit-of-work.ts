import type { DataSource, EntityManager } from 'typeorm';
import { DomainEvent } from '../entities/domain-event.entity';
import type { Clock } from './clock';

export interface DomainEventInput {
  tenantId: string;
  type: string;
  subjectType: string;
  subjectId: string;
  payload: Record<string, unknown>;
  actorId?: string | null;
}

/** What a service sees inside one database transaction. */
export interface UnitOfWork {
  manager: EntityManager;
  /** Writes an outbox row in this transaction. */
  record(event: DomainEventInput): Promise<void>;
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

  async run<T>(work: (uow: UnitOfWork) => Promise<T>): Promise<T> {
    const afterCommit: Array<() => void> = [];
    const result = await this.dataSource.transaction(async (manager) =>
      work({
        manager,
        record: async (event) => {
          await manager.save(
            manager.create(DomainEvent, { ...event, actorId: event.actorId ?? null, occurredAt: this.clock.now() }),
          );
        },
        afterCommit: (action) => afterCommit.push(action),
      }),
    );
    for (const action of afterCommit) action();
    return result;
  }
}
