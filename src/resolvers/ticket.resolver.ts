import { filter, pipe } from '@graphql-yoga/subscription';
import type { GraphQLResolveInfo } from 'graphql';
import {
  Arg,
  Args,
  Authorized,
  Ctx,
  FieldResolver,
  ID,
  Info,
  Int,
  Mutation,
  Query,
  Resolver,
  Root,
  Subscription,
} from 'type-graphql';
import { Contact } from '../entities/contact.entity';
import { Attachment, TicketMessage } from '../entities/ticket-message.entity';
import { Ticket, TicketCategory, TicketPriority, TicketStatus } from '../entities/ticket.entity';
import { Role, User } from '../entities/user.entity';
import { CustomerNotification } from '../schema/delivery.types';
import type { CustomerNotice } from '../services/delivery/customer-notices';
import { PageArgs, pageInfo, splitPage } from '../schema/connection';
import type { AuthedContext, Context } from '../schema/context';
import {
  AddTicketMessageInput,
  BulkTicketChange,
  BulkTicketResult,
  CreateTicketInput,
  MessageDelivery,
  ResolveTicketInput,
  RateTicketArgs,
  SupportConversation,
  TicketChoices,
  TicketChangedEvent,
  TicketChangedFilter,
  TicketConnection,
  TicketMessageConnection,
  TicketsArgs,
  UpdateTicketInput,
  MAX_MESSAGE_LENGTH,
} from '../schema/ticket.types';
import { DomainError, ErrorCode, badInput, notFound } from '../services/platform/errors';
import type { TicketChanged } from '../services/platform/live-events';
import { TICKET_WORKERS, requireStaff, type Principal } from '../services/directory/principal';
import { subfields } from '../schema/lookahead';
import { MAX_BULK_TICKETS, SortDirection, TicketOrderField } from '../services/tickets/ticket.service';

/** What TypeGraphQL hands a subscription's `subscribe`. */
interface SubscribeData {
  args: Record<string, unknown>;
  context: Context;
}

@Resolver(() => Ticket)
export class TicketResolver {
  @Query(() => Ticket, {
    nullable: true,
    description:
      'One ticket. Customers see only their own; anything else is NOT_FOUND. Null, with a NOT_FOUND error, when there is none: the rest of the answer stays.',
  })
  ticket(
    @Arg('id', () => ID, { description: 'Ticket id.' }) id: string,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<Ticket> {
    return services.tickets.get(principal, id);
  }

  @Query(() => TicketConnection, { description: 'Tickets visible to the caller, filtered, sorted and paginated.' })
  async tickets(
    @Args() args: TicketsArgs,
    @Ctx() { principal, services }: AuthedContext,
    @Info() info: GraphQLResolveInfo,
  ): Promise<TicketConnection> {
    const order = args.orderBy ?? { field: TicketOrderField.CREATED_AT, direction: SortDirection.DESC };
    // Only what the query asks for is read, and the requester and assignee come with the page, in its statement.
    const shape = {
      ticket: subfields(info, ['edges', 'node']),
      requester: subfields(info, ['edges', 'node', 'requester']),
      assignee: subfields(info, ['edges', 'node', 'assignee']),
    };
    const page = await services.tickets.list(principal, args.filter ?? {}, order, splitPage(args)[0], shape);
    return { edges: page.edges, totalCount: page.totalCount, pageInfo: pageInfo(page) };
  }

  @Authorized(...TICKET_WORKERS)
  @Mutation(() => Ticket, { description: 'Opens a ticket for a contact; SLA due times follow from the priority.' })
  createTicket(
    @Arg('input', () => CreateTicketInput, { description: 'The ticket.' }) input: CreateTicketInput,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<Ticket> {
    return services.tickets.create(requireStaff(principal), input);
  }

  @Authorized(...TICKET_WORKERS)
  @Mutation(() => Ticket, { description: 'Changes the subject, description or category.' })
  updateTicket(
    @Arg('id', () => ID, { description: 'Ticket id.' }) id: string,
    @Arg('input', () => UpdateTicketInput, { description: 'The changes.' }) input: UpdateTicketInput,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<Ticket> {
    return services.tickets.update(requireStaff(principal), id, input);
  }

  @Authorized(...TICKET_WORKERS)
  @Mutation(() => Ticket, {
    description:
      'Assigns a ticket. Without userId it goes to the least-loaded available agent (fewest active tickets under their limit; ties to the one idle longest).',
  })
  assignTicket(
    @Arg('ticketId', () => ID, { description: 'Ticket id.' }) ticketId: string,
    @Arg('userId', () => ID, { nullable: true, description: 'Assignee; omit for automatic assignment.' }) userId: string | null,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<Ticket> {
    return services.tickets.assign(requireStaff(principal), ticketId, userId);
  }

  @Authorized(...TICKET_WORKERS)
  @Mutation(() => Ticket, {
    description:
      'Moves a ticket along its workflow: OPEN → ASSIGNED → IN_PROGRESS ⇄ WAITING_ON_CUSTOMER → RESOLVED → CLOSED, and RESOLVED → IN_PROGRESS to reopen. Other moves fail with INVALID_TRANSITION naming the allowed next states.',
  })
  changeTicketStatus(
    @Arg('ticketId', () => ID, { description: 'Ticket id.' }) ticketId: string,
    @Arg('status', () => TicketStatus, { description: 'The next status.' }) status: TicketStatus,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<Ticket> {
    return services.tickets.changeStatus(requireStaff(principal), ticketId, status);
  }

  @Authorized(...TICKET_WORKERS, Role.TECHNICIAN)
  @Mutation(() => Ticket, {
    description: 'Resolves a ticket with a summary, how it was resolved and notes (kept on the ticket and noted in the thread).',
  })
  resolveTicket(
    @Arg('ticketId', () => ID, { description: 'Ticket id.' }) ticketId: string,
    @Arg('input', () => ResolveTicketInput, { description: 'The resolution.' }) input: ResolveTicketInput,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<Ticket> {
    return services.tickets.resolve(requireStaff(principal), ticketId, input);
  }

  @Authorized(...TICKET_WORKERS)
  @Mutation(() => [BulkTicketResult], {
    description: `Applies one change (assignee, status, priority, a tag) to up to ${MAX_BULK_TICKETS} tickets, each on its own: a refused ticket does not hold back the others.`,
  })
  bulkUpdateTickets(
    @Arg('ticketIds', () => [ID], { description: 'The tickets.' }) ticketIds: string[],
    @Arg('change', () => BulkTicketChange, { description: 'The change.' }) change: BulkTicketChange,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<BulkTicketResult[]> {
    return services.tickets.bulkUpdate(requireStaff(principal), ticketIds, { ...change });
  }

  @Authorized(...TICKET_WORKERS)
  @Mutation(() => Ticket, { description: 'Changes the priority; due times are recomputed from when the ticket was opened.' })
  changeTicketPriority(
    @Arg('ticketId', () => ID, { description: 'Ticket id.' }) ticketId: string,
    @Arg('priority', () => TicketPriority, { description: 'The new priority.' }) priority: TicketPriority,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<Ticket> {
    return services.tickets.changePriority(requireStaff(principal), ticketId, priority);
  }

  @Authorized(...TICKET_WORKERS, Role.TECHNICIAN, Role.CUSTOMER)
  @Mutation(() => TicketMessage, {
    description:
      'Adds a reply or (staff only) an internal note. A customer reply puts a waiting or resolved ticket back in progress.',
  })
  addTicketMessage(
    @Arg('input', () => AddTicketMessageInput, { description: 'The message.' }) input: AddTicketMessageInput,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<TicketMessage> {
    return services.tickets.addMessage(principal, input.ticketId, input);
  }

  @Authorized(Role.CUSTOMER)
  @Mutation(() => Ticket, { description: 'The requester rates a resolved or closed ticket, once.' })
  rateTicket(
    @Args() { ticketId, rating, comment }: RateTicketArgs,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<Ticket> {
    return services.tickets.rate(principal, ticketId, rating, comment);
  }

  @Authorized(Role.CUSTOMER)
  @Mutation(() => SupportConversation, {
    description: 'A customer writes to support: continues ticketId, or opens a new ticket that is assigned automatically.',
  })
  startSupportConversation(
    @Arg('message', { description: `What the customer writes (1-${MAX_MESSAGE_LENGTH} characters).` }) message: string,
    @Arg('ticketId', () => ID, { nullable: true, description: 'Conversation to continue.' }) ticketId: string | null,
    @Arg('category', () => TicketCategory, {
      nullable: true,
      description: 'For a new ticket: its category, among `ticketChoices.categories` (OTHER when omitted).',
    })
    category: TicketCategory | null,
    @Arg('priority', () => TicketPriority, {
      nullable: true,
      description: 'For a new ticket: its priority, among `ticketChoices.priorities` (MEDIUM when omitted).',
    })
    priority: TicketPriority | null,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<SupportConversation> {
    const body = message.trim();
    if (body.length === 0 || body.length > MAX_MESSAGE_LENGTH) {
      throw badInput(`message must be 1-${MAX_MESSAGE_LENGTH} characters`, 'message');
    }
    return services.tickets.startSupportConversation(principal, body, ticketId, undefined, { category, priority });
  }

  @Query(() => TicketChoices, {
    description: 'What the caller may choose when opening a ticket: for customers, what their organisation allows.',
  })
  async ticketChoices(@Ctx() { principal, services }: AuthedContext): Promise<TicketChoices> {
    const tenant = await services.directory.tenant(principal);
    return principal.kind === 'customer'
      ? { categories: tenant.customerCategories, priorities: tenant.customerPriorities }
      : { categories: Object.values(TicketCategory), priorities: Object.values(TicketPriority) };
  }

  @FieldResolver(() => TicketMessageConnection, {
    description:
      'The thread, oldest first; `last: 30` is its latest 30, and `before` pages back from there. Customers never see internal notes.',
  })
  async messages(
    @Root() ticket: Ticket,
    @Args() args: PageArgs,
    @Ctx() { loaders }: AuthedContext,
  ): Promise<TicketMessageConnection> {
    const [thread, totalCount] = await Promise.all([
      loaders.threadPage(splitPage(args)[0]).load(ticket.id),
      loaders.messageCount.load(ticket.id),
    ]);
    return { edges: thread.edges, pageInfo: pageInfo(thread), totalCount };
  }

  @FieldResolver(() => Int, { description: 'Messages in the thread the caller can see.' })
  messageCount(@Root() ticket: Ticket, @Ctx() { loaders }: AuthedContext): Promise<number> {
    return loaders.messageCount.load(ticket.id);
  }

  // Both people usually come with the ticket (a list reads them in its own statement): then
  // the value is returned as it is, not as a promise, and the row completes synchronously.
  @FieldResolver(() => Contact, { description: 'The contact who asked for help.' })
  requester(@Root() ticket: Ticket, @Ctx() { loaders }: AuthedContext): Contact | Promise<Contact> {
    return ticket.requester ?? requesterOf(ticket, loaders);
  }

  @FieldResolver(() => [Attachment], {
    description: 'Files attached to the ticket itself (createTicket fileIds); messages carry their own.',
  })
  attachments(@Root() ticket: Ticket, @Ctx() { loaders }: AuthedContext): Promise<Attachment[]> {
    return loaders.subjectFiles.load(ticket.id);
  }

  @FieldResolver(() => [CustomerNotification], {
    description:
      'Notifications sent to the customer about this ticket (updates, reminders; not thread replies, whose status shows on their message), newest first, at most 50, in customer-safe words. A customer sees only their own.',
  })
  notifications(@Root() ticket: Ticket, @Ctx() { loaders }: AuthedContext): Promise<CustomerNotice[]> {
    return loaders.ticketNotices.load(ticket.id);
  }

  @FieldResolver(() => Date, {
    nullable: true,
    description:
      "Staff only: when the requester's 24-hour WhatsApp service window closes (in the past once closed), on the tenant's Meta number that closes last; null when they never wrote on WhatsApp. Outside it a reply on WhatsApp needs an approved template (whatsappTemplate) unless a gateway carries free text.",
  })
  async whatsappWindowClosesAt(@Root() ticket: Ticket, @Ctx() { principal, loaders }: AuthedContext): Promise<Date | null> {
    if (principal.kind !== 'staff') return null;
    const requester = ticket.requester ?? (await requesterOf(ticket, loaders));
    return requester.phone ? loaders.whatsappWindow.load(requester.phone) : null;
  }

  @FieldResolver(() => Boolean, {
    description: "Staff only: whether the requester's WhatsApp service window is open now (false for customers).",
  })
  async whatsappWindowOpen(@Root() ticket: Ticket, @Ctx() context: AuthedContext): Promise<boolean> {
    const closesAt = await this.whatsappWindowClosesAt(ticket, context);
    return closesAt !== null && closesAt > context.services.clock.now();
  }

  @FieldResolver(() => User, {
    nullable: true,
    description: 'The staff user working the ticket (staff only; null for customers).',
  })
  assignee(@Root() ticket: Ticket, @Ctx() { principal, loaders }: AuthedContext): User | null | Promise<User | null> {
    if (!ticket.assigneeId || principal.kind !== 'staff') return null;
    return ticket.assignee ?? loaders.user.load(ticket.assigneeId).then((user) => user ?? null);
  }

  @Subscription(() => TicketMessage, {
    description:
      "New messages of one ticket, live. Staff of the tenant and the ticket's requester may subscribe; customers never receive internal notes.",
    subscribe: ({ args, context }: SubscribeData) => subscribeToMessages(context, args.ticketId as string),
  })
  ticketMessageAdded(
    @Root() message: TicketMessage,
    @Arg('ticketId', () => ID, { description: 'Ticket to follow.' }) _ticketId: string,
  ): TicketMessage {
    return message;
  }

  @Subscription(() => TicketChangedEvent, {
    description: 'Ticket changes of the tenant, live, for staff queues (e.g. assigned to me, or by status).',
    subscribe: ({ args, context }: SubscribeData) => subscribeToChanges(context, (args.filter ?? {}) as TicketChangedFilter),
  })
  ticketChanged(
    @Root() change: TicketChanged,
    @Arg('filter', () => TicketChangedFilter, { nullable: true, description: 'Which changes; all of the tenant when omitted.' })
    _filter: TicketChangedFilter | null,
  ): TicketChangedEvent {
    return change as TicketChangedEvent;
  }
}

@Resolver(() => TicketMessage)
export class TicketMessageResolver {
  @FieldResolver(() => MessageDelivery, {
    nullable: true,
    description: 'For a message relayed to the customer (an agent’s reply on WhatsApp): its delivery and status; null otherwise.',
  })
  async delivery(@Root() message: TicketMessage, @Ctx() { loaders }: AuthedContext): Promise<MessageDelivery | null> {
    return (await loaders.messageDelivery.load(message.id)) ?? null;
  }
}

async function requesterOf(ticket: Ticket, loaders: AuthedContext['loaders']): Promise<Contact> {
  const contact = await loaders.contact.load(ticket.requesterId);
  if (!contact) throw notFound('Contact', ticket.requesterId);
  return contact;
}

function signedIn(context: Context): Principal {
  if (!context.principal) throw new DomainError(ErrorCode.Unauthenticated, 'Sign in first');
  return context.principal;
}

async function subscribeToMessages(context: Context, ticketId: string): Promise<AsyncIterable<TicketMessage>> {
  const principal = signedIn(context);
  // Refuses (NOT_FOUND) a ticket of another tenant or, for a customer, someone else's ticket.
  await context.services.tickets.get(principal, ticketId);
  const messages = context.services.live.subscribe('ticketMessageAdded', ticketId);
  if (principal.kind === 'staff') return messages;
  return pipe(
    messages,
    filter((message: TicketMessage) => !message.internal),
  );
}

function subscribeToChanges(context: Context, wanted: TicketChangedFilter): AsyncIterable<TicketChanged> {
  const staff = requireStaff(signedIn(context));
  return pipe(
    context.services.live.subscribe('ticketChanged', staff.tenantId),
    filter(({ ticket, previousAssigneeId }: TicketChanged) => {
      if (wanted.assignedToMe && ticket.assigneeId !== staff.userId && previousAssigneeId !== staff.userId) return false;
      if (wanted.unassigned && ticket.assigneeId !== null) return false;
      if (wanted.statuses?.length && !wanted.statuses.includes(ticket.status)) return false;
      if (wanted.priorities?.length && !wanted.priorities.includes(ticket.priority)) return false;
      return true;
    }),
  );
}
