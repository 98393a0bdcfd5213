import { ArrayMaxSize, IsOptional, MaxLength } from 'class-validator';
import { GraphQLJSONObject } from 'graphql-scalars';
import { ArgsType, Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { CampaignRecipient } from '../entities/campaign-recipient.entity';
import { Campaign, CampaignCategory, CampaignStatus, CampaignType } from '../entities/campaign.entity';
import { Channel, DeliveryStatus } from '../entities/channel';
import { Contact } from '../entities/contact.entity';
import { Segment } from '../entities/segment.entity';
import { PageArgs, PageInfo } from './connection';

@InputType({ description: 'A saved audience filter.' })
export class SegmentInput {
  @Field({ description: 'Unique name within the tenant.' })
  @MaxLength(200)
  name!: string;

  @Field(() => String, { nullable: true, description: 'What it is for.' })
  @IsOptional()
  @MaxLength(2000)
  description?: string | null;

  @Field(() => GraphQLJSONObject, {
    description:
      'The condition language of rules over contact.* (consent as contact.consent.whatsapp), with { someRecord: … } for "has a record that …".',
  })
  filter!: Record<string, unknown>;
}

@InputType({ description: 'Who a campaign reaches: a segment, an inline filter, named contacts and/or WhatsApp groups.' })
export class AudienceInput {
  @Field(() => ID, { nullable: true, description: 'A saved segment.' })
  segmentId?: string | null;

  @Field(() => GraphQLJSONObject, { nullable: true, description: 'An inline filter (as a segment’s).' })
  filter?: Record<string, unknown> | null;

  @Field(() => [ID], { nullable: true, description: 'Named contacts (at most 10,000); with a filter, those of them it selects.' })
  @IsOptional()
  @ArrayMaxSize(10_000)
  contactIds?: string[] | null;

  @Field(() => [String], { nullable: true, description: 'WhatsApp group ids, e.g. 120363025246125486@g.us.' })
  @IsOptional()
  @ArrayMaxSize(100)
  whatsappGroups?: string[] | null;
}

@InputType({ description: 'Maintenance notice preset: text, category OPERATIONAL and everyone in the area.' })
export class MaintenancePresetInput {
  @Field({ description: 'What work, e.g. "network maintenance".' })
  @MaxLength(200)
  type!: string;

  @Field({ description: 'Contacts whose area is this (case ignored).' })
  @MaxLength(100)
  area!: string;

  @Field({ description: 'When it starts.' })
  start!: Date;

  @Field(() => Int, { description: 'How many hours it lasts.' })
  durationHours!: number;

  @Field({ description: 'What customers will notice.' })
  @MaxLength(500)
  impact!: string;

  @Field({ description: 'Why.' })
  @MaxLength(500)
  reason!: string;
}

@InputType({ description: 'Promotion preset: text and category MARKETING.' })
export class PromotionPresetInput {
  @Field({ description: 'Title.' })
  @MaxLength(200)
  title!: string;

  @Field({ description: 'The offer.' })
  @MaxLength(500)
  offer!: string;

  @Field(() => String, { nullable: true, description: 'e.g. 20%.' })
  @IsOptional()
  @MaxLength(100)
  discount?: string | null;

  @Field({ description: 'Last day it is valid.' })
  validUntil!: Date;

  @Field(() => String, { nullable: true, description: 'Terms.' })
  @IsOptional()
  @MaxLength(1000)
  terms?: string | null;

  @Field(() => String, { nullable: true, description: 'Call to action, e.g. "Reply YES or visit https://…".' })
  @IsOptional()
  @MaxLength(500)
  callToAction?: string | null;
}

@InputType({ description: 'A campaign. A preset fills the text, category and (maintenance) audience not given here.' })
export class CampaignInput {
  @Field({ description: 'Name shown to staff.' })
  @MaxLength(200)
  name!: string;

  @Field(() => String, { nullable: true, description: 'What it is for.' })
  @IsOptional()
  @MaxLength(2000)
  description?: string | null;

  @Field(() => CampaignType, { nullable: true, description: 'ONE_OFF (default) or RECURRING.' })
  type?: CampaignType | null;

  @Field(() => CampaignCategory, { nullable: true, description: 'Required unless a preset gives it.' })
  category?: CampaignCategory | null;

  @Field(() => [Channel], { description: 'Channels in order of preference (WHATSAPP, SMS, EMAIL).' })
  @ArrayMaxSize(3)
  channels!: Channel[];

  @Field(() => String, { nullable: true, description: 'Template name (each channel needs one; languages as name.<locale>).' })
  @IsOptional()
  @MaxLength(100)
  template?: string | null;

  @Field(() => String, { nullable: true, description: 'Message text with {{contact.name}}-style variables.' })
  @IsOptional()
  @MaxLength(4096)
  text?: string | null;

  @Field(() => String, { nullable: true, description: 'E-mail subject.' })
  @IsOptional()
  @MaxLength(300)
  subject?: string | null;

  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Values for the message’s variables.' })
  variables?: Record<string, unknown> | null;

  @Field(() => AudienceInput, { nullable: true, description: 'Required unless the maintenance preset gives it.' })
  audience?: AudienceInput | null;

  @Field(() => Date, { nullable: true, description: 'One-off: when to send (scheduleCampaign).' })
  sendAt?: Date | null;

  @Field(() => String, { nullable: true, description: 'Recurring: cron, e.g. 0 9 1 * *.' })
  @IsOptional()
  @MaxLength(100)
  cron?: string | null;

  @Field(() => String, { nullable: true, description: 'IANA time zone of the cron; the tenant’s when null.' })
  @IsOptional()
  @MaxLength(64)
  timezone?: string | null;

  @Field(() => Date, { nullable: true, description: 'Recurring: no run starts after this time (in the future).' })
  @IsOptional()
  endsAt?: Date | null;

  @Field(() => Int, { nullable: true, description: 'Recurring: how many runs it makes in all (1-10000).' })
  @IsOptional()
  maxRuns?: number | null;

  @Field(() => String, { nullable: true, description: 'HH:MM in each recipient’s time zone.' })
  @IsOptional()
  @MaxLength(5)
  localSendTime?: string | null;

  @Field(() => String, { nullable: true, description: 'Quiet hours start, HH:MM (recipient’s time zone).' })
  @IsOptional()
  @MaxLength(5)
  quietFrom?: string | null;

  @Field(() => String, { nullable: true, description: 'Quiet hours end, HH:MM.' })
  @IsOptional()
  @MaxLength(5)
  quietUntil?: string | null;

  @Field(() => Int, { nullable: true, description: 'At most this many messages per minute.' })
  throttlePerMinute?: number | null;

  @Field(() => Int, {
    nullable: true,
    description:
      'How long each message is worth sending after its planned time, in minutes (1 to 43200): past it, EXPIRED instead of late. The template’s, else 2 days, when omitted.',
  })
  validForMinutes?: number | null;

  @Field(() => String, { nullable: true, description: 'Event type that counts as conversion, e.g. payment.received.' })
  @IsOptional()
  @MaxLength(100)
  conversionEventType?: string | null;

  @Field(() => Int, { nullable: true, description: 'Hours after the send a conversion counts (default 168).' })
  conversionWindowHours?: number | null;

  @Field(() => MaintenancePresetInput, { nullable: true, description: 'Maintenance notice preset.' })
  maintenance?: MaintenancePresetInput | null;

  @Field(() => PromotionPresetInput, { nullable: true, description: 'Promotion preset.' })
  promotion?: PromotionPresetInput | null;
}

@ArgsType()
export class CampaignsArgs extends PageArgs {
  @Field(() => [CampaignStatus], { nullable: true, description: 'Only these statuses.' })
  @IsOptional()
  @ArrayMaxSize(6)
  statuses?: CampaignStatus[] | null;

  @Field(() => [CampaignCategory], { nullable: true, description: 'Only these categories.' })
  @IsOptional()
  @ArrayMaxSize(3)
  categories?: CampaignCategory[] | null;

  @Field(() => String, { nullable: true, description: 'Part of the name.' })
  @IsOptional()
  @MaxLength(200)
  search?: string | null;
}

@ArgsType()
export class CampaignRecipientsArgs extends PageArgs {
  @Field(() => ID, { description: 'Campaign id.' })
  campaignId!: string;

  @Field(() => [DeliveryStatus], { nullable: true, description: 'Only recipients whose message has one of these statuses.' })
  @IsOptional()
  @ArrayMaxSize(10)
  statuses?: DeliveryStatus[] | null;

  @Field(() => Boolean, { nullable: true, description: 'True: only skipped recipients; false: only those sent to.' })
  skipped?: boolean | null;
}

@ObjectType({ description: 'A campaign in a list.' })
export class CampaignEdge {
  @Field(() => Campaign, { description: 'The campaign.' })
  node!: Campaign;

  @Field({ description: 'Cursor of this position.' })
  cursor!: string;
}

@ObjectType({ description: 'A page of campaigns, newest first.' })
export class CampaignConnection {
  @Field(() => [CampaignEdge], { description: 'Campaigns of this page.' })
  edges!: CampaignEdge[];

  @Field(() => PageInfo, { description: 'Where this page is.' })
  pageInfo!: PageInfo;

  @Field(() => Int, { description: 'How many match in all.' })
  totalCount!: number;
}

@ObjectType({ description: 'A segment in a list.' })
export class SegmentEdge {
  @Field(() => Segment, { description: 'The segment.' })
  node!: Segment;

  @Field({ description: 'Cursor of this position.' })
  cursor!: string;
}

@ObjectType({ description: 'A page of segments, newest first.' })
export class SegmentConnection {
  @Field(() => [SegmentEdge], { description: 'Segments of this page.' })
  edges!: SegmentEdge[];

  @Field(() => PageInfo, { description: 'Where this page is.' })
  pageInfo!: PageInfo;

  @Field(() => Int, { description: 'How many in all.' })
  totalCount!: number;
}

@ObjectType({ description: 'A recipient in a list.' })
export class CampaignRecipientEdge {
  @Field(() => CampaignRecipient, { description: 'The recipient.' })
  node!: CampaignRecipient;

  @Field({ description: 'Cursor of this position.' })
  cursor!: string;
}

@ObjectType({ description: 'A page of a campaign’s recipients, newest first.' })
export class CampaignRecipientConnection {
  @Field(() => [CampaignRecipientEdge], { description: 'Recipients of this page.' })
  edges!: CampaignRecipientEdge[];

  @Field(() => PageInfo, { description: 'Where this page is.' })
  pageInfo!: PageInfo;

  @Field(() => Int, { description: 'How many match in all.' })
  totalCount!: number;
}

@ObjectType({ description: 'How many contacts an audience reaches now, and a few of them.' })
export class AudienceEstimate {
  @Field(() => Int, { description: 'Contacts (plus WhatsApp groups) it selects; opt-outs are skipped later, at enqueue.' })
  count!: number;

  @Field(() => [Contact], { description: 'Up to `sampleSize` of them, newest first.' })
  sample!: Contact[];
}

@ObjectType({ description: 'What a slice of a campaign’s recipients (a run, a day) got, and what became of it.' })
export class CampaignFigures {
  @Field(() => Int, { description: 'Recipients selected.' })
  targeted!: number;

  @Field(() => Int, { description: 'Selected but not messaged (opted out, no address, duplicate).' })
  skipped!: number;

  @Field(() => Int, { description: 'Still waiting to go out.' })
  queued!: number;

  @Field(() => Int, { description: 'Sent (delivered and read included).' })
  sent!: number;

  @Field(() => Int, { description: 'Delivered (read included).' })
  delivered!: number;

  @Field(() => Int, { description: 'Read.' })
  read!: number;

  @Field(() => Int, { description: 'Failed for good.' })
  failed!: number;

  @Field(() => Int, { description: 'Recipients who wrote back.' })
  replied!: number;

  @Field(() => Int, { description: 'Recipients who clicked a tracked link.' })
  clicked!: number;

  @Field(() => Int, { description: 'Recipients whose conversion event came in.' })
  converted!: number;
}

@ObjectType({ description: 'One run of a campaign and its figures.' })
export class CampaignRunFigures extends CampaignFigures {
  @Field(() => ID, { description: 'The run.' })
  runId!: string;

  @Field({ description: 'The occurrence it is for (the send time, or the cron occurrence of a recurring campaign).' })
  occurrence!: Date;

  @Field({ description: 'When it started.' })
  startedAt!: Date;

  @Field(() => Date, { nullable: true, description: 'When all its messages had left the queue; null while sending.' })
  finishedAt!: Date | null;
}

@ObjectType({ description: 'One day of a campaign: the messages sent (else planned) that day, and what became of them.' })
export class CampaignDayFigures extends CampaignFigures {
  @Field({ description: 'The day, YYYY-MM-DD, in the campaign’s time zone (else the business’s).' })
  day!: string;
}

@ObjectType({ description: 'A campaign’s figures over all its runs.' })
export class CampaignStats {
  @Field(() => ID, { description: 'The campaign.' })
  campaignId!: string;

  @Field(() => CampaignStatus, { description: 'Its status.' })
  status!: CampaignStatus;

  @Field(() => Int, { description: 'Runs started.' })
  runs!: number;

  @Field(() => Int, { description: 'Recipients selected (sent to or skipped).' })
  targeted!: number;

  @Field(() => Int, { description: 'Skipped in all.' })
  skipped!: number;

  @Field(() => Int, { description: 'Skipped: opted out on every channel that reached them.' })
  skippedOptedOut!: number;

  @Field(() => Int, { description: 'Skipped: no address on any of the channels.' })
  skippedNoAddress!: number;

  @Field(() => Int, { description: 'Skipped: the same address was sent to already.' })
  skippedDuplicate!: number;

  @Field(() => Int, { description: 'Waiting to go out (or going).' })
  queued!: number;

  @Field(() => Int, { description: 'Accepted by a provider (delivered and read included).' })
  sent!: number;

  @Field(() => Int, { description: 'Delivered (read included).' })
  delivered!: number;

  @Field(() => Int, { description: 'Read.' })
  read!: number;

  @Field(() => Int, { description: 'Failed for good.' })
  failed!: number;

  @Field(() => Int, { description: 'Cancelled (campaign cancelled, or the contact opted out before it went).' })
  cancelled!: number;

  @Field(() => Int, { description: 'Recipients who wrote back within 7 days.' })
  replied!: number;

  @Field(() => Int, { description: 'Recipients who clicked a tracked link.' })
  clicked!: number;

  @Field(() => Int, { description: 'Recipients who opted out within 7 days of it.' })
  unsubscribed!: number;

  @Field(() => Int, { description: 'Recipients whose conversion event came within the window.' })
  converted!: number;
}
