import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { Column, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { Channel, DeliveryStatus } from './channel';
import { ChannelProvider } from './channel-provider.entity';
import { TenantOwned } from './tenant-owned';
import { Attachment } from './ticket-message.entity';

/** A Meta template message: name, language and the body parameters in order. */
export interface MetaTemplateMessage {
  name: string;
  language: string;
  parameters: string[];
}

/** The message rendered for a further channel, sent as a child delivery if this one dies on its own. */
export interface FallbackMessage {
  channel: Channel;
  recipient: string;
  templateId: string | null;
  subject: string | null;
  body: string;
  metaTemplate: MetaTemplateMessage | null;
}

@ObjectType({ description: 'One outbound message, tracked from queued to read.' })
@Entity('delivery')
@Index('delivery_tenant_idempotency_key', ['tenantId', 'idempotencyKey'], { unique: true })
@Index('delivery_due_idx', ['nextAttemptAt'], { where: `"status" = 'queued'` })
@Index('delivery_lease_idx', ['leaseUntil'], { where: `"status" = 'sending'` })
@Index('delivery_provider_message_idx', ['providerMessageId'], { where: '"providerMessageId" IS NOT NULL' })
@Index('delivery_tenant_created_idx', ['tenantId', 'createdAt'])
@Index('delivery_sent_by_idx', ['tenantId', 'sentById', 'createdAt'], { where: '"sentById" IS NOT NULL' })
@Index('delivery_tenant_status_idx', ['tenantId', 'status'])
@Index('delivery_campaign_idx', ['campaignId', 'status'], { where: '"campaignId" IS NOT NULL' })
export class Delivery extends TenantOwned {
  @Field(() => Channel, { description: 'How it is sent.' })
  @Column({ type: 'enum', enum: Channel, enumName: 'channel' })
  channel!: Channel;

  @Field({ description: 'Address it is sent to: phone number, e-mail address or URL (the test recipient in test mode).' })
  @Column({ type: 'varchar', length: 500 })
  recipient!: string;

  @Field(() => String, { nullable: true, description: 'The intended recipient when test mode redirected the message.' })
  @Column({ type: 'varchar', length: 500, nullable: true })
  originalRecipient!: string | null;

  @Field(() => ID, { nullable: true, description: 'Contact it is for.' })
  @Column({ type: 'uuid', nullable: true })
  contactId!: string | null;

  @Field(() => ID, { nullable: true, description: 'Staff user it is for.' })
  @Column({ type: 'uuid', nullable: true })
  userId!: string | null;

  @Field(() => ID, {
    nullable: true,
    description: 'The staff member who sent it by hand (sendMessage); null for what the product sends on its own.',
  })
  @Column({ type: 'uuid', nullable: true })
  sentById!: string | null;

  @Field(() => ID, { nullable: true, description: 'Template it was rendered from.' })
  @Column({ type: 'uuid', nullable: true })
  templateId!: string | null;

  @Field(() => String, { nullable: true, description: 'Subject (e-mail).' })
  @Column({ type: 'varchar', length: 300, nullable: true })
  subject!: string | null;

  @Field({ description: 'Rendered text.' })
  @Column({ type: 'text' })
  body!: string;

  @Field(() => GraphQLJSONObject, {
    nullable: true,
    description: 'Meta template message (name, language, parameters), when sent as one.',
  })
  @Column({ type: 'jsonb', nullable: true })
  metaTemplate!: MetaTemplateMessage | null;

  @Field({ description: 'What kind of notification it is, e.g. ad_hoc, emergency, escalation, campaign.' })
  @Column({ type: 'varchar', length: 50, default: 'ad_hoc' })
  notificationType!: string;

  @Field(() => ID, { nullable: true, description: 'Ticket it belongs to.' })
  @Index('delivery_ticket_idx', { where: '"ticketId" IS NOT NULL' })
  @Column({ type: 'uuid', nullable: true })
  ticketId!: string | null;

  @Field(() => ID, {
    nullable: true,
    description: 'The thread message it carries to the customer (an agent’s reply sent on WhatsApp).',
  })
  @Index('delivery_ticket_message_idx', { where: '"ticketMessageId" IS NOT NULL' })
  @Column({ type: 'uuid', nullable: true })
  ticketMessageId!: string | null;

  @Field(() => ID, { nullable: true, description: 'Escalation it belongs to.' })
  @Column({ type: 'uuid', nullable: true })
  escalationId!: string | null;

  @Field(() => ID, { nullable: true, description: 'Rule execution it belongs to.' })
  @Column({ type: 'uuid', nullable: true })
  ruleExecutionId!: string | null;

  @Field(() => ID, { nullable: true, description: 'Campaign it belongs to.' })
  @Column({ type: 'uuid', nullable: true })
  campaignId!: string | null;

  /** One-click unsubscribe URL sent in the List-Unsubscribe header of campaign e-mail. */
  @Column({ type: 'varchar', length: 500, nullable: true })
  unsubscribeUrl!: string | null;

  @Field(() => ID, { nullable: true, description: 'Completion request it belongs to.' })
  @Index('delivery_completion_request_idx', { where: '"completionRequestId" IS NOT NULL' })
  @Column({ type: 'uuid', nullable: true })
  completionRequestId!: string | null;

  @Field(() => DeliveryStatus, { description: 'Current status, derived from its events by precedence.' })
  @Column({ type: 'enum', enum: DeliveryStatus, enumName: 'delivery_status', default: DeliveryStatus.QUEUED })
  status!: DeliveryStatus;

  @Field(() => ID, { nullable: true, description: 'Provider that carried it.' })
  @Column({ type: 'uuid', nullable: true })
  providerId!: string | null;

  @ManyToOne(() => ChannelProvider, { nullable: true, onDelete: 'SET NULL' })
  @JoinColumn({ name: 'providerId' })
  provider?: ChannelProvider | null;

  @Field(() => String, { nullable: true, description: "Provider's message id (a wamid for Meta)." })
  @Column({ type: 'varchar', length: 200, nullable: true })
  providerMessageId!: string | null;

  @Field({ description: 'True when a provider other than the first choice carried it.' })
  @Column({ type: 'boolean', default: false })
  failedOver!: boolean;

  @Field(() => Int, { description: 'Attempts made so far.' })
  @Column({ type: 'integer', default: 0 })
  attempts!: number;

  @Field(() => Int, { description: 'Attempts allowed before the dead-letter queue.' })
  @Column({ type: 'integer', default: 3 })
  maxAttempts!: number;

  @Field({ description: 'When the next attempt is due (while queued).' })
  @Column({ type: 'timestamptz' })
  nextAttemptAt!: Date;

  /** While sending: the claim expires here and another worker may reclaim it. */
  @Column({ type: 'timestamptz', nullable: true })
  leaseUntil!: Date | null;

  @Field(() => String, { nullable: true, description: "Last error's code (the provider's own where it gave one)." })
  @Column({ type: 'varchar', length: 100, nullable: true })
  lastErrorCode!: string | null;

  @Field(() => String, { nullable: true, description: "Last error's text." })
  @Column({ type: 'text', nullable: true })
  lastErrorMessage!: string | null;

  @Field({ description: 'Unique per tenant: enqueuing again with the same key returns this delivery.' })
  @Column({ type: 'varchar', length: 300 })
  idempotencyKey!: string;

  @Field(() => ID, {
    nullable: true,
    description: 'The delivery this one comes from: resent by an operator, or fallen back from on another channel.',
  })
  @Index('delivery_parent_idx', { where: '"parentDeliveryId" IS NOT NULL' })
  @Column({ type: 'uuid', nullable: true })
  parentDeliveryId!: string | null;

  @Field({
    description:
      'Until when it is worth sending (by its notification type, template, rule, campaign or sender); past it, EXPIRED instead of late.',
  })
  @Column({ type: 'timestamptz' })
  validUntil!: Date;

  @Field(() => Attachment, {
    nullable: true,
    description:
      'A stored file it carries (an invoice PDF, a photo): as a WhatsApp image or document, or as a link on other channels.',
  })
  @Column({ type: 'jsonb', nullable: true })
  attachment!: Attachment | null;

  /** Rendered for the next channels, in order: a delivery that dies on its channel goes again on the next, once. */
  @Column({ type: 'jsonb', default: () => `'[]'` })
  fallbacks!: FallbackMessage[];

  @Field(() => [Channel], {
    description: 'Channels it falls back to, in order, if it dies on its own (rules with several channels).',
  })
  get fallbackChannels(): Channel[] {
    return (this.fallbacks ?? []).map((fallback) => fallback.channel);
  }

  @Field({ description: 'When it was queued.' })
  @Column({ type: 'timestamptz' })
  createdAt!: Date;

  @Field({ description: 'When it last changed.' })
  @Column({ type: 'timestamptz' })
  updatedAt!: Date;

  @Field(() => Date, { nullable: true, description: 'When the provider accepted it.' })
  @Column({ type: 'timestamptz', nullable: true })
  sentAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'When it was delivered.' })
  @Column({ type: 'timestamptz', nullable: true })
  deliveredAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'When it was read.' })
  @Column({ type: 'timestamptz', nullable: true })
  readAt!: Date | null;
}
