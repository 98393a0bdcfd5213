import type { DataSource, EntityManager } from 'typeorm';

import { Escalation, EscalationStatus } from '../../entities/escalation.entity';
import { formatTicketReference, type Ticket } from '../../entities/ticket.entity';
import { Role } from '../../entities/user.entity';
import type { Clock } from '../platform/clock';
import type { DeliveryService } from '../delivery/delivery.service';

import { badInput, conflict, forbidden, notFound } from '../platform/errors';
import { type Page, type PageRequest } from '../platform/pagination';
import type { StaffPrincipal } from '../directory/principal';
import { activeStaff, notifyStaff } from './staff-notices';

import { UNFINISHED_STATUSES } from '../tickets/ticket-workflow';
import type { Transactor, UnitOfWork } from '../platform/unit-of-work';
import type { DomainEvent } from '../../entities/domain-event.entity';
import type { EventConsumer } from '../events/event-consumers';
import { type EffectiveEscalationPolicy, type EscalationPolicyInput, EscalationPolicies } from './escalation-policy';
import { DUE_SQL, type EscalationRunSummary, EscalationRun, minutesOverdue } from './escalation-run';
import {
  type EscalationFilter,
  type EscalationStats,
  type OverdueFilter,
  type OverdueItem,
  EscalationReads,
} from './escalation-reads';

export { DEFAULT_ESCALATION_LEVELS, type EffectiveEscalationPolicy, type EscalationPolicyInput } from './escalation-policy';
export type { EscalationRunSummary } from './escalation-run';
export type { EscalationFilter, EscalationStats, OverdueFilter, OverdueItem } from './escalation-reads';

/**
 * Escalation up the management hierarchy, one concern a file: policies
 * (escalation-policy.ts), the periodic run (escalation-run.ts), reads and figures
 * (escalation-reads.ts); here the manual actions, and the relay consumer that closes a
 * ticket's escalations once it is resolved or closed.
 */
export class EscalationService {
  private readonly policyBook: EscalationPolicies;
  private readonly runner: EscalationRun;
  private readonly reads: EscalationReads;
  /** Closes a ticket's open escalations when it is resolved or closed (ticket.status_changed), in the relay's transaction. */
  readonly consumer: EventConsumer;

  constructor(
    private readonly dataSource: DataSource,
    private readonly transactor: Transactor,
    private readonly deliveries: DeliveryService,
    private readonly clock: Clock,
  ) {
    this.policyBook = new EscalationPolicies(dataSource, transactor);
    this.runner = new EscalationRun(dataSource, transactor, deliveries, clock, this.policyBook);
    this.reads = new EscalationReads(dataSource, clock, this.policyBook);
    this.consumer = {
      name: 'escalations',
      description: 'Closes the open escalations of a ticket once it is resolved or closed.',
      types: ['ticket.status_changed'],
      handle: (event, uow) => this.ticketChanged(event, uow),
    };
  }

  private async ticketChanged(event: DomainEvent, uow: UnitOfWork): Promise<void> {
    const to = (event.payload as { to?: string }).to;
    if (event.subjectType !== 'ticket' || !event.subjectId || (to !== 'resolved' && to !== 'closed')) return;
    await uow.manager.query(
      `UPDATE escalation SET status = 'resolved', "resolvedAt" = $3
        WHERE "tenantId" = $1 AND "ticketId" = $2 AND status <> 'resolved'`,
      [event.tenantId, event.subjectId, event.occurredAt],
    );
  }

  policies(tenantId: string, manager?: EntityManager): Promise<EffectiveEscalationPolicy[]> {
    return this.policyBook.policies(tenantId, manager);
  }

  updatePolicy(actor: StaffPrincipal, input: EscalationPolicyInput): Promise<EffectiveEscalationPolicy> {
    return this.policyBook.updatePolicy(actor, input);
  }

  run(tenantId: string, runId: string): Promise<EscalationRunSummary> {
    return this.runner.run(tenantId, runId);
  }

  list(tenantId: string, filter: EscalationFilter, page: PageRequest): Promise<Page<Escalation>> {
    return this.reads.list(tenantId, filter, page);
  }

  overdue(tenantId: string, filter: OverdueFilter, page: PageRequest): Promise<Page<OverdueItem>> {
    return this.reads.overdue(tenantId, filter, page);
  }

  stats(tenantId: string, from: Date, to: Date): Promise<EscalationStats> {
    return this.reads.stats(tenantId, from, to);
  }

  /** A person escalates a ticket to someone by hand, with a reason; they are told at once. */
  async escalateManually(
    actor: StaffPrincipal,
    ticketId: string,
    toUserId: string,
    reason: string,
    within?: UnitOfWork,
  ): Promise<Escalation> {
    const why = reason.trim();
    if (!why || why.length > 1000) throw badInput('A reason is 1 to 1000 characters', 'reason');
    return this.transactor.run(async (uow) => {
      const { manager } = uow;
      const [ticket]: Array<Pick<Ticket, 'id' | 'number' | 'subject' | 'status' | 'escalationLevel'> & { dueAt: Date }> =
        await manager.query(
          `SELECT t.id, t.number, t.subject, t.status, t."escalationLevel", ${DUE_SQL} AS "dueAt"
             FROM ticket t WHERE t.id = $1 AND t."tenantId" = $2 FOR UPDATE`,
          [ticketId, actor.tenantId],
        );
      if (!ticket) throw notFound('Ticket', ticketId);
      if (!(UNFINISHED_STATUSES as string[]).includes(ticket.status)) {
        throw conflict(
          `Ticket ${formatTicketReference(ticket.number)} is ${ticket.status.toUpperCase()}; only unfinished tickets are escalated`,
        );
      }
      const staff = await activeStaff(manager, actor.tenantId);
      const recipient = staff.get(toUserId);
      if (!recipient) throw notFound('User', toUserId);
      const now = this.clock.now();
      const escalation = await manager.save(
        manager.create(Escalation, {
          tenantId: actor.tenantId,
          ticketId,
          level: ticket.escalationLevel,
          recipientId: toUserId,
          reason: why,
          manual: true,
          overdueMinutes: Math.max(0, minutesOverdue(ticket.dueAt, now)),
          status: EscalationStatus.OPEN,
          deliveryIds: [],
          runId: null,
          createdById: actor.userId,
          createdAt: now,
          acknowledgedAt: null,
          acknowledgedById: null,
          resolvedAt: null,
        }),
      );
      const reference = formatTicketReference(ticket.number);
      const delivery = await notifyStaff(this.deliveries, uow, actor.tenantId, recipient, {
        subject: `${reference} escalated to you`,
        text: `Hi ${recipient.name}, ${actor.name} escalated ${reference} "${ticket.subject}" to you: ${why}`,
        notificationType: 'escalation',
        idempotencyKey: `escalation:${escalation.id}:user:${toUserId}`,
        ticketId,
        escalationId: escalation.id,
      });
      if (delivery) {
        escalation.deliveryIds = [delivery.id];
        await manager.save(escalation);
      }
      await uow.record({
        tenantId: actor.tenantId,
        type: 'ticket.escalated',
        subjectType: 'ticket',
        subjectId: ticketId,
        payload: { level: escalation.level, recipients: [toUserId], manual: true, reason: why },
        actorId: actor.userId,
      });
      return escalation;
    }, within);
  }

  /** The recipient (or an admin) acknowledges; acknowledging twice changes nothing. */
  async acknowledge(actor: StaffPrincipal, id: string): Promise<Escalation> {
    return this.transactor.run(async (uow) => {
      const escalation = await uow.manager.findOne(Escalation, {
        where: { id, tenantId: actor.tenantId },
        lock: { mode: 'pessimistic_write' },
      });
      if (!escalation) throw notFound('Escalation', id);
      if (escalation.recipientId !== actor.userId && actor.role !== Role.ADMIN) {
        throw forbidden('Only its recipient or an admin can acknowledge an escalation');
      }
      if (escalation.status === EscalationStatus.RESOLVED) throw conflict('The ticket was resolved; the escalation is closed');
      if (escalation.status === EscalationStatus.ACKNOWLEDGED) return escalation;
      Object.assign(escalation, {
        status: EscalationStatus.ACKNOWLEDGED,
        acknowledgedAt: this.clock.now(),
        acknowledgedById: actor.userId,
      });
      await uow.manager.save(escalation);
      await uow.record({
        tenantId: actor.tenantId,
        type: 'escalation.acknowledged',
        subjectType: 'escalation',
        subjectId: id,
        payload: { ticketId: escalation.ticketId, level: escalation.level },
        actorId: actor.userId,
      });
      return escalation;
    });
  }
}
