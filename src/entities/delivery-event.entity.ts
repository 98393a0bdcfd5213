import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** The steps of a delivery's history. */
export enum DeliveryEventType {
  QUEUED = 'queued',
  SENT = 'sent',
  DELIVERED = 'delivered',
  READ = 'read',
  FAILED = 'failed',
  /** A provider failed and the next one was tried in the same attempt. */
  FAILOVER = 'failover',
  /** The last provider of an attempt failed. */
  ATTEMPT_FAILED = 'attempt_failed',
  /** Providers were skipped: their circuit was open or they asked to slow down. */
  CIRCUIT_OPEN = 'circuit_open',
  /** A provider asked to slow down (429); it is paused until its Retry-After. */
  THROTTLED = 'throttled',
  /** Not sent now and not charged an attempt: tried again when a provider can take it. */
  DEFERRED = 'deferred',
  RETRY_SCHEDULED = 'retry_scheduled',
  DEAD = 'dead',
  CANCELLED = 'cancelled',
  RESENT = 'resent',
  /** Its validity ended before it could be sent: final. */
  EXPIRED = 'expired',
  /** Held back with its campaign (paused): sent nothing until released. */
  HELD = 'held',
  /** Released again (its campaign resumed), with its new time. */
  RELEASED = 'released',
  /** It died on its channel and goes again on the next one, as a child delivery. */
  FALLBACK = 'fallback',
}

registerEnumType(DeliveryEventType, {
  name: 'DeliveryEventType',
  description: 'One kind of step in the history of a delivery.',
  valuesConfig: {
    QUEUED: { description: 'Queued (or queued again by an operator).' },
    SENT: { description: 'A provider accepted it.' },
    DELIVERED: { description: "The provider reported it reached the recipient's device or mailbox." },
    READ: { description: 'The provider reported it read.' },
    FAILED: { description: 'Refused for good (or the provider reported it failed).' },
    FAILOVER: { description: 'A provider failed and the next one was tried in the same attempt.' },
    ATTEMPT_FAILED: { description: 'The last provider of an attempt failed.' },
    CIRCUIT_OPEN: { description: 'Providers were skipped: their circuit was open or they asked to slow down.' },
    THROTTLED: { description: 'A provider asked to slow down (429); it is paused until its Retry-After.' },
    DEFERRED: { description: 'Not sent now and not charged an attempt: tried again when a provider can take it.' },
    RETRY_SCHEDULED: { description: 'It will be tried again at nextAttemptAt.' },
    DEAD: { description: 'Every attempt failed: dead-lettered.' },
    CANCELLED: { description: 'Not sent on purpose (opt-out, discarded).' },
    RESENT: { description: 'An operator sent it again.' },
    EXPIRED: { description: 'Its validity ended before it could be sent: final.' },
    HELD: { description: 'Held back with its campaign (paused).' },
    RELEASED: { description: 'Released again (its campaign resumed), with its new time.' },
    FALLBACK: { description: 'It died on its channel and goes again on the next one, as a child delivery.' },
  },
});

/** Append-only: one row per step of a delivery (queued, sending, sent, failover, retry, webhook statuses...). */
@ObjectType({ description: 'One step in the history of a delivery.' })
@Entity('delivery_event')
@Index('delivery_event_delivery_idx', ['deliveryId', 'id'])
@Index('delivery_event_provider_report_key', ['deliveryId', 'type'], {
  unique: true,
  where: `"type" IN ('sent', 'delivered', 'read', 'failed')`,
})
export class DeliveryEvent {
  @Field(() => ID, { description: 'Sequential id; orders the history.' })
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id!: string;

  @Column({ type: 'uuid' })
  tenantId!: string;

  /**
   * Its delivery. Neither key is a foreign key: the ledger (services/delivery) alone writes
   * steps, each with its delivery, and nothing deletes a delivery or a tenant on its own;
   * checking both keys per step was 60% of writing a campaign batch's history. Whatever
   * comes to delete a tenant must delete its delivery_event rows too.
   */
  @Column({ type: 'uuid' })
  deliveryId!: string;

  @Field(() => DeliveryEventType, { description: 'What happened.' })
  @Column({ type: 'varchar', length: 30 })
  type!: `${DeliveryEventType}`;

  @Field(() => ID, { nullable: true, description: 'Provider involved.' })
  @Column({ type: 'uuid', nullable: true })
  providerId!: string | null;

  @Field(() => String, { nullable: true, description: "Provider's own code (error code or status)." })
  @Column({ type: 'varchar', length: 100, nullable: true })
  providerCode!: string | null;

  @Field(() => String, { nullable: true, description: 'Explanation.' })
  @Column({ type: 'text', nullable: true })
  message!: string | null;

  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Raw provider payload, where there is one.' })
  @Column({ type: 'jsonb', nullable: true })
  payload!: Record<string, unknown> | null;

  @Field({ description: 'When it happened.' })
  @Column({ type: 'timestamptz' })
  occurredAt!: Date;
}
