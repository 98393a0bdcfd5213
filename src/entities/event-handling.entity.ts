import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { DomainEvent } from './domain-event.entity';
import { Tenant } from './tenant.entity';

export enum EventHandlingStatus {
  PENDING = 'pending',
  DONE = 'done',
  PARKED = 'parked',
}

/**
 * One domain event as one consumer handles it: created when the relay hands the event on,
 * marked done in the same transaction as the consumer's effects (so an event is never
 * applied twice), or parked after too many failures until an operator retries it.
 * `seq` is the order the relay handed events on in, which is the order they committed in.
 */
@Entity('event_handling')
@Index('event_handling_seq_key', ['seq'], { unique: true })
@Index('event_handling_pending_idx', ['consumer', 'tenantId', 'seq'], { where: `"status" = 'pending'` })
@Index('event_handling_parked_idx', ['consumer', 'tenantId'], { where: `"status" = 'parked'` })
export class EventHandling {
  @PrimaryColumn({ type: 'bigint' })
  eventId!: string;

  @ManyToOne(() => DomainEvent, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'eventId' })
  event?: DomainEvent;

  @PrimaryColumn({ type: 'varchar', length: 100 })
  consumer!: string;

  @Column({ type: 'uuid' })
  tenantId!: string;

  @ManyToOne(() => Tenant, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'tenantId' })
  tenant?: Tenant;

  @Column({ type: 'bigint', generated: 'increment' })
  seq!: string;

  @Column({ type: 'varchar', length: 10, default: EventHandlingStatus.PENDING })
  status!: EventHandlingStatus;

  @Column({ type: 'integer', default: 0 })
  attempts!: number;

  @Column({ type: 'timestamptz' })
  nextAttemptAt!: Date;

  @Column({ type: 'text', nullable: true })
  lastError!: string | null;

  @Column({ type: 'timestamptz', nullable: true })
  handledAt!: Date | null;
}
