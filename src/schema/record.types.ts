import { ArrayMaxSize, IsOptional, MaxLength } from 'class-validator';
import { GraphQLJSONObject } from 'graphql-scalars';
import { ArgsType, Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { BusinessRecord } from '../entities/business-record.entity';
import { UpsertOutcome } from '../services/platform/upsert';
import { PersonKind } from './closed-sets';
import { PageArgs, PageInfo } from './connection';

export { UpsertOutcome };

registerEnumType(UpsertOutcome, {
  name: 'UpsertOutcome',
  description: 'What a row of a bulk upsert or import did.',
  valuesConfig: {
    CREATED: { description: 'A new row was written.' },
    UPDATED: { description: 'An existing row was changed.' },
    UNCHANGED: { description: 'It matched an existing row that already said the same.' },
    FAILED: { description: 'It was not written; see its problems.' },
  },
});

@ObjectType({ description: 'What is wrong with one field of a row.' })
export class FieldProblem {
  @Field({ description: 'The field, e.g. phone or managerExternalId.' })
  field!: string;

  @Field({ description: 'What is wrong, in words.' })
  problem!: string;
}

@InputType({ description: 'A person by one of their keys: our id, the other system’s id, e-mail, or phone.' })
export class PersonRefInput {
  @Field(() => PersonKind, { description: 'A contact (a customer) or a user (staff).' })
  type!: `${PersonKind}`;

  @Field(() => ID, { nullable: true, description: 'Our id.' })
  id?: string | null;

  @Field(() => String, { nullable: true, description: 'Their id in the other system.' })
  externalId?: string | null;

  @Field(() => String, { nullable: true, description: 'E-mail address.' })
  email?: string | null;

  @Field(() => String, { nullable: true, description: "Phone number; local numbers are read in the tenant's country." })
  phone?: string | null;
}

@InputType({ description: 'A staff user by our id, their HR id, or e-mail.' })
export class UserRefInput {
  @Field(() => ID, { nullable: true, description: 'Our id.' })
  id?: string | null;

  @Field(() => String, { nullable: true, description: 'Their id in the HR system.' })
  externalId?: string | null;

  @Field(() => String, { nullable: true, description: 'E-mail address.' })
  email?: string | null;
}

@InputType({ description: 'A business record as its system knows it. Omitted fields keep their value; null clears them.' })
export class BusinessRecordInput {
  @Field({ description: 'quote, invoice, booking, service_job, training, or a lower-case kind of your own.' })
  kind!: string;

  @Field({ description: 'Its id in that system; with kind, what finds it again.' })
  externalId!: string;

  @Field(() => String, { nullable: true, description: 'Status in that system, e.g. sent, paid, overdue; needed when new.' })
  status?: string | null;

  @Field(() => String, { nullable: true, description: 'A short human title.' })
  title?: string | null;

  @Field(() => PersonRefInput, { nullable: true, description: 'The customer or staff user it is about.' })
  subject?: PersonRefInput | null;

  @Field(() => UserRefInput, { nullable: true, description: 'The staff user responsible for it.' })
  owner?: UserRefInput | null;

  @Field(() => Date, { nullable: true, description: 'When it is due.' })
  dueAt?: Date | null;

  @Field(() => Date, { nullable: true, description: 'When it expires.' })
  expiresAt?: Date | null;

  @Field(() => Date, { nullable: true, description: 'When it was sent.' })
  sentAt?: Date | null;

  @Field(() => Date, { nullable: true, description: 'When it is scheduled.' })
  scheduledAt?: Date | null;

  @Field(() => Date, { nullable: true, description: 'When it was completed or paid.' })
  completedAt?: Date | null;

  @Field(() => String, { nullable: true, description: 'Exact decimal amount, e.g. "1250000.50".' })
  amount?: string | null;

  @Field(() => String, { nullable: true, description: 'ISO 4217 currency, e.g. IDR.' })
  currency?: string | null;

  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Anything else; merged into what is there.' })
  attributes?: Record<string, unknown> | null;
}

@ObjectType({ description: 'What became of one record of an upsert.' })
export class RecordUpsertRow {
  @Field(() => Int, { description: 'Its position in the call.' })
  index!: number;

  @Field(() => ID, { nullable: true, description: 'The record; null when a new one failed.' })
  id!: string | null;

  @Field(() => UpsertOutcome, { description: 'What it did.' })
  outcome!: UpsertOutcome;

  @Field({ description: 'True when an existing record changed status (a record.status_changed event was recorded).' })
  statusChanged!: boolean;

  @Field(() => String, { nullable: true, description: 'The status it had before, when it changed.' })
  previousStatus!: string | null;

  @Field(() => [FieldProblem], { description: 'Why it failed; empty otherwise.' })
  problems!: FieldProblem[];
}

@ObjectType({ description: 'What became of a bulk upsert of business records.' })
export class RecordUpsertReport {
  @Field(() => Int, { description: 'Records created.' })
  created!: number;

  @Field(() => Int, { description: 'Records changed.' })
  updated!: number;

  @Field(() => Int, { description: 'Records sent again unchanged.' })
  unchanged!: number;

  @Field(() => Int, { description: 'Rows refused (nothing written for them).' })
  failed!: number;

  @Field(() => [RecordUpsertRow], { description: 'Every row, in the order sent.' })
  records!: RecordUpsertRow[];
}

@ArgsType()
export class BusinessRecordsArgs extends PageArgs {
  @Field(() => [String], { nullable: true, description: 'Only these kinds.' })
  @IsOptional()
  @ArrayMaxSize(20)
  kinds?: string[] | null;

  @Field(() => [String], { nullable: true, description: 'Only these statuses.' })
  @IsOptional()
  @ArrayMaxSize(20)
  statuses?: string[] | null;

  @Field(() => String, { nullable: true, description: 'Only the record with this external id.' })
  @IsOptional()
  @MaxLength(200)
  externalId?: string | null;

  @Field(() => ID, { nullable: true, description: 'Only records about this contact.' })
  contactId?: string | null;

  @Field(() => ID, { nullable: true, description: 'Only records about this staff user.' })
  userId?: string | null;

  @Field(() => ID, { nullable: true, description: 'Only records this staff user owns.' })
  ownerId?: string | null;

  @Field(() => Date, { nullable: true, description: 'Only records due before this time.' })
  dueBefore?: Date | null;

  @Field(() => Date, { nullable: true, description: 'Only records due at or after this time.' })
  dueAfter?: Date | null;

  @Field(() => Boolean, { nullable: true, description: 'Only open (true) or completed (false) records.' })
  open?: boolean | null;
}

@ArgsType()
export class PersonRecordsArgs extends PageArgs {
  @Field(() => [String], { nullable: true, description: 'Only these kinds.' })
  @IsOptional()
  @ArrayMaxSize(20)
  kinds?: string[] | null;

  @Field(() => Boolean, { nullable: true, description: 'Only open (true) or completed (false) records.' })
  open?: boolean | null;
}

@ObjectType({ description: 'A business record in a list, with its cursor.' })
export class BusinessRecordEdge {
  @Field(() => BusinessRecord, { description: 'The record.' })
  node!: BusinessRecord;

  @Field({ description: 'Cursor of this position.' })
  cursor!: string;
}

@ObjectType({ description: 'A page of business records, newest first.' })
export class BusinessRecordConnection {
  @Field(() => [BusinessRecordEdge], { description: 'Records of this page.' })
  edges!: BusinessRecordEdge[];

  @Field(() => PageInfo, { description: 'Where this page is.' })
  pageInfo!: PageInfo;

  @Field(() => Int, { description: 'How many records match in all.' })
  totalCount!: number;
}
