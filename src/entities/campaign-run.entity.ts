import { Field, ID, Int, ObjectType } from 'type-graphql';
import { Column, Entity, Index } from 'typeorm';
import { TenantOwned } from './tenant-owned';

/**
 * One occurrence of a campaign going out (a one-off campaign has one). Recipients are
 * enqueued in batches after `cursor` (the last contact id done), so a crash mid-enqueue
 * resumes where the last committed batch ended.
 */
@ObjectType({ description: 'One occurrence of a campaign going out.' })
@Entity('campaign_run')
@Index('campaign_run_occurrence_key', ['campaignId', 'occurrence'], { unique: true })
@Index('campaign_run_enqueuing_idx', ['tenantId'], { where: `"enqueuedAt" IS NULL` })
export class CampaignRun extends TenantOwned {
  @Field(() => ID, { description: 'The campaign.' })
  @Column({ type: 'uuid' })
  campaignId!: string;

  @Field({ description: 'The occurrence it is for (its scheduled time).' })
  @Column({ type: 'timestamptz' })
  occurrence!: Date;

  /** Last contact id enqueued; null before the first batch. */
  @Column({ type: 'uuid', nullable: true })
  cursor!: string | null;

  /** Whether the WhatsApp groups of the audience were enqueued. */
  @Column({ type: 'boolean', default: false })
  groupsDone!: boolean;

  @Field(() => Int, { description: 'Contacts the audience selected so far.' })
  @Column({ type: 'integer', default: 0 })
  targeted!: number;

  @Field({ description: 'When it started.' })
  @Column({ type: 'timestamptz' })
  startedAt!: Date;

  @Field(() => Date, { nullable: true, description: 'When every recipient was enqueued.' })
  @Column({ type: 'timestamptz', nullable: true })
  enqueuedAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'When its last message left the queue.' })
  @Column({ type: 'timestamptz', nullable: true })
  finishedAt!: Date | null;
}
