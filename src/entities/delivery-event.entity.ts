import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, ID, ObjectType } from 'type-graphql';
import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { Delivery } from './delivery.entity';
import { Tenant } from './tenant.entity';

/** Append-only: one row per step of a delivery (queued, sending, sent, failover, retry, webhook statuses...). */
@ObjectType({ description: 'One step in the history of a delivery.' })
@Entity('delivery_event')
@Index('delivery_event_delivery_idx', ['deliveryId', 'id'])
export class DeliveryEvent {
  @Field(() => ID, { description: 'Sequential id; orders the history.' })
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id!: string;

  @Column({ type: 'uuid' })
  tenantId!: string;

  @ManyToOne(() => Tenant, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'tenantId' })
  tenant?: Tenant;

  @Column({ type: 'uuid' })
  deliveryId!: string;

  @ManyToOne(() => Delivery, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'deliveryId' })
  delivery?: Delivery;

  @Field({
    description:
      'What happened: queued, sending, sent, delivered, read, failed, failover, retry_scheduled, dead, cancelled, resent.',
  })
  @Column({ type: 'varchar', length: 30 })
  type!: string;

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
