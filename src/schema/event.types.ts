import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { ApiKey } from '../entities/api-key.entity';
import { EventSubjectType } from './closed-sets';

@ObjectType({
  description: 'A consumer of domain events (rules, completions, campaigns...) and how far behind it is, for this tenant.',
})
export class EventConsumerStatus {
  @Field({ description: 'Its name, as retryParkedEvents takes it.' })
  consumer!: string;

  @Field({ description: 'What it does with events.' })
  description!: string;

  @Field(() => Int, { description: 'Events of this tenant it has not handled yet.' })
  lag!: number;

  @Field(() => Date, { nullable: true, description: 'When the oldest of them happened.' })
  oldestPendingAt!: Date | null;

  @Field(() => Int, { description: 'Events it gave up on after too many failures, waiting for retryParkedEvents.' })
  parked!: number;

  @Field(() => String, { nullable: true, description: 'Its latest error on an event still pending or parked.' })
  lastError!: string | null;
}

@InputType({ description: 'Who or what an event is about, as the sending system knows them.' })
export class EventSubjectInput {
  @Field(() => EventSubjectType, { description: 'A contact (a customer), a user (staff) or a record (a business record).' })
  type!: `${EventSubjectType}`;

  @Field(() => ID, { nullable: true, description: 'Our id of the contact, user or record.' })
  id?: string | null;

  @Field(() => String, { nullable: true, description: 'Their id in the sending system.' })
  externalId?: string | null;

  @Field(() => String, { nullable: true, description: 'For a record named by externalId: its kind, e.g. invoice.' })
  kind?: string | null;

  @Field(() => String, { nullable: true, description: 'Their e-mail address.' })
  email?: string | null;

  @Field(() => String, { nullable: true, description: "Their phone number; local numbers are read in the tenant's country." })
  phone?: string | null;
}

@InputType({ description: 'A business event from another system, e.g. quote.sent or payment.received.' })
export class PublishEventInput {
  @Field({ description: 'Lower-case namespace.name, e.g. quote.sent, invoice.created, training.assigned.' })
  type!: string;

  @Field(() => Date, { nullable: true, description: 'When it happened; now when omitted.' })
  occurredAt?: Date | null;

  @Field(() => EventSubjectInput, { nullable: true, description: 'Who it is about.' })
  subject?: EventSubjectInput | null;

  @Field(() => GraphQLJSONObject, {
    nullable: true,
    description:
      'What the sender knows about it (at most 64 KB). A `record` object in it (kind, externalId, status, dates, amount...) upserts that business record with the event.',
  })
  payload?: Record<string, unknown> | null;

  @Field(() => String, { nullable: true, description: 'The same key again is accepted and ignored (retries are safe).' })
  idempotencyKey?: string | null;
}

@ObjectType({ description: 'What became of one published event.' })
export class PublishedEvent {
  @Field(() => Int, { description: 'Its position in the batch.' })
  index!: number;

  @Field(() => ID, { nullable: true, description: 'The stored event; null for a duplicate.' })
  id!: string | null;

  @Field({ description: 'True when its idempotency key was seen before: nothing new was stored.' })
  duplicate!: boolean;

  @Field({ description: 'False when the subject it names was not found: the event is kept without one.' })
  subjectFound!: boolean;

  @Field(() => ID, { nullable: true, description: 'The business record its payload.record created or updated.' })
  recordId!: string | null;

  @Field({ description: 'False when payload.record names a subject or owner that was not found (kept without).' })
  recordReferencesFound!: boolean;
}

@ObjectType({ description: 'What became of a batch of published events.' })
export class PublishResult {
  @Field(() => Int, { description: 'Events stored.' })
  accepted!: number;

  @Field(() => Int, { description: 'Events ignored as duplicates.' })
  duplicates!: number;

  @Field(() => [PublishedEvent], { description: 'Each event of the batch, in order.' })
  events!: PublishedEvent[];
}

@ObjectType({ description: 'A new API key with its secret, which is shown only this once.' })
export class CreatedApiKey {
  @Field(() => ApiKey, { description: 'The key.' })
  apiKey!: ApiKey;

  @Field({ description: 'The secret to give the machine client (Authorization: Bearer <secret>); not stored.' })
  secret!: string;
}
