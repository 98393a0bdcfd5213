import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import type { EntityManager } from 'typeorm';
import { type AutomationRule, RuleTriggerType } from '../../entities/automation-rule.entity';
import { BusinessRecord } from '../../entities/business-record.entity';
import { Channel } from '../../entities/channel';
import { Contact } from '../../entities/contact.entity';
import type { DomainEvent } from '../../entities/domain-event.entity';
import { Delivery } from '../../entities/delivery.entity';
import { type ActionOutcome, RuleExecution, RuleExecutionStatus } from '../../entities/rule-execution.entity';
import { Tenant } from '../../entities/tenant.entity';
import { Ticket, type TicketCategory, type TicketPriority, type TicketStatus } from '../../entities/ticket.entity';
import { Role, type StaffRole, User } from '../../entities/user.entity';
import type { DeliveryService } from '../delivery/delivery.service';
import { renderTemplate } from '../delivery/template-rendering';
import { automationActor } from '../directory/automation-user';
import type { StaffPrincipal } from '../directory/principal';
import type { Clock } from '../platform/clock';
import { DomainError, badInput } from '../platform/errors';
import type { DomainEventInput, UnitOfWork } from '../platform/unit-of-work';
import { recordEvent } from '../records/record.service';
import { type ReportKind, type ReportPeriod, ReportService } from '../reports/report.service';
import type { TicketService } from '../tickets/ticket.service';
import type { StaffNotificationService } from '../notifications/staff-notification.service';
import type { EscalationService } from '../escalation/escalation.service';
import { type Condition, evaluate } from './conditions';
import { delayMs } from './rule-definition';

/** A rule acting on what its own actions caused stops at this depth (a loop). */
export const MAX_RULE_DEPTH = 3;

/** The ids a rule's facts are loaded from; kept on a delayed execution to load them again. */
export interface FactIds {
  ticketId?: string | null;
  contactId?: string | null;
  recordId?: string | null;
  userId?: string | null;
  actorId?: string | null;
}

/** What a rule sees: the event and the ticket, contact, record, user and actor it concerns. */
export interface Facts {
  event: { id: string | null; type: string; occurredAt: string; source: string; payload: Record<string, unknown> } | null;
  ticket: Record<string, unknown> | null;
  contact: Record<string, unknown> | null;
  record: Record<string, unknown> | null;
  user: Record<string, unknown> | null;
  actor: { id: string; role: string; name: string } | null;
  tenant: { name: string; timezone: string; locale: string };
}

/**
 * Wakes the worker when a delayed execution comes due: a one-off scheduler (Agenda) job
 * at its time. The execution row is the truth: the worker's poll resumes it as well, so
 * a job that could not be scheduled (or whose process died) loses nothing.
 */
export interface DelayWaker {
  wake(at: Date, executionId: string): Promise<void>;
}

/** One occurrence of a trigger for a rule. */
export interface Occurrence {
  trigger: RuleTriggerType;
  dedupeKey: string;
  event: DomainEvent | null;
  subjectType: string | null;
  subjectId: string | null;
  ids: FactIds;
  depth: number;
  /** For a schedule: the occurrence it runs for. */
  scheduledFor?: Date;
}

export interface ExecutionResult {
  execution: RuleExecution;
  /** False when an execution for this occurrence already existed (nothing was done again). */
  fresh: boolean;
}

/**
 * Runs rules: decides whether a rule acts on an occurrence (validity, limits, cooldown,
 * loop depth, conditions), waits out its delay, and performs its actions inside the
 * caller's unit of work, each action under its own savepoint so one failing action is
 * undone alone and recorded. Every message is an ordinary Delivery with an idempotency
 * key per execution, action and recipient.
 */
export class RuleEngine {
  constructor(
    private readonly deliveries: DeliveryService,
    private readonly tickets: TicketService,
    private readonly escalations: EscalationService,
    private readonly reports: ReportService,
    private readonly notifications: StaffNotificationService,
    private readonly clock: Clock,
  ) {}

  /** The facts for these ids, read in the caller's transaction. */
  /** Schedules the one-off job that resumes a delayed execution when it comes due (the scheduler, once it is open). */
  delayWaker: DelayWaker | null = null;

  async loadFacts(
    manager: EntityManager,
    tenantId: string,
    ids: FactIds,
    event: DomainEvent | null,
    loadedTenant?: Tenant,
  ): Promise<{ facts: Facts; ids: FactIds }> {
    const resolved: FactIds = { ...ids };
    const tenant = loadedTenant ?? (await manager.findOneByOrFail(Tenant, { id: tenantId }));
    const ticket = resolved.ticketId ? await manager.findOneBy(Ticket, { id: resolved.ticketId, tenantId }) : null;
    const record = resolved.recordId ? await manager.findOneBy(BusinessRecord, { id: resolved.recordId, tenantId }) : null;
    resolved.contactId ??= ticket?.requesterId ?? record?.contactId ?? null;
    resolved.userId ??= record?.userId ?? null;
    const contact = resolved.contactId ? await manager.findOneBy(Contact, { id: resolved.contactId, tenantId }) : null;
    const user = resolved.userId ? await manager.findOneBy(User, { id: resolved.userId, tenantId }) : null;
    const actor = resolved.actorId ? await manager.findOneBy(User, { id: resolved.actorId, tenantId }) : null;
    const plain = (row: object | null) => (row ? { ...row } : null);
    // Plain JSON, as conditions and templates read it: dates become ISO 8601 strings.
    const facts: Facts = JSON.parse(
      JSON.stringify({
        event: event
          ? {
              id: event.id ?? null,
              type: event.type,
              occurredAt: new Date(event.occurredAt).toISOString(),
              source: event.source,
              payload: event.payload,
            }
          : null,
        ticket: ticket ? { ...ticket, reference: ticket.reference } : null,
        contact: plain(contact),
        record: record
          ? { ...record, amount: record.amount === null ? null : Number(record.amount), ...localDates(record, contact, tenant) }
          : null,
        user: user
          ? { id: user.id, name: user.name, email: user.email, phone: user.phone, role: user.role, attributes: user.attributes }
          : null,
        actor: actor ? { id: actor.id, role: actor.role, name: actor.name } : null,
        tenant: { name: tenant.name, timezone: tenant.timezone, locale: tenant.locale },
      }),
    ) as Facts;
    return { ids: resolved, facts };
  }

  /** The ids an event points at: its subject, and ids its payload names. */
  static idsOf(event: DomainEvent): FactIds {
    const payload = event.payload ?? {};
    const id = (value: unknown) => (typeof value === 'string' && /^[0-9a-f-]{36}$/i.test(value) ? value : null);
    const ids: FactIds = { actorId: event.actorId };
    if (event.subjectType === 'ticket') ids.ticketId = event.subjectId;
    if (event.subjectType === 'contact') ids.contactId = event.subjectId;
    if (event.subjectType === 'business_record') ids.recordId = event.subjectId;
    if (event.subjectType === 'user') ids.userId = event.subjectId;
    ids.ticketId ??= id(payload.ticketId);
    ids.contactId ??= id(payload.contactId) ?? id(payload.requesterId);
    ids.recordId ??= id(payload.recordId) ?? id((payload.record as Record<string, unknown> | undefined)?.id);
    return ids;
  }

  /**
   * Decides and acts (or waits) for one occurrence, in the caller's unit of work. An
   * occurrence seen before for this rule is not acted on again.
   */
  async execute(uow: UnitOfWork, rule: AutomationRule, occurrence: Occurrence, facts: Facts): Promise<ExecutionResult> {
    const existing = await uow.manager.findOneBy(RuleExecution, { ruleId: rule.id, dedupeKey: occurrence.dedupeKey });
    if (existing) return { execution: existing, fresh: false };
    const skipped: RuleExecution[] = [];
    const result = await this.decide(uow, rule, occurrence, facts, skipped);
    await insertExecutions(uow.manager, skipped);
    return result;
  }

  /**
   * Every rule listening to one occurrence (an event), in order: one query finds the
   * rules that saw it already (a redelivery), and the skipped executions, the common
   * case, are written together at the end.
   */
  async executeAll(uow: UnitOfWork, rules: AutomationRule[], occurrence: Occurrence, facts: Facts): Promise<void> {
    const seen = new Set(
      (
        (await uow.manager.query(`SELECT "ruleId" FROM rule_execution WHERE "dedupeKey" = $1 AND "ruleId" = ANY($2::uuid[])`, [
          occurrence.dedupeKey,
          rules.map((rule) => rule.id),
        ])) as Array<{ ruleId: string }>
      ).map((row) => row.ruleId),
    );
    const skipped: RuleExecution[] = [];
    for (const rule of rules) if (!seen.has(rule.id)) await this.decide(uow, rule, occurrence, facts, skipped);
    await insertExecutions(uow.manager, skipped);
  }

  private async decide(
    uow: UnitOfWork,
    rule: AutomationRule,
    occurrence: Occurrence,
    facts: Facts,
    skipped: RuleExecution[],
  ): Promise<ExecutionResult> {
    const { manager } = uow;
    const now = this.clock.now();
    const execution = manager.create(RuleExecution, {
      id: randomUUID(),
      tenantId: rule.tenantId,
      ruleId: rule.id,
      ruleName: rule.name,
      trigger: occurrence.trigger,
      eventType: occurrence.event?.type ?? null,
      eventId: occurrence.event?.id ?? null,
      dedupeKey: occurrence.dedupeKey,
      subjectType: occurrence.subjectType,
      subjectId: occurrence.subjectId,
      subjectKey: occurrence.subjectId ? `${occurrence.subjectType}:${occurrence.subjectId}` : null,
      context: {
        ...occurrence.ids,
        eventPayload: occurrence.event?.payload ?? null,
        eventType: occurrence.event?.type ?? null,
        ...(occurrence.scheduledFor ? { scheduledFor: occurrence.scheduledFor.toISOString() } : {}),
      },
      depth: occurrence.depth,
      runAt: null,
      actionOutcomes: [],
      createdAt: now,
      finishedAt: null,
    });
    const refusal =
      (await this.refusal(manager, rule, execution, now)) ??
      evaluate(rule.conditions as Condition | null, facts as never, now).reason;
    if (refusal) {
      Object.assign(execution, { status: RuleExecutionStatus.SKIPPED, reason: refusal, finishedAt: now });
      skipped.push(execution);
      return { execution, fresh: true };
    }
    if (rule.delay) {
      execution.runAt = this.delayedUntil(rule.delay, facts, now);
      execution.status = RuleExecutionStatus.DELAYED;
      await insertExecution(manager, execution);
      const { runAt, id } = execution;
      uow.afterCommit(() => void this.delayWaker?.wake(runAt, id));
      return { execution, fresh: true };
    }
    const outcomes = await this.runActions(uow, rule, execution, facts);
    return this.finishActed(manager, rule, execution, outcomes, now, true);
  }

  /** Acts on a delayed execution that came due: the rule must still be active, and (unless it says not to) still match. */
  async resume(uow: UnitOfWork, execution: RuleExecution, rule: AutomationRule | null): Promise<RuleExecution> {
    const now = this.clock.now();
    const { manager } = uow;
    const skip = async (reason: string) =>
      (await this.finish(manager, execution, RuleExecutionStatus.SKIPPED, reason, [], now, false)).execution;
    if (!rule || !rule.active) return skip('The rule was deleted or switched off before its delay ended');
    const ids = execution.context as FactIds;
    const event = execution.eventType
      ? ({
          id: execution.eventId,
          type: execution.eventType,
          occurredAt: execution.createdAt,
          source: 'internal',
          payload: execution.context.eventPayload ?? {},
        } as DomainEvent)
      : null;
    const { facts } = await this.loadFacts(manager, execution.tenantId, ids, event);
    if (rule.delay?.recheckConditions !== false) {
      const verdict = evaluate(rule.conditions as Condition | null, facts as never, now);
      if (!verdict.matched) return skip(`No longer holds after the delay: ${verdict.reason}`);
    }
    const outcomes = await this.runActions(uow, rule, execution, facts);
    return (await this.finishActed(manager, rule, execution, outcomes, now, false)).execution;
  }

  /** Why the rule may not act on this occurrence now, or null. */
  private async refusal(
    manager: EntityManager,
    rule: AutomationRule,
    execution: RuleExecution,
    now: Date,
  ): Promise<string | null> {
    if (execution.depth >= MAX_RULE_DEPTH) {
      return `Stopped: this event was caused by ${execution.depth} rule actions in a row (limit ${MAX_RULE_DEPTH}); the rules loop`;
    }
    if (rule.validFrom && now < rule.validFrom) return `Not valid before ${rule.validFrom.toISOString()}`;
    if (rule.validUntil && now >= rule.validUntil) return `Not valid after ${rule.validUntil.toISOString()}`;
    if (rule.maxExecutions != null) {
      // Read under the rule's lock: the rule object may come from a cache, and two processes may act at once.
      const [counted] = (await manager.query(`SELECT "executionCount" FROM automation_rule WHERE id = $1 FOR UPDATE`, [
        rule.id,
      ])) as Array<{ executionCount: number }>;
      if ((counted?.executionCount ?? 0) >= rule.maxExecutions) return `Reached its limit of ${rule.maxExecutions} executions`;
    }
    if (!execution.subjectKey || (rule.maxExecutionsPerSubject == null && rule.cooldownMinutes == null)) return null;
    const [row] = (await manager.query(
      `SELECT count(*)::int AS total, max("createdAt") AS latest FROM rule_execution
        WHERE "ruleId" = $1 AND "subjectKey" = $2 AND status IN ('delayed', 'succeeded', 'failed')`,
      [rule.id, execution.subjectKey],
    )) as Array<{ total: number; latest: Date | null }>;
    if (rule.maxExecutionsPerSubject != null && row.total >= rule.maxExecutionsPerSubject) {
      return `Reached its limit of ${rule.maxExecutionsPerSubject} executions for this ${execution.subjectType}`;
    }
    if (
      rule.cooldownMinutes != null &&
      row.latest &&
      now.getTime() - new Date(row.latest).getTime() < rule.cooldownMinutes * 60_000
    ) {
      return `Cooling down: it acted for this ${execution.subjectType} less than ${rule.cooldownMinutes} minutes ago`;
    }
    return null;
  }

  /** When a delay ends: after its length, then at the next local time of day if it names one. */
  delayedUntil(delay: Record<string, unknown>, facts: Facts, now: Date): Date {
    const after = new Date(now.getTime() + delayMs(delay));
    if (typeof delay.untilLocalTime !== 'string') return after;
    const zone = (facts.contact?.timezone as string | null) ?? facts.tenant.timezone;
    const [hour, minute] = delay.untilLocalTime.split(':').map(Number);
    let at = DateTime.fromJSDate(after, { zone }).set({ hour, minute, second: 0, millisecond: 0 });
    if (at.toMillis() < after.getTime()) at = at.plus({ days: 1 });
    return at.toJSDate();
  }

  private async runActions(
    uow: UnitOfWork,
    rule: AutomationRule,
    execution: RuleExecution,
    facts: Facts,
  ): Promise<ActionOutcome[]> {
    // What the actions cause carries the chain's depth, so a rule reacting to itself stops.
    const caused = (event: DomainEventInput): DomainEventInput => ({
      ...event,
      depth: execution.depth + 1,
      causationId: execution.id,
    });
    const within: UnitOfWork = {
      ...uow,
      record: (event) => uow.record(caused(event)),
      recordAll: (events) => uow.recordAll(events.map(caused)),
    };
    const outcomes: ActionOutcome[] = [];
    let stopped = false;
    for (const [index, action] of rule.actions.entries()) {
      const outcome: ActionOutcome = {
        index,
        type: String(action.type),
        status: 'skipped',
        error: null,
        deliveryIds: [],
        detail: null,
      };
      outcomes.push(outcome);
      if (stopped) {
        outcome.detail = 'Not run: an earlier action failed and the rule stops on failure';
        continue;
      }
      await uow.manager.query('SAVEPOINT rule_action');
      try {
        outcome.detail = await this.perform(within, rule, execution, index, action, facts, outcome);
        outcome.status = 'succeeded';
        await uow.manager.query('RELEASE SAVEPOINT rule_action');
      } catch (error) {
        if (!isActionFailure(error)) throw error;
        await uow.manager.query('ROLLBACK TO SAVEPOINT rule_action');
        outcome.status = 'failed';
        outcome.deliveryIds = [];
        outcome.error = (error as Error).message.slice(0, 1000);
        stopped = rule.stopOnFailure;
      }
    }
    return outcomes;
  }

  private async perform(
    uow: UnitOfWork,
    rule: AutomationRule,
    execution: RuleExecution,
    index: number,
    action: Record<string, unknown>,
    facts: Facts,
    outcome: ActionOutcome,
  ): Promise<string | null> {
    const { manager } = uow;
    const ticketId = facts.ticket?.id as string | undefined;
    const needTicket = () => {
      if (!ticketId) throw badInput('There is no ticket for this action');
      return ticketId;
    };
    switch (action.type) {
      case 'send_message': {
        const ids = await this.sendMessage(uow, rule, execution, index, action, facts);
        outcome.deliveryIds = ids;
        return `${ids.length} message(s) queued`;
      }
      case 'assign_ticket': {
        const ticket = await this.tickets.assign(
          await this.actor(manager, rule),
          needTicket(),
          (action.userId as string) ?? null,
          uow,
        );
        return `Assigned to ${ticket.assigneeId}`;
      }
      case 'set_ticket_status':
        await this.tickets.changeStatus(await this.actor(manager, rule), needTicket(), action.status as TicketStatus, uow);
        return `Status ${String(action.status)}`;
      case 'set_ticket_priority':
        await this.tickets.changePriority(await this.actor(manager, rule), needTicket(), action.priority as TicketPriority, uow);
        return `Priority ${String(action.priority)}`;
      case 'add_ticket_note':
        await this.tickets.addMessage(
          await this.actor(manager, rule),
          needTicket(),
          { body: renderTemplate(String(action.text), variables(facts, action)), internal: true },
          uow,
        );
        return 'Internal note added';
      case 'create_ticket': {
        const contactId = facts.contact?.id as string | undefined;
        if (!contactId) throw badInput('There is no contact to open a ticket for');
        const values = variables(facts, action);
        const ticket = await this.tickets.create(
          await this.actor(manager, rule),
          {
            subject: renderTemplate(String(action.subject), values),
            description: action.description ? renderTemplate(String(action.description), values) : '',
            category: action.category as TicketCategory,
            priority: action.priority as TicketPriority,
            requesterId: contactId,
          },
          uow,
        );
        return `Ticket ${ticket.reference} opened`;
      }
      case 'call_webhook': {
        const delivery = await this.deliveries.enqueue(
          rule.tenantId,
          {
            channel: Channel.WEBHOOK,
            to: String(action.url),
            text: JSON.stringify({ rule: { id: rule.id, name: rule.name }, executionId: execution.id, ...facts }),
            notificationType: 'automation_webhook',
            idempotencyKey: `rule:${execution.id}:${index}`,
            ticketId: ticketId ?? null,
            ruleExecutionId: execution.id,
          },
          uow,
        );
        outcome.deliveryIds = [delivery.id];
        return 'Webhook queued';
      }
      case 'set_field':
        return this.setField(uow, action, facts);
      case 'notify_staff': {
        // An in-app notification for each staff recipient, and with channels a message too.
        const targets = (
          await this.recipients(manager, rule.tenantId, action.recipients as Array<Record<string, unknown>>, facts)
        ).filter((target) => target.user);
        if (!targets.length) throw badInput('No staff user could be found for this notification');
        const values = variables(facts, action);
        const ids = await this.notifications.notify(
          uow,
          rule.tenantId,
          targets.map((target) => target.user!.id),
          {
            title: renderTemplate(String(action.title), values),
            body: renderTemplate(String(action.text), values),
            ticketId: (facts.ticket?.id as string) ?? null,
            recordId: (facts.record?.id as string) ?? null,
          },
          `rule:${execution.id}:${index}`,
        );
        if (Array.isArray(action.channels) && action.channels.length) {
          outcome.deliveryIds = await this.sendMessage(uow, rule, execution, index, action, facts);
        }
        return `${ids.length} staff notified${outcome.deliveryIds.length ? `, ${outcome.deliveryIds.length} message(s) queued` : ''}`;
      }
      case 'escalate': {
        // To a named user, or up the assignee's management chain.
        let to = action.userId as string | undefined;
        if (!to) {
          const assignee = facts.ticket?.assigneeId
            ? await manager.findOneBy(User, { id: facts.ticket.assigneeId as string, tenantId: rule.tenantId })
            : null;
          to = assignee?.managerId ?? undefined;
        }
        if (!to) throw badInput('Nobody to escalate to: the ticket has no assignee with a manager, and the action names no user');
        const escalation = await this.escalations.escalateManually(
          await this.actor(manager, rule),
          needTicket(),
          to,
          renderTemplate(String(action.reason ?? `Escalated by the rule "${rule.name}"`), variables(facts, action)),
          uow,
        );
        outcome.deliveryIds = escalation.deliveryIds;
        return `Escalated to ${to}`;
      }
      case 'send_report': {
        // A schedule's report covers the period as of its occurrence, even when a worker runs it late.
        const asOf =
          typeof execution.context.scheduledFor === 'string' ? new Date(execution.context.scheduledFor) : this.clock.now();
        const period = ReportService.period(action.period as ReportPeriod, asOf, facts.tenant.timezone);
        const figures = await this.reports.figures(manager, rule.tenantId, action.report as ReportKind, period.from, period.to);
        const ids = await this.sendMessage(uow, rule, execution, index, action, facts, (target) =>
          this.reports.text(figures, facts.tenant.timezone, target.user?.id),
        );
        outcome.deliveryIds = ids;
        return `${String(action.report)} for ${String(action.period)} sent to ${ids.length} recipient(s)`;
      }
      case 'add_tag': {
        const tag = String(action.tag).trim().toLowerCase();
        if (action.target === 'record') {
          // A record's tags live in its attributes (attributes.tags), where rules and audiences read them.
          const recordId = facts.record?.id as string | undefined;
          if (!recordId) throw badInput('There is no business record to tag');
          await manager.query(
            `UPDATE business_record
                SET attributes = jsonb_set(attributes, '{tags}', COALESCE(attributes->'tags', '[]'::jsonb) || to_jsonb($3::text)), "updatedAt" = now()
              WHERE id = $1 AND "tenantId" = $2 AND NOT (COALESCE(attributes->'tags', '[]'::jsonb) ? $3)`,
            [recordId, rule.tenantId, tag],
          );
          return `Record tagged ${tag}`;
        }
        const contactId = facts.contact?.id as string | undefined;
        if (!contactId) throw badInput('There is no contact to tag');
        await manager.query(
          `UPDATE contact SET tags = array_append(tags, $3::text), "updatedAt" = now() WHERE id = $1 AND "tenantId" = $2 AND NOT ($3 = ANY(tags))`,
          [contactId, rule.tenantId, tag],
        );
        return `Tagged ${tag}`;
      }
      default:
        throw badInput(`Unknown action ${String(action.type)}`);
    }
  }

  private async setField(uow: UnitOfWork, action: Record<string, unknown>, facts: Facts): Promise<string> {
    const { manager } = uow;
    const field = String(action.field);
    const value = action.value ?? null;
    if (action.target === 'contact') {
      const contact = facts.contact;
      if (!contact) throw badInput('There is no contact to change');
      if (field.startsWith('attributes.')) {
        await manager.query(
          `UPDATE contact SET attributes = jsonb_set(attributes, $3, $4::jsonb), "updatedAt" = now() WHERE id = $1 AND "tenantId" = $2`,
          [contact.id, contact.tenantId, [field.slice('attributes.'.length)], JSON.stringify(value)],
        );
      } else
        await manager.update(Contact, { id: contact.id as string, tenantId: contact.tenantId as string }, { [field]: value });
      return `contact.${field} set`;
    }
    const record = facts.record;
    if (!record) throw badInput('There is no business record to change');
    const row = await manager.findOneOrFail(BusinessRecord, {
      where: { id: record.id as string },
      lock: { mode: 'pessimistic_write' },
    });
    if (field.startsWith('attributes.')) row.attributes = { ...row.attributes, [field.slice('attributes.'.length)]: value };
    else if (field === 'status') {
      const status = String(value ?? '')
        .trim()
        .toLowerCase();
      if (!/^[a-z0-9][a-z0-9_.-]{0,49}$/.test(status)) throw badInput(`"${status}" is not a status`);
      if (status !== row.status) {
        const previousStatus = row.status;
        row.status = status;
        row.statusChangedAt = this.clock.now();
        await uow.record(recordEvent(row, previousStatus, null));
      }
    }
    await manager.save(row);
    return `record.${field} set`;
  }

  private async sendMessage(
    uow: UnitOfWork,
    rule: AutomationRule,
    execution: RuleExecution,
    index: number,
    action: Record<string, unknown>,
    facts: Facts,
    textFor?: (target: Target) => string,
  ): Promise<string[]> {
    const { manager } = uow;
    const channels = (action.channels ?? [action.channel]) as Channel[];
    const template = textFor ? undefined : (action.template as string | undefined);
    const available = template
      ? new Set(
          (
            (await manager.query(
              `SELECT DISTINCT channel FROM message_template WHERE "tenantId" = $1 AND (name = $2 OR name LIKE $3)`,
              [rule.tenantId, template, `${template.replace(/[\\%_]/g, (c) => '\\' + c)}.%`],
            )) as Array<{ channel: Channel }>
          ).map((row) => row.channel),
        )
      : new Set(channels);
    const targets = await this.recipients(manager, rule.tenantId, action.recipients as Array<Record<string, unknown>>, facts);
    if (!targets.length) throw badInput('No recipient could be found for this message');
    const ids: string[] = [];
    for (const target of targets) {
      // The first channel the target can be reached on (and has a template for); the rest, in order, are its fallbacks.
      const usable = channels.filter((candidate) => available.has(candidate) && reachable(target, candidate));
      const [channel, ...fallbackChannels] = usable;
      if (!channel) throw badInput(`${target.label} cannot be reached on ${channels.join(' or ')}`);
      const values = { ...variables(facts, action), recipient: { name: target.label } };
      const delivery = await this.deliveries.enqueue(
        rule.tenantId,
        {
          channel,
          to: target.address ?? null,
          contactId: target.contact?.id ?? null,
          userId: target.user?.id ?? null,
          templateName: template ?? null,
          text: template ? null : textFor ? textFor(target) : renderTemplate(String(action.text), values),
          variables: values,
          notificationType: (action.notificationType as string) ?? (textFor ? 'report' : 'automation'),
          idempotencyKey: `rule:${execution.id}:${index}:${target.key}`,
          ticketId: (facts.ticket?.id as string) ?? null,
          ticketMessageId: carriedMessage(facts, target),
          ruleExecutionId: execution.id,
          validForMinutes: typeof action.validForMinutes === 'number' ? action.validForMinutes : null,
          fallbackChannels,
        },
        uow,
      );
      ids.push(delivery.id);
    }
    return ids;
  }

  /** Who a message goes to, each once. */
  private async recipients(
    manager: EntityManager,
    tenantId: string,
    wanted: Array<Record<string, unknown>>,
    facts: Facts,
  ): Promise<Target[]> {
    const targets = new Map<string, Target>();
    const addUser = (user: User | null | undefined) =>
      user && user.active && targets.set(`user:${user.id}`, { key: `user:${user.id}`, label: user.name, user });
    const userById = (id: unknown) =>
      typeof id === 'string' ? manager.findOneBy(User, { id, tenantId }) : Promise.resolve(null);
    for (const recipient of wanted) {
      switch (recipient.type) {
        case 'contact':
        case 'requester': {
          const contact = facts.contact as unknown as Contact | null;
          if (contact) targets.set(`contact:${contact.id}`, { key: `contact:${contact.id}`, label: contact.name, contact });
          break;
        }
        case 'assignee':
          addUser(await userById(facts.ticket?.assigneeId));
          break;
        case 'record_owner':
          addUser(await userById(facts.record?.ownerId));
          break;
        case 'owner_manager': {
          let user = await userById(facts.record?.ownerId ?? facts.ticket?.assigneeId ?? facts.user?.id);
          for (let level = 0; level < ((recipient.levels as number) ?? 1) && user; level++) user = await userById(user.managerId);
          addUser(user);
          break;
        }
        case 'role':
          for (const user of await manager.findBy(User, { tenantId, role: recipient.role as StaffRole, active: true }))
            addUser(user);
          break;
        case 'each_technician':
          for (const user of await manager.findBy(User, { tenantId, role: Role.TECHNICIAN, active: true })) addUser(user);
          break;
        case 'user':
          addUser(await userById(recipient.userId));
          break;
        case 'address':
          targets.set(`address:${String(recipient.address)}`, {
            key: `address:${String(recipient.address)}`,
            label: String(recipient.address),
            address: String(recipient.address),
          });
          break;
        case 'whatsapp_group':
          targets.set(`group:${String(recipient.group)}`, {
            key: `group:${String(recipient.group)}`,
            label: String(recipient.group),
            address: String(recipient.group),
            group: true,
          });
          break;
      }
    }
    return [...targets.values()];
  }

  /** Rule actions are recorded as the tenant's Automation user, named after the rule. */
  private actor(manager: EntityManager, rule: AutomationRule): Promise<StaffPrincipal> {
    return automationActor(manager, rule.tenantId, `Automation: ${rule.name}`);
  }

  private async finishActed(
    manager: EntityManager,
    rule: AutomationRule,
    execution: RuleExecution,
    outcomes: ActionOutcome[],
    now: Date,
    insert: boolean,
  ): Promise<ExecutionResult> {
    const failed = outcomes.filter((outcome) => outcome.status === 'failed');
    const status = failed.length ? RuleExecutionStatus.FAILED : RuleExecutionStatus.SUCCEEDED;
    const reason = failed.length ? `${failed.length} of ${outcomes.length} actions failed: ${failed[0].error}` : null;
    await manager.query(
      `UPDATE automation_rule SET "executionCount" = "executionCount" + 1, "successCount" = "successCount" + $2,
              "failureCount" = "failureCount" + $3, "lastExecutedAt" = $4 WHERE id = $1`,
      [rule.id, failed.length ? 0 : 1, failed.length ? 1 : 0, now],
    );
    return this.finish(manager, execution, status, reason, outcomes, now, insert);
  }

  private async finish(
    manager: EntityManager,
    execution: RuleExecution,
    status: RuleExecutionStatus,
    reason: string | null,
    outcomes: ActionOutcome[],
    now: Date,
    insert = true,
  ): Promise<ExecutionResult> {
    Object.assign(execution, { status, reason, actionOutcomes: outcomes, finishedAt: now });
    if (insert) await insertExecution(manager, execution);
    else await manager.update(RuleExecution, { id: execution.id }, { status, reason, actionOutcomes: outcomes, finishedAt: now });
    return { execution, fresh: true };
  }

  /** The messages an execution queued, for dry runs. */
  static deliveriesOf(manager: EntityManager, executionId: string): Promise<Delivery[]> {
    return manager.find(Delivery, { where: { ruleExecutionId: executionId }, order: { createdAt: 'ASC' } });
  }
}

/**
 * A record's dates as the recipient reads them, in their time zone and language:
 * dueDate "1 Des 2026", scheduledTime "09:30", for messages (the *At fields stay ISO 8601).
 */
function localDates(record: BusinessRecord, contact: Contact | null, tenant: Tenant): Record<string, string | null> {
  const zone = contact?.timezone ?? tenant.timezone;
  const locale = contact?.locale ?? tenant.locale;
  const local = (date: Date | null) => (date ? DateTime.fromJSDate(date, { zone }).setLocale(locale) : null);
  return {
    dueDate: local(record.dueAt)?.toLocaleString(DateTime.DATE_MED) ?? null,
    expiresDate: local(record.expiresAt)?.toLocaleString(DateTime.DATE_MED) ?? null,
    sentDate: local(record.sentAt)?.toLocaleString(DateTime.DATE_MED) ?? null,
    scheduledDate: local(record.scheduledAt)?.toLocaleString(DateTime.DATE_MED) ?? null,
    scheduledTime: local(record.scheduledAt)?.toFormat('HH:mm') ?? null,
  };
}

interface Target {
  key: string;
  label: string;
  contact?: Contact;
  user?: User;
  address?: string;
  group?: boolean;
}

/** Whether the target has an address on the channel (and has not opted out of it). */
function reachable(target: Target, channel: Channel): boolean {
  if (target.group) return channel === Channel.WHATSAPP;
  if (target.address) {
    const address = target.address;
    if (channel === Channel.EMAIL) return address.includes('@');
    if (channel === Channel.WEBHOOK) return /^https?:\/\//.test(address);
    return /^\+?\d[\d\s-]{5,}$/.test(address);
  }
  const person = target.contact ?? target.user;
  if (!person) return false;
  if (target.contact?.optedOutChannels?.includes(channel)) return false;
  if (channel === Channel.EMAIL) return !!person.email;
  if (channel === Channel.WEBHOOK) return false;
  return !!person.phone;
}

/** Template variables: the facts, then the action's own. */
function variables(facts: Facts, action: Record<string, unknown>): Record<string, unknown> {
  return {
    contact: facts.contact ?? undefined,
    ticket: facts.ticket ?? undefined,
    record: facts.record ?? undefined,
    event: facts.event ?? undefined,
    tenant: facts.tenant,
    ...((action.variables as Record<string, unknown>) ?? {}),
  };
}

/**
 * A failure that belongs to the action (bad data, missing address, a refused transition)
 * is recorded and the rule goes on; a lost connection or a serialization failure is the
 * transaction's, and is thrown for the relay to retry.
 */
function isActionFailure(error: unknown): boolean {
  if (error instanceof DomainError) return true;
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string') return false;
  return !(code.startsWith('40') || code.startsWith('08') || code.startsWith('57') || code.startsWith('53'));
}

/** TypeORM's insert types do not take JSON columns typed as records; the rows are whole. */
function insertExecutions(manager: EntityManager, executions: RuleExecution[]) {
  if (!executions.length) return Promise.resolve();
  const rows = executions.map(({ rule: _rule, tenant: _tenant, ...row }) => row);
  return manager.insert(RuleExecution, rows as never);
}

function insertExecution(manager: EntityManager, execution: RuleExecution) {
  return insertExecutions(manager, [execution]);
}

/**
 * The thread message a send carries: an agent's reply, relayed to the ticket's requester
 * from the `ticket.message_added` event this service recorded (never one sent in from outside).
 */
function carriedMessage(facts: Facts, target: Target): string | null {
  const event = facts.event;
  if (event?.type !== 'ticket.message_added' || event.source !== 'internal') return null;
  const messageId = (event.payload as Record<string, unknown> | null)?.messageId;
  if (typeof messageId !== 'string' || !target.contact || target.contact.id !== facts.ticket?.requesterId) return null;
  return messageId;
}
