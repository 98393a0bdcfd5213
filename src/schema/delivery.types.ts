import { ArrayMaxSize, IsInt, IsOptional, IsUUID, Length, Matches, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { GraphQLJSONObject } from 'graphql-scalars';
import { ArgsType, Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Channel, DeliveryStatus, ProviderKind } from '../entities/channel';
import { Delivery } from '../entities/delivery.entity';
import { PageInfo, PageArgs } from './connection';
import { MAX_VALIDITY_MINUTES } from '../services/delivery/validity';
import { NoticeState } from '../services/delivery/customer-notices';

export enum CircuitState {
  CLOSED = 'closed',
  OPEN = 'open',
  HALF_OPEN = 'half_open',
}

registerEnumType(CircuitState, {
  name: 'CircuitState',
  description: "A provider's circuit breaker.",
  valuesConfig: {
    CLOSED: { description: 'Healthy: messages go through.' },
    OPEN: { description: 'Failing: skipped until the cool-down ends.' },
    HALF_OPEN: { description: 'Cool-down over: the next message probes it.' },
  },
});

@InputType({ description: 'Which deliveries.' })
export class DeliveryFilter {
  @Field(() => ID, {
    nullable: true,
    description: 'Only those of this tenant (with `allTenants`, for platform super-admins; otherwise your own).',
  })
  @IsOptional()
  @IsUUID('all', { message: 'must be a tenant id' })
  tenantId?: string | null;

  @Field(() => [DeliveryStatus], { nullable: true, description: 'Only these statuses.' })
  statuses?: DeliveryStatus[] | null;

  @Field(() => [Channel], { nullable: true, description: 'Only these channels.' })
  channels?: Channel[] | null;

  @Field(() => ID, { nullable: true, description: 'Only those carried by this provider.' })
  @IsOptional()
  @IsUUID('all', { message: 'must be a provider id' })
  providerId?: string | null;

  @Field(() => ID, { nullable: true, description: 'Only those of this ticket.' })
  @IsOptional()
  @IsUUID('all', { message: 'must be a ticket id' })
  ticketId?: string | null;

  @Field(() => ID, { nullable: true, description: 'Only those of this campaign.' })
  @IsOptional()
  @IsUUID('all', { message: 'must be a campaign id' })
  campaignId?: string | null;

  @Field(() => ID, { nullable: true, description: 'Only those of this escalation.' })
  @IsOptional()
  @IsUUID('all', { message: 'must be an escalation id' })
  escalationId?: string | null;

  @Field(() => ID, { nullable: true, description: 'Only those for this contact.' })
  @IsOptional()
  @IsUUID('all', { message: 'must be a contact id' })
  contactId?: string | null;

  @Field(() => String, { nullable: true, description: 'Only those sent to this address.' })
  @IsOptional()
  @MaxLength(500)
  recipient?: string | null;

  @Field(() => String, { nullable: true, description: 'Only this notification type, e.g. emergency.' })
  @IsOptional()
  @MaxLength(50)
  notificationType?: string | null;

  @Field(() => Int, { nullable: true, description: 'Only those with at least this many attempts.' })
  @IsOptional()
  @IsInt()
  @Min(0)
  minAttempts?: number | null;

  @Field(() => Date, { nullable: true, description: 'Queued at or after.' })
  from?: Date | null;

  @Field(() => Date, { nullable: true, description: 'Queued before.' })
  to?: Date | null;
}

@ArgsType()
export class DeliveriesArgs extends PageArgs {
  @Field(() => DeliveryFilter, { nullable: true, description: 'Which deliveries; all when omitted.' })
  @IsOptional()
  @ValidateNested()
  filter?: DeliveryFilter | null;

  @Field({ defaultValue: false, description: 'All tenants (platform super-admins only).' })
  allTenants!: boolean;
}

@ObjectType({ description: 'A delivery in a list, with its cursor.' })
export class DeliveryEdge {
  @Field(() => Delivery, { description: 'The delivery.' })
  node!: Delivery;

  @Field({ description: 'Cursor of this position.' })
  cursor!: string;
}

@ObjectType({ description: 'A page of deliveries, newest first.' })
export class DeliveryConnection {
  @Field(() => [DeliveryEdge], { description: 'Deliveries of this page.' })
  edges!: DeliveryEdge[];

  @Field(() => PageInfo, { description: 'Where this page is.' })
  pageInfo!: PageInfo;

  @Field(() => Int, { description: 'How many match in all.' })
  totalCount!: number;
}

@ObjectType({ description: 'A count under a key.' })
export class KeyCount {
  @Field({ description: 'The key (status, channel, provider name or notification type).' })
  key!: string;

  @Field(() => Int, { description: 'How many.' })
  count!: number;
}

@ObjectType({ description: 'Delivery figures of one business for a period.' })
export class TenantDeliveryStats {
  @Field(() => ID, { description: 'The tenant.' })
  tenantId!: string;

  @Field({ description: 'Its short name.' })
  tenantSlug!: string;

  @Field({ description: 'Its display name.' })
  tenantName!: string;

  @Field(() => Int, { description: 'Deliveries queued in the period.' })
  total!: number;

  @Field(() => Int, { description: 'Sent, delivered or read.' })
  succeeded!: number;

  @Field(() => Int, { description: 'Failed or dead.' })
  failed!: number;

  @Field(() => Float, { nullable: true, description: 'Succeeded, in percent of finished deliveries.' })
  successRate!: number | null;

  @Field(() => Int, { description: 'Deliveries that needed more than one attempt.' })
  retried!: number;

  @Field(() => Int, { description: 'Attempts beyond the first, in all.' })
  retries!: number;

  @Field(() => [KeyCount], { description: 'Failed and dead deliveries by their last error code.' })
  failuresByReason!: KeyCount[];
}

@ObjectType({ description: 'Delivery figures for a period.' })
export class DeliveryStats {
  @Field(() => Int, { description: 'Deliveries queued in the period.' })
  total!: number;

  @Field(() => [KeyCount], { description: 'By current status.' })
  byStatus!: KeyCount[];

  @Field(() => [KeyCount], { description: 'By channel.' })
  byChannel!: KeyCount[];

  @Field(() => [KeyCount], { description: 'By provider that carried them ("none" when none did).' })
  byProvider!: KeyCount[];

  @Field(() => [KeyCount], { description: 'By notification type.' })
  byNotificationType!: KeyCount[];

  @Field(() => Float, { nullable: true, description: 'Sent, delivered or read, in percent of finished deliveries.' })
  successRate!: number | null;

  @Field(() => Float, { nullable: true, description: 'Carried by a backup provider, in percent of successful deliveries.' })
  failoverRate!: number | null;

  @Field(() => Float, { nullable: true, description: 'Failed or dead, in percent of finished deliveries.' })
  failureRate!: number | null;

  @Field(() => Int, { description: 'Deliveries that needed more than one attempt.' })
  retried!: number;

  @Field(() => Int, { description: 'Attempts beyond the first, in all.' })
  retries!: number;

  @Field(() => Int, { description: 'Deliveries an operator resent (copies of dead, failed or cancelled ones).' })
  resent!: number;

  @Field(() => [KeyCount], { description: 'Failed and dead deliveries by their last error code.' })
  failuresByReason!: KeyCount[];

  @Field(() => [TenantDeliveryStats], {
    description: 'The same figures per business: only your own, or every tenant for a platform super-admin with `allTenants`.',
  })
  byTenant!: TenantDeliveryStats[];
}

@InputType({ description: 'An ad-hoc message.' })
export class SendMessageInput {
  @Field(() => Channel, { description: 'How to send it.' })
  channel!: Channel;

  @Field(() => String, {
    nullable: true,
    description: 'Raw address (E.164 phone, e-mail or URL); otherwise the contact or user address.',
  })
  @IsOptional()
  @MaxLength(500)
  to?: string | null;

  @Field(() => ID, { nullable: true, description: 'Contact to send to.' })
  @IsOptional()
  @IsUUID('all', { message: 'must be a contact id' })
  contactId?: string | null;

  @Field(() => ID, { nullable: true, description: 'Staff user to send to.' })
  @IsOptional()
  @IsUUID('all', { message: 'must be a user id' })
  userId?: string | null;

  @Field(() => String, { nullable: true, description: 'Template to render (by name, for the channel).' })
  @IsOptional()
  @MaxLength(100)
  templateName?: string | null;

  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Template variables; contact and user are filled in.' })
  variables?: Record<string, unknown> | null;

  @Field(() => String, { nullable: true, description: 'Text, when no template is used (at most 4096 characters).' })
  @IsOptional()
  @Length(1, 4096)
  text?: string | null;

  @Field(() => String, { nullable: true, description: 'Subject (e-mail).' })
  @IsOptional()
  @MaxLength(300)
  subject?: string | null;

  @Field(() => ID, { nullable: true, description: 'Ticket the message belongs to.' })
  @IsOptional()
  @IsUUID('all', { message: 'must be a ticket id' })
  ticketId?: string | null;

  @Field(() => ID, {
    nullable: true,
    description:
      'A stored file of the tenant to send with it (createUpload, or a thread attachment): on WhatsApp (Meta) a photo, video or document with the text as caption; elsewhere its link after the text.',
  })
  @IsOptional()
  @IsUUID('all', { message: 'must be a file id' })
  fileId?: string | null;

  @Field(() => String, {
    nullable: true,
    description:
      'What kind of notification it is, counted under it in deliveryStats (e.g. payment_reminder); ad_hoc when omitted.',
  })
  @IsOptional()
  @Matches(/^[a-z][a-z0-9_]{0,49}$/, { message: 'must be a lower-case word such as payment_reminder' })
  notificationType?: string | null;

  @Field(() => String, { nullable: true, description: 'Your key: sending again with the same key returns the first delivery.' })
  @IsOptional()
  @Length(1, 200)
  idempotencyKey?: string | null;

  @Field(() => Int, {
    nullable: true,
    description:
      'How long it is worth sending, in minutes (1 to 43200, 30 days): past it, EXPIRED instead of late. The template’s, or the notification type’s default, when omitted.',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_VALIDITY_MINUTES)
  validForMinutes?: number | null;
}

@ObjectType({ description: 'The result of an emergency alert.' })
export class EmergencyAlert {
  @Field(() => ID, { description: 'Id shared by the alert’s deliveries (in their idempotency keys).' })
  alertId!: string;

  @Field(() => Int, { description: 'How many deliveries it queued: one per recipient and channel.' })
  queued!: number;

  /** What it queued; its `deliveries` connection pages through them. */
  deliveryIds!: string[];
}

@InputType({ description: 'A message template.' })
export class TemplateInput {
  @Field(() => Channel, { description: 'Channel it is for.' })
  channel!: Channel;

  @Field({ description: 'Unique name within the channel.' })
  @Length(1, 100)
  name!: string;

  @Field(() => String, { nullable: true, description: 'Subject (e-mail), may use placeholders.' })
  @IsOptional()
  @MaxLength(300)
  subject?: string | null;

  @Field({ description: 'Body with {{variable}} placeholders.' })
  @Length(1, 4096)
  body!: string;

  @Field(() => String, { nullable: true, description: 'Approved Meta template name (WhatsApp through Meta).' })
  @IsOptional()
  @MaxLength(200)
  metaTemplateName?: string | null;

  @Field(() => String, { nullable: true, description: 'Meta template language, e.g. en_US.' })
  @IsOptional()
  @MaxLength(20)
  metaLanguage?: string | null;

  @Field(() => Int, {
    nullable: true,
    description: 'How long its messages are worth sending, in minutes (1 to 43200); the notification type’s default when null.',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_VALIDITY_MINUTES)
  validForMinutes?: number | null;
}

@InputType({ description: 'A provider account. Credentials are write-only: they are never returned.' })
export class ProviderInput {
  @Field(() => ProviderKind, { description: 'Which provider API it speaks (cannot change later).' })
  kind!: ProviderKind;

  @Field({ description: 'Name shown to operators.' })
  @Length(1, 100)
  name!: string;

  @Field(() => Int, { nullable: true, description: 'Failover order: lower first (default 100).' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(10000)
  priority?: number | null;

  @Field(() => Boolean, { nullable: true, description: 'Whether it is used (default true).' })
  enabled?: boolean | null;

  @Field(() => Float, { nullable: true, description: 'Most messages per second (default: Meta 80, others unlimited).' })
  @IsOptional()
  @Min(0.01)
  @Max(10000)
  rateLimitPerSecond?: number | null;

  @Field(() => Int, { nullable: true, description: 'Fixed gap between messages in milliseconds.' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(3_600_000)
  minIntervalMs?: number | null;

  @Field(() => String, { nullable: true, description: 'API base URL override.' })
  @IsOptional()
  @MaxLength(500)
  baseUrl?: string | null;

  @Field(() => GraphQLJSONObject, {
    nullable: true,
    description: 'Non-secret settings: phoneNumberId, from, host, port, serverUrl.',
  })
  settings?: Record<string, unknown> | null;

  @Field(() => GraphQLJSONObject, {
    nullable: true,
    description:
      'Secrets, replaced whole: accessToken (Meta), token (Fonnte), token and secretKey (Wablas), accountSid and authToken (Twilio), username and password (SMTP), signingSecret (webhook).',
  })
  credentials?: Record<string, string> | null;
}

export enum SendFailureKind {
  REJECTED = 'rejected',
  PROVIDER = 'provider',
  TRANSIENT = 'transient',
  THROTTLED = 'throttled',
  RECIPIENT = 'recipient',
  WINDOW = 'window',
}

registerEnumType(SendFailureKind, {
  name: 'SendFailureKind',
  description: 'Whose problem a failed send is, which decides what the dispatcher does next.',
  valuesConfig: {
    REJECTED: { description: 'The message or recipient (invalid number, refused template): it fails at once.' },
    PROVIDER: {
      description: 'This provider account (revoked token, suspended account, quota): the next provider is tried.',
    },
    TRANSIENT: { description: 'May clear up (timeout, network, 5xx): the next provider now, this one later.' },
    THROTTLED: { description: 'The provider asked to slow down (429): paused until its Retry-After, no attempt charged.' },
    RECIPIENT: {
      description:
        'A passing limit on this one recipient or message (pair rate limit, spam limit): only this message is retried later; the provider keeps sending to others.',
    },
    WINDOW: {
      description:
        "Free text outside the customer's 24-hour WhatsApp service window (Meta 131047): only an approved template goes through this number; a gateway may carry the text.",
    },
  },
});

@ObjectType({ description: 'What a provider answered to a test message.' })
export class ProviderTestResult {
  @Field({ description: 'True when the provider accepted the message.' })
  ok!: boolean;

  @Field(() => String, { nullable: true, description: "The provider's message id." })
  providerMessageId!: string | null;

  @Field(() => String, { nullable: true, description: 'Error code (the provider’s own where it gave one).' })
  code!: string | null;

  @Field(() => String, { nullable: true, description: 'Error text.' })
  message!: string | null;

  @Field(() => Boolean, {
    nullable: true,
    description: 'Whether the message could still go out: later, or through another provider.',
  })
  retryable!: boolean | null;

  @Field(() => SendFailureKind, { nullable: true, description: 'Whose problem the error is.' })
  failureKind!: SendFailureKind | null;
}

@ObjectType({ description: 'A test recipient of one channel.' })
export class TestRecipient {
  @Field(() => Channel, { description: 'The channel.' })
  channel!: Channel;

  @Field({ description: 'Where test mode sends that channel’s messages.' })
  address!: string;
}

@ObjectType({ description: "The tenant's delivery settings." })
export class DeliverySettingsView {
  @Field({ description: 'Test mode: every message goes to the test recipient of its channel.' })
  testMode!: boolean;

  @Field(() => [TestRecipient], { description: 'Test recipients per channel; a channel without one sends nothing in test mode.' })
  testRecipients!: TestRecipient[];

  @Field(() => [String], { description: 'WhatsApp groups that also receive emergency alerts.' })
  emergencyWhatsAppGroups!: string[];
}

@InputType({ description: 'A test recipient to set (an empty address removes it).' })
export class TestRecipientInput {
  @Field(() => Channel, { description: 'The channel.' })
  channel!: Channel;

  @Field(() => String, { nullable: true, description: 'Address; empty removes the channel’s test recipient.' })
  @IsOptional()
  @MaxLength(500)
  address?: string | null;
}

@InputType({ description: 'Changes to the delivery settings; omitted fields stay.' })
export class DeliverySettingsInput {
  @Field(() => Boolean, { nullable: true, description: 'Turn test mode on or off.' })
  testMode?: boolean | null;

  @Field(() => [TestRecipientInput], { nullable: true, description: 'Test recipients to set or remove.' })
  @IsOptional()
  @ArrayMaxSize(4)
  testRecipients?: TestRecipientInput[] | null;

  @Field(() => [String], { nullable: true, description: 'WhatsApp group ids for emergency alerts (replaces the list).' })
  @IsOptional()
  @ArrayMaxSize(50)
  emergencyWhatsAppGroups?: string[] | null;
}

@InputType({ description: 'Which delivery status changes to receive.' })
export class DeliveryStatusFilter {
  @Field(() => ID, { nullable: true, description: 'Only deliveries of this ticket.' })
  ticketId?: string | null;

  @Field(() => ID, { nullable: true, description: 'Only deliveries of this campaign.' })
  campaignId?: string | null;

  @Field(() => String, { nullable: true, description: 'Only deliveries to this address.' })
  recipient?: string | null;

  @Field(() => ID, { nullable: true, description: 'Only deliveries for this contact.' })
  contactId?: string | null;
}

@ObjectType({
  description:
    'A notification sent to the customer about a ticket or completion request, as the customer may see it: what was sent, on which channel, and how far it got, in words of their language. No provider, error or address.',
})
export class CustomerNotification {
  @Field(() => ID, { description: 'The notification.' })
  id!: string;

  @Field(() => Channel, { description: 'Channel it went on.' })
  channel!: Channel;

  @Field({ description: 'What was sent.' })
  text!: string;

  @Field(() => NoticeState, { description: 'How far it got.' })
  state!: NoticeState;

  @Field({
    description: "The state in words of the customer's language (their own, else the business's), e.g. 'Delivered by WhatsApp'.",
  })
  stateText!: string;

  @Field({ description: 'When it was queued.' })
  queuedAt!: Date;

  @Field({ description: 'When its state last changed.' })
  changedAt!: Date;
}
