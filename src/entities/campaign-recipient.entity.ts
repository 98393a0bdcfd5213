import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { Column, Entity, Index } from 'typeorm';
import { TenantOwned } from './tenant-owned';

/** Why a campaign recipient was not sent a message. */
export enum CampaignSkipReason {
  OPTED_OUT = 'opted_out',
  NO_ADDRESS = 'no_address',
  DUPLICATE = 'duplicate',
}

registerEnumType(CampaignSkipReason, {
  name: 'CampaignSkipReason',
  description: 'Why a campaign recipient was not sent a message.',
  valuesConfig: {
    OPTED_OUT: { description: "They opted out of the campaign's channels." },
    NO_ADDRESS: { description: 'They have no phone number or e-mail address for its channels.' },
    DUPLICATE: { description: 'Another recipient of the run has the same address; it got the one message.' },
  },
});

/** One contact (or WhatsApp group) a campaign run selected: queued with its delivery, or skipped and why. */
@ObjectType({ description: 'One recipient of a campaign run and what became of their message.' })
@Entity('campaign_recipient')
@Index('campaign_recipient_run_contact_key', ['runId', 'contactId'], { unique: true, where: '"contactId" IS NOT NULL' })
// One message per address and run: the sender's duplicate check reads it, and it keeps a group from being queued twice.
@Index('campaign_recipient_run_address_key', ['runId', 'address'], { unique: true, where: '"skipReason" IS NULL' })
@Index('campaign_recipient_token_key', ['tokenHash'], { unique: true, where: '"tokenHash" IS NOT NULL' })
@Index('campaign_recipient_campaign_idx', ['campaignId', 'id'])
@Index('campaign_recipient_contact_idx', ['tenantId', 'contactId', 'createdAt'])
export class CampaignRecipient extends TenantOwned {
  @Field(() => ID, { description: 'The campaign.' })
  @Column({ type: 'uuid' })
  campaignId!: string;

  @Field(() => ID, { description: 'The run (occurrence).' })
  @Column({ type: 'uuid' })
  runId!: string;

  @Field(() => ID, { nullable: true, description: 'The contact; null for a WhatsApp group.' })
  @Column({ type: 'uuid', nullable: true })
  contactId!: string | null;

  @Field({ description: 'Where it went (or would have): phone, e-mail or group id; the contact id when it had none.' })
  @Column({ type: 'varchar', length: 320 })
  address!: string;

  @Field(() => CampaignSkipReason, { nullable: true, description: 'Why it was not sent; null when it was.' })
  @Column({ type: 'varchar', length: 20, nullable: true })
  skipReason!: `${CampaignSkipReason}` | null;

  @Field(() => ID, { nullable: true, description: 'The delivery carrying it.' })
  @Column({ type: 'uuid', nullable: true })
  deliveryId!: string | null;

  /** SHA-256 of the recipient's link token (tracked links /r/<token>/<n>, unsubscribe /u/<token>). */
  @Column({ type: 'varchar', length: 64, nullable: true })
  tokenHash!: string | null;

  /** Where the tracked links of the message lead, by index. */
  @Column({ type: 'text', array: true, default: '{}' })
  links!: string[];

  /** When it was planned to go out (local send time, quiet hours, throttle); resuming keeps to it. */
  @Column({ type: 'timestamptz', nullable: true })
  plannedAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'First click on a tracked link.' })
  @Column({ type: 'timestamptz', nullable: true })
  clickedAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'First message from them after it was sent.' })
  @Column({ type: 'timestamptz', nullable: true })
  repliedAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'When they opted out after receiving it.' })
  @Column({ type: 'timestamptz', nullable: true })
  unsubscribedAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'When their conversion event came in.' })
  @Column({ type: 'timestamptz', nullable: true })
  convertedAt!: Date | null;

  @Field({ description: 'When it was selected.' })
  @Column({ type: 'timestamptz' })
  createdAt!: Date;
}
