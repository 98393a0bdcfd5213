import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Args, Authorized, Ctx, Extensions, FieldResolver, ID, Info, Mutation, Query, Resolver, Root } from 'type-graphql';
import { ApiScope } from '../entities/api-key.entity';
import type { Channel } from '../entities/channel';
import { Contact } from '../entities/contact.entity';
import { Tenant } from '../entities/tenant.entity';
import { Availability, Role, STAFF_ROLES, User } from '../entities/user.entity';
import { keyOrStaff } from '../schema/auth';
import { IDEMPOTENCY_KEY_ARGUMENT, oncePerKey } from '../schema/idempotency';
import type { AuthedContext, Context } from '../schema/context';
import { pageInfo, splitPage } from '../schema/connection';
import {
  ChannelConsent,
  ContactImportInput,
  ImportReport,
  TenantSettingsInput,
  UserImportInput,
  ContactConnection,
  ContactInput,
  ContactsArgs,
  CreateUserInput,
  CreatedUser,
  UpdateUserInput,
  UserConnection,
  UsersArgs,
} from '../schema/directory.types';
import { MAX_IMPORT_ROWS } from '../services/directory/people-import.service';
import { TICKET_WORKERS, requireStaff } from '../services/directory/principal';

@Resolver(() => Tenant)
export class TenantResolver {
  @Authorized(...STAFF_ROLES)
  @Query(() => Tenant, { description: "The caller's tenant: name, time zone, language, phone country." })
  tenantSettings(@Ctx() { principal, services }: AuthedContext): Promise<Tenant> {
    return services.directory.tenant(principal);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Tenant, { description: "Changes the tenant's name, time zone, language or phone country (admin)." })
  updateTenantSettings(
    @Arg('input', () => TenantSettingsInput, { description: 'The changes.' }) input: TenantSettingsInput,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<Tenant> {
    return services.directory.updateTenantSettings(requireStaff(principal), input);
  }
}

@Resolver(() => User)
export class UserResolver {
  @Authorized(...STAFF_ROLES)
  @Query(() => UserConnection, { description: 'Staff users of the tenant, by name, a page at a time.' })
  async users(@Args() args: UsersArgs, @Ctx() { principal, services }: AuthedContext): Promise<UserConnection> {
    const [request, filter] = splitPage(args);
    const page = await services.directory.users(principal, filter, request);
    return { ...page, pageInfo: pageInfo(page) };
  }

  @Authorized(...STAFF_ROLES)
  @Query(() => User, {
    nullable: true,
    description: 'One staff user. Null, with a NOT_FOUND error, when there is none: the rest of the answer stays.',
  })
  user(
    @Arg('id', () => ID, { description: 'User id.' }) id: string,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<User> {
    return services.directory.user(principal, id);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => CreatedUser, { description: 'Adds a staff user with a one-time password (admin).' })
  async createUser(
    @Arg('input', () => CreateUserInput, { description: 'The new user.' }) input: CreateUserInput,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<CreatedUser> {
    const { user, password } = await services.directory.createUser(requireStaff(principal), input);
    return { user, oneTimePassword: password };
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => User, { description: 'Changes a staff user: role, manager, limits, deactivation (admin).' })
  updateUser(
    @Arg('id', () => ID, { description: 'User id.' }) id: string,
    @Arg('input', () => UpdateUserInput, { description: 'The changes.' }) input: UpdateUserInput,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<User> {
    return services.directory.updateUser(requireStaff(principal), id, input);
  }

  @Authorized(...STAFF_ROLES)
  @Mutation(() => User, { description: "Sets the caller's availability for auto-assignment." })
  setMyAvailability(
    @Arg('availability', () => Availability, { description: 'New availability.' }) availability: Availability,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<User> {
    return services.directory.setAvailability(requireStaff(principal), availability);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => CreatedUser, {
    description: 'Gives a staff user a new one-time password, e.g. someone imported from HR (admin).',
  })
  async resetUserPassword(
    @Arg('id', () => ID, { description: 'User id.' }) id: string,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<CreatedUser> {
    const { user, password } = await services.directory.resetPassword(requireStaff(principal), id);
    return { user, oneTimePassword: password };
  }

  @Authorized(...STAFF_ROLES)
  @Mutation(() => User, { description: 'Changes your own password (12-200 characters); the current one is needed.' })
  changeMyPassword(
    @Arg('currentPassword', { description: 'The password you use now.' }) currentPassword: string,
    @Arg('newPassword', { description: 'The new password.' }) newPassword: string,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<User> {
    return services.directory.changePassword(requireStaff(principal), currentPassword, newPassword);
  }

  @Extensions({ apiScope: ApiScope.USERS_WRITE })
  @Mutation(() => ImportReport, {
    description: `Creates or updates up to ${MAX_IMPORT_ROWS} staff users from an HR system, with their managers, by external id or e-mail (API key with users:write, or admin). Bad rows (unknown manager, reporting loop, duplicate in the batch) are reported and not written.`,
  })
  importUsers(
    @Arg('rows', () => [UserImportInput], { description: 'The users, in any order.' }) rows: UserImportInput[],
    @Arg('idempotencyKey', () => String, { nullable: true, description: IDEMPOTENCY_KEY_ARGUMENT })
    idempotencyKey: string | null,
    @Ctx() context: Context,
    @Info() info: GraphQLResolveInfo,
  ): Promise<ImportReport> {
    const { tenantId, actorId } = keyOrStaff(context, ApiScope.USERS_WRITE, [Role.ADMIN]);
    const users = rows.map((row) => ({ ...row }));
    return oncePerKey(context, info, tenantId, idempotencyKey, users, (within) =>
      context.services.peopleImport.importUsers(tenantId, users, actorId, within),
    );
  }

  @FieldResolver(() => User, { nullable: true, description: 'The user this one reports to.' })
  async manager(@Root() user: User, @Ctx() { loaders }: AuthedContext): Promise<User | null> {
    return user.managerId ? ((await loaders.user.load(user.managerId)) ?? null) : null;
  }
}

@Resolver(() => Contact)
export class ContactResolver {
  @Authorized(...STAFF_ROLES)
  @Query(() => ContactConnection, { description: 'Contacts of the tenant, by name, a page at a time.' })
  async contacts(@Args() args: ContactsArgs, @Ctx() { principal, services }: AuthedContext): Promise<ContactConnection> {
    const [request, { search }] = splitPage(args);
    const page = await services.directory.contacts(principal, search, request);
    return { ...page, pageInfo: pageInfo(page) };
  }

  @Query(() => Contact, {
    nullable: true,
    description:
      'One contact; customers may read only their own. Null, with a NOT_FOUND error, when there is none: the rest of the answer stays.',
  })
  contact(
    @Arg('id', () => ID, { description: 'Contact id.' }) id: string,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<Contact> {
    return services.directory.contact(principal, id);
  }

  @Authorized(...TICKET_WORKERS)
  @Mutation(() => Contact, { description: 'Adds a customer contact.' })
  createContact(
    @Arg('input', () => ContactInput, { description: 'The contact.' }) input: ContactInput,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<Contact> {
    return services.directory.createContact(requireStaff(principal), input);
  }

  @Extensions({ apiScope: ApiScope.CONTACTS_WRITE })
  @Mutation(() => ImportReport, {
    description: `Creates or updates up to ${MAX_IMPORT_ROWS} contacts by external id, phone or e-mail (API key with contacts:write, or admin). Bad rows are reported and not written.`,
  })
  importContacts(
    @Arg('rows', () => [ContactImportInput], { description: 'The contacts.' }) rows: ContactImportInput[],
    @Arg('idempotencyKey', () => String, { nullable: true, description: IDEMPOTENCY_KEY_ARGUMENT })
    idempotencyKey: string | null,
    @Ctx() context: Context,
    @Info() info: GraphQLResolveInfo,
  ): Promise<ImportReport> {
    const { tenantId, actorId } = keyOrStaff(context, ApiScope.CONTACTS_WRITE, [Role.ADMIN]);
    const contacts = rows.map((row) => ({ ...row }));
    return oncePerKey(context, info, tenantId, idempotencyKey, contacts, (within) =>
      context.services.peopleImport.importContacts(tenantId, contacts, actorId, within),
    );
  }

  @FieldResolver(() => [ChannelConsent], { description: 'What the contact agreed to, per channel.' })
  consent(@Root() contact: Contact): ChannelConsent[] {
    return Object.entries(contact.consent ?? {}).map(([channel, answer]) => ({
      channel: channel as Channel,
      granted: answer!.granted,
      at: new Date(answer!.at),
      source: answer!.source,
    }));
  }

  @Authorized(...TICKET_WORKERS)
  @Mutation(() => Contact, { description: 'Changes a customer contact.' })
  updateContact(
    @Arg('id', () => ID, { description: 'Contact id.' }) id: string,
    @Arg('input', () => ContactInput, { description: 'The new values.' }) input: ContactInput,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<Contact> {
    return services.directory.updateContact(requireStaff(principal), id, input);
  }
}
