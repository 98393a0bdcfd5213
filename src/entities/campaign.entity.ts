import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Column, CreateDateColumn, Entity, Index, UpdateDateColumn } from 'typeorm';
import { Channel } from './channel';
import { TenantOwned } from './tenant-owned';

export enum CampaignType {
  ONE_OFF = 'one_off',
  RECURRING = 'recurring',
}

export enum CampaignCategory {
  MARKETING = 'marketing',
  TRANSACTIONAL = 'transactional',
  OPERATIONAL = 'operational',
}

export enum CampaignStatus {
  DRAFT = 'draft',
  SCHEDULED = 'scheduled',
  RUNNING = 'running',
  PAUSED = 'paused',
  COMPLETED = 'completed',
  CANCELLED = 'cancelled',
}

registerEnumType(CampaignType, {
  name: 'CampaignType',
  description: 'Sent once, or on a cron schedule (one run per occurrence).',
  valuesConfig: {
    ONE_OFF: { description: 'Sent once, now or at sendAt.' },
    RECURRING: { description: 'Sent at every occurrence of its cron, each a run of its own.' },
  },
});
registerEnumType(CampaignCategory, {
  name: 'CampaignCategory',
  description: 'Marketing never reaches a contact who opted out; transactional and operational follow the tenant’s setting.',
  valuesConfig: {
    MARKETING: { description: 'Offers and promotions: withheld from contacts who opted out on the channel.' },
    TRANSACTIONAL: { description: 'About the customer’s own business (bills, bookings).' },
    OPERATIONAL: { description: 'Service notices such as planned maintenance.' },
  },
});
registerEnumType(CampaignStatus, {
  name: 'CampaignStatus',
  description: 'DRAFT → SCHEDULED → RUNNING → COMPLETED; PAUSED from scheduled or running; CANCELLED before completion.',
  valuesConfig: {
    DRAFT: { description: 'Being written; nothing is sent.' },
    SCHEDULED: { description: 'Waiting for sendAt or its next cron occurrence (recurring campaigns stay here between runs).' },
    RUNNING: { description: 'Going out.' },
    PAUSED: { description: 'Held: nothing more goes out until resumed.' },
    COMPLETED: { description: 'Every message left the queue.' },
    CANCELLED: { description: 'Stopped for good; what had gone out stays counted.' },
  },
});

/** Who a campaign goes to: a saved segment, an inline filter, named contacts, or WhatsApp groups. */
export interface CampaignAudience {
  segmentId?: string | null;
  filter?: Record<string, unknown> | null;
  contactIds?: string[] | null;
  whatsappGroups?: string[] | null;
}

/** A bulk message to an audience: one-off or recurring, throttled, tracked per recipient. */
@ObjectType({ description: 'A bulk message to an audience, with its schedule and live figures.' })
@Entity('campaign')
@Index('campaign_tenant_created_idx', ['tenantId', 'createdAt'])
@Index('campaign_due_idx', ['nextRunAt'], { where: `status = 'scheduled'` })
export class Campaign extends TenantOwned {
  @Field({ description: 'Name shown to staff.' })
  @Column({ type: 'varchar', length: 200 })
  name!: string;

  @Field(() => String, { nullable: true, description: 'What it is for.' })
  @Column({ type: 'text', nullable: true })
  description!: string | null;

  @Field(() => CampaignType, { description: 'One-off or recurring.' })
  @Column({ type: 'varchar', length: 20, default: CampaignType.ONE_OFF })
  type!: CampaignType;

  @Field(() => CampaignCategory, { description: 'Marketing, transactional or operational.' })
  @Column({ type: 'varchar', length: 20 })
  category!: CampaignCategory;

  @Field(() => [Channel], { description: 'Channels in order of preference; each recipient gets the first that reaches them.' })
  @Column({ type: 'text', array: true })
  channels!: Channel[];

  @Field(() => String, { nullable: true, description: 'Template name (per channel, per language); or the text below.' })
  @Column({ type: 'varchar', length: 100, nullable: true })
  template!: string | null;

  @Field(() => String, { nullable: true, description: 'Message text with {{variables}}, when no template is named.' })
  @Column({ type: 'text', nullable: true })
  text!: string | null;

  @Field(() => String, { nullable: true, description: 'E-mail subject, when no template gives one.' })
  @Column({ type: 'varchar', length: 300, nullable: true })
  subject!: string | null;

  @Field(() => GraphQLJSONObject, { description: 'Values the message reads as {{campaign.name}}-style variables.' })
  @Column({ type: 'jsonb', default: {} })
  variables!: Record<string, unknown>;

  @Field(() => GraphQLJSONObject, { description: '{ segmentId } | { filter } | { contactIds } | { whatsappGroups }.' })
  @Column({ type: 'jsonb' })
  audience!: CampaignAudience;

  @Field(() => String, { nullable: true, description: 'The preset it was made from (maintenance_notice, promotion).' })
  @Column({ type: 'varchar', length: 50, nullable: true })
  preset!: string | null;

  @Field(() => Date, { nullable: true, description: 'One-off: when it goes out.' })
  @Column({ type: 'timestamptz', nullable: true })
  sendAt!: Date | null;

  @Field(() => String, { nullable: true, description: 'Recurring: cron expression, e.g. 0 9 1 * * (09:00 on the 1st).' })
  @Column({ type: 'varchar', length: 100, nullable: true })
  cron!: string | null;

  @Field(() => String, { nullable: true, description: 'IANA time zone of the cron; the tenant’s when null.' })
  @Column({ type: 'varchar', length: 64, nullable: true })
  timezone!: string | null;

  @Field(() => Date, { nullable: true, description: 'Recurring: no run starts after this time; the last one then completes it.' })
  @Column({ type: 'timestamptz', nullable: true })
  endsAt!: Date | null;

  @Field(() => Int, { nullable: true, description: 'Recurring: how many runs it makes in all; the last one then completes it.' })
  @Column({ type: 'integer', nullable: true })
  maxRuns!: number | null;

  @Field(() => String, {
    nullable: true,
    description: 'HH:MM: each recipient gets it at this time in their own time zone (on or after the run starts).',
  })
  @Column({ type: 'varchar', length: 5, nullable: true })
  localSendTime!: string | null;

  @Field(() => String, { nullable: true, description: 'Quiet hours start, HH:MM in the recipient’s time zone.' })
  @Column({ type: 'varchar', length: 5, nullable: true })
  quietFrom!: string | null;

  @Field(() => String, { nullable: true, description: 'Quiet hours end, HH:MM; nothing is sent between start and end.' })
  @Column({ type: 'varchar', length: 5, nullable: true })
  quietUntil!: string | null;

  @Field(() => Int, { nullable: true, description: 'At most this many messages per minute; unthrottled when null.' })
  @Column({ type: 'integer', nullable: true })
  throttlePerMinute!: number | null;

  @Field(() => Int, {
    nullable: true,
    description:
      'How long each message is worth sending after its planned time, in minutes (past it: EXPIRED, never late); the template’s, else 2 days.',
  })
  @Column({ type: 'integer', nullable: true })
  validForMinutes!: number | null;

  @Field(() => String, {
    nullable: true,
    description: 'A business event from a recipient that counts as conversion, e.g. payment.received.',
  })
  @Column({ type: 'varchar', length: 100, nullable: true })
  conversionEventType!: string | null;

  @Field(() => Int, { description: 'Hours after the send within which that event counts.' })
  @Column({ type: 'integer', default: 168 })
  conversionWindowHours!: number;

  @Field(() => CampaignStatus, { description: 'Where it stands.' })
  @Column({ type: 'varchar', length: 20, default: CampaignStatus.DRAFT })
  status!: CampaignStatus;

  /** When the next run starts (scheduled campaigns); the worker starts runs that are due. */
  @Field(() => Date, {
    nullable: true,
    description:
      "When its next run starts: the send time of a scheduled one-off campaign, a recurring campaign's next cron occurrence; null otherwise.",
  })
  @Column({ type: 'timestamptz', nullable: true })
  nextRunAt!: Date | null;

  /** Conversion events are looked for from a little before this time on each worker tick. */
  @Column({ type: 'timestamptz', nullable: true })
  conversionScannedAt!: Date | null;

  /** The status to return to on resume. */
  @Column({ type: 'varchar', length: 20, nullable: true })
  pausedFrom!: CampaignStatus | null;

  @Field(() => ID, { nullable: true, description: 'Who created it.' })
  @Column({ type: 'uuid', nullable: true })
  createdById!: string | null;

  @Field({ description: 'When it was created.' })
  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @Field({ description: 'When it was last changed.' })
  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt!: Date;

  @Field(() => Date, { nullable: true, description: 'When it completed or was cancelled.' })
  @Column({ type: 'timestamptz', nullable: true })
  finishedAt!: Date | null;
}
