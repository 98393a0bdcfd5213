import type { DataSource, EntityManager } from 'typeorm';

import { type EscalationLevelSpec } from '../../entities/escalation-policy.entity';

import { formatTicketReference, TicketCategory, TicketPriority } from '../../entities/ticket.entity';

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

import { activeStaff, notifyStaff, type StaffContact } from './staff-notices';
import { returningRows } from '../platform/sql';

import { UNFINISHED_SQL } from '../tickets/ticket-workflow';
import type { Transactor, UnitOfWork } from '../platform/unit-of-work';
import {
  DEFAULT_POLICY,
  type EffectiveEscalationPolicy,
  EscalationPolicies,
  policyFor,
  recipientsOf,
  teamOf,
} from './escalation-policy';

/** The earliest due time a ticket has missed (an answered first response no longer counts). */
export const DUE_SQL = `LEAST(CASE WHEN t."firstRespondedAt" IS NULL THEN t."firstResponseDueAt" END, t."resolutionDueAt")`;
/** Unfinished tickets of tenant $1 past a due time at or before $2 (served by the two partial due-time indexes). */
export const OVERDUE_SQL = `
  SELECT t.id, t.number, t.subject, t.category, t.priority, t."assigneeId", t."escalationLevel", ${DUE_SQL} AS "dueAt"
    FROM ticket t
   WHERE t."tenantId" = $1 AND t.status IN ${UNFINISHED_SQL}
     AND ((t."firstRespondedAt" IS NULL AND t."firstResponseDueAt" <= $2) OR t."resolutionDueAt" <= $2)`;

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

export interface OverdueRow {
  id: string;
  number: number;
  subject: string;
  category: TicketCategory;
  priority: TicketPriority;
  assigneeId: string | null;
  escalationLevel: number;
  dueAt: Date;
}

export interface OverdueRecordRow {
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
export interface OverdueSubject {
  kind: 'ticket' | 'record';
  id: string;
  escalationLevel: number;
  dueAt: Date;
  /** Where a manager chain starts: the ticket's assignee, the record's person (its staff subject, else its owner). */
  chainFrom: string | null;
  digestItem(place: DigestPlace): DigestItem;
}

export interface Planned {
  subject: OverdueSubject;
  spec: EscalationLevelSpec;
  policy: EffectiveEscalationPolicy;
  recipient: StaffContact;
  overdueMinutes: number;
}

/** Whole minutes from a due time to now (negative before it). */
export function minutesOverdue(dueAt: Date | string, now: Date): number {
  return Math.floor((now.getTime() - new Date(dueAt).getTime()) / 60_000);
}

/** How far back a run must look for these policies (their earliest first level), and their deepest ladder. */
export function reachOf(policies: EffectiveEscalationPolicy[], now: Date): { cutoff: Date; deepest: number } {
  const earliest = Math.min(...policies.map((policy) => policy.levels[0].afterMinutes));
  return {
    cutoff: new Date(now.getTime() - earliest * 60_000),
    deepest: Math.max(...policies.map((policy) => policy.levels.length)),
  };
}

/** A record kind as people say it: service_job -> service job. */
export const nounOf = (kind: string) => kind.replace(/_/g, ' ');

/** Overdue, unfinished records of tenant $1 of the kinds $2, due at or before $3, below level $4 (the due index). */
export const OVERDUE_RECORDS_SQL = `
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

/**
 * The periodic escalation run of a tenant: raises overdue tickets and records level by
 * level, with one consolidated message per recipient.
 */
export class EscalationRun {
  constructor(
    private readonly dataSource: DataSource,
    private readonly transactor: Transactor,
    private readonly deliveries: DeliveryService,
    private readonly clock: Clock,
    private readonly policyBook: EscalationPolicies,
  ) {}

  private policies(tenantId: string, manager: EntityManager): Promise<EffectiveEscalationPolicy[]> {
    return this.policyBook.policies(tenantId, manager);
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
}
