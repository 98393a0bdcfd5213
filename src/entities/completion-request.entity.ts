import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Column, Entity, Index } from 'typeorm';
import { TenantOwned } from './tenant-owned';

/** How a customer answered a completion request. */
export enum ResponseChannel {
  WHATSAPP = 'whatsapp',
  LINK = 'link',
  APP = 'app',
}

registerEnumType(ResponseChannel, {
  name: 'ResponseChannel',
  description: 'How a customer answered a completion request.',
  valuesConfig: {
    WHATSAPP: { description: 'By replying to the WhatsApp message (YA / TIDAK).' },
    LINK: { description: 'Through the signed link in the message.' },
    APP: { description: 'Signed in, through the API (respondToCompletion).' },
  },
});

export enum CompletionStatus {
  PENDING = 'pending',
  CUSTOMER_CONFIRMED = 'customer_confirmed',
  DISPUTED = 'disputed',
  UNREACHABLE = 'unreachable',
  AUTO_COMPLETED = 'auto_completed',
  CANCELLED = 'cancelled',
}

registerEnumType(CompletionStatus, {
  name: 'CompletionStatus',
  description: 'Where a completion request stands; every state but PENDING is an outcome.',
  valuesConfig: {
    PENDING: { description: 'Waiting for the customer (reminded, then escalated to support at the deadline).' },
    CUSTOMER_CONFIRMED: { description: 'The customer confirmed the work.' },
    DISPUTED: { description: 'The customer said something is wrong; a ticket carries their words.' },
    UNREACHABLE: { description: 'Support could not reach the customer and closed it.' },
    AUTO_COMPLETED: { description: 'Completed without an answer after the waiting period and the failed contact attempts.' },
    CANCELLED: { description: 'Withdrawn by staff.' },
  },
});

/**
 * A technician's request that the customer confirm a finished job (a business record of
 * kind service_job). The customer answers on WhatsApp, through a single-use link, or with
 * a customer token; unanswered, it is reminded, then escalated to support.
 */
@ObjectType({ description: 'A request that the customer confirm a finished job.' })
@Entity('completion_request')
@Index('completion_request_pending_job_key', ['tenantId', 'jobId'], { unique: true, where: `status = 'pending'` })
@Index('completion_request_tenant_created_idx', ['tenantId', 'createdAt'])
@Index('completion_request_contact_idx', ['tenantId', 'contactId', 'status'])
@Index('completion_request_due_idx', ['nextCheckAt'], { where: `status = 'pending'` })
@Index('completion_request_link_key', ['linkTokenHash'], { unique: true })
export class CompletionRequest extends TenantOwned {
  @Field(() => ID, { description: 'The job (a business record of kind service_job).' })
  @Column({ type: 'uuid' })
  jobId!: string;

  @Field(() => ID, { nullable: true, description: 'The ticket the job came from, if any.' })
  @Column({ type: 'uuid', nullable: true })
  ticketId!: string | null;

  @Field(() => ID, { description: 'The technician who did the work.' })
  @Column({ type: 'uuid' })
  technicianId!: string;

  @Field(() => ID, { description: 'The customer asked to confirm.' })
  @Column({ type: 'uuid' })
  contactId!: string;

  @Field(() => String, { nullable: true, description: "The technician's note on what was done." })
  @Column({ type: 'text', nullable: true })
  note!: string | null;

  @Field(() => [String], { description: 'Photo URLs of the finished work.' })
  @Column({ type: 'text', array: true, default: '{}' })
  photos!: string[];

  @Field(() => CompletionStatus, { description: 'Where it stands.' })
  @Column({ type: 'varchar', length: 20 })
  status!: CompletionStatus;

  @Field({ description: 'When the customer is expected to have answered.' })
  @Column({ type: 'timestamptz' })
  deadlineAt!: Date;

  @Field(() => Int, { description: 'Reminders sent so far.' })
  @Column({ type: 'integer', default: 0 })
  remindersSent!: number;

  /** When the worker next looks at it (a reminder, the deadline, auto-completion). */
  @Column({ type: 'timestamptz', nullable: true })
  nextCheckAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'When it was escalated to support (deadline passed).' })
  @Column({ type: 'timestamptz', nullable: true })
  escalatedAt!: Date | null;

  @Field(() => ID, { nullable: true, description: 'The support ticket opened at the deadline, or for a dispute.' })
  @Column({ type: 'uuid', nullable: true })
  supportTicketId!: string | null;

  @Field(() => String, { nullable: true, description: "The customer's comment with their answer." })
  @Column({ type: 'text', nullable: true })
  responseComment!: string | null;

  /** Support's note when they closed it (unreachable, cancelled): staff only, served by a guarded field resolver. */
  @Column({ type: 'text', nullable: true })
  closingNote!: string | null;

  @Field(() => ResponseChannel, { nullable: true, description: 'How the customer answered; null until they do.' })
  @Column({ type: 'varchar', length: 20, nullable: true })
  respondedVia!: `${ResponseChannel}` | null;

  /** The provider's id of the WhatsApp answer: the same message delivered again is not a second answer. */
  @Column({ type: 'varchar', length: 200, nullable: true })
  responseMessageId!: string | null;

  @Field(() => Date, { nullable: true, description: 'When it reached its outcome.' })
  @Column({ type: 'timestamptz', nullable: true })
  outcomeAt!: Date | null;

  /** SHA-256 of the single-use confirmation link's token; the token is only in the message. */
  @Column({ type: 'varchar', length: 64 })
  linkTokenHash!: string;

  @Field(() => ID, { nullable: true, description: 'Who asked.' })
  @Column({ type: 'uuid', nullable: true })
  createdById!: string | null;

  @Field({ description: 'When it was asked.' })
  @Column({ type: 'timestamptz' })
  createdAt!: Date;

  @Field({ description: 'When it last changed.' })
  @Column({ type: 'timestamptz' })
  updatedAt!: Date;
}

export enum ContactAttemptChannel {
  CALL = 'call',
  WHATSAPP = 'whatsapp',
  SMS = 'sms',
}

export enum ContactAttemptOutcome {
  REACHED = 'reached',
  NO_ANSWER = 'no_answer',
  WRONG_NUMBER = 'wrong_number',
  REFUSED = 'refused',
}

registerEnumType(ContactAttemptChannel, {
  name: 'ContactAttemptChannel',
  description: 'How support tried to reach the customer.',
  valuesConfig: {
    CALL: { description: 'A phone call.' },
    WHATSAPP: { description: 'A WhatsApp message or call.' },
    SMS: { description: 'A text message.' },
  },
});

registerEnumType(ContactAttemptOutcome, {
  name: 'ContactAttemptOutcome',
  description: 'What came of a contact attempt.',
  valuesConfig: {
    REACHED: { description: 'They answered.' },
    NO_ANSWER: { description: 'Nobody answered.' },
    WRONG_NUMBER: { description: 'The number is not theirs.' },
    REFUSED: { description: 'They would not talk about it.' },
  },
});

@ObjectType({ description: 'Support trying to reach the customer about a completion request.' })
@Entity('completion_contact_attempt')
@Index('completion_contact_attempt_request_idx', ['requestId', 'createdAt'])
export class CompletionContactAttempt extends TenantOwned {
  @Column({ type: 'uuid' })
  requestId!: string;

  @Field(() => ContactAttemptChannel, { description: 'How.' })
  @Column({ type: 'varchar', length: 20 })
  channel!: ContactAttemptChannel;

  @Field(() => ContactAttemptOutcome, { description: 'What came of it.' })
  @Column({ type: 'varchar', length: 20 })
  outcome!: ContactAttemptOutcome;

  @Field(() => String, { nullable: true, description: 'Notes.' })
  @Column({ type: 'text', nullable: true })
  note!: string | null;

  @Field(() => ID, { description: 'Who tried.' })
  @Column({ type: 'uuid' })
  byUserId!: string;

  @Field({ description: 'When.' })
  @Column({ type: 'timestamptz' })
  createdAt!: Date;
}

/** A customer's rating of a job whose completion was confirmed (or auto-completed): one per request. */
@ObjectType({ description: 'A verified review of a finished job.' })
@Entity('review')
@Index('review_request_key', ['completionRequestId'], { unique: true })
@Index('review_technician_idx', ['tenantId', 'technicianId', 'createdAt'])
export class Review extends TenantOwned {
  @Field(() => ID, { description: 'The completion request it is for.' })
  @Column({ type: 'uuid' })
  completionRequestId!: string;

  @Field(() => ID, { description: 'The job.' })
  @Column({ type: 'uuid' })
  jobId!: string;

  @Field(() => ID, { description: 'The technician reviewed.' })
  @Column({ type: 'uuid' })
  technicianId!: string;

  @Field(() => ID, { description: 'The customer who wrote it.' })
  @Column({ type: 'uuid' })
  contactId!: string;

  @Field(() => Int, { description: '1 (poor) to 5 (excellent).' })
  @Column({ type: 'smallint' })
  rating!: number;

  @Field(() => String, { nullable: true, description: 'Their words.' })
  @Column({ type: 'text', nullable: true })
  comment!: string | null;

  @Field({ description: 'When.' })
  @Column({ type: 'timestamptz' })
  createdAt!: Date;
}
