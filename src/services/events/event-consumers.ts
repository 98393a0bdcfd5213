import type { DomainEvent } from '../../entities/domain-event.entity';
import type { UnitOfWork } from '../platform/unit-of-work';

/**
 * Something that reacts to domain events: the rules engine, the completion workflow,
 * campaigns. `handle` runs inside the transaction that marks the event done for this
 * consumer, so its effects (written through `uow`) and that mark commit together.
 * It may throw: the relay retries with backoff and parks the event after too many tries.
 */
export interface EventConsumer {
  /** Unique, stable name: progress is recorded under it (e.g. `rules`). */
  readonly name: string;
  readonly description: string;
  /** Event types it wants: exact (`quote.sent`), a prefix (`ticket.*`) or everything (`*`). */
  readonly types: readonly string[];
  handle(event: DomainEvent, uow: UnitOfWork): Promise<void>;
}

/** The consumers of this process, by name. Features register theirs when services are wired. */
export class EventConsumerRegistry {
  private readonly consumers = new Map<string, EventConsumer>();

  register(consumer: EventConsumer): void {
    if (this.consumers.has(consumer.name)) throw new Error(`An event consumer named "${consumer.name}" is already registered`);
    if (!/^[a-z][a-z0-9_.-]{0,99}$/.test(consumer.name)) throw new Error(`"${consumer.name}" is not a valid consumer name`);
    this.consumers.set(consumer.name, consumer);
  }

  get(name: string): EventConsumer | undefined {
    return this.consumers.get(name);
  }

  all(): EventConsumer[] {
    return [...this.consumers.values()];
  }
}
