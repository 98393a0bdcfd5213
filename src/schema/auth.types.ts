import { IsEmail, IsOptional, Length, MaxLength } from 'class-validator';
import { ArgsType, Field, ObjectType } from 'type-graphql';
import { Role, User } from '../entities/user.entity';
import { ViewerKind } from './closed-sets';

@ArgsType()
export class LoginArgs {
  @Field({ description: 'E-mail address of the staff user.' })
  @IsEmail({}, { message: 'must be an e-mail address' })
  @MaxLength(320)
  email!: string;

  @Field({ description: 'Password.' })
  @Length(1, 1024)
  password!: string;

  @Field(() => String, {
    nullable: true,
    description: 'Tenant slug; needed only when the e-mail address belongs to several tenants.',
  })
  @IsOptional()
  @MaxLength(63)
  tenant?: string | null;
}

@ObjectType({ description: 'A signed access token.' })
export class AccessToken {
  @Field({ description: 'Send as `Authorization: Bearer <token>` (HTTP) or `connectionParams.authorization` (graphql-ws).' })
  token!: string;

  @Field({ description: 'When the token stops working.' })
  expiresAt!: Date;
}

@ObjectType({ description: 'Result of a successful sign-in.' })
export class LoginResult extends AccessToken {
  @Field(() => User, { description: 'The signed-in user.' })
  user!: User;
}

@ObjectType({ description: 'Who is signed in.' })
export class Viewer {
  @Field(() => ViewerKind, { description: 'Staff or customer.' })
  kind!: `${ViewerKind}`;

  @Field({ description: 'Tenant id.' })
  tenantId!: string;

  @Field(() => User, { nullable: true, description: 'The staff user, when staff is signed in.' })
  user!: User | null;

  @Field(() => String, { nullable: true, description: 'The contact id, when a customer is signed in.' })
  contactId!: string | null;

  @Field({ description: 'Display name.' })
  name!: string;

  @Field(() => Role, { description: 'What the signed-in principal may do.' })
  role!: Role;
}
