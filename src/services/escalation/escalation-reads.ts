import type { DataSource } from 'typeorm';

import { Escalation, EscalationStatus } from '../../entities/escalation.entity';
import { formatTicketReference, TicketCategory, TicketPriority } from '../../entities/ticket.entity';

import type { Clock } from '../platform/clock';

import {
  type Page,
  type PageRequest,
  cursorValue,
  encodeCursor,
  finishKeyset,
  newestFirstPage,
  planKeyset,
} from '../platform/pagination';

import { activeStaff } from './staff-notices';

import { type EffectiveEscalationPolicy, EscalationPolicies, teamOf } from './escalation-policy';
import {
  DUE_SQL,
  OVERDUE_RECORDS_SQL,
  OVERDUE_SQL,
  type OverdueRecordRow,
  type OverdueRow,
  minutesOverdue,
} from './escalation-run';

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

/** What staff read of escalations: the list, the overdue work of every kind, and the figures. */
export class EscalationReads {
  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly policyBook: EscalationPolicies,
  ) {}

  private policies(tenantId: string): Promise<EffectiveEscalationPolicy[]> {
    return this.policyBook.policies(tenantId);
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
