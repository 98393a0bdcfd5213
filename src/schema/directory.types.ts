import { TicketCategory, TicketPriority } from '../entities/ticket.entity';
import { ArrayMaxSize, IsEmail, IsIn, IsInt, IsOptional, IsUUID, Length, Max, MaxLength, Min } from 'class-validator';
import { GraphQLJSONObject } from 'graphql-scalars';
import { ArgsType, Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { Channel } from '../entities/channel';
import { Contact } from '../entities/contact.entity';
import { PageInfo, PageArgs } from './connection';
import { Role, STAFF_ROLES, type StaffRole, User } from '../entities/user.entity';
import { PersonMatch } from './closed-sets';
import { FieldProblem, UpsertOutcome } from './record.types';

const PHONE_DESCRIPTION = "Phone number, stored in E.164 form; local numbers (0812...) are read in the tenant's default country.";

@InputType({ description: 'A new staff user.' })
export class CreateUserInput {
  @Field({ description: 'Full name.' })
  @Length(1, 200)
  name!: string;

  @Field({ description: 'E-mail address; unique within the tenant.' })
  @IsEmail({}, { message: 'must be an e-mail address' })
  @MaxLength(320)
  email!: string;

  @Field(() => Role, { description: 'What the user may do (any role but customer).' })
  @IsIn(STAFF_ROLES, { message: 'must be a staff role (not customer)' })
  role!: StaffRole;

  @Field(() => String, { nullable: true, description: PHONE_DESCRIPTION })
  @IsOptional()
  @MaxLength(32)
  phone?: string | null;

  @Field(() => String, { nullable: true, description: 'Their id in the HR system; unique in the tenant.' })
  @IsOptional()
  @MaxLength(200)
  externalId?: string | null;

  @Field(() => String, { nullable: true, description: 'IANA time zone, e.g. Asia/Makassar.' })
  @IsOptional()
  @MaxLength(64)
  timezone?: string | null;

  @Field(() => GraphQLJSONObject, { nullable: true, description: 'HR facts: store, cluster, position...' })
  @IsOptional()
  attributes?: Record<string, unknown> | null;

  @Field(() => ID, { nullable: true, description: 'Who the user reports to.' })
  @IsOptional()
  @IsUUID('all', { message: 'must be a user id' })
  managerId?: string | null;

  @Field(() => Int, { nullable: true, description: 'Most open tickets auto-assignment gives this user (default 10).' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(1000)
  maxOpenTickets?: number | null;
}

@InputType({ description: 'Changes to a staff user; omitted fields stay as they are.' })
export class UpdateUserInput {
  @Field(() => String, { nullable: true, description: 'Full name.' })
  @IsOptional()
  @Length(1, 200)
  name?: string | null;

  @Field(() => Role, { nullable: true, description: 'New role (any but customer).' })
  @IsOptional()
  @IsIn(STAFF_ROLES, { message: 'must be a staff role (not customer)' })
  role?: StaffRole | null;

  @Field(() => String, { nullable: true, description: PHONE_DESCRIPTION })
  @IsOptional()
  @MaxLength(32)
  phone?: string | null;

  @Field(() => String, { nullable: true, description: 'Their id in the HR system; unique in the tenant.' })
  @IsOptional()
  @MaxLength(200)
  externalId?: string | null;

  @Field(() => String, { nullable: true, description: 'IANA time zone, e.g. Asia/Makassar.' })
  @IsOptional()
  @MaxLength(64)
  timezone?: string | null;

  @Field(() => GraphQLJSONObject, { nullable: true, description: 'HR facts: store, cluster, position...' })
  @IsOptional()
  attributes?: Record<string, unknown> | null;

  @Field(() => ID, { nullable: true, description: 'Who the user reports to; null removes the manager.' })
  @IsOptional()
  @IsUUID('all', { message: 'must be a user id' })
  managerId?: string | null;

  @Field(() => Int, { nullable: true, description: 'Most open tickets auto-assignment gives this user.' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(1000)
  maxOpenTickets?: number | null;

  @Field(() => Boolean, { nullable: true, description: 'False deactivates the user: no sign-in, no new tickets.' })
  @IsOptional()
  active?: boolean | null;
}

@ObjectType({ description: 'A new user and their one-time password.' })
export class CreatedUser {
  @Field(() => User, { description: 'The user.' })
  user!: User;

  @Field({ description: 'Password to hand over once; it is not stored in clear and cannot be shown again.' })
  oneTimePassword!: string;
}

@InputType({ description: 'Whether a contact agreed to messages on a channel.' })
export class ConsentInput {
  @Field(() => Channel, { description: 'The channel.' })
  channel!: Channel;

  @Field({ description: 'True when they agreed, false when they refused or withdrew.' })
  granted!: boolean;
}

@ObjectType({ description: 'What a contact agreed to on one channel.' })
export class ChannelConsent {
  @Field(() => Channel, { description: 'The channel.' })
  channel!: Channel;

  @Field({ description: 'True when they agreed.' })
  granted!: boolean;

  @Field({ description: 'When they answered.' })
  at!: Date;

  @Field({ description: 'Where the answer came from: api, import, inbound...' })
  source!: string;
}

@InputType({ description: 'A customer contact.' })
export class ContactInput {
  @Field({ description: 'Full name.' })
  @Length(1, 200)
  name!: string;

  @Field(() => String, { nullable: true, description: 'Their id in your CRM or billing system; unique in the tenant.' })
  @IsOptional()
  @MaxLength(200)
  externalId?: string | null;

  @Field(() => String, { nullable: true, description: 'Birthday, YYYY-MM-DD.' })
  @IsOptional()
  @MaxLength(10)
  birthday?: string | null;

  @Field(() => String, { nullable: true, description: 'A yearly date that matters, YYYY-MM-DD.' })
  @IsOptional()
  @MaxLength(10)
  anniversary?: string | null;

  @Field(() => String, { nullable: true, description: 'IANA time zone, e.g. Asia/Jakarta.' })
  @IsOptional()
  @MaxLength(64)
  timezone?: string | null;

  @Field(() => String, { nullable: true, description: 'Preferred language, e.g. id or en-GB.' })
  @IsOptional()
  @MaxLength(35)
  locale?: string | null;

  @Field(() => String, { nullable: true, description: 'Service area (city, district).' })
  @IsOptional()
  @MaxLength(100)
  area?: string | null;

  @Field(() => [ConsentInput], { nullable: true, description: 'Consent answers per channel; channels not named keep theirs.' })
  @IsOptional()
  @ArrayMaxSize(10)
  consent?: ConsentInput[] | null;

  @Field(() => String, { nullable: true, description: PHONE_DESCRIPTION })
  @IsOptional()
  @MaxLength(32)
  phone?: string | null;

  @Field(() => String, { nullable: true, description: 'E-mail address.' })
  @IsOptional()
  @IsEmail({}, { message: 'must be an e-mail address' })
  @MaxLength(320)
  email?: string | null;

  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Free-form attributes.' })
  @IsOptional()
  attributes?: Record<string, unknown> | null;

  @Field(() => [String], { nullable: true, description: 'Labels (at most 50, each up to 50 characters).' })
  @IsOptional()
  @ArrayMaxSize(50)
  @Length(1, 50, { each: true })
  tags?: string[] | null;
}

@InputType({
  description:
    'A contact from another system, matched by external id, then phone, then e-mail. Omitted or null fields keep their value; attributes are merged.',
})
export class ContactImportInput {
  @Field(() => String, { nullable: true, description: 'Their id in your system.' })
  externalId?: string | null;

  @Field(() => String, { nullable: true, description: 'Full name; needed for a new contact.' })
  name?: string | null;

  @Field(() => String, { nullable: true, description: PHONE_DESCRIPTION })
  phone?: string | null;

  @Field(() => String, { nullable: true, description: 'E-mail address.' })
  email?: string | null;

  @Field(() => String, { nullable: true, description: 'Birthday, YYYY-MM-DD.' })
  birthday?: string | null;

  @Field(() => String, { nullable: true, description: 'A yearly date that matters, YYYY-MM-DD.' })
  anniversary?: string | null;

  @Field(() => String, { nullable: true, description: 'IANA time zone.' })
  timezone?: string | null;

  @Field(() => String, { nullable: true, description: 'Preferred language.' })
  locale?: string | null;

  @Field(() => String, { nullable: true, description: 'Service area.' })
  area?: string | null;

  @Field(() => [String], { nullable: true, description: 'Labels; replace the ones there.' })
  tags?: string[] | null;

  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Attributes, merged into the ones there.' })
  attributes?: Record<string, unknown> | null;

  @Field(() => [ConsentInput], { nullable: true, description: 'Consent answers per channel.' })
  consent?: ConsentInput[] | null;
}

@InputType({
  description:
    'A staff user from an HR system, matched by external id, then e-mail. Omitted or null fields keep their value; attributes are merged.',
})
export class UserImportInput {
  @Field(() => String, { nullable: true, description: 'Their id in the HR system (employee number).' })
  externalId?: string | null;

  @Field(() => String, { nullable: true, description: 'Full name; needed for a new user.' })
  name?: string | null;

  @Field(() => String, { nullable: true, description: 'E-mail address; needed for a new user.' })
  email?: string | null;

  @Field(() => String, { nullable: true, description: PHONE_DESCRIPTION })
  phone?: string | null;

  @Field(() => Role, { nullable: true, description: 'Role; agent for a new user when omitted.' })
  role?: StaffRole | null;

  @Field(() => String, { nullable: true, description: 'Their manager by HR id, in this batch or already here.' })
  managerExternalId?: string | null;

  @Field(() => String, { nullable: true, description: 'Their manager by e-mail, when there is no HR id.' })
  managerEmail?: string | null;

  @Field(() => String, { nullable: true, description: 'IANA time zone.' })
  timezone?: string | null;

  @Field(() => GraphQLJSONObject, { nullable: true, description: 'HR facts (store, cluster, position), merged.' })
  attributes?: Record<string, unknown> | null;

  @Field(() => Boolean, { nullable: true, description: 'False deactivates them (e.g. they left).' })
  active?: boolean | null;
}

@ObjectType({ description: 'What became of one row of an import.' })
export class ImportRow {
  @Field(() => Int, { description: 'Its position in the call.' })
  index!: number;

  @Field(() => ID, { nullable: true, description: 'The person; null when a new one failed.' })
  id!: string | null;

  @Field(() => UpsertOutcome, { description: 'What it did.' })
  outcome!: UpsertOutcome;

  @Field(() => PersonMatch, { nullable: true, description: 'How it found an existing person; null when it made a new one.' })
  matchedBy!: PersonMatch | null;

  @Field(() => [FieldProblem], { description: 'Why it failed; empty otherwise.' })
  problems!: FieldProblem[];
}

@ObjectType({ description: 'What became of an import: counts and every row.' })
export class ImportReport {
  @Field(() => Int, { description: 'People created.' })
  created!: number;

  @Field(() => Int, { description: 'People changed.' })
  updated!: number;

  @Field(() => Int, { description: 'Rows that matched and changed nothing.' })
  unchanged!: number;

  @Field(() => Int, { description: 'Rows refused; nothing was written for them.' })
  failed!: number;

  @Field(() => [ImportRow], { description: 'Every row, in the order sent.' })
  rows!: ImportRow[];
}

@InputType({ description: "The tenant's settings; omitted fields stay as they are." })
export class TenantSettingsInput {
  @Field(() => String, { nullable: true, description: 'Display name.' })
  @IsOptional()
  @MaxLength(200)
  name?: string | null;

  @Field(() => String, { nullable: true, description: 'IANA time zone, e.g. Asia/Jakarta.' })
  @IsOptional()
  @MaxLength(64)
  timezone?: string | null;

  @Field(() => String, { nullable: true, description: 'Default language, e.g. id.' })
  @IsOptional()
  @MaxLength(35)
  locale?: string | null;

  @Field(() => String, { nullable: true, description: 'ISO 3166 country for local phone numbers, e.g. ID; empty clears it.' })
  @IsOptional()
  @MaxLength(2)
  defaultCountry?: string | null;

  @Field(() => Int, {
    nullable: true,
    description: 'Days after which a resolved ticket without a customer reply closes itself; 0 never.',
  })
  ticketAutoCloseDays?: number | null;

  @Field(() => Boolean, {
    nullable: true,
    description:
      'True: opted-out contacts get no transactional or operational campaign either; false: only marketing is withheld.',
  })
  optOutCoversAll?: boolean | null;

  @Field(() => [String], { nullable: true, description: 'Inbound words that opt a contact out of marketing, e.g. STOP.' })
  @IsOptional()
  @ArrayMaxSize(20)
  stopKeywords?: string[] | null;

  @Field(() => [String], { nullable: true, description: 'Inbound words that opt a contact back in, e.g. START.' })
  @IsOptional()
  @ArrayMaxSize(20)
  startKeywords?: string[] | null;

  @Field(() => [TicketCategory], { nullable: true, description: 'Categories customers may choose when opening a ticket.' })
  customerCategories?: TicketCategory[] | null;

  @Field(() => [TicketPriority], { nullable: true, description: 'Priorities customers may choose when opening a ticket.' })
  customerPriorities?: TicketPriority[] | null;
}

@ArgsType()
export class UsersArgs extends PageArgs {
  @Field(() => String, { nullable: true, description: 'Part of a name, e-mail address or phone number.' })
  @IsOptional()
  @MaxLength(200)
  search?: string | null;

  @Field(() => [Role], { nullable: true, description: 'Only these roles.' })
  @IsOptional()
  @ArrayMaxSize(10)
  roles?: Role[] | null;

  @Field(() => Boolean, { nullable: true, description: 'Only active (true) or deactivated (false) users.' })
  active?: boolean | null;
}

@ObjectType({ description: 'A staff user in a list, with its cursor.' })
export class UserEdge {
  @Field(() => User, { description: 'The user.' })
  node!: User;

  @Field({ description: 'Cursor of this position.' })
  cursor!: string;
}

@ObjectType({ description: 'A page of staff users, by name.' })
export class UserConnection {
  @Field(() => [UserEdge], { description: 'Users of this page.' })
  edges!: UserEdge[];

  @Field(() => PageInfo, { description: 'Where this page is.' })
  pageInfo!: PageInfo;

  @Field(() => Int, { description: 'How many users match in all.' })
  totalCount!: number;
}

@ArgsType()
export class ContactsArgs extends PageArgs {
  @Field(() => String, { nullable: true, description: 'Part of a name, e-mail address or phone number.' })
  @IsOptional()
  @MaxLength(200)
  search?: string | null;
}

@ObjectType({ description: 'A contact in a list, with its cursor.' })
export class ContactEdge {
  @Field(() => Contact, { description: 'The contact.' })
  node!: Contact;

  @Field({ description: 'Cursor of this position.' })
  cursor!: string;
}

@ObjectType({ description: 'A page of contacts, by name.' })
export class ContactConnection {
  @Field(() => [ContactEdge], { description: 'Contacts of this page.' })
  edges!: ContactEdge[];

  @Field(() => PageInfo, { description: 'Where this page is.' })
  pageInfo!: PageInfo;

  @Field(() => Int, { description: 'How many contacts match in all.' })
  totalCount!: number;
}
