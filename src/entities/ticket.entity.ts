import { Field, ID, Int, ObjectType, UseMiddleware } from 'type-graphql';
import { STAFF_ONLY_NOTE, StaffOnly } from '../schema/staff-only';
import { Contact } from './contact.entity';
import { TenantOwned } from './tenant-owned';
import { User } from './user.entity';
import { Column, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';

export * from './ticket-enums';
import { ResolutionType, TicketCategory, TicketPriority, TicketStatus } from './ticket-enums';

@ObjectType({ description: 'A support request from a contact, worked by staff.' })
@Entity('ticket')
@Index('ticket_tenant_number_key', ['tenantId', 'number'], { unique: true })
@Index('ticket_tenant_status_idx', ['tenantId', 'status'])
@Index('ticket_tenant_assignee_status_idx', ['tenantId', 'assigneeId', 'status'])
@Index('ticket_tenant_requester_idx', ['tenantId', 'requesterId'])
@Index('ticket_tenant_created_idx', ['tenantId', 'createdAt'])
@Index('ticket_resolved_at_idx', ['resolvedAt'], { where: `status = 'resolved'` })
@Index('ticket_open_first_response_due_idx', ['tenantId', 'firstResponseDueAt'], {
  where: `"firstRespondedAt" IS NULL AND "status" IN ('open', 'assigned', 'in_progress', 'waiting_on_customer')`,
})
@Index('ticket_open_resolution_due_idx', ['tenantId', 'resolutionDueAt'], {
  where: `"status" IN ('open', 'assigned', 'in_progress', 'waiting_on_customer')`,
})
export class Ticket extends TenantOwned {
  @Field(() => Int, { description: 'Sequential number within the tenant.' })
  @Column({ type: 'integer' })
  number!: number;

  @Field({ description: 'Short summary.' })
  @Column({ type: 'varchar', length: 200 })
  subject!: string;

  @Field({ description: 'Full description of the request.' })
  @Column({ type: 'text', default: '' })
  description!: string;

  @Field(() => TicketCategory, { description: 'What the ticket is about.' })
  @Column({ type: 'enum', enum: TicketCategory, enumName: 'ticket_category' })
  category!: TicketCategory;

  @Field(() => TicketPriority, { description: 'How urgent the ticket is.' })
  @Column({ type: 'enum', enum: TicketPriority, enumName: 'ticket_priority' })
  priority!: TicketPriority;

  @Field(() => TicketStatus, { description: 'Workflow state.' })
  @Column({ type: 'enum', enum: TicketStatus, enumName: 'ticket_status', default: TicketStatus.OPEN })
  status!: TicketStatus;

  @Field(() => ID, { description: 'Id of the contact who asked for help.' })
  @Column({ type: 'uuid' })
  requesterId!: string;

  @ManyToOne(() => Contact, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'requesterId' })
  requester?: Contact;

  @Field(() => ID, { nullable: true, description: 'Id of the staff user working the ticket.' + STAFF_ONLY_NOTE })
  @UseMiddleware(StaffOnly)
  @Column({ type: 'uuid', nullable: true })
  assigneeId!: string | null;

  @ManyToOne(() => User, { nullable: true, onDelete: 'SET NULL' })
  @JoinColumn({ name: 'assigneeId' })
  assignee?: User | null;

  @Field(() => Date, { nullable: true, description: 'When the first public staff reply is due.' + STAFF_ONLY_NOTE })
  @UseMiddleware(StaffOnly)
  @Column({ type: 'timestamptz' })
  firstResponseDueAt!: Date;

  @Field(() => Date, { nullable: true, description: 'When the ticket must be resolved.' + STAFF_ONLY_NOTE })
  @UseMiddleware(StaffOnly)
  @Column({ type: 'timestamptz' })
  resolutionDueAt!: Date;

  @Field(() => Date, { nullable: true, description: 'When the SLA monitor found the first response overdue.' + STAFF_ONLY_NOTE })
  @UseMiddleware(StaffOnly)
  @Column({ type: 'timestamptz', nullable: true })
  firstResponseBreachedAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'When the SLA monitor found the resolution overdue.' + STAFF_ONLY_NOTE })
  @UseMiddleware(StaffOnly)
  @Column({ type: 'timestamptz', nullable: true })
  resolutionBreachedAt!: Date | null;

  @Field(() => Date, {
    nullable: true,
    description: 'When supervisors were last warned that a due time is near.' + STAFF_ONLY_NOTE,
  })
  @UseMiddleware(StaffOnly)
  @Column({ type: 'timestamptz', nullable: true })
  slaWarnedAt!: Date | null;

  @Field(() => Int, {
    nullable: true,
    description: 'Highest escalation level the ticket has reached (0: not escalated).' + STAFF_ONLY_NOTE,
  })
  @UseMiddleware(StaffOnly)
  @Column({ type: 'smallint', default: 0 })
  escalationLevel!: number;

  @Field(() => Date, { nullable: true, description: 'When staff first replied publicly.' })
  @Column({ type: 'timestamptz', nullable: true })
  firstRespondedAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'When the ticket was last resolved.' })
  @Column({ type: 'timestamptz', nullable: true })
  resolvedAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'When the ticket was closed.' })
  @Column({ type: 'timestamptz', nullable: true })
  closedAt!: Date | null;

  @Field(() => [String], { description: 'Labels, lower-case, for filters and bulk work.' })
  @Column({ type: 'text', array: true, default: '{}' })
  tags!: string[];

  @Field(() => ResolutionType, { nullable: true, description: 'How it was resolved.' })
  @Column({ type: 'varchar', length: 30, nullable: true })
  resolutionType!: ResolutionType | null;

  @Field(() => String, { nullable: true, description: 'What was done, in a sentence, as given on resolving.' })
  @Column({ type: 'text', nullable: true })
  resolutionSummary!: string | null;

  @Field(() => String, { nullable: true, description: 'Staff notes on the resolution.' + STAFF_ONLY_NOTE })
  @UseMiddleware(StaffOnly)
  @Column({ type: 'text', nullable: true })
  resolutionNotes!: string | null;

  @Field(() => Int, { nullable: true, description: 'Satisfaction rating from 1 (poor) to 5 (excellent).' })
  @Column({ type: 'smallint', nullable: true })
  rating!: number | null;

  @Field(() => String, { nullable: true, description: 'Comment given with the rating.' })
  @Column({ type: 'text', nullable: true })
  ratingComment!: string | null;

  @Field(() => Date, { nullable: true, description: 'When the requester rated the ticket.' })
  @Column({ type: 'timestamptz', nullable: true })
  ratedAt!: Date | null;

  @Field({ description: 'When the ticket was created.' })
  @Column({ type: 'timestamptz' })
  createdAt!: Date;

  @Field({ description: 'When the ticket last changed.' })
  @Column({ type: 'timestamptz' })
  updatedAt!: Date;

  /** Number as shown to people: T-000123. */
  @Field({ description: 'Number as shown to people, e.g. T-000123.' })
  get reference(): string {
    return formatTicketReference(this.number);
  }
}

export function formatTicketReference(number: number): string {
  return `T-${String(number).padStart(6, '0')}`;
}
