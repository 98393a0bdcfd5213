import { createHash, randomBytes } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { BusinessRecord } from '../../entities/business-record.entity';
import { Channel } from '../../entities/channel';
import {
  CompletionContactAttempt,
  CompletionRequest,
  CompletionStatus,
  type ContactAttemptChannel,
  ContactAttemptOutcome,
  type ResponseChannel,
  Review,
} from '../../entities/completion-request.entity';
import { Contact } from '../../entities/contact.entity';
import { TicketCategory, TicketPriority, TicketStatus } from '../../entities/ticket.entity';
import { Role, User } from '../../entities/user.entity';
import type { DeliveryService } from '../delivery/delivery.service';
import type { CustomerPrincipal, Principal, StaffPrincipal } from '../directory/principal';
import type { Clock } from '../platform/clock';
import { DomainError, ErrorCode, badInput, conflict, forbidden, notFound } from '../platform/errors';
import { isUuid } from '../platform/ids';
import { type Page, type PageRequest, newestFirstPage } from '../platform/pagination';
import type { Transactor, UnitOfWork } from '../platform/unit-of-work';
import type { LiveEvents } from '../platform/live-events';
import type { FileService } from '../files/file.service';
import type { Attachment } from '../../entities/ticket-message.entity';
import { FileSubject } from '../../entities/stored-file.entity';
import type { TicketService } from '../tickets/ticket.service';

export interface CompletionSettings {
  /** Where the API is reached from outside, for the confirmation link. */
  publicUrl: string;
  deadlineHours: number;
  reminderHours: number;
  autoCompleteDays: number;
  autoCompleteAttempts: number;
}

export interface CompletionFilter {
  statuses?: CompletionStatus[] | null;
  technicianId?: string | null;
  contactId?: string | null;
  /** Only pending requests past their deadline. */
  overdue?: boolean | null;
}

export interface CompletionStats {
  requested: number;
  confirmed: number;
  disputed: number;
  autoCompleted: number;
  unreachable: number;
  cancelled: number;
  pending: number;
  confirmationRatePercent: number | null;
  meanHoursToConfirm: number | null;
  perTechnician: Array<{ technicianId: string; name: string; requested: number; confirmed: number; disputed: number }>;
}

/** Words that confirm or dispute, in the languages the customers write in. */
const CONFIRM = /^(ya|yes|y|ok|oke|sudah|confirm)$/i;
const DISPUTE = /^(tidak|no|n|belum|dispute)$/i;

const tokenHash = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * Job-completion requests: a technician asks the customer to confirm a finished job;
 * the customer answers on WhatsApp, through a single-use link or in the app; unanswered
 * requests are reminded, escalated to support at the deadline, and auto-completed after
 * a waiting period with enough failed contact attempts. Every outcome is a DomainEvent.
 */
export class CompletionService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly transactor: Transactor,
    private readonly deliveries: DeliveryService,
    private readonly tickets: TicketService,
    private readonly live: LiveEvents,
    private readonly clock: Clock,
    private readonly settings: CompletionSettings,
    private readonly files: FileService,
  ) {}

  async request(
    actor: StaffPrincipal,
    input: {
      jobId: string;
      note?: string | null;
      photos?: string[] | null;
      /** Photos the technician uploaded (createUpload), attached to the request. */
      photoFileIds?: readonly string[] | null;
      deadlineHours?: number | null;
    },
  ): Promise<CompletionRequest> {
    const photos = input.photos ?? [];
    if (photos.length > 10 || photos.some((url) => !/^https?:\/\/\S{1,490}$/.test(url))) {
      throw badInput('Give at most 10 photo URLs (http or https)', 'photos');
    }
    const hours = input.deadlineHours ?? this.settings.deadlineHours;
    if (!Number.isInteger(hours) || hours < 1 || hours > 24 * 30)
      throw badInput('The deadline is 1-720 hours away', 'deadlineHours');
    if (input.note && input.note.length > 2000) throw badInput('The note is at most 2,000 characters', 'note', 'TOO_LONG');
    const token = randomBytes(24).toString('base64url');
    return this.transactor.run(async (uow) => {
      const { manager } = uow;
      const job = isUuid(input.jobId)
        ? await manager.findOneBy(BusinessRecord, { id: input.jobId, tenantId: actor.tenantId })
        : null;
      if (!job || job.kind !== 'service_job') throw notFound('Service job', input.jobId);
      if (!job.contactId) throw badInput('The job has no customer to ask', 'jobId');
      const technicianId = actor.role === Role.TECHNICIAN ? actor.userId : (job.ownerId ?? actor.userId);
      if (actor.role === Role.TECHNICIAN && job.ownerId && job.ownerId !== actor.userId) {
        throw forbidden('Only the technician who owns the job, or a lead, can ask the customer about it');
      }
      const now = this.clock.now();
      const ticketId =
        typeof job.attributes.ticketId === 'string' && isUuid(job.attributes.ticketId) ? job.attributes.ticketId : null;
      const inserted = (await manager.query(
        `INSERT INTO completion_request ("tenantId", "jobId", "ticketId", "technicianId", "contactId", note, photos, status,
                                         "deadlineAt", "nextCheckAt", "linkTokenHash", "createdById", "createdAt", "updatedAt")
         VALUES ($1, $2, (SELECT id FROM ticket WHERE id = $3 AND "tenantId" = $1), $4, $5, $6, $7, 'pending', $8, $9, $10, $11, $12, $12)
         ON CONFLICT ("tenantId", "jobId") WHERE status = 'pending' DO NOTHING
         RETURNING id`,
        [
          actor.tenantId,
          job.id,
          ticketId,
          technicianId,
          job.contactId,
          input.note?.trim() || null,
          photos,
          new Date(now.getTime() + hours * 3_600_000),
          new Date(now.getTime() + Math.min(this.settings.reminderHours, hours) * 3_600_000),
          tokenHash(token),
          actor.userId,
          now,
        ],
      )) as Array<{ id: string }>;
      if (!inserted.length) throw conflict('A completion request for this job is already waiting for the customer');
      const request = await manager.findOneByOrFail(CompletionRequest, { id: inserted[0].id });
      const [photo] = await this.files.attach(
        manager,
        actor,
        input.photoFileIds ?? [],
        { type: FileSubject.COMPLETION_REQUEST, id: request.id },
        'photoFileIds',
      );
      const contact = await manager.findOneByOrFail(Contact, { id: job.contactId });
      const technician = await manager.findOneByOrFail(User, { id: technicianId });
      // The first photo of the work goes with the question (above the YA / TIDAK buttons on WhatsApp).
      await this.message(uow, request, 'request', this.requestText(contact, technician, job, request, token), photo ?? null);
      await this.record(uow, request, 'completion.requested', actor.userId, { deadlineAt: request.deadlineAt.toISOString() });
      return request;
    });
  }

  /** The customer's answer in the app (customer token). */
  respond(actor: Principal, id: string, confirmed: boolean, comment: string | null | undefined): Promise<CompletionRequest> {
    if (actor.kind !== 'customer') throw forbidden('Only the customer answers a completion request');
    return this.answer(actor.tenantId, { id, contactId: actor.contactId }, confirmed, comment ?? null, 'app');
  }

  /** The customer's answer through the single-use link of the message. */
  async respondByLink(token: string, confirmed: boolean, comment: string | null): Promise<CompletionRequest> {
    const request = await this.byLink(token);
    return this.answer(request.tenantId, { id: request.id, contactId: request.contactId }, confirmed, comment, 'link');
  }

  /** The request a link names, for its page; NOT_FOUND for a forged or unknown token. */
  async byLink(token: string): Promise<CompletionRequest & { jobTitle: string | null; customerName: string }> {
    const request = /^[\w-]{20,64}$/.test(token)
      ? await this.dataSource.getRepository(CompletionRequest).findOneBy({ linkTokenHash: tokenHash(token) })
      : null;
    if (!request) throw notFound('Confirmation link', 'given');
    const job = await this.dataSource.getRepository(BusinessRecord).findOneBy({ id: request.jobId });
    const contact = await this.dataSource.getRepository(Contact).findOneByOrFail({ id: request.contactId });
    return Object.assign(request, { jobTitle: job?.title ?? job?.externalId ?? null, customerName: contact.name });
  }

  /**
   * A WhatsApp message from a contact with a request waiting: YA/YES confirms, TIDAK/NO
   * disputes; anything else is not an answer (false) and goes to their conversation.
   */
  async handleReply(contact: Contact, text: string, messageId: string): Promise<boolean> {
    const word = text.trim();
    const confirmed = CONFIRM.test(word) ? true : DISPUTE.test(word) ? false : null;
    if (confirmed === null) return false;
    if (
      await this.dataSource
        .getRepository(CompletionRequest)
        .existsBy({ tenantId: contact.tenantId, responseMessageId: messageId })
    ) {
      return true;
    }
    const pending = await this.dataSource.getRepository(CompletionRequest).findOne({
      where: { tenantId: contact.tenantId, contactId: contact.id, status: CompletionStatus.PENDING },
      order: { createdAt: 'DESC' },
    });
    if (!pending) return false;
    await this.answer(contact.tenantId, { id: pending.id, contactId: contact.id }, confirmed, null, 'whatsapp', messageId);
    return true;
  }

  private answer(
    tenantId: string,
    which: { id: string; contactId: string },
    confirmed: boolean,
    comment: string | null,
    via: `${ResponseChannel}`,
    messageId: string | null = null,
  ): Promise<CompletionRequest> {
    if (comment && comment.length > 2000) throw badInput('The comment is at most 2,000 characters', 'comment', 'TOO_LONG');
    return this.transactor.run(async (uow) => {
      const request = await this.lock(uow.manager, tenantId, which.id);
      if (request.contactId !== which.contactId) throw notFound('Completion request', which.id);
      if (request.status !== CompletionStatus.PENDING) {
        throw new DomainError(
          ErrorCode.InvalidTransition,
          `This request was already answered (${request.status.toUpperCase()})`,
          {
            status: request.status,
          },
        );
      }
      const now = this.clock.now();
      Object.assign(request, {
        status: confirmed ? CompletionStatus.CUSTOMER_CONFIRMED : CompletionStatus.DISPUTED,
        responseComment: comment?.trim() || null,
        respondedVia: via,
        responseMessageId: messageId,
        outcomeAt: now,
        nextCheckAt: null,
        updatedAt: now,
      });
      if (!confirmed) request.supportTicketId = await this.disputeTicket(uow, request, comment);
      await uow.manager.save(request);
      await this.record(uow, request, confirmed ? 'completion.confirmed' : 'completion.disputed', null, {
        via,
        comment: request.responseComment,
        supportTicketId: request.supportTicketId,
      });
      return request;
    });
  }

  /** A dispute reopens the job's ticket with the customer's words, or opens one. */
  private async disputeTicket(uow: UnitOfWork, request: CompletionRequest, comment: string | null): Promise<string> {
    const customer: CustomerPrincipal = {
      kind: 'customer',
      tenantId: request.tenantId,
      contactId: request.contactId,
      role: Role.CUSTOMER,
      name: 'Customer',
    };
    const words = `The customer says the job is not finished${comment?.trim() ? `: ${comment.trim()}` : '.'}`;
    const existing = request.ticketId ?? request.supportTicketId;
    if (existing) {
      const [ticket] = (await uow.manager.query(`SELECT status FROM ticket WHERE id = $1`, [existing])) as Array<{
        status: string;
      }>;
      if (ticket && ticket.status !== TicketStatus.CLOSED) {
        await this.tickets.addMessage(customer, existing, { body: words }, uow);
        return existing;
      }
    }
    const technician = await this.staffActor(uow.manager, request);
    const ticket = await this.tickets.create(
      technician,
      {
        subject: 'Job disputed by the customer',
        description: words,
        category: TicketCategory.TECHNICAL,
        priority: TicketPriority.HIGH,
        requesterId: request.contactId,
      },
      uow,
    );
    return ticket.id;
  }

  /** Support's attempts to reach the customer; the third failed one lets the request auto-complete after the wait. */
  async logContactAttempt(
    actor: StaffPrincipal,
    id: string,
    input: { channel: ContactAttemptChannel; outcome: ContactAttemptOutcome; note?: string | null },
  ): Promise<CompletionContactAttempt> {
    if (input.note && input.note.length > 2000) throw badInput('The note is at most 2,000 characters', 'note', 'TOO_LONG');
    return this.transactor.run(async (uow) => {
      const request = await this.lock(uow.manager, actor.tenantId, id);
      if (request.status !== CompletionStatus.PENDING) {
        throw new DomainError(ErrorCode.InvalidTransition, `This request is already ${request.status.toUpperCase()}`, {
          status: request.status,
        });
      }
      const attempt = await uow.manager.save(
        uow.manager.create(CompletionContactAttempt, {
          tenantId: actor.tenantId,
          requestId: request.id,
          channel: input.channel,
          outcome: input.outcome,
          note: input.note?.trim() || null,
          byUserId: actor.userId,
          createdAt: this.clock.now(),
        }),
      );
      // The worker checks again now: enough failed attempts may already allow auto-completion.
      await uow.manager.update(
        CompletionRequest,
        { id: request.id },
        { nextCheckAt: this.clock.now(), updatedAt: this.clock.now() },
      );
      return attempt;
    });
  }

  /** Staff close a request as unreachable or cancelled. */
  async close(
    actor: StaffPrincipal,
    id: string,
    outcome: CompletionStatus,
    note: string | null | undefined,
  ): Promise<CompletionRequest> {
    if (outcome !== CompletionStatus.UNREACHABLE && outcome !== CompletionStatus.CANCELLED) {
      throw badInput('Staff close a request as UNREACHABLE or CANCELLED', 'outcome');
    }
    if (note && note.length > 2000) throw badInput('The note is at most 2,000 characters', 'note', 'TOO_LONG');
    return this.transactor.run(async (uow) => {
      const request = await this.lock(uow.manager, actor.tenantId, id);
      if (request.status !== CompletionStatus.PENDING) {
        throw new DomainError(ErrorCode.InvalidTransition, `This request is already ${request.status.toUpperCase()}`, {
          status: request.status,
        });
      }
      const now = this.clock.now();
      Object.assign(request, {
        status: outcome,
        outcomeAt: now,
        nextCheckAt: null,
        updatedAt: now,
        // Support's words, kept apart from the customer's own comment (which customers read).
        closingNote: note?.trim() || null,
      });
      await uow.manager.save(request);
      await this.record(uow, request, `completion.${outcome}`, actor.userId, { note: request.closingNote });
      return request;
    });
  }

  /**
   * The worker's pass over pending requests that came due: a reminder every
   * reminderHours until the deadline; at the deadline a support ticket, assigned like any
   * other; after autoCompleteDays with autoCompleteAttempts failed attempts, auto-completion.
   * Each request in its own transaction, claimed with SKIP LOCKED.
   */
  /** Tenants with pending requests due for a check (reminder, escalation, auto-completion). */
  async tenantsWithDue(): Promise<string[]> {
    const rows: Array<{ tenantId: string }> = await this.dataSource.query(
      `SELECT DISTINCT "tenantId" FROM completion_request WHERE status = 'pending' AND "nextCheckAt" <= $1`,
      [this.clock.now()],
    );
    return rows.map((row) => row.tenantId);
  }

  async runDue(limit = 100, tenantId: string | null = null): Promise<number> {
    let done = 0;
    while (done < limit) {
      const acted = await this.transactor.run(async (uow) => {
        const query = uow.manager
          .getRepository(CompletionRequest)
          .createQueryBuilder('c')
          .setLock('pessimistic_write')
          .setOnLocked('skip_locked')
          .where(`c.status = 'pending' AND c."nextCheckAt" <= :now`, { now: this.clock.now() });
        if (tenantId) query.andWhere('c."tenantId" = :tenantId', { tenantId });
        const [request] = await query.orderBy('c."nextCheckAt"', 'ASC').limit(1).getMany();
        if (!request) return false;
        await this.advance(uow, request);
        return true;
      });
      if (!acted) break;
      done++;
    }
    return done;
  }

  private async advance(uow: UnitOfWork, request: CompletionRequest): Promise<void> {
    const { manager } = uow;
    const now = this.clock.now();
    const hour = 3_600_000;
    const autoAt = new Date(request.createdAt.getTime() + this.settings.autoCompleteDays * 24 * hour);
    const [{ failed }] = (await manager.query(
      `SELECT count(*)::int AS failed FROM completion_contact_attempt WHERE "requestId" = $1 AND outcome <> $2`,
      [request.id, ContactAttemptOutcome.REACHED],
    )) as Array<{ failed: number }>;
    if (now >= autoAt && failed >= this.settings.autoCompleteAttempts) {
      Object.assign(request, { status: CompletionStatus.AUTO_COMPLETED, outcomeAt: now, nextCheckAt: null, updatedAt: now });
      await manager.save(request);
      await this.record(uow, request, 'completion.auto_completed', null, { failedAttempts: failed });
      return;
    }
    if (now >= request.deadlineAt && !request.escalatedAt) {
      request.supportTicketId = await this.escalate(uow, request);
      request.escalatedAt = now;
      await this.record(uow, request, 'completion.escalated', null, { supportTicketId: request.supportTicketId });
    } else if (now < request.deadlineAt) {
      const contact = await manager.findOneByOrFail(Contact, { id: request.contactId });
      request.remindersSent += 1;
      await this.message(
        uow,
        request,
        `reminder:${request.remindersSent}`,
        `Hi ${contact.name}, a reminder: please confirm the job finished by your technician. Reply YA if it is done, or TIDAK if something is wrong.`,
      );
    }
    // Next look: the next reminder before the deadline, else the auto-completion time.
    const nextReminder = new Date(now.getTime() + this.settings.reminderHours * hour);
    request.nextCheckAt =
      nextReminder < request.deadlineAt
        ? nextReminder
        : now < request.deadlineAt
          ? request.deadlineAt
          : autoAt > now
            ? autoAt
            : null;
    request.updatedAt = now;
    await manager.save(request);
  }

  /** At the deadline support takes over: a ticket for the support team, assigned like any other. */
  private async escalate(uow: UnitOfWork, request: CompletionRequest): Promise<string> {
    const technician = await this.staffActor(uow.manager, request);
    const job = await uow.manager.findOneBy(BusinessRecord, { id: request.jobId });
    const ticket = await this.tickets.create(
      technician,
      {
        subject: `Completion not confirmed: ${job?.title ?? job?.externalId ?? 'service job'}`,
        description: `The customer has not confirmed the job by ${request.deadlineAt.toISOString()}. Reach them and log each attempt (logContactAttempt).`,
        category: TicketCategory.TECHNICAL,
        priority: TicketPriority.MEDIUM,
        requesterId: request.contactId,
      },
      uow,
    );
    await uow.manager.query('SAVEPOINT completion_assign');
    try {
      await this.tickets.assign(technician, ticket.id, null, uow);
      await uow.manager.query('RELEASE SAVEPOINT completion_assign');
    } catch (error) {
      // Nobody available: the ticket waits in the queue like any unassigned one.
      if (!(error instanceof DomainError)) throw error;
      await uow.manager.query('ROLLBACK TO SAVEPOINT completion_assign');
    }
    return ticket.id;
  }

  async leaveReview(actor: Principal, id: string, rating: number, comment: string | null | undefined): Promise<Review> {
    if (actor.kind !== 'customer') throw forbidden('Only the customer reviews a job');
    if (!Number.isInteger(rating) || rating < 1 || rating > 5) throw badInput('A rating is a whole number from 1 to 5', 'rating');
    if (comment && comment.length > 2000) throw badInput('The comment is at most 2,000 characters', 'comment', 'TOO_LONG');
    return this.transactor.run(async (uow) => {
      const request = await this.lock(uow.manager, actor.tenantId, id);
      if (request.contactId !== actor.contactId) throw notFound('Completion request', id);
      if (request.status !== CompletionStatus.CUSTOMER_CONFIRMED && request.status !== CompletionStatus.AUTO_COMPLETED) {
        throw new DomainError(ErrorCode.InvalidTransition, 'A job can be reviewed once its completion is confirmed', {
          status: request.status,
        });
      }
      if (await uow.manager.existsBy(Review, { completionRequestId: request.id }))
        throw conflict('This job has already been reviewed');
      const review = await uow.manager.save(
        uow.manager.create(Review, {
          tenantId: actor.tenantId,
          completionRequestId: request.id,
          jobId: request.jobId,
          technicianId: request.technicianId,
          contactId: request.contactId,
          rating,
          comment: comment?.trim() || null,
          createdAt: this.clock.now(),
        }),
      );
      await this.record(uow, request, 'completion.reviewed', null, { rating });
      return review;
    });
  }

  // ---- reading ----

  list(actor: Principal, filter: CompletionFilter, page: PageRequest): Promise<Page<CompletionRequest>> {
    const query = this.dataSource
      .getRepository(CompletionRequest)
      .createQueryBuilder('c')
      .where('c."tenantId" = :tenantId', { tenantId: actor.tenantId });
    const none = '00000000-0000-0000-0000-000000000000';
    if (actor.kind === 'customer') query.andWhere('c."contactId" = :self', { self: actor.contactId });
    if (actor.kind === 'staff' && actor.role === Role.TECHNICIAN)
      query.andWhere('c."technicianId" = :self', { self: actor.userId });
    if (filter.statuses?.length) query.andWhere('c.status IN (:...statuses)', { statuses: filter.statuses });
    if (filter.technicianId)
      query.andWhere('c."technicianId" = :technicianId', {
        technicianId: isUuid(filter.technicianId) ? filter.technicianId : none,
      });
    if (filter.contactId)
      query.andWhere('c."contactId" = :contactId', { contactId: isUuid(filter.contactId) ? filter.contactId : none });
    if (filter.overdue) query.andWhere(`c.status = 'pending' AND c."deadlineAt" < :now`, { now: this.clock.now() });
    return newestFirstPage(query, 'c', page);
  }

  async get(actor: Principal, id: string): Promise<CompletionRequest> {
    const request = isUuid(id)
      ? await this.dataSource.getRepository(CompletionRequest).findOneBy({ id, tenantId: actor.tenantId })
      : null;
    const visible =
      request &&
      (actor.kind === 'customer'
        ? request.contactId === actor.contactId
        : actor.role !== Role.TECHNICIAN || request.technicianId === actor.userId);
    if (!visible) throw notFound('Completion request', id);
    return request;
  }

  attempts(requestId: string): Promise<CompletionContactAttempt[]> {
    return this.dataSource.getRepository(CompletionContactAttempt).find({ where: { requestId }, order: { createdAt: 'ASC' } });
  }

  async review(requestId: string): Promise<Review | null> {
    return this.dataSource.getRepository(Review).findOneBy({ completionRequestId: requestId });
  }

  /** Figures over requests made in [from, to). */
  async stats(actor: StaffPrincipal, from: Date, to: Date): Promise<CompletionStats> {
    if (from >= to) throw badInput('`from` must be before `to`', 'from');
    const [row] = (await this.dataSource.query(
      `SELECT count(*)::int AS requested,
              count(*) FILTER (WHERE status = 'customer_confirmed')::int AS confirmed,
              count(*) FILTER (WHERE status = 'disputed')::int AS disputed,
              count(*) FILTER (WHERE status = 'auto_completed')::int AS "autoCompleted",
              count(*) FILTER (WHERE status = 'unreachable')::int AS unreachable,
              count(*) FILTER (WHERE status = 'cancelled')::int AS cancelled,
              count(*) FILTER (WHERE status = 'pending')::int AS pending,
              round((avg(extract(epoch FROM "outcomeAt" - "createdAt")) FILTER (WHERE status = 'customer_confirmed') / 3600)::numeric, 1)::float AS "meanHoursToConfirm"
         FROM completion_request WHERE "tenantId" = $1 AND "createdAt" >= $2 AND "createdAt" < $3`,
      [actor.tenantId, from, to],
    )) as Array<Omit<CompletionStats, 'perTechnician' | 'confirmationRatePercent'>>;
    const perTechnician = (await this.dataSource.query(
      `SELECT c."technicianId", u.name, count(*)::int AS requested,
              count(*) FILTER (WHERE c.status = 'customer_confirmed')::int AS confirmed,
              count(*) FILTER (WHERE c.status = 'disputed')::int AS disputed
         FROM completion_request c JOIN "user" u ON u.id = c."technicianId"
        WHERE c."tenantId" = $1 AND c."createdAt" >= $2 AND c."createdAt" < $3
        GROUP BY c."technicianId", u.name ORDER BY u.name`,
      [actor.tenantId, from, to],
    )) as CompletionStats['perTechnician'];
    const answered = row.confirmed + row.disputed;
    return {
      ...row,
      confirmationRatePercent: answered ? Math.round((row.confirmed / answered) * 1000) / 10 : null,
      perTechnician,
    };
  }

  // ---- inside a transaction ----

  private async lock(manager: EntityManager, tenantId: string, id: string): Promise<CompletionRequest> {
    const request = isUuid(id)
      ? await manager.findOne(CompletionRequest, { where: { id, tenantId }, lock: { mode: 'pessimistic_write' } })
      : null;
    if (!request) throw notFound('Completion request', id);
    return request;
  }

  private async staffActor(manager: EntityManager, request: CompletionRequest): Promise<StaffPrincipal> {
    const technician = await manager.findOneByOrFail(User, { id: request.technicianId });
    return { kind: 'staff', tenantId: request.tenantId, userId: technician.id, role: technician.role, name: technician.name };
  }

  private requestText(
    contact: Contact,
    technician: User,
    job: BusinessRecord,
    request: CompletionRequest,
    token: string,
  ): string {
    const link = `${this.settings.publicUrl.replace(/\/$/, '')}/c/${token}`;
    return [
      `Hi ${contact.name}, ${technician.name} has finished the job "${job.title ?? job.externalId}".`,
      request.note ? `Note: ${request.note}` : null,
      'Reply YA if it is done, or TIDAK if something is wrong.',
      `Or answer here: ${link}`,
    ]
      .filter(Boolean)
      .join('\n');
  }

  private async message(
    uow: UnitOfWork,
    request: CompletionRequest,
    kind: string,
    text: string,
    attachment: Attachment | null = null,
  ): Promise<void> {
    await this.deliveries.enqueue(
      request.tenantId,
      {
        channel: Channel.WHATSAPP,
        contactId: request.contactId,
        text,
        notificationType: kind === 'request' ? 'completion_request' : 'completion_reminder',
        idempotencyKey: `completion:${request.id}:${kind}`,
        ticketId: request.ticketId,
        completionRequestId: request.id,
        attachment,
      },
      uow,
    );
  }

  /** Records the step as a DomainEvent and, after the commit, tells live subscribers. */
  private record(
    uow: UnitOfWork,
    request: CompletionRequest,
    type: string,
    actorId: string | null,
    extra: Record<string, unknown>,
  ) {
    const snapshot = Object.assign(new CompletionRequest(), request);
    uow.afterCommit(() => this.live.publish('completionRequestChanged', request.tenantId, snapshot));
    return uow.record({
      tenantId: request.tenantId,
      type,
      subjectType: 'completion_request',
      subjectId: request.id,
      actorId,
      payload: {
        completionRequestId: request.id,
        jobId: request.jobId,
        recordId: request.jobId,
        contactId: request.contactId,
        technicianId: request.technicianId,
        status: request.status,
        ...extra,
      },
    });
  }
}
