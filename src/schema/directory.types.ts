import { ArrayMaxSize, IsEmail, IsIn, IsInt, IsOptional, IsUUID, Length, Matches, Max, MaxLength, Min } from 'class-validator';
import { GraphQLJSONObject } from 'graphql-scalars';
import { ArgsType, Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { Contact } from '../entities/contact.entity';
import { PageInfo, PageArgs } from './connection';
import { Role, STAFF_ROLES, type StaffRole, User } from '../entities/user.entity';

const E164 = /^\+[1-9]\d{6,14}$/;
const E164_MESSAGE = 'must be a phone number in E.164 form, e.g. +6281234567890';

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

  @Field(() => String, { nullable: true, description: 'Mobile number in E.164 form.' })
  @IsOptional()
  @Matches(E164, { message: E164_MESSAGE })
  phone?: string | null;

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

  @Field(() => String, { nullable: true, description: 'Mobile number in E.164 form.' })
  @IsOptional()
  @Matches(E164, { message: E164_MESSAGE })
  phone?: string | null;

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

@InputType({ description: 'A customer contact.' })
export class ContactInput {
  @Field({ description: 'Full name.' })
  @Length(1, 200)
  name!: string;

  @Field(() => String, { nullable: true, description: 'Mobile number in E.164 form.' })
  @IsOptional()
  @Matches(E164, { message: E164_MESSAGE })
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
