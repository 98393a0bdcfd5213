import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import type { DataSource, EntityManager } from 'typeorm';
import { Channel } from '../../entities/channel';
import type { Delivery } from '../../entities/delivery.entity';
import { Tenant } from '../../entities/tenant.entity';
import { Role, User } from '../../entities/user.entity';
import type { DeliveryService } from '../delivery/delivery.service';
import type { StaffPrincipal } from '../directory/principal';
import type { Clock } from '../platform/clock';
import { badInput, forbidden, notFound } from '../platform/errors';

/** The reports staff receive: a day's summary for leads, and each technician's performance. */
export enum ReportKind {
  DAILY_SUMMARY = 'daily_summary',
  TECHNICIAN_PERFORMANCE = 'technician_performance',
}

/** What a report covers, in the tenant's time zone. */
export enum ReportPeriod {
  TODAY = 'today',
  YESTERDAY = 'yesterday',
  THIS_WEEK = 'this_week',
  LAST_WEEK = 'last_week',
}

export const REPORT_PERIODS: readonly string[] = Object.values(ReportPeriod);

export interface PersonFigures {
  userId: string;
  name: string;
  resolved: number;
  open: number;
  averageResolutionHours: number | null;
  averageRating: number | null;
  /** Verified reviews of their jobs in the period: the average and how many. */
  reviewRating: number | null;
  reviews: number;
  rank: number;
}

export interface ReportFigures {
  kind: ReportKind;
  from: Date;
  to: Date;
  opened: number;
  resolved: number;
  /** Resolved tickets that met their resolution target, in percent. */
  slaCompliancePercent: number | null;
  breachedOpen: number;
  stillOpen: number;
  people: PersonFigures[];
}

/**
 * Figures for the reports rules send (send_report) and staff ask for (sendReport), over
 * [from, to), and their text. One query for the totals and one for the people.
 */
export class ReportService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly deliveries: DeliveryService,
    private readonly clock: Clock,
  ) {}

  /**
   * A report on demand (sendReport), to staff users of the tenant. Admins and managers
   * send any report; supervisors the technician performance; other staff none.
   */
  async send(
    actor: StaffPrincipal,
    kind: ReportKind,
    period: ReportPeriod,
    userIds: string[],
    channel: Channel = Channel.WHATSAPP,
  ): Promise<Delivery[]> {
    const allowed =
      actor.role === Role.ADMIN ||
      actor.role === Role.MANAGER ||
      (actor.role === Role.SUPERVISOR && kind === ReportKind.TECHNICIAN_PERFORMANCE);
    if (!allowed) throw forbidden(`Your role may not send the ${kind} report`);
    if (!userIds.length || userIds.length > 100) throw badInput('Send the report to 1-100 staff users', 'to');
    const tenant = await this.dataSource.getRepository(Tenant).findOneByOrFail({ id: actor.tenantId });
    const users = await this.dataSource.getRepository(User).findBy(userIds.map((id) => ({ id, tenantId: actor.tenantId })));
    const missing = userIds.find((id) => !users.some((user) => user.id === id));
    if (missing) throw notFound('User', missing);
    const range = ReportService.period(period, this.clock.now(), tenant.timezone);
    const figures = await this.figures(this.dataSource.manager, actor.tenantId, kind, range.from, range.to);
    const batch = randomUUID();
    const sent: Delivery[] = [];
    for (const user of users) {
      sent.push(
        await this.deliveries.enqueue(actor.tenantId, {
          channel,
          userId: user.id,
          text: this.text(figures, tenant.timezone, user.id),
          subject: channel === Channel.EMAIL ? `Report: ${kind.replace('_', ' ')}` : null,
          notificationType: 'report',
          idempotencyKey: `report:${batch}:${user.id}`,
        }),
      );
    }
    return sent;
  }

  async figures(manager: EntityManager, tenantId: string, kind: ReportKind, from: Date, to: Date): Promise<ReportFigures> {
    if (from >= to) throw badInput('`from` must be before `to`', 'from');
    const [totals] = (await manager.query(
      `SELECT count(*) FILTER (WHERE "createdAt" >= $2 AND "createdAt" < $3)::int AS opened,
              count(*) FILTER (WHERE "resolvedAt" >= $2 AND "resolvedAt" < $3)::int AS resolved,
              count(*) FILTER (WHERE "resolvedAt" >= $2 AND "resolvedAt" < $3 AND "resolvedAt" <= "resolutionDueAt")::int AS on_time,
              count(*) FILTER (WHERE "resolvedAt" IS NULL AND status NOT IN ('resolved', 'closed'))::int AS still_open,
              count(*) FILTER (WHERE "resolvedAt" IS NULL AND status NOT IN ('resolved', 'closed') AND "resolutionDueAt" < $3)::int AS breached_open
         FROM ticket WHERE "tenantId" = $1`,
      [tenantId, from, to],
    )) as Array<{ opened: number; resolved: number; on_time: number; still_open: number; breached_open: number }>;
    const people = (await manager.query(
      `SELECT u.id AS "userId", u.name,
              count(t.id) FILTER (WHERE t."resolvedAt" >= $2 AND t."resolvedAt" < $3)::int AS resolved,
              count(t.id) FILTER (WHERE t."resolvedAt" IS NULL AND t.status NOT IN ('resolved', 'closed'))::int AS open,
              round((avg(extract(epoch FROM t."resolvedAt" - t."createdAt")) FILTER (WHERE t."resolvedAt" >= $2 AND t."resolvedAt" < $3) / 3600)::numeric, 1)::float AS "averageResolutionHours",
              round((avg(t.rating) FILTER (WHERE t."ratedAt" >= $2 AND t."ratedAt" < $3))::numeric, 2)::float AS "averageRating",
              (SELECT round(avg(r.rating)::numeric, 2)::float FROM review r
                WHERE r."technicianId" = u.id AND r."createdAt" >= $2 AND r."createdAt" < $3) AS "reviewRating",
              (SELECT count(*)::int FROM review r WHERE r."technicianId" = u.id AND r."createdAt" >= $2 AND r."createdAt" < $3) AS reviews
         FROM "user" u
         LEFT JOIN ticket t ON t."assigneeId" = u.id
        WHERE u."tenantId" = $1 AND u.active AND u.role = ANY($4::role[])
        GROUP BY u.id, u.name`,
      [tenantId, from, to, kind === ReportKind.TECHNICIAN_PERFORMANCE ? [Role.TECHNICIAN] : [Role.TECHNICIAN, Role.AGENT]],
    )) as Array<Omit<PersonFigures, 'rank'>>;
    // Ranked by tickets resolved, then by rating.
    const ranked = people
      .sort((a, b) => b.resolved - a.resolved || (b.averageRating ?? 0) - (a.averageRating ?? 0) || a.name.localeCompare(b.name))
      .map((person, index) => ({ ...person, rank: index + 1 }));
    return {
      kind,
      from,
      to,
      opened: totals.opened,
      resolved: totals.resolved,
      slaCompliancePercent: totals.resolved ? Math.round((totals.on_time / totals.resolved) * 1000) / 10 : null,
      breachedOpen: totals.breached_open,
      stillOpen: totals.still_open,
      people: ranked,
    };
  }

  /** The report as a message: the summary for leads, or one technician's own figures. */
  text(figures: ReportFigures, timezone: string, forUserId?: string): string {
    const day = (date: Date) => DateTime.fromJSDate(date, { zone: timezone }).toFormat('d LLL yyyy');
    const period =
      figures.to.getTime() - figures.from.getTime() <= 86_400_000
        ? day(figures.from)
        : `${day(figures.from)} - ${day(new Date(figures.to.getTime() - 1))}`;
    const person = forUserId ? figures.people.find((candidate) => candidate.userId === forUserId) : undefined;
    if (figures.kind === ReportKind.TECHNICIAN_PERFORMANCE && person) {
      return [
        `Your performance, ${period}`,
        `Tickets resolved: ${person.resolved} (rank ${person.rank} of ${figures.people.length})`,
        `Average resolution time: ${person.averageResolutionHours ?? '-'} h`,
        `Average ticket rating: ${person.averageRating ?? '-'}`,
        `Job reviews: ${person.reviewRating ?? '-'} (${person.reviews})`,
        `Still open: ${person.open}`,
      ].join('\n');
    }
    const lines = [
      `${figures.kind === ReportKind.DAILY_SUMMARY ? 'Daily summary' : 'Technician performance'}, ${period}`,
      `Tickets opened: ${figures.opened}, resolved: ${figures.resolved}`,
      `SLA compliance: ${figures.slaCompliancePercent === null ? '-' : `${figures.slaCompliancePercent}%`}`,
      `Open: ${figures.stillOpen}, past their resolution target: ${figures.breachedOpen}`,
    ];
    const top = figures.people.slice(0, 10);
    if (top.length) {
      lines.push('Per person (resolved, avg hours, rating):');
      for (const p of top)
        lines.push(`${p.rank}. ${p.name}: ${p.resolved}, ${p.averageResolutionHours ?? '-'} h, ${p.averageRating ?? '-'}`);
    }
    return lines.join('\n');
  }

  /** The period a report covers, in the tenant's time zone: today so far, yesterday, this week so far, or last week (Monday to Monday). */
  static period(name: ReportPeriod, now: Date, timezone: string): { from: Date; to: Date } {
    const local = DateTime.fromJSDate(now, { zone: timezone });
    switch (name) {
      case ReportPeriod.TODAY:
        return { from: local.startOf('day').toJSDate(), to: now };
      case ReportPeriod.YESTERDAY:
        return { from: local.startOf('day').minus({ days: 1 }).toJSDate(), to: local.startOf('day').toJSDate() };
      case ReportPeriod.THIS_WEEK:
        return { from: local.startOf('week').toJSDate(), to: now };
      case ReportPeriod.LAST_WEEK:
        return { from: local.startOf('week').minus({ weeks: 1 }).toJSDate(), to: local.startOf('week').toJSDate() };
    }
  }
}
