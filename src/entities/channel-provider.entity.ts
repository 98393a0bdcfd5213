import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, Float, Int, ObjectType } from 'type-graphql';
import { Column, CreateDateColumn, Entity, Index, UpdateDateColumn } from 'typeorm';
import { Channel, ProviderKind } from './channel';
import { TenantOwned } from './tenant-owned';

@ObjectType({ description: 'A configured provider account that carries messages of one channel.' })
@Entity('channel_provider')
@Index('channel_provider_tenant_channel_idx', ['tenantId', 'channel', 'priority'])
@Index('channel_provider_inbound_identity_key', ['inboundIdentity'], { unique: true, where: `"inboundIdentity" IS NOT NULL` })
export class ChannelProvider extends TenantOwned {
  @Field(() => ProviderKind, { description: 'Which provider API it speaks.' })
  @Column({ type: 'enum', enum: ProviderKind, enumName: 'provider_kind' })
  kind!: ProviderKind;

  @Field(() => Channel, { description: 'The channel it carries (follows from the kind).' })
  @Column({ type: 'enum', enum: Channel, enumName: 'channel' })
  channel!: Channel;

  @Field({ description: 'Name shown to operators, e.g. "Meta primary".' })
  @Column({ type: 'varchar', length: 100 })
  name!: string;

  @Field(() => Int, { description: 'Order of failover within the channel: lower is tried first.' })
  @Column({ type: 'integer', default: 100 })
  priority!: number;

  @Field({ description: 'Disabled providers are never used.' })
  @Column({ type: 'boolean', default: true })
  enabled!: boolean;

  @Field(() => Float, { nullable: true, description: 'Most messages per second; empty uses the kind default (Meta 80/s).' })
  @Column({ type: 'double precision', nullable: true })
  rateLimitPerSecond!: number | null;

  @Field(() => Int, { description: 'Fixed gap between two messages in milliseconds, for gateways that need one.' })
  @Column({ type: 'integer', default: 0 })
  minIntervalMs!: number;

  @Field(() => String, { nullable: true, description: "Override of the provider's API base URL (self-hosted gateways, tests)." })
  @Column({ type: 'varchar', length: 500, nullable: true })
  baseUrl!: string | null;

  @Field(() => GraphQLJSONObject, {
    description: 'Non-secret settings: phoneNumberId (Meta), from (SMS, e-mail), host and port (SMTP), url (webhook).',
  })
  @Column({ type: 'jsonb', default: {} })
  settings!: Record<string, unknown>;

  /**
   * The identity that routes inbound traffic to this provider's tenant (`meta:<phone number id>`,
   * `whatsapp-device:<digits>`), unique across all tenants: a second claim is refused.
   */
  @Column({ type: 'varchar', length: 120, nullable: true })
  inboundIdentity!: string | null;

  /** AES-256-GCM ciphertext of the credentials JSON; write-only over the API. */
  @Column({ type: 'text', default: '' })
  credentials!: string;

  @Field(() => Int, { description: 'Failures in a row; the circuit opens at the threshold.' })
  @Column({ type: 'integer', default: 0 })
  consecutiveFailures!: number;

  @Field(() => Date, {
    nullable: true,
    description: 'While in the future the circuit is open and the provider is skipped; after it, one probe goes through.',
  })
  @Column({ type: 'timestamptz', nullable: true })
  circuitOpenUntil!: Date | null;

  @Field({ description: 'When the provider was added.' })
  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @Field({ description: 'When the provider was last changed.' })
  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt!: Date;
}
