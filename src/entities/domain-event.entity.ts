import { Tenant } from './tenant.entity';
import { Column, Entity, Index, PrimaryGeneratedColumn, JoinColumn, ManyToOne } from 'typeorm';

/**
 * The transactional outbox: written in the same transaction as the change it
 * describes, read in order by the worker's relay. `id` orders events.
 */
@Entity('domain_event')
@Index('domain_event_unprocessed_idx', ['id'], { where: '"processedAt" IS NULL' })
@Index('domain_event_processed_idx', ['processedAt'], { where: '"processedAt" IS NOT NULL' })
@Index('domain_event_subject_idx', ['tenantId', 'subjectType', 'subjectId'])
@Index('domain_event_type_idx', ['tenantId', 'type', 'occurredAt'])
@Index('domain_event_idempotency_key', ['tenantId', 'idempotencyKey'], { unique: true, where: '"idempotencyKey" IS NOT NULL' })
export class DomainEvent {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id!: string;

  @Column({ type: 'uuid' })
  tenantId!: string;

  @ManyToOne(() => Tenant, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'tenantId' })
  tenant?: Tenant;

  /** e.g. ticket.created, ticket.assigned, ticket.status_changed, ticket.message_added */
  @Column({ type: 'varchar', length: 100 })
  type!: string;

  @Column({ type: 'varchar', length: 50 })
  subjectType!: string;

  /** Null for an event from another system whose subject was not found (see subjectRef). */
  @Column({ type: 'uuid', nullable: true })
  subjectId!: string | null;

  /** How the sending system named the subject (external id, phone, e-mail), as it sent it. */
  @Column({ type: 'jsonb', nullable: true })
  subjectRef!: Record<string, unknown> | null;

  /** The sender's idempotency key: a second event with the same key is accepted and ignored. */
  @Column({ type: 'varchar', length: 200, nullable: true })
  idempotencyKey!: string | null;

  /** internal (a change made here) or api (sent by another system). */
  @Column({ type: 'varchar', length: 20, default: 'internal' })
  source!: string;

  @Column({ type: 'jsonb' })
  payload!: Record<string, unknown>;

  @Column({ type: 'uuid', nullable: true })
  actorId!: string | null;

  /** How many rule executions led to this event (0: a person or another system); rules stop at a limit. */
  @Column({ type: 'smallint', default: 0 })
  depth!: number;

  /** The rule execution whose action caused it, if any. */
  @Column({ type: 'uuid', nullable: true })
  causationId!: string | null;

  @Column({ type: 'timestamptz' })
  occurredAt!: Date;

  /** When the relay handed the event on to its consumers (their progress is in event_handling). */
  @Column({ type: 'timestamptz', nullable: true })
  processedAt!: Date | null;
}
