import type { DataSource, EntityManager } from 'typeorm';
import { Channel } from '../../entities/channel';
import {
  type EscalationLevelSpec,
  EscalationPolicy,
  type EscalationTarget,
  EscalationTargetKind,
} from '../../entities/escalation-policy.entity';
import { Escalation, EscalationStatus } from '../../entities/escalation.entity';
import { formatTicketReference, type Ticket, TicketCategory, TicketPriority } from '../../entities/ticket.entity';
import { Role, STAFF_ROLES } from '../../entities/user.entity';
import type { Clock } from '../platform/clock';
import type { DeliveryService } from '../delivery/delivery.service';
import {
  composeDigest,
  type DigestItem,
  type DigestPlace,
  plural,
  recordDigestItem,
  styleOfLevel,
  ticketDigestItem,
} from './escalation-digest';
import { DomainError, ErrorCode, badInput, conflict, forbidden, notFound } from '../platform/errors';
import {
  type Page,
  type PageRequest,
  cursorValue,
  encodeCursor,
  finishKeyset,
  newestFirstPage,
  planKeyset,
} from '../platform/pagination';
import type { StaffPrincipal } from '../directory/principal';
import { activeStaff, notifyStaff, type StaffContact, supervisorsOf } from './staff-notices';
import { returningRows } from '../platform/sql';
import { templateVariables } from '../delivery/template-rendering';
import { UNFINISHED_SQL, UNFINISHED_STATUSES } from '../tickets/ticket-workflow';
import type { Transactor, UnitOfWork } from '../platform/unit-of-work';

/** Product default: 1 h, 2 h, 4 h and 8 h after breach, up the hierarchy and then to supervisors and admins. */
export const DEFAULT_ESCALATION_LEVELS: EscalationLevelSpec[] = [
  { afterMinutes: 60, target: { kind: EscalationTargetKind.MANAGER_CHAIN, depth: 1 } },
  { afterMinutes: 120, target: { kind: EscalationTargetKind.MANAGER_CHAIN, depth: 2 } },
  { afterMinutes: 240, target: { kind: EscalationTargetKind.ROLE, role: Role.SUPERVISOR } },
  { afterMinutes: 480, target: { kind: EscalationTargetKind.ROLE, role: Role.ADMIN } },
].map((level, index) => ({ ...level, level: index + 1, channels: [Channel.WHATSAPP, Channel.EMAIL], intro: null }));

const DEFAULT_CRITICAL_AFTER_MINUTES = 24 * 60;
const RECORD_KIND = /^[a-z][a-z0-9_]{0,49}$/;
const INTRO_VARIABLES = ['recipientName', 'count', 'level'];
const STAFF_CHANNELS = [Channel.WHATSAPP, Channel.SMS, Channel.EMAIL];
/** The earliest due time a ticket has missed (an answered first response no longer counts). */
const DUE_SQL = `LEAST(CASE WHEN t."firstRespondedAt" IS NULL THEN t."firstResponseDueAt" END, t."resolutionDueAt")`;
/** Unfinished tickets of tenant $1 past a due time at or before $2 (served by the two partial due-time indexes). */
const OVERDUE_SQL = `
  SELECT t.id, t.number, t.subject, t.category, t.priority, t."assigneeId", t."escalationLevel", ${DUE_SQL} AS "dueAt"
    FROM ticket t
   WHERE t."tenantId" = $1 AND t.status IN ${UNFINISHED_SQL}
     AND ((t."firstRespondedAt" IS NULL AND t."firstResponseDueAt" <= $2) OR t."resolutionDueAt" <= $2)`;

/** A policy as it applies: the tenant's row, or the built-in default (id null). */
export interface EffectiveEscalationPolicy {
  id: string | null;
  name: string;
  category: TicketCategory | null;
  priority: TicketPriority | null;
  /** Set: escalates overdue business records of this kind instead of tickets. */
  recordKind: string | null;
  levels: EscalationLevelSpec[];
  criticalAfterMinutes: number;
  active: boolean;
}

export interface EscalationLevelInput {
  afterMinutes?: number | null;
  afterDays?: number | null;
  target: EscalationTarget;
  channels: Channel[];
  intro?: string | null;
}

export interface EscalationPolicyInput {
  name: string;
  category?: TicketCategory | null;
  priority?: TicketPriority | null;
  recordKind?: string | null;
  levels: EscalationLevelInput[];
  criticalAfterMinutes?: number | null;
  active?: boolean | null;
}

export interface EscalationRunSummary {
  closedEscalations: number;
  escalatedTickets: number;
  /** Business records (trainings, service jobs...) raised to a new level. */
  escalatedRecords: number;
  escalations: number;
  messages: number;
  /** Escalations whose level had nobody to reach (no manager, no one in the role). */
  unroutable: number;
}

export interface EscalationFilter {
  level?: number | null;
  status?: EscalationStatus | null;
  recipientId?: string | null;
  ticketId?: string | null;
  from?: Date | null;
  to?: Date | null;
}

export interface OverdueFilter {
  /** `ticket`, or a record kind such as training. */
  kind?: string | null;
  category?: TicketCategory | null;
  priority?: TicketPriority | null;
  assigneeId?: string | null;
  /** Records whose person's (or the record's) store attribute is this. */
  store?: string | null;
  /** Only items at this escalation level (0: not escalated yet). */
  level?: number | null;
  minOverdueMinutes?: number | null;
}

export interface OverdueItem {
  /** `ticket`, or the record's kind. */
  kind: string;
  ticketId: string | null;
  recordId: string | null;
  reference: string;
  subject: string;
  category: TicketCategory | null;
  priority: TicketPriority | null;
  assigneeId: string | null;
  /** The person whose work it is: a ticket's assignee, a record's staff subject or owner. */
  personId: string | null;
  personName: string | null;
  /** Their store, or team (their manager's). */
  group: string | null;
  dueAt: Date;
  overdueMinutes: number;
  escalationLevel: number;
}

export interface EscalationLevelStats {
  level: number;
  count: number;
  acknowledged: number;
  meanSecondsToAcknowledge: number | null;
}

export interface EscalationRecipientStats extends Omit<EscalationLevelStats, 'level'> {
  recipientId: string;
  recipientName: string;
}

export interface EscalationStats {
  total: number;
  acknowledged: number;
  resolved: number;
  meanSecondsToAcknowledge: number | null;
  perLevel: EscalationLevelStats[];
  perRecipient: EscalationRecipientStats[];
}

/** Closes the open escalations of a ticket that was resolved or closed (same transaction). */
export async function closeEscalationsOf(manager: EntityManager, ticketId: string, now: Date): Promise<void> {
  await manager.query(
    `UPDATE escalation SET status = 'resolved', "resolvedAt" = $2 WHERE "ticketId" = $1 AND status <> 'resolved'`,
    [ticketId, now],
  );
}

function specificity(policy: EffectiveEscalationPolicy): number {
  return (policy.category ? 2 : 0) + (policy.priority ? 1 : 0);
}

/** The most specific active ticket policy that covers the ticket. */
export function policyFor(
  policies: EffectiveEscalationPolicy[],
  ticket: { category: TicketCategory; priority: TicketPriority },
): EffectiveEscalationPolicy {
  return policies
    .filter((policy) => !policy.recordKind)
    .filter(
      (policy) =>
        (!policy.category || policy.category === ticket.category) && (!policy.priority || policy.priority === ticket.priority),
    )
    .sort((a, b) => specificity(b) - specificity(a))[0];
}

/**
 * Who a level reaches for one item; a manager chain climbs from `chainFrom` (a ticket's
 * assignee, a record's person) and falls back to the supervisors when it runs out.
 */
export function recipientsOf(
  target: EscalationTarget,
  chainFrom: string | null,
  staff: Map<string, StaffContact>,
): StaffContact[] {
  if (target.kind === EscalationTargetKind.USER) {
    const user = target.userId ? staff.get(target.userId) : undefined;
    return user ? [user] : [];
  }
  if (target.kind === EscalationTargetKind.ROLE) {
    return [...staff.values()].filter((user) => user.role === target.role);
  }
  let current = chainFrom ? staff.get(chainFrom) : undefined;
  for (let step = 0; current && step < (target.depth ?? 1); step++) {
    current = current.managerId ? staff.get(current.managerId) : undefined;
  }
  return current ? [current] : supervisorsOf(staff);
}

function teamOf(assigneeId: string | null, staff: Map<string, StaffContact>): string {
  const assignee = assigneeId ? staff.get(assigneeId) : undefined;
  if (!assignee) return 'Unassigned';
  const lead = assignee.managerId ? staff.get(assignee.managerId) : undefined;
  return `Team ${(lead ?? assignee).name}`;
}

function toEffective(row: EscalationPolicy): EffectiveEscalationPolicy {
  const { id, name, category, priority, recordKind, levels, criticalAfterMinutes, active } = row;
  return { id, name, category, priority, recordKind, levels, criticalAfterMinutes, active };
}

const DEFAULT_POLICY: EffectiveEscalationPolicy = {
  id: null,
  name: 'Default',
  category: null,
  priority: null,
  recordKind: null,
  levels: DEFAULT_ESCALATION_LEVELS,
  criticalAfterMinutes: DEFAULT_CRITICAL_AFTER_MINUTES,
  active: true,
};

interface OverdueRow {
  id: string;
  number: number;
  subject: string;
  category: TicketCategory;
  priority: TicketPriority;
  assigneeId: string | null;
  escalationLevel: number;
  dueAt: Date;
}

interface OverdueRecordRow {
  id: string;
  kind: string;
  externalId: string;
  title: string | null;
  escalationLevel: number;
  dueAt: Date;
  personId: string | null;
  personName: string | null;
  personExternalId: string | null;
  store: string | null;
}

/** Something overdue the run may raise: a ticket or a business record. */
interface OverdueSubject {
  kind: 'ticket' | 'record';
  id: string;
  escalationLevel: number;
  dueAt: Date;
  /** Where a manager chain starts: the ticket's assignee, the record's person (its staff subject, else its owner). */
  chainFrom: string | null;
  digestItem(place: DigestPlace): DigestItem;
}

interface Planned {
  subject: OverdueSubject;
  spec: EscalationLevelSpec;
  policy: EffectiveEscalationPolicy;
  recipient: StaffContact;
  overdueMinutes: number;
}

/** Whole minutes from a due time to now (negative before it). */
function minutesOverdue(dueAt: Date | string, now: Date): number {
  return Math.floor((now.getTime() - new Date(dueAt).getTime()) / 60_000);
}

/** How far back a run must look for these policies (their earliest first level), and their deepest ladder. */
function reachOf(policies: EffectiveEscalationPolicy[], now: Date): { cutoff: Date; deepest: number } {
  const earliest = Math.min(...policies.map((policy) => policy.levels[0].afterMinutes));
  return {
    cutoff: new Date(now.getTime() - earliest * 60_000),
    deepest: Math.max(...policies.map((policy) => policy.levels.length)),
  };
}

/** A record kind as people say it: service_job -> service job. */
const nounOf = (kind: string) => kind.replace(/_/g, ' ');

/** Overdue, unfinished records of tenant $1 of the kinds $2, due at or before $3, below level $4 (the due index). */
const OVERDUE_RECORDS_SQL = `
  SELECT r.id, r.kind, r."externalId", r.title, r."escalationLevel", r."dueAt",
         p.id AS "personId", p.name AS "personName", p."externalId" AS "personExternalId",
         COALESCE(p.attributes->>'store', r.attributes->>'store') AS store
    FROM business_record r
    LEFT JOIN "user" p ON p.id = COALESCE(r."userId", r."ownerId") AND p."tenantId" = r."tenantId"
   WHERE r."tenantId" = $1 AND r.kind = ANY($2::varchar[]) AND r."completedAt" IS NULL AND r."dueAt" <= $3`;

/**
 * Escalation up the management hierarchy: policies, the run that raises overdue
 * tickets level by level with one consolidated message per recipient, manual
 * escalation, acknowledgement, and the figures.
 */
export class EscalationService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly transactor: Transactor,
    private readonly deliveries: DeliveryService,
    private readonly clock: Clock,
  ) {}

  /** The tenant's policies; the built-in default stands in until a default-scope policy is saved. */
  async policies(tenantId: string, manager: EntityManager = this.dataSource.manager): Promise<EffectiveEscalationPolicy[]> {
    const rows = (await manager.find(EscalationPolicy, { where: { tenantId }, order: { createdAt: 'ASC' } })).map(toEffective);
    const ticketDefault = rows.some((policy) => !policy.recordKind && !policy.category && !policy.priority);
    return ticketDefault ? rows : [DEFAULT_POLICY, ...rows];
  }

  /**
   * Creates or replaces the policy of one scope: for tickets a category and/or priority, or
   * neither for the default; for business records a record kind (e.g. training).
   */
  async updatePolicy(actor: StaffPrincipal, input: EscalationPolicyInput): Promise<EffectiveEscalationPolicy> {
    const name = input.name.trim();
    if (!name || name.length > 100) throw badInput('A policy name is 1 to 100 characters', 'name');
    const recordKind = input.recordKind?.trim() || null;
    if (recordKind && !RECORD_KIND.test(recordKind)) {
      throw badInput('A record kind is a lower-case word such as training or service_job', 'recordKind');
    }
    if (recordKind && (input.category || input.priority)) {
      throw badInput('A policy for a record kind has no ticket category or priority', 'recordKind');
    }
    const criticalAfterMinutes = input.criticalAfterMinutes ?? DEFAULT_CRITICAL_AFTER_MINUTES;
    if (!Number.isInteger(criticalAfterMinutes) || criticalAfterMinutes < 1) {
      throw badInput('criticalAfterMinutes must be a whole number of minutes, 1 or more', 'criticalAfterMinutes');
    }
    return this.transactor.run(async (uow) => {
      const { manager } = uow;
      const levels = await this.validLevels(manager, actor.tenantId, input.levels);
      // One policy per scope: concurrent updates of a tenant's policies take turns.
      await manager.query(`SELECT pg_advisory_xact_lock(hashtext('escalation-policy:' || $1))`, [actor.tenantId]);
      const category = input.category ?? null;
      const priority = input.priority ?? null;
      const existing = await manager
        .createQueryBuilder(EscalationPolicy, 'p')
        .where('p."tenantId" = :tenantId', { tenantId: actor.tenantId })
        .andWhere('p.category IS NOT DISTINCT FROM CAST(:category AS ticket_category)', { category })
        .andWhere('p.priority IS NOT DISTINCT FROM CAST(:priority AS ticket_priority)', { priority })
        .andWhere('p."recordKind" IS NOT DISTINCT FROM CAST(:recordKind AS varchar)', { recordKind })
        .getOne();
      const saved = await manager.save(
        manager.create(EscalationPolicy, {
          ...(existing ?? {}),
          tenantId: actor.tenantId,
          name,
          category,
          priority,
          recordKind,
          levels,
          criticalAfterMinutes,
          active: input.active ?? true,
        }),
      );
      await uow.record({
        tenantId: actor.tenantId,
        type: 'escalation.policy_updated',
        subjectType: 'escalation_policy',
        subjectId: saved.id,
        payload: { name, category, priority, recordKind, levels: levels.length },
        actorId: actor.userId,
      });
      return toEffective(saved);
    });
  }

  private async validLevels(manager: EntityManager, tenantId: string, input: EscalationLevelInput[]) {
    if (!input.length || input.length > 10) throw badInput('A policy has 1 to 10 levels', 'levels');
    const levels: EscalationLevelSpec[] = [];
    for (const [index, level] of input.entries()) {
      const field = `levels.${index}`;
      if ((level.afterMinutes == null) === (level.afterDays == null)) {
        throw badInput('Give each level either afterMinutes or afterDays', field);
      }
      const afterMinutes = level.afterMinutes ?? Math.round((level.afterDays ?? 0) * 1440);
      if (!Number.isInteger(afterMinutes) || afterMinutes < 0) throw badInput('A level threshold is 0 or more', field);
      if (index > 0 && afterMinutes <= levels[index - 1].afterMinutes) {
        throw badInput('Each level must start later than the one before it', field);
      }
      const channels = [...new Set(level.channels)];
      if (!channels.length || channels.some((channel) => !STAFF_CHANNELS.includes(channel))) {
        throw badInput('A level sends on WHATSAPP, SMS and/or EMAIL', `${field}.channels`);
      }
      const intro = level.intro?.trim() || null;
      const unknown = intro ? templateVariables(intro).filter((name) => !INTRO_VARIABLES.includes(name)) : [];
      if (unknown.length) {
        throw badInput(
          `The intro may use {{recipientName}}, {{count}} and {{level}}, not ${unknown.join(', ')}`,
          `${field}.intro`,
        );
      }
      levels.push({
        level: index + 1,
        afterMinutes,
        target: await this.validTarget(manager, tenantId, level.target, field),
        channels,
        intro,
      });
    }
    return levels;
  }

  private async validTarget(manager: EntityManager, tenantId: string, target: EscalationTarget, field: string) {
    switch (target.kind) {
      case EscalationTargetKind.MANAGER_CHAIN: {
        const depth = target.depth ?? 1;
        if (!Number.isInteger(depth) || depth < 1 || depth > 10)
          throw badInput('A manager-chain depth is 1 to 10', `${field}.target.depth`);
        return { kind: target.kind, depth };
      }
      case EscalationTargetKind.ROLE:
        if (!target.role || !(STAFF_ROLES as readonly Role[]).includes(target.role)) {
          throw badInput('A role target names a staff role', `${field}.target.role`);
        }
        return { kind: target.kind, role: target.role };
      case EscalationTargetKind.USER: {
        if (!target.userId) throw badInput('A user target names an active staff user of this tenant', `${field}.target.userId`);
        const found = await manager.query(
          `SELECT 1 FROM "user" WHERE id = $1 AND "tenantId" = $2 AND active AND role <> 'customer'`,
          [target.userId, tenantId],
        );
        // Another tenant's user is as unknown here as a made-up id.
        if (!found.length) {
          throw new DomainError(ErrorCode.NotFound, `User ${target.userId} was not found among this tenant's active staff`, {
            id: target.userId,
            field: `${field}.target.userId`,
          });
        }
        return { kind: target.kind, userId: target.userId };
      }
    }
  }

  /**
   * One escalation pass for one tenant, in one transaction: closes escalations of
   * resolved tickets (a record's close when it is completed), raises every overdue ticket and every overdue
   * record of a kind with a policy to the highest level it has reached and not yet been
   * escalated to (never the same level twice), and sends each recipient one message that
   * groups all their items of this run, whatever their kind.
   */
  async run(tenantId: string, runId: string): Promise<EscalationRunSummary> {
    return this.transactor.run(async (uow) => {
      const { manager } = uow;
      await manager.query(`SELECT pg_advisory_xact_lock(hashtext('escalations:' || $1))`, [tenantId]);
      const now = this.clock.now();
      const closedTickets = returningRows(
        await manager.query(
          `UPDATE escalation e SET status = 'resolved', "resolvedAt" = $2
           FROM ticket t
          WHERE e."ticketId" = t.id AND e."tenantId" = $1 AND e.status <> 'resolved' AND t.status NOT IN ${UNFINISHED_SQL}
          RETURNING e.id`,
          [tenantId, now],
        ),
      );
      const summary: EscalationRunSummary = {
        // A record's escalations close when it is marked completed (records.upsertIn), at once.
        closedEscalations: closedTickets.length,
        escalatedTickets: 0,
        escalatedRecords: 0,
        escalations: 0,
        messages: 0,
        unroutable: 0,
      };
      const policies = (await this.policies(tenantId, manager)).filter((policy) => policy.active);
      const ticketPolicies = policies.filter((policy) => !policy.recordKind);
      const recordPolicies = new Map(
        policies.filter((policy) => policy.recordKind).map((policy) => [policy.recordKind!, policy]),
      );
      const staff = await activeStaff(manager, tenantId);
      const candidates: Array<{ subject: OverdueSubject; policy: EffectiveEscalationPolicy }> = [
        ...(await this.overdueTickets(manager, tenantId, now, ticketPolicies, staff)),
        ...(await this.overdueRecords(manager, tenantId, now, recordPolicies, staff)),
      ];
      if (!candidates.length) return summary;

      const planned: Planned[] = [];
      const raised = { ticket: new Map<string, number>(), record: new Map<string, number>() };
      for (const { subject, policy } of candidates) {
        const overdueMinutes = minutesOverdue(subject.dueAt, now);
        const spec = policy.levels.filter((level) => level.afterMinutes <= overdueMinutes).at(-1);
        if (!spec || spec.level <= subject.escalationLevel) continue;
        raised[subject.kind].set(subject.id, spec.level);
        const recipients = recipientsOf(spec.target, subject.chainFrom, staff);
        if (!recipients.length) summary.unroutable++;
        for (const recipient of recipients) planned.push({ subject, spec, policy, recipient, overdueMinutes });
      }
      summary.escalatedTickets = raised.ticket.size;
      summary.escalatedRecords = raised.record.size;
      if (!raised.ticket.size && !raised.record.size) return summary;

      for (const [table, levels] of [
        ['ticket', raised.ticket],
        ['business_record', raised.record],
      ] as const) {
        if (!levels.size) continue;
        await manager.query(
          `UPDATE ${table} t SET "escalationLevel" = v.level FROM unnest($1::uuid[], $2::int[]) AS v(id, level)
            WHERE t.id = v.id AND t.id = ANY($1::uuid[])`,
          [[...levels.keys()], [...levels.values()]],
        );
      }
      const inserted = await this.insertEscalations(manager, tenantId, runId, now, planned);
      summary.escalations = inserted.size;
      await this.recordEscalated(uow, tenantId, planned, inserted);
      summary.messages = await this.sendDigests(uow, tenantId, runId, planned, inserted);
      return summary;
    });
  }

  /** Unfinished overdue tickets that a level of their policy may have reached, with that policy. */
  private async overdueTickets(
    manager: EntityManager,
    tenantId: string,
    now: Date,
    policies: EffectiveEscalationPolicy[],
    staff: Map<string, StaffContact>,
  ): Promise<Array<{ subject: OverdueSubject; policy: EffectiveEscalationPolicy }>> {
    if (!policies.length) return [];
    const { cutoff, deepest } = reachOf(policies, now);
    const rows: OverdueRow[] = await manager.query(`${OVERDUE_SQL} AND t."escalationLevel" < $3`, [tenantId, cutoff, deepest]);
    return rows.map((ticket) => ({
      policy: policyFor(policies, ticket) ?? DEFAULT_POLICY,
      subject: {
        kind: 'ticket',
        id: ticket.id,
        escalationLevel: ticket.escalationLevel,
        dueAt: ticket.dueAt,
        chainFrom: ticket.assigneeId,
        digestItem: (place) =>
          ticketDigestItem(
            {
              reference: formatTicketReference(ticket.number),
              subject: ticket.subject,
              priority: ticket.priority,
              assigneeName: ticket.assigneeId ? (staff.get(ticket.assigneeId)?.name ?? null) : null,
              team: teamOf(ticket.assigneeId, staff),
            },
            place,
          ),
      },
    }));
  }

  /** Uncompleted records past their due time, of the kinds that have an active policy. */
  private async overdueRecords(
    manager: EntityManager,
    tenantId: string,
    now: Date,
    policies: Map<string, EffectiveEscalationPolicy>,
    staff: Map<string, StaffContact>,
  ): Promise<Array<{ subject: OverdueSubject; policy: EffectiveEscalationPolicy }>> {
    if (!policies.size) return [];
    const { cutoff, deepest } = reachOf([...policies.values()], now);
    const rows: OverdueRecordRow[] = await manager.query(`${OVERDUE_RECORDS_SQL} AND r."escalationLevel" < $4`, [
      tenantId,
      [...policies.keys()],
      cutoff,
      deepest,
    ]);
    return rows.map((record) => ({
      policy: policies.get(record.kind)!,
      subject: {
        kind: 'record',
        id: record.id,
        escalationLevel: record.escalationLevel,
        dueAt: record.dueAt,
        chainFrom: record.personId,
        digestItem: (place) =>
          recordDigestItem(
            {
              noun: nounOf(record.kind),
              title: record.title ?? record.externalId,
              personName: record.personName ?? 'Nobody',
              personExternalId: record.personExternalId,
              group: record.store ?? teamOf(record.personId, staff),
              groupNoun: record.store ? 'store' : 'team',
            },
            place,
          ),
      },
    }));
  }

  /** Inserts the planned escalations, skipping any (item, level, recipient) already raised; returns ids by plan index. */
  private async insertEscalations(manager: EntityManager, tenantId: string, runId: string, now: Date, planned: Planned[]) {
    const key = (subjectId: string, level: number, recipientId: string) => `${subjectId}:${level}:${recipientId}`;
    const ids = new Map<string, string>();
    for (const kind of ['ticket', 'record'] as const) {
      const plans = planned.filter((plan) => plan.subject.kind === kind);
      if (!plans.length) continue;
      const column = kind === 'ticket' ? '"ticketId"' : '"recordId"';
      const conflict =
        kind === 'ticket'
          ? '("ticketId", level, "recipientId") WHERE manual = false'
          : '("recordId", level, "recipientId") WHERE manual = false AND "recordId" IS NOT NULL';
      const rows: Array<{ subjectId: string; id: string; level: number; recipientId: string }> = await manager.query(
        `INSERT INTO escalation ("tenantId", ${column}, level, "recipientId", reason, "overdueMinutes", "runId", "createdAt")
         SELECT $1, v.subject, v.level, v.recipient, v.reason, v.overdue, $2, $3
           FROM unnest($4::uuid[], $5::int[], $6::uuid[], $7::text[], $8::int[]) AS v(subject, level, recipient, reason, overdue)
         ON CONFLICT ${conflict} DO NOTHING
         RETURNING id, ${column} AS "subjectId", level, "recipientId"`,
        [
          tenantId,
          runId,
          now,
          plans.map((plan) => plan.subject.id),
          plans.map((plan) => plan.spec.level),
          plans.map((plan) => plan.recipient.id),
          plans.map((plan) => {
            const overdue =
              kind === 'ticket' ? `${plan.overdueMinutes} min` : plural(Math.floor(plan.overdueMinutes / 1440), 'day');
            return `Overdue by ${overdue}: level ${plan.spec.level} of policy "${plan.policy.name}"`;
          }),
          plans.map((plan) => plan.overdueMinutes),
        ],
      );
      for (const row of rows) ids.set(key(row.subjectId, row.level, row.recipientId), row.id);
    }
    const byPlan = new Map<number, string>();
    planned.forEach((plan, index) => {
      const id = ids.get(key(plan.subject.id, plan.spec.level, plan.recipient.id));
      if (id) byPlan.set(index, id);
    });
    return byPlan;
  }

  /** One `ticket.escalated` or `record.escalated` event per item raised. */
  private async recordEscalated(
    uow: UnitOfWork,
    tenantId: string,
    planned: Planned[],
    inserted: Map<number, string>,
  ): Promise<void> {
    const bySubject = new Map<string, { plan: Planned; recipients: string[] }>();
    for (const [index, plan] of planned.entries()) {
      if (!inserted.has(index)) continue;
      const entry = bySubject.get(plan.subject.id) ?? { plan, recipients: [] };
      entry.recipients.push(plan.recipient.id);
      bySubject.set(plan.subject.id, entry);
    }
    await uow.recordAll(
      [...bySubject.values()].map(({ plan, recipients }) => ({
        tenantId,
        type: plan.subject.kind === 'ticket' ? 'ticket.escalated' : 'record.escalated',
        subjectType: plan.subject.kind === 'ticket' ? 'ticket' : 'business_record',
        subjectId: plan.subject.id,
        payload: { level: plan.spec.level, overdueMinutes: plan.overdueMinutes, recipients, manual: false },
      })),
    );
  }

  /** One message per recipient for all their escalations of this run, of every kind. */
  private async sendDigests(
    uow: UnitOfWork,
    tenantId: string,
    runId: string,
    planned: Planned[],
    inserted: Map<number, string>,
  ): Promise<number> {
    const byRecipient = new Map<string, Array<{ plan: Planned; escalationId: string }>>();
    for (const [index, plan] of planned.entries()) {
      const escalationId = inserted.get(index);
      if (!escalationId) continue;
      const entries = byRecipient.get(plan.recipient.id) ?? [];
      entries.push({ plan, escalationId });
      byRecipient.set(plan.recipient.id, entries);
    }
    let messages = 0;
    for (const entries of byRecipient.values()) {
      const recipient = entries[0].plan.recipient;
      const items: DigestItem[] = entries.map(({ plan }) =>
        plan.subject.digestItem({
          level: plan.spec.level,
          style: styleOfLevel(plan.spec.level, plan.policy.levels.length),
          intro: plan.spec.intro,
          overdueMinutes: plan.overdueMinutes,
          criticalAfterMinutes: plan.policy.criticalAfterMinutes,
        }),
      );
      const top = entries.reduce((best, entry) => (entry.plan.spec.level > best.plan.spec.level ? entry : best));
      const escalationIds = entries.map((entry) => entry.escalationId);
      const only = entries.length === 1 ? entries[0].plan.subject : null;
      const delivery = await notifyStaff(
        this.deliveries,
        uow,
        tenantId,
        recipient,
        {
          ...composeDigest(recipient.name, items),
          notificationType: 'escalation',
          idempotencyKey: `escalation-run:${runId}:user:${recipient.id}`,
          ticketId: only?.kind === 'ticket' ? only.id : null,
          escalationId: top.escalationId,
        },
        top.plan.spec.channels,
      );
      if (!delivery) continue;
      messages++;
      await uow.manager.query(
        `UPDATE escalation SET "deliveryIds" = array_append("deliveryIds", $1) WHERE id = ANY($2::uuid[])`,
        [delivery.id, escalationIds],
      );
    }
    return messages;
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

  list(tenantId: string, filter: EscalationFilter, page: PageRequest): Promise<Page<Escalation>> {
    const query = this.dataSource
      .getRepository(Escalation)
      .createQueryBuilder('e')
      .where('e."tenantId" = :tenantId', { tenantId });
    if (filter.level != null) query.andWhere('e.level = :level', { level: filter.level });
    if (filter.status) query.andWhere('e.status = :status', { status: filter.status });
    if (filter.recipientId) query.andWhere('e."recipientId" = :recipientId', { recipientId: filter.recipientId });
    if (filter.ticketId) query.andWhere('e."ticketId" = :ticketId', { ticketId: filter.ticketId });
    if (filter.from) query.andWhere('e."createdAt" >= :from', { from: filter.from });
    if (filter.to) query.andWhere('e."createdAt" < :to', { to: filter.to });
    return newestFirstPage(query, 'e', page);
  }

  /**
   * Overdue work of every kind, most overdue first: unfinished tickets past a due time and
   * uncompleted records past their due date (of the kinds with an escalation policy, or
   * the kind asked for). Ticket filters (category, priority, assignee) leave records out;
   * a store leaves tickets out.
   */
  async overdue(tenantId: string, filter: OverdueFilter, page: PageRequest): Promise<Page<OverdueItem>> {
    const now = this.clock.now();
    const cutoff = new Date(now.getTime() - (filter.minOverdueMinutes ?? 0) * 60_000);
    // One order over both sources: the missed due time, then the ticket's or record's id.
    const plan = planKeyset(page, 'dueAt', 'timestamp', 'ASC');
    const ticketOnly = !!(filter.category || filter.priority || filter.assigneeId);
    const wantTickets = (!filter.kind || filter.kind === 'ticket') && !filter.store;
    const kinds =
      filter.kind === 'ticket'
        ? []
        : filter.kind
          ? [filter.kind]
          : (await this.policies(tenantId)).filter((policy) => policy.active && policy.recordKind).map((p) => p.recordKind!);
    const staff = await activeStaff(this.dataSource.manager, tenantId);
    /** The page's slice of one source: past the cursor, in the plan's direction; and how many match in all. */
    const slice = async <T>(where: string, params: unknown[], due: string, id: string): Promise<[T[], number]> => {
      const [{ total }] = await this.dataSource.query(`SELECT count(*)::int AS total FROM (${where}) matching`, params);
      const n = params.length;
      const after = plan.cursor ? `AND (${due}, ${id}) ${plan.comparison} ($${n + 1}::timestamptz, $${n + 2}::uuid)` : '';
      const rows: T[] = await this.dataSource.query(
        `${where} ${after} ORDER BY ${due} ${plan.direction}, ${id} ${plan.direction} LIMIT ${plan.size + 1}`,
        plan.cursor ? [...params, plan.cursor.value, plan.cursor.id] : params,
      );
      return [rows, total];
    };
    const [tickets, ticketTotal]: [OverdueRow[], number] = wantTickets
      ? await slice<OverdueRow>(
          `${OVERDUE_SQL}
              AND ($3::ticket_category IS NULL OR t.category = $3)
              AND ($4::ticket_priority IS NULL OR t.priority = $4)
              AND ($5::uuid IS NULL OR t."assigneeId" = $5)
              AND ($6::int IS NULL OR t."escalationLevel" = $6)`,
          [tenantId, cutoff, filter.category ?? null, filter.priority ?? null, filter.assigneeId ?? null, filter.level ?? null],
          DUE_SQL,
          't.id',
        )
      : [[], 0];
    const [records, recordTotal]: [OverdueRecordRow[], number] =
      kinds.length && !ticketOnly
        ? await slice<OverdueRecordRow>(
            `${OVERDUE_RECORDS_SQL}
                AND ($4::text IS NULL OR COALESCE(p.attributes->>'store', r.attributes->>'store') = $4)
                AND ($5::int IS NULL OR r."escalationLevel" = $5)`,
            [tenantId, kinds, cutoff, filter.store ?? null, filter.level ?? null],
            'r."dueAt"',
            'r.id',
          )
        : [[], 0];
    const items: OverdueItem[] = [
      ...tickets.map((row) => ({
        kind: 'ticket',
        ticketId: row.id,
        recordId: null,
        reference: formatTicketReference(row.number),
        subject: row.subject,
        category: row.category,
        priority: row.priority,
        assigneeId: row.assigneeId,
        personId: row.assigneeId,
        personName: row.assigneeId ? (staff.get(row.assigneeId)?.name ?? null) : null,
        group: row.assigneeId ? teamOf(row.assigneeId, staff) : null,
        dueAt: new Date(row.dueAt),
        overdueMinutes: minutesOverdue(row.dueAt, now),
        escalationLevel: row.escalationLevel,
      })),
      ...records.map((row) => ({
        kind: row.kind,
        ticketId: null,
        recordId: row.id,
        reference: row.externalId,
        subject: row.title ?? row.externalId,
        category: null,
        priority: null,
        assigneeId: null,
        personId: row.personId,
        personName: row.personName,
        group: row.store ?? (row.personId ? teamOf(row.personId, staff) : null),
        dueAt: new Date(row.dueAt),
        overdueMinutes: minutesOverdue(row.dueAt, now),
        escalationLevel: row.escalationLevel,
      })),
    ];
    const idOf = (item: OverdueItem) => (item.ticketId ?? item.recordId)!;
    // The same order as SQL's: due time, then id (uuids compare as their text).
    const sign = plan.direction === 'ASC' ? 1 : -1;
    items.sort((a, b) => sign * (a.dueAt.getTime() - b.dueAt.getTime() || (idOf(a) < idOf(b) ? -1 : idOf(a) > idOf(b) ? 1 : 0)));
    return {
      totalCount: ticketTotal + recordTotal,
      ...finishKeyset(items.slice(0, plan.size + 1), plan, (item) => encodeCursor('dueAt', cursorValue(item.dueAt), idOf(item))),
    };
  }

  /** Escalations raised in [from, to): per level and per recipient, with the mean time to acknowledge. */
  async stats(tenantId: string, from: Date, to: Date): Promise<EscalationStats> {
    const figures = `count(*)::int AS count,
      count(e."acknowledgedAt")::int AS acknowledged,
      count(*) FILTER (WHERE e.status = 'resolved')::int AS resolved,
      avg(extract(epoch FROM e."acknowledgedAt" - e."createdAt"))::float AS "meanSecondsToAcknowledge"`;
    const where = `e."tenantId" = $1 AND e."createdAt" >= $2 AND e."createdAt" < $3`;
    const [{ count, ...totals }] = await this.dataSource.query(`SELECT ${figures} FROM escalation e WHERE ${where}`, [
      tenantId,
      from,
      to,
    ]);
    const perLevel = await this.dataSource.query(
      `SELECT e.level, ${figures} FROM escalation e WHERE ${where} GROUP BY e.level ORDER BY e.level`,
      [tenantId, from, to],
    );
    const perRecipient = await this.dataSource.query(
      `SELECT e."recipientId", u.name AS "recipientName", ${figures}
         FROM escalation e JOIN "user" u ON u.id = e."recipientId"
        WHERE ${where} GROUP BY e."recipientId", u.name ORDER BY count DESC, u.name`,
      [tenantId, from, to],
    );
    return { total: count, ...totals, perLevel, perRecipient };
  }
}
