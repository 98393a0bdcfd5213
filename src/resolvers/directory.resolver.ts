import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Contact } from '../entities/contact.entity';
import { Availability, Role, STAFF_ROLES, User } from '../entities/user.entity';
import type { AuthedContext } from '../schema/context';
import { pageInfo } from '../schema/connection';
import {
  ContactConnection,
  ContactInput,
  ContactsArgs,
  CreateUserInput,
  CreatedUser,
  UpdateUserInput,
  UserConnection,
  UsersArgs,
} from '../schema/directory.types';
import { TICKET_WORKERS, requireStaff } from '../services/directory/principal';

@Resolver(() => User)
export class UserResolver {
  @Authorized(...STAFF_ROLES)
  @Query(() => UserConnection, { description: 'Staff users of the tenant, by name, a page at a time.' })
  async users(
    @Args() { first, after, ...filter }: UsersArgs,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<UserConnection> {
    const page = await services.directory.users(principal, filter, { first, after });
    return { ...page, pageInfo: pageInfo(page.edges, page.hasNextPage) };
  }

  @Authorized(...STAFF_ROLES)
  @Query(() => User, { description: 'One staff user.' })
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

  @FieldResolver(() => User, { nullable: true, description: 'The user this one reports to.' })
  async manager(@Root() user: User, @Ctx() { loaders }: AuthedContext): Promise<User | null> {
    return user.managerId ? ((await loaders.user.load(user.managerId)) ?? null) : null;
  }
}

@Resolver(() => Contact)
export class ContactResolver {
  @Authorized(...STAFF_ROLES)
  @Query(() => ContactConnection, { description: 'Contacts of the tenant, by name, a page at a time.' })
  async contacts(
    @Args() { search, first, after }: ContactsArgs,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<ContactConnection> {
    const page = await services.directory.contacts(principal, search, { first, after });
    return { ...page, pageInfo: pageInfo(page.edges, page.hasNextPage) };
  }

  @Query(() => Contact, { description: 'One contact; customers may read only their own.' })
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
