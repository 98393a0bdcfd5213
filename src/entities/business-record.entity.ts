import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, UpdateDateColumn } from 'typeorm';
import { Contact } from './contact.entity';
import { TenantOwned } from './tenant-owned';
import { User } from './user.entity';

/** The kinds every tenant has; a tenant may use its own (lower-case words), e.g. `warranty`. */
export const RECORD_KINDS = ['quote', 'invoice', 'booking', 'service_job', 'training'] as const;

/**
 * Something another system owns that notifications hang on: a quote, an invoice, a
 * booking, a service job, a staff training. Kept in step by events (`record` in the
 * payload) or bulk upserts, keyed by the other system's id. The subject is a contact
 * (a customer's invoice) or a staff user (an employee's training); the owner is the staff
 * user responsible for it.
 */
@ObjectType({ description: 'A quote, invoice, booking, service job, training... owned by another system of the tenant.' })
@Entity('business_record')
@Index('business_record_external_key', ['tenantId', 'kind', 'externalId'], { unique: true })
@Index('business_record_contact_idx', ['tenantId', 'contactId'], { where: '"contactId" IS NOT NULL' })
@Index('business_record_user_idx', ['tenantId', 'userId'], { where: '"userId" IS NOT NULL' })
@Index('business_record_owner_idx', ['tenantId', 'ownerId'], { where: '"ownerId" IS NOT NULL' })
@Index('business_record_created_idx', ['tenantId', 'createdAt'])
@Index('business_record_due_idx', ['tenantId', 'kind', 'dueAt'], { where: '"dueAt" IS NOT NULL AND "completedAt" IS NULL' })
@Check('business_record_one_subject', '"contactId" IS NULL OR "userId" IS NULL')
export class BusinessRecord extends TenantOwned {
  @Field({ description: 'quote, invoice, booking, service_job, training, or a kind of the tenant (lower-case).' })
  @Column({ type: 'varchar', length: 50 })
  kind!: string;

  @Field({ description: 'Its id in the system that owns it; unique per kind within the tenant.' })
  @Column({ type: 'varchar', length: 200 })
  externalId!: string;

  @Field(() => String, { nullable: true, description: 'A short human title, e.g. "Quote Q-1042: AC service".' })
  @Column({ type: 'varchar', length: 300, nullable: true })
  title!: string | null;

  @Field({ description: "Its status in the owning system's words, lower-case, e.g. sent, paid, overdue, completed." })
  @Column({ type: 'varchar', length: 50 })
  status!: string;

  @Field(() => ID, { nullable: true, description: 'The customer it is about, when a contact.' })
  @Column({ type: 'uuid', nullable: true })
  contactId!: string | null;

  @ManyToOne(() => Contact, { nullable: true, onDelete: 'SET NULL' })
  @JoinColumn({ name: 'contactId' })
  contact?: Contact | null;

  @Field(() => ID, { nullable: true, description: 'The staff user it is about (e.g. the trainee), when a user.' })
  @Column({ type: 'uuid', nullable: true })
  userId!: string | null;

  @ManyToOne(() => User, { nullable: true, onDelete: 'SET NULL' })
  @JoinColumn({ name: 'userId' })
  user?: User | null;

  @Field(() => ID, { nullable: true, description: 'The staff user responsible for it.' })
  @Column({ type: 'uuid', nullable: true })
  ownerId!: string | null;

  @ManyToOne(() => User, { nullable: true, onDelete: 'SET NULL' })
  @JoinColumn({ name: 'ownerId' })
  owner?: User | null;

  @Field(() => Date, { nullable: true, description: 'When it is due (an invoice, a training, a job).' })
  @Column({ type: 'timestamptz', nullable: true })
  dueAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'When it expires (a quote).' })
  @Column({ type: 'timestamptz', nullable: true })
  expiresAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'When it was sent to its subject.' })
  @Column({ type: 'timestamptz', nullable: true })
  sentAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'When it is scheduled to happen (a booking, a visit).' })
  @Column({ type: 'timestamptz', nullable: true })
  scheduledAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'When it was completed, paid or done.' })
  @Column({ type: 'timestamptz', nullable: true })
  completedAt!: Date | null;

  @Field(() => String, {
    nullable: true,
    description: 'Amount as an exact decimal string with four decimals, e.g. "1250000.0000".',
  })
  @Column({ type: 'numeric', precision: 20, scale: 4, nullable: true })
  amount!: string | null;

  @Field(() => String, { nullable: true, description: 'ISO 4217 currency of the amount, e.g. IDR.' })
  @Column({ type: 'varchar', length: 3, nullable: true })
  currency!: string | null;

  @Field(() => GraphQLJSONObject, { description: 'Whatever else the owning system sends; used by rules and templates.' })
  @Column({ type: 'jsonb', default: {} })
  attributes!: Record<string, unknown>;

  @Field(() => Int, {
    description: 'Highest escalation level it reached while overdue (0: none); see escalation policies per kind.',
  })
  @Column({ type: 'smallint', default: 0 })
  escalationLevel!: number;

  @Field({ description: 'When its status last changed.' })
  @Column({ type: 'timestamptz' })
  statusChangedAt!: Date;

  @Field({ description: 'When it was first received.' })
  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @Field({ description: 'When it was last changed.' })
  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt!: Date;
}
