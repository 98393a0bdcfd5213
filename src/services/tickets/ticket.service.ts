import { type DataSource, type EntityManager, type SelectQueryBuilder } from 'typeorm';
import { randomUUID } from 'node:crypto';
import { Channel } from '../../entities/channel';
import { Contact } from '../../entities/contact.entity';
import { Delivery } from '../../entities/delivery.entity';
import { type Attachment, MessageAuthorKind, TicketMessage } from '../../entities/ticket-message.entity';
import { ResolutionType, Ticket, TicketCategory, TicketPriority, TicketStatus } from '../../entities/ticket.entity';
import { Availability, Role, User } from '../../entities/user.entity';
import type { Clock } from '../platform/clock';
import { DomainError, ErrorCode, badInput, conflict, forbidden, notFound } from '../platform/errors';
import { Tenant } from '../../entities/tenant.entity';
import { TicketChangeKind, type LiveEvents } from '../platform/live-events';
import {
  type CursorKind,
  type Edge,
  type Page,
  type PageRequest,
  encodeCursor,
  finishKeyset,
  planKeyset,
} from '../platform/pagination';
import { TicketList, type TicketListShape } from './ticket-list';
import { type Principal, type StaffPrincipal, requireCustomer } from '../directory/principal';
import type { SlaService } from '../escalation/sla.service';
import { ACTIVE_STATUSES, assertTransition } from './ticket-workflow';
import { returningRows } from '../platform/sql';
import type { Transactor, UnitOfWork } from '../platform/unit-of-work';
import type { DeliveryService } from '../delivery/delivery.service';
import type { ServiceWindowService } from '../delivery/service-window';
import type { FileService, ReceivedFile } from '../files/file.service';
import { FileSubject } from '../../entities/stored-file.entity';
import { templateVariables } from '../delivery/template-rendering';
import { automationActor } from '../directory/automation-user';
import { isUuid } from '../platform/ids';

/** One page of a ticket's thread. */
export interface ThreadPage {
  edges: Edge<TicketMessage>[];
  hasNextPage: boolean;
  hasPreviousPage: boolean;
}

export interface CreateTicketInput {
  subject: string;
  description?: string | null;
  category: TicketCategory;
  priority: TicketPriority;
  requesterId: string;
  assigneeId?: string | null;
  /** Files the creator uploaded (createUpload), attached to the ticket itself. */
  fileIds?: readonly string[] | null;
}

export interface UpdateTicketInput {
  subject?: string | null;
  description?: string | null;
  category?: TicketCategory | null;
}

export interface AddMessageInput {
  body: string;
  /** Provider id of an inbound message; a second message with the same id is not added. */
  externalId?: string | null;
  internal?: boolean | null;
  attachments?: Attachment[] | null;
  /** Files the author uploaded (createUpload), attached to this message. */
  fileIds?: readonly string[] | null;
  /** Files that came with an inbound message (a customer's WhatsApp photo), kept with it. */
  received?: readonly ReceivedFile[] | null;
  /**
   * A public reply on a WhatsApp conversation sent as this WhatsApp template (one mapped to an
   * approved Meta template), for when the customer's 24-hour service window has closed.
   */
  whatsappTemplate?: string | null;
}

export interface TicketFilter {
  statuses?: TicketStatus[] | null;
  priorities?: TicketPriority[] | null;
  categories?: TicketCategory[] | null;
  assigneeId?: string | null;
  unassigned?: boolean | null;
  requesterId?: string | null;
  text?: string | null;
  createdFrom?: Date | null;
  createdTo?: Date | null;
  resolvedFrom?: Date | null;
  resolvedTo?: Date | null;
  /** Any of these tags. */
  tags?: string[] | null;
  /** The requester's service area. */
  area?: string | null;
  /** Only tickets that missed a target (true) or did not (false). */
  breached?: boolean | null;
}

export interface ResolveInput {
  summary: string;
  type: ResolutionType;
  notes?: string | null;
}

/** One change for many tickets at once; what is given is applied to each. */
export interface BulkChange {
  assigneeId?: string | null;
  status?: TicketStatus | null;
  priority?: TicketPriority | null;
  addTag?: string | null;
}

export interface BulkResult {
  ticketId: string;
  ok: boolean;
  errorCode: string | null;
  error: string | null;
}

export const MAX_BULK_TICKETS = 100;

export enum TicketOrderField {
  CREATED_AT = 'createdAt',
  UPDATED_AT = 'updatedAt',
  PRIORITY = 'priority',
  RESOLUTION_DUE_AT = 'resolutionDueAt',
  NUMBER = 'number',
}

export enum SortDirection {
  ASC = 'ASC',
  DESC = 'DESC',
}

export interface TicketOrder {
  field: TicketOrderField;
  direction: SortDirection;
}

/**
 * A customer's choice when opening a ticket, within what the tenant allows them; none
 * given, the default (or, when the tenant does not offer it, its first allowed value).
 */
function allowedChoice<T extends string>(chosen: T | null | undefined, allowed: T[], fallback: T, field: string): T {
  if (chosen == null) return allowed.includes(fallback) || !allowed.length ? fallback : allowed[0];
  if (!allowed.includes(chosen)) {
    throw new DomainError(
      ErrorCode.BadUserInput,
      `Customers of this organisation may choose ${field} ${allowed.map((value) => value.toUpperCase()).join(', ')}`,
      { field, allowed: allowed.map((value) => value.toUpperCase()) },
    );
  }
  return chosen;
}

/** SQL cast of each sortable column, so keyset cursors compare with the right type, and what its cursor values look like. */
const ORDER_CAST: Record<TicketOrderField, string> = {
  [TicketOrderField.CREATED_AT]: 'timestamptz',
  [TicketOrderField.UPDATED_AT]: 'timestamptz',
  [TicketOrderField.PRIORITY]: 'ticket_priority',
  [TicketOrderField.RESOLUTION_DUE_AT]: 'timestamptz',
  [TicketOrderField.NUMBER]: 'integer',
};
const ORDER_KIND: Record<TicketOrderField, CursorKind> = {
  [TicketOrderField.CREATED_AT]: 'timestamp',
  [TicketOrderField.UPDATED_AT]: 'timestamp',
  [TicketOrderField.PRIORITY]: Object.values(TicketPriority),
  [TicketOrderField.RESOLUTION_DUE_AT]: 'timestamp',
  [TicketOrderField.NUMBER]: 'integer',
};

export class TicketService {
  /** Pages of the tickets list (hand-written statements, src/services/tickets/ticket-list.ts). */
  private readonly pages: TicketList;

  constructor(
    private readonly dataSource: DataSource,
    private readonly transactor: Transactor,
    private readonly live: LiveEvents,
    private readonly clock: Clock,
    private readonly sla: SlaService,
    private readonly deliveries: DeliveryService,
    private readonly windows: ServiceWindowService,
    private readonly files: FileService,
  ) {
    this.pages = new TicketList(dataSource);
  }

  /**
   * Resolves with the details support reports on: a summary, how it was resolved, and
   * notes; they are kept on the ticket and added to the thread as an internal note.
   */
  async resolve(actor: StaffPrincipal, ticketId: string, input: ResolveInput): Promise<Ticket> {
    const summary = input.summary?.trim();
    if (!summary || summary.length > 500) throw badInput('The summary is 1-500 characters', 'summary');
    if (!Object.values(ResolutionType).includes(input.type)) throw badInput('Give how it was resolved', 'type');
    if (input.notes && input.notes.length > 5000) throw badInput('The notes are at most 5,000 characters', 'notes');
    return this.transactor.run(async (uow) => {
      const ticket = await this.lockVisible(uow.manager, actor, ticketId);
      Object.assign(ticket, {
        resolutionType: input.type,
        resolutionSummary: summary,
        resolutionNotes: input.notes?.trim() || null,
      });
      await this.moveTo(uow, actor, ticket, TicketStatus.RESOLVED);
      const label = input.type.replace(/_/g, ' ');
      await this.addMessageWithin(uow, actor, ticket, {
        body: `Resolved (${label}): ${summary}${ticket.resolutionNotes ? `\n${ticket.resolutionNotes}` : ''}`,
        internal: true,
      });
      return ticket;
    });
  }

  /**
   * The same change for up to 100 tickets, each in its own transaction: one refused
   * ticket (another tenant's, a transition not allowed) does not hold back the others,
   * and the answer says what became of each.
   */
  async bulkUpdate(actor: StaffPrincipal, ticketIds: string[], change: BulkChange): Promise<BulkResult[]> {
    if (!ticketIds.length || ticketIds.length > MAX_BULK_TICKETS)
      throw badInput(`Give 1-${MAX_BULK_TICKETS} tickets`, 'ticketIds');
    if (change.assigneeId === undefined && !change.status && !change.priority && !change.addTag) {
      throw badInput('Say what to change: assigneeId, status, priority or addTag', 'change');
    }
    const tag = change.addTag?.trim().toLowerCase();
    if (change.addTag !== undefined && change.addTag !== null && (!tag || tag.length > 50))
      throw badInput('A tag is 1-50 characters', 'addTag');
    const results: BulkResult[] = [];
    for (const ticketId of [...new Set(ticketIds)]) {
      try {
        await this.transactor.run(async (uow) => {
          if (!isUuid(ticketId)) throw notFound('Ticket', ticketId);
          if (change.assigneeId !== undefined) await this.assign(actor, ticketId, change.assigneeId, uow);
          if (change.priority) await this.changePriority(actor, ticketId, change.priority, uow);
          if (change.status) await this.changeStatus(actor, ticketId, change.status, uow);
          if (tag) {
            const ticket = await this.lockVisible(uow.manager, actor, ticketId);
            if (!ticket.tags.includes(tag)) {
              ticket.tags = [...ticket.tags, tag];
              ticket.updatedAt = this.clock.now();
              await uow.manager.save(ticket);
            }
          }
        });
        results.push({ ticketId, ok: true, errorCode: null, error: null });
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        results.push({ ticketId, ok: false, errorCode: error.code, error: error.message });
      }
    }
    return results;
  }

  /**
   * Closes resolved tickets whose customer did not write back within the tenant's
   * ticketAutoCloseDays, telling them; a reply after that opens a new conversation.
   * One ticket per transaction, claimed with SKIP LOCKED; returns how many closed.
   */
  /** Tenants with resolved tickets due to close. */
  async tenantsWithAutoCloseDue(): Promise<string[]> {
    const rows: Array<{ id: string }> = await this.dataSource.query(
      `SELECT tn.id FROM tenant tn
        WHERE tn."ticketAutoCloseDays" > 0
          AND EXISTS (SELECT 1 FROM ticket t WHERE t."tenantId" = tn.id AND t.status = 'resolved'
                         AND t."resolvedAt" <= $1::timestamptz - make_interval(days => tn."ticketAutoCloseDays"))`,
      [this.clock.now()],
    );
    return rows.map((row) => row.id);
  }

  async autoCloseDue(limit = 100, tenantId: string | null = null): Promise<number> {
    let closed = 0;
    while (closed < limit) {
      const done = await this.transactor.run(async (uow) => {
        const [due] = (await uow.manager.query(
          `SELECT t.id, t."tenantId", tn."ticketAutoCloseDays" AS days FROM ticket t JOIN tenant tn ON tn.id = t."tenantId"
            WHERE t.status = 'resolved' AND tn."ticketAutoCloseDays" > 0 AND ($2::uuid IS NULL OR t."tenantId" = $2)
              AND t."resolvedAt" <= $1::timestamptz - make_interval(days => tn."ticketAutoCloseDays")
            ORDER BY t."resolvedAt" LIMIT 1 FOR UPDATE OF t SKIP LOCKED`,
          [this.clock.now(), tenantId],
        )) as Array<{ id: string; tenantId: string; days: number }>;
        if (!due) return false;
        const actor = await automationActor(uow.manager, due.tenantId, 'Automation: auto-close');
        const ticket = await this.lockVisible(uow.manager, actor, due.id);
        await this.moveTo(uow, actor, ticket, TicketStatus.CLOSED);
        const requester = await uow.manager.findOneByOrFail(Contact, { id: ticket.requesterId });
        const channel = requester.phone ? Channel.WHATSAPP : requester.email ? Channel.EMAIL : null;
        if (channel) {
          await this.deliveries.enqueue(
            ticket.tenantId,
            {
              channel,
              contactId: requester.id,
              subject: `${ticket.reference} closed`,
              text: `Hi ${requester.name}, we closed ticket ${ticket.reference} (${ticket.subject}) after ${due.days} days without news from you. Write to us any time if you need help again.`,
              notificationType: 'ticket_auto_closed',
              idempotencyKey: `ticket:${ticket.id}:auto-closed`,
              ticketId: ticket.id,
            },
            uow,
          );
        }
        return true;
      });
      if (!done) break;
      closed++;
    }
    return closed;
  }

  /** A ticket the actor may see: same tenant, and for customers only their own. */
  async get(actor: Principal, id: string): Promise<Ticket> {
    return this.findVisible(this.dataSource.manager, actor, id);
  }

  /**
   * A page of visible tickets. `shape` (from the query's selection) narrows what is read:
   * `ticket` the fields asked of each ticket, `requester` / `assignee` those asked of the
   * people, who then come in the page's own statement (same tenant) rather than through
   * loaders; omitted, everything of the ticket and neither person.
   */
  list(
    actor: Principal,
    filter: TicketFilter,
    order: TicketOrder,
    page: PageRequest,
    shape: TicketListShape = {},
  ): Promise<Page<Ticket>> {
    return this.pages.page(
      actor,
      filter,
      { column: order.field, cast: ORDER_CAST[order.field], kind: ORDER_KIND[order.field], direction: order.direction },
      page,
      shape,
    );
  }

  /**
   * One page of each visible ticket's thread (oldest message first; `last` reads from the
   * newest end), in one statement for all the tickets: each thread is ranked in the read
   * direction and cut at the page size plus one. Customers never see internal notes.
   */
  async threadPages(actor: Principal, ticketIds: readonly string[], page: PageRequest): Promise<Map<string, ThreadPage>> {
    const plan = planKeyset(page, 'createdAt', 'timestamp', 'ASC');
    const ranked = this.visibleMessages(actor, ticketIds)
      .select('m.id', 'id')
      .addSelect(
        `row_number() OVER (PARTITION BY m."ticketId" ORDER BY m."createdAt" ${plan.direction}, m.id ${plan.direction})`,
        'rank',
      );
    if (plan.cursor) {
      ranked.andWhere(`(m."createdAt", m.id) ${plan.comparison} (CAST(:cursorValue AS timestamptz), CAST(:cursorId AS uuid))`, {
        cursorValue: plan.cursor.value,
        cursorId: plan.cursor.id,
      });
    }
    const messages = await this.dataSource
      .getRepository(TicketMessage)
      .createQueryBuilder('m')
      .where(`m.id IN (SELECT ranked.id FROM (${ranked.getQuery()}) ranked WHERE ranked.rank <= :pageLimit)`)
      .setParameters({ ...ranked.getParameters(), pageLimit: plan.size + 1 })
      .orderBy('m."createdAt"', plan.direction)
      .addOrderBy('m.id', plan.direction)
      .getMany();
    const byTicket = new Map<string, TicketMessage[]>(ticketIds.map((id) => [id, []]));
    for (const message of messages) byTicket.get(message.ticketId)?.push(message);
    return new Map(
      [...byTicket].map(([ticketId, rows]) => [
        ticketId,
        finishKeyset(rows, plan, (message) => encodeCursor('createdAt', message.createdAt.toISOString(), message.id)),
      ]),
    );
  }

  /** The latest delivery carrying each of these messages to the customer, for messages the actor can see. */
  async messageDeliveries(actor: Principal, messageIds: readonly string[]): Promise<Map<string, Delivery>> {
    const rows = await this.dataSource
      .getRepository(Delivery)
      .createQueryBuilder('d')
      .distinctOn(['d."ticketMessageId"'])
      .where('d."tenantId" = :tenantId AND d."ticketMessageId" IN (:...messageIds)', { tenantId: actor.tenantId, messageIds })
      .andWhere(actor.kind === 'customer' ? 'd."contactId" = :contactId' : 'TRUE', {
        contactId: actor.kind === 'customer' ? actor.contactId : null,
      })
      .orderBy('d."ticketMessageId"')
      .addOrderBy('d."createdAt"', 'DESC')
      .getMany();
    return new Map(rows.map((row) => [row.ticketMessageId as string, row]));
  }

  /** How many messages of each thread the actor can see. */
  async messageCounts(actor: Principal, ticketIds: readonly string[]): Promise<Map<string, number>> {
    const rows: Array<{ ticketId: string; count: string }> = await this.visibleMessages(actor, ticketIds)
      .select('m."ticketId"', 'ticketId')
      .addSelect('count(*)', 'count')
      .groupBy('m."ticketId"')
      .getRawMany();
    return new Map(rows.map((row) => [row.ticketId, Number(row.count)]));
  }

  private visibleMessages(actor: Principal, ticketIds: readonly string[]): SelectQueryBuilder<TicketMessage> {
    const query = this.dataSource
      .getRepository(TicketMessage)
      .createQueryBuilder('m')
      .where('m."tenantId" = :tenantId AND m."ticketId" IN (:...ticketIds)', { tenantId: actor.tenantId, ticketIds });
    if (actor.kind === 'customer') {
      query
        .andWhere('NOT m.internal')
        .andWhere('EXISTS (SELECT 1 FROM ticket t WHERE t.id = m."ticketId" AND t."requesterId" = :contactId)', {
          contactId: actor.contactId,
        });
    }
    return query;
  }

  async create(actor: StaffPrincipal, input: CreateTicketInput, within?: UnitOfWork): Promise<Ticket> {
    return this.transactor.run(async (uow) => {
      const requester = await uow.manager.findOneBy(Contact, { id: input.requesterId, tenantId: actor.tenantId });
      if (!requester) throw notFound('Contact', input.requesterId);
      const ticket = await this.insertTicket(
        uow,
        actor.tenantId,
        {
          subject: input.subject,
          description: input.description ?? '',
          category: input.category,
          priority: input.priority,
          requesterId: requester.id,
        },
        actor.userId,
      );
      await this.files.attach(uow.manager, actor, input.fileIds ?? [], { type: FileSubject.TICKET, id: ticket.id });
      if (input.assigneeId) await this.assignWithin(uow, actor, ticket, input.assigneeId);
      return ticket;
    }, within);
  }

  async update(actor: StaffPrincipal, id: string, input: UpdateTicketInput): Promise<Ticket> {
    return this.transactor.run(async (uow) => {
      const ticket = await this.lockVisible(uow.manager, actor, id);
      const changes: Record<string, { from: unknown; to: unknown }> = {};
      for (const field of ['subject', 'description', 'category'] as const) {
        const value = input[field];
        if (value !== undefined && value !== null && value !== ticket[field]) {
          changes[field] = { from: ticket[field], to: value };
          Object.assign(ticket, { [field]: value });
        }
      }
      if (Object.keys(changes).length === 0) return ticket;
      this.assertOpenForChanges(ticket);
      ticket.updatedAt = this.clock.now();
      await uow.manager.save(ticket);
      await this.recordChange(uow, actor, ticket, 'ticket.updated', TicketChangeKind.UPDATED, { changes });
      return ticket;
    });
  }

  /** Assigns to `userId`, or without one to the least-loaded available agent. */
  async assign(actor: StaffPrincipal, ticketId: string, userId?: string | null, within?: UnitOfWork): Promise<Ticket> {
    return this.transactor.run(async (uow) => {
      const ticket = await this.lockVisible(uow.manager, actor, ticketId);
      await this.assignWithin(uow, actor, ticket, userId ?? undefined);
      return ticket;
    }, within);
  }

  async changeStatus(actor: StaffPrincipal, ticketId: string, status: TicketStatus, within?: UnitOfWork): Promise<Ticket> {
    return this.transactor.run(async (uow) => {
      const ticket = await this.lockVisible(uow.manager, actor, ticketId);
      if (status === TicketStatus.ASSIGNED && !ticket.assigneeId) {
        throw badInput('Assign the ticket to someone (assignTicket) to move it to assigned', 'status');
      }
      await this.moveTo(uow, actor, ticket, status);
      return ticket;
    }, within);
  }

  async changePriority(actor: StaffPrincipal, ticketId: string, priority: TicketPriority, within?: UnitOfWork): Promise<Ticket> {
    return this.transactor.run(async (uow) => {
      const ticket = await this.lockVisible(uow.manager, actor, ticketId);
      if (ticket.priority === priority) return ticket;
      this.assertOpenForChanges(ticket);
      const previous = ticket.priority;
      // Targets are measured from when the ticket was opened, as if it had had this priority from the start.
      const now = this.clock.now();
      const due = await this.sla.dueTimes(uow.manager, ticket.tenantId, priority, ticket.createdAt);
      Object.assign(ticket, { priority, ...due, updatedAt: now });
      // A breach mark stands only while its due time is past.
      if (due.firstResponseDueAt > now) ticket.firstResponseBreachedAt = null;
      if (due.resolutionDueAt > now) ticket.resolutionBreachedAt = null;
      await uow.manager.save(ticket);
      await this.recordChange(uow, actor, ticket, 'ticket.priority_changed', TicketChangeKind.PRIORITY_CHANGED, {
        from: previous,
        to: priority,
      });
      return ticket;
    }, within);
  }

  async addMessage(actor: Principal, ticketId: string, input: AddMessageInput, within?: UnitOfWork): Promise<TicketMessage> {
    return this.transactor.run(async (uow) => {
      const ticket = await this.lockVisible(uow.manager, actor, ticketId);
      return this.addMessageWithin(uow, actor, ticket, input);
    }, within);
  }

  async rate(actor: Principal, ticketId: string, rating: number, comment?: string | null): Promise<Ticket> {
    const customer = requireCustomer(actor);
    return this.transactor.run(async (uow) => {
      const ticket = await this.lockVisible(uow.manager, customer, ticketId);
      if (ticket.status !== TicketStatus.RESOLVED && ticket.status !== TicketStatus.CLOSED) {
        throw new DomainError(ErrorCode.InvalidTransition, 'A ticket can be rated once it is resolved or closed', {
          status: ticket.status,
        });
      }
      if (ticket.rating !== null) throw conflict('This ticket has already been rated');
      Object.assign(ticket, { rating, ratingComment: comment ?? null, ratedAt: this.clock.now(), updatedAt: this.clock.now() });
      await uow.manager.save(ticket);
      await this.recordChange(uow, customer, ticket, 'ticket.rated', TicketChangeKind.RATED, { rating });
      return ticket;
    });
  }

  /**
   * A customer writes to support: continues `ticketId` when given, otherwise opens a
   * new ticket that is auto-assigned to the least-loaded available agent.
   */
  async startSupportConversation(
    actor: Principal,
    message: string,
    ticketId?: string | null,
    externalId?: string,
    choice: { category?: TicketCategory | null; priority?: TicketPriority | null } = {},
    received: readonly ReceivedFile[] = [],
  ): Promise<{ ticket: Ticket; message: TicketMessage }> {
    const customer = requireCustomer(actor);
    if (ticketId && (choice.category || choice.priority)) {
      throw badInput(
        'Category and priority are chosen when a ticket is opened, not on a reply',
        choice.category ? 'category' : 'priority',
      );
    }
    return this.transactor.run(async (uow) => {
      if (ticketId) {
        const ticket = await this.lockVisible(uow.manager, customer, ticketId);
        if (ticket.status === TicketStatus.CLOSED) {
          throw conflict('This conversation is closed; start a new one without ticketId');
        }
        return { ticket, message: await this.addMessageWithin(uow, customer, ticket, { body: message, externalId, received }) };
      }
      const allowed = await uow.manager.findOneByOrFail(Tenant, { id: customer.tenantId });
      const category = allowedChoice(choice.category, allowed.customerCategories, TicketCategory.OTHER, 'category');
      const priority = allowedChoice(choice.priority, allowed.customerPriorities, TicketPriority.MEDIUM, 'priority');
      const ticket = await this.insertTicket(
        uow,
        customer.tenantId,
        { subject: summarize(message), description: message, category, priority, requesterId: customer.contactId },
        null,
      );
      const posted = await this.addMessageWithin(uow, customer, ticket, { body: message, externalId, received });
      const agentId = await this.leastLoadedAgent(uow.manager, customer.tenantId);
      if (agentId) await this.assignWithin(uow, customer, ticket, agentId);
      return { ticket, message: posted };
    });
  }

  /**
   * A message a contact sent through a channel (e.g. WhatsApp): it continues the
   * contact's latest ticket that is not closed, or opens a new, auto-assigned one.
   * Redelivered with the same external id, it changes nothing.
   */
  async receiveInbound(
    contact: Contact,
    text: string,
    externalId: string,
    received: readonly ReceivedFile[] = [],
  ): Promise<TicketMessage> {
    const existing = await this.inboundMessage(contact.tenantId, externalId);
    if (existing) return existing;
    const customer: Principal = {
      kind: 'customer',
      tenantId: contact.tenantId,
      contactId: contact.id,
      role: Role.CUSTOMER,
      name: contact.name,
    };
    const open = await this.visibleTickets(customer)
      .andWhere('t.status <> :closed', { closed: TicketStatus.CLOSED })
      .orderBy('t."createdAt"', 'DESC')
      .getOne();
    const score = /^\s*([1-5])\s*$/.exec(text);
    if (score && open && open.status === TicketStatus.RESOLVED && open.rating === null && (await this.surveySent(open.id))) {
      return this.rateByReply(customer, open.id, Number(score[1]), text, externalId);
    }
    return (await this.startSupportConversation(customer, text, open?.id, externalId, {}, received)).message;
  }

  /** The thread message a provider's inbound message became, if it arrived before (providers deliver webhooks again). */
  inboundMessage(tenantId: string, externalId: string): Promise<TicketMessage | null> {
    return this.dataSource.getRepository(TicketMessage).findOneBy({ tenantId, externalId });
  }

  /** Whether the satisfaction survey went out for this ticket (the built-in rule sends it on resolution). */
  private async surveySent(ticketId: string): Promise<boolean> {
    const rows = (await this.dataSource.query(
      `SELECT 1 FROM delivery WHERE "ticketId" = $1 AND "notificationType" = 'satisfaction_survey' LIMIT 1`,
      [ticketId],
    )) as unknown[];
    return rows.length > 0;
  }

  /** A reply of 1-5 to the survey rates the resolved ticket; it stays in the thread and does not reopen it. */
  private rateByReply(
    customer: Principal,
    ticketId: string,
    rating: number,
    text: string,
    externalId: string,
  ): Promise<TicketMessage> {
    return this.transactor.run(async (uow) => {
      const ticket = await this.lockVisible(uow.manager, customer, ticketId);
      const now = this.clock.now();
      Object.assign(ticket, { rating, ratingComment: null, ratedAt: now, updatedAt: now });
      await uow.manager.save(ticket);
      await this.recordChange(uow, customer, ticket, 'ticket.rated', TicketChangeKind.RATED, { rating, via: 'survey_reply' });
      return this.addMessageWithin(uow, customer, ticket, { body: text, externalId }, { reopen: false });
    });
  }

  // ---- inside a transaction ----

  /** Whether the customer wrote on this ticket through WhatsApp (inbound messages carry the provider's id). */
  /**
   * How a reply goes back on WhatsApp: as free text, or as the chosen template (returned). Free
   * text to a customer whose service window has closed, with no gateway to carry it, is
   * refused (OUTSIDE_SERVICE_WINDOW) before anything is written; a template must be a WhatsApp
   * template of the tenant mapped to a Meta template.
   */
  private async replyForm(
    manager: EntityManager,
    ticket: Ticket,
    viaChannel: 'whatsapp' | null,
    chosen: string | null,
  ): Promise<string | null> {
    if (chosen !== null) {
      if (!viaChannel)
        throw badInput('Only a public staff reply on a WhatsApp conversation goes as a WhatsApp template', 'whatsappTemplate');
      const found = (await manager.query(
        `SELECT body, subject FROM message_template
          WHERE "tenantId" = $1 AND channel = 'whatsapp' AND "metaTemplateName" IS NOT NULL AND (name = $2 OR name LIKE $3)`,
        [ticket.tenantId, chosen, `${chosen.replace(/[\\%_]/g, (c) => '\\' + c)}.%`],
      )) as Array<{ body: string; subject: string | null }>;
      if (!found.length)
        throw badInput(`No WhatsApp template "${chosen}" mapped to an approved Meta template`, 'whatsappTemplate');
      // A reply's template is filled from the ticket, its requester and the tenant: nothing else is known.
      const unknown = found
        .flatMap((template) => templateVariables(`${template.body} ${template.subject ?? ''}`))
        .filter((name) => !/^(contact|ticket|tenant|event|recipient)(\.|$)/.test(name));
      if (unknown.length)
        throw badInput(
          `The template "${chosen}" needs values a reply cannot give: ${[...new Set(unknown)].join(', ')}`,
          'whatsappTemplate',
        );
      return chosen;
    }
    if (!viaChannel) return null;
    const requester = await manager.findOneBy(Contact, { id: ticket.requesterId, tenantId: ticket.tenantId });
    if (!requester?.phone || (await this.windows.allowsFreeText(ticket.tenantId, requester.phone))) return null;
    const closesAt = (await this.windows.closingTimes(ticket.tenantId, [requester.phone])).get(requester.phone) ?? null;
    throw new DomainError(
      ErrorCode.OutsideServiceWindow,
      `The customer's 24-hour WhatsApp window ${closesAt ? `closed at ${closesAt.toISOString()}` : 'is not open (they have not written on WhatsApp)'}: only an approved template can reach them now; choose one (whatsappTemplate) or write an internal note`,
      { closedAt: closesAt?.toISOString() ?? null },
    );
  }

  /** When each requester's WhatsApp service window closes (null: never opened), for the tickets' field. */
  whatsappWindows(tenantId: string, phones: readonly string[]): Promise<Map<string, Date | null>> {
    return this.windows.closingTimes(tenantId, phones);
  }

  private async cameInOnWhatsApp(manager: EntityManager, ticketId: string): Promise<boolean> {
    const rows = (await manager.query(
      `SELECT 1 FROM ticket_message WHERE "ticketId" = $1 AND "authorKind" = 'customer' AND "externalId" IS NOT NULL LIMIT 1`,
      [ticketId],
    )) as unknown[];
    return rows.length > 0;
  }

  private async insertTicket(
    uow: UnitOfWork,
    tenantId: string,
    fields: Pick<Ticket, 'subject' | 'description' | 'category' | 'priority' | 'requesterId'>,
    actorId: string | null,
  ): Promise<Ticket> {
    const now = this.clock.now();
    const number = await this.nextTicketNumber(uow.manager, tenantId);
    const ticket = uow.manager.create(Ticket, {
      ...fields,
      tenantId,
      number,
      status: TicketStatus.OPEN,
      assigneeId: null,
      ...(await this.sla.dueTimes(uow.manager, tenantId, fields.priority, now)),
      firstRespondedAt: null,
      resolvedAt: null,
      closedAt: null,
      rating: null,
      ratingComment: null,
      ratedAt: null,
      createdAt: now,
      updatedAt: now,
    });
    await uow.manager.save(ticket);
    await uow.record({
      tenantId,
      type: 'ticket.created',
      subjectType: 'ticket',
      subjectId: ticket.id,
      actorId,
      payload: { number, priority: ticket.priority, category: ticket.category, requesterId: ticket.requesterId },
    });
    const snapshot = { ...ticket };
    uow.afterCommit(() =>
      this.live.publish('ticketChanged', tenantId, {
        kind: TicketChangeKind.CREATED,
        ticket: Object.assign(new Ticket(), snapshot),
        previousStatus: null,
        previousAssigneeId: null,
      }),
    );
    return ticket;
  }

  /** Row lock on the tenant serialises numbering, so concurrent creations never share a number. */
  private async nextTicketNumber(manager: EntityManager, tenantId: string): Promise<number> {
    const [row] = returningRows<{ ticketSequence: number }>(
      await manager.query('UPDATE tenant SET "ticketSequence" = "ticketSequence" + 1 WHERE id = $1 RETURNING "ticketSequence"', [
        tenantId,
      ]),
    );
    if (!row) throw notFound('Tenant', tenantId);
    return row.ticketSequence;
  }

  private async assignWithin(uow: UnitOfWork, actor: Principal, ticket: Ticket, userId?: string): Promise<void> {
    this.assertOpenForChanges(ticket);
    const assigneeId = userId ?? (await this.leastLoadedAgent(uow.manager, ticket.tenantId));
    if (!assigneeId) {
      throw new DomainError(ErrorCode.Conflict, 'No agent is available with room for another ticket; assign someone by id');
    }
    if (userId) {
      const user = await uow.manager.findOneBy(User, { id: userId, tenantId: ticket.tenantId });
      if (!user) throw notFound('User', userId);
      if (!user.active) throw badInput(`${user.name} is deactivated and cannot take tickets`, 'userId');
    }
    if (ticket.assigneeId === assigneeId) return;
    const previousAssigneeId = ticket.assigneeId;
    const previousStatus = ticket.status;
    const now = this.clock.now();
    ticket.assigneeId = assigneeId;
    if (ticket.status === TicketStatus.OPEN) ticket.status = TicketStatus.ASSIGNED;
    ticket.updatedAt = now;
    await uow.manager.save(ticket);
    await uow.manager.update(User, { id: assigneeId }, { lastAssignedAt: now });
    await uow.record({
      tenantId: ticket.tenantId,
      type: 'ticket.assigned',
      subjectType: 'ticket',
      subjectId: ticket.id,
      actorId: actorId(actor),
      payload: { assigneeId, previousAssigneeId, automatic: !userId },
    });
    this.publishChange(uow, ticket, TicketChangeKind.ASSIGNED, previousStatus, previousAssigneeId);
  }

  /**
   * The available agent with the fewest active tickets and room under their limit;
   * ties go to whoever has waited longest since their last assignment. An advisory
   * lock per tenant keeps two concurrent picks from overfilling the same agent.
   */
  private async leastLoadedAgent(manager: EntityManager, tenantId: string): Promise<string | undefined> {
    await manager.query(`SELECT pg_advisory_xact_lock(hashtext('ticket-assignment:' || $1))`, [tenantId]);
    const rows: Array<{ id: string }> = await manager.query(
      `SELECT u.id
         FROM "user" u
         LEFT JOIN ticket t ON t."assigneeId" = u.id AND t.status = ANY($3::ticket_status[])
        WHERE u."tenantId" = $1 AND u.role = $2 AND u.active AND u.availability = $4
        GROUP BY u.id
       HAVING count(t.id) < u."maxOpenTickets"
        ORDER BY count(t.id) ASC, u."lastAssignedAt" ASC NULLS FIRST, u."createdAt" ASC, u.id ASC
        LIMIT 1`,
      [tenantId, Role.AGENT, ACTIVE_STATUSES, Availability.AVAILABLE],
    );
    return rows[0]?.id;
  }

  private async moveTo(uow: UnitOfWork, actor: Principal, ticket: Ticket, status: TicketStatus): Promise<void> {
    assertTransition(ticket.status, status);
    const previousStatus = ticket.status;
    const now = this.clock.now();
    ticket.status = status;
    ticket.updatedAt = now;
    if (status === TicketStatus.RESOLVED) ticket.resolvedAt = now;
    if (status === TicketStatus.CLOSED) ticket.closedAt = now;
    if (previousStatus === TicketStatus.RESOLVED && status === TicketStatus.IN_PROGRESS) ticket.resolvedAt = null;
    await uow.manager.save(ticket);
    await uow.record({
      tenantId: ticket.tenantId,
      type: 'ticket.status_changed',
      subjectType: 'ticket',
      subjectId: ticket.id,
      actorId: actorId(actor),
      payload: { from: previousStatus, to: status, reopened: previousStatus === TicketStatus.RESOLVED },
    });
    this.publishChange(uow, ticket, TicketChangeKind.STATUS_CHANGED, previousStatus, ticket.assigneeId);
  }

  private async addMessageWithin(
    uow: UnitOfWork,
    actor: Principal,
    ticket: Ticket,
    input: AddMessageInput,
    options: { reopen?: boolean } = {},
  ): Promise<TicketMessage> {
    const internal = input.internal ?? false;
    if (actor.kind === 'customer' && internal) throw forbidden('Customers cannot write internal notes');
    if (ticket.status === TicketStatus.CLOSED) {
      throw new DomainError(ErrorCode.InvalidTransition, 'A closed ticket takes no new messages', { status: ticket.status });
    }
    // A public staff reply on a conversation that came in on WhatsApp goes back there (the built-in rule does it).
    const viaChannel =
      actor.kind === 'staff' && !internal && (await this.cameInOnWhatsApp(uow.manager, ticket.id)) ? 'whatsapp' : null;
    const whatsappTemplate = await this.replyForm(uow.manager, ticket, viaChannel, input.whatsappTemplate ?? null);
    const now = this.clock.now();
    const messageId = randomUUID();
    const files = await this.files.attach(uow.manager, actor, input.fileIds ?? [], {
      type: FileSubject.TICKET_MESSAGE,
      id: messageId,
    });
    for (const file of input.received ?? []) {
      const kept = await this.files.keep(
        uow.manager,
        ticket.tenantId,
        { ...file, contactId: actor.kind === 'customer' ? actor.contactId : null },
        { type: FileSubject.TICKET_MESSAGE, id: messageId },
      );
      if (kept) files.push(kept);
    }
    const message = uow.manager.create(TicketMessage, {
      id: messageId,
      tenantId: ticket.tenantId,
      ticketId: ticket.id,
      authorKind: actor.kind === 'staff' ? MessageAuthorKind.STAFF : MessageAuthorKind.CUSTOMER,
      authorUserId: actor.kind === 'staff' ? actor.userId : null,
      authorContactId: actor.kind === 'customer' ? actor.contactId : null,
      authorName: actor.name,
      body: input.body,
      externalId: input.externalId ?? null,
      internal,
      attachments: [
        ...(input.attachments ?? []).map((a) => ({
          url: a.url,
          filename: a.filename,
          contentType: a.contentType,
          size: a.size,
        })),
        ...files,
      ],
      createdAt: now,
    });
    await uow.manager.save(message);
    await uow.record({
      tenantId: ticket.tenantId,
      type: 'ticket.message_added',
      subjectType: 'ticket',
      subjectId: ticket.id,
      actorId: actorId(actor),
      payload: {
        messageId: message.id,
        internal,
        authorKind: message.authorKind,
        body: message.body.slice(0, 4000),
        viaChannel,
        ...(whatsappTemplate ? { whatsappTemplate } : {}),
        ...(files.length
          ? {
              files: files.map((file) => ({
                fileId: file.fileId,
                filename: file.filename,
                contentType: file.contentType,
                size: file.size,
              })),
            }
          : {}),
      },
    });
    const published = Object.assign(new TicketMessage(), message);
    uow.afterCommit(() => this.live.publish('ticketMessageAdded', ticket.id, published));

    if (actor.kind === 'staff' && !internal && ticket.firstRespondedAt === null) {
      ticket.firstRespondedAt = now;
      ticket.updatedAt = now;
      await uow.manager.save(ticket);
    }
    // A customer's answer puts a waiting or resolved ticket back in front of the agent.
    if (
      actor.kind === 'customer' &&
      options.reopen !== false &&
      (ticket.status === TicketStatus.WAITING_ON_CUSTOMER || ticket.status === TicketStatus.RESOLVED)
    ) {
      await this.moveTo(uow, actor, ticket, TicketStatus.IN_PROGRESS);
    }
    return message;
  }

  private publishChange(
    uow: UnitOfWork,
    ticket: Ticket,
    kind: TicketChangeKind,
    previousStatus: TicketStatus | null,
    previousAssigneeId: string | null,
  ): void {
    const snapshot = Object.assign(new Ticket(), ticket);
    uow.afterCommit(() =>
      this.live.publish('ticketChanged', ticket.tenantId, { kind, ticket: snapshot, previousStatus, previousAssigneeId }),
    );
  }

  private async recordChange(
    uow: UnitOfWork,
    actor: Principal,
    ticket: Ticket,
    type: string,
    kind: TicketChangeKind,
    payload: Record<string, unknown>,
  ): Promise<void> {
    await uow.record({
      tenantId: ticket.tenantId,
      type,
      subjectType: 'ticket',
      subjectId: ticket.id,
      actorId: actorId(actor),
      payload,
    });
    this.publishChange(uow, ticket, kind, ticket.status, ticket.assigneeId);
  }

  private assertOpenForChanges(ticket: Ticket): void {
    if (ticket.status === TicketStatus.CLOSED) {
      throw new DomainError(ErrorCode.InvalidTransition, 'A closed ticket cannot be changed', { status: ticket.status });
    }
  }

  private visibleTickets(actor: Principal, manager: EntityManager = this.dataSource.manager): SelectQueryBuilder<Ticket> {
    const query = manager
      .getRepository(Ticket)
      .createQueryBuilder('t')
      .where('t."tenantId" = :tenantId', { tenantId: actor.tenantId });
    if (actor.kind === 'customer') query.andWhere('t."requesterId" = :contactId', { contactId: actor.contactId });
    return query;
  }

  /** Tickets the actor may see, by id (for the loaders of list fields). */
  byIds(actor: Principal, ids: readonly string[]): Promise<Ticket[]> {
    return this.visibleTickets(actor, this.dataSource.manager).andWhere('t.id IN (:...ids)', { ids }).getMany();
  }

  private async findVisible(manager: EntityManager, actor: Principal, id: string): Promise<Ticket> {
    const ticket = await this.visibleTickets(actor, manager).andWhere('t.id = :id', { id }).getOne();
    if (!ticket) throw notFound('Ticket', id);
    return ticket;
  }

  private async lockVisible(manager: EntityManager, actor: Principal, id: string): Promise<Ticket> {
    const ticket = await this.visibleTickets(actor, manager).andWhere('t.id = :id', { id }).setLock('pessimistic_write').getOne();
    if (!ticket) throw notFound('Ticket', id);
    return ticket;
  }
}

function actorId(actor: Principal): string {
  return actor.kind === 'staff' ? actor.userId : actor.contactId;
}

function summarize(message: string): string {
  const firstLine = message.trim().split('\n')[0] ?? '';
  return firstLine.length > 80 ? firstLine.slice(0, 77) + '...' : firstLine || 'Support conversation';
}
