import { Field, ID, ObjectType } from 'type-graphql';
import { Column, Entity, Index } from 'typeorm';
import { TenantOwned } from './tenant-owned';

/** An in-app notification for one staff user (a rule's notify_staff), read in the app's bell. */
@ObjectType({ description: 'An in-app notification for a staff user.' })
@Entity('staff_notification')
@Index('staff_notification_user_idx', ['userId', 'createdAt'])
@Index('staff_notification_unread_idx', ['userId'], { where: '"readAt" IS NULL' })
export class StaffNotification extends TenantOwned {
  @Column({ type: 'uuid' })
  userId!: string;

  @Field({ description: 'Short title.' })
  @Column({ type: 'varchar', length: 200 })
  title!: string;

  @Field({ description: 'The text.' })
  @Column({ type: 'text' })
  body!: string;

  @Field(() => ID, { nullable: true, description: 'The ticket it is about, if any.' })
  @Column({ type: 'uuid', nullable: true })
  ticketId!: string | null;

  @Field(() => ID, { nullable: true, description: 'The business record it is about, if any.' })
  @Column({ type: 'uuid', nullable: true })
  recordId!: string | null;

  /** Unique per rule execution, action and user: a replayed execution does not notify twice. */
  @Column({ type: 'varchar', length: 300, unique: true })
  idempotencyKey!: string;

  @Field(() => Date, { nullable: true, description: 'When the user read it.' })
  @Column({ type: 'timestamptz', nullable: true })
  readAt!: Date | null;

  @Field({ description: 'When it was created.' })
  @Column({ type: 'timestamptz' })
  createdAt!: Date;
}
