import type { DataSource } from 'typeorm';
import { TicketPriority, TicketStatus } from '../../entities/ticket.entity';
import { badInput } from '../platform/errors';
import type { StaffPrincipal } from '../directory/principal';
import { ACTIVE_STATUSES, UNFINISHED_STATUSES } from './ticket-workflow';

export interface SupportDashboard {
  from: Date;
  to: Date;
  total: number;
  byStatus: Array<{ status: TicketStatus; count: number }>;
  unassigned: number;
  urgent: number;
  mine: number;
  averageFirstResponseMinutes: number | null;
  averageResolutionMinutes: number | null;
  slaCompliancePercent: number | null;
  averageRating: number | null;
  ratedCount: number;
}

/** A ticket counts for SLA compliance once a target has been met or missed. */
const MEASURED = `("firstRespondedAt" IS NOT NULL OR "firstResponseDueAt" < $4 OR "resolvedAt" IS NOT NULL OR "resolutionDueAt" < $4)`;

interface QueueRow {
  unassigned: string;
  urgent: string;
  mine: string;
}

interface DashboardRow {
  total: string;
  avg_first_response: string | null;
  avg_resolution: string | null;
  sla_measured: string;
  sla_met: string;
  avg_rating: string | null;
  rated: string;
}

export class DashboardService {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Figures over tickets created in [from, to). SLA compliance counts a ticket as
   * met when its first response and (once resolved) its resolution came on time;
   * tickets still inside both targets are not measured yet.
   */
  async supportDashboard(actor: StaffPrincipal, from: Date, to: Date, now: Date): Promise<SupportDashboard> {
    if (from >= to) throw badInput('`from` must be before `to`', 'from');
    const [row]: DashboardRow[] = await this.dataSource.query(
      `SELECT count(*) AS total,
              avg(extract(epoch FROM "firstRespondedAt" - "createdAt")) / 60 AS avg_first_response,
              avg(extract(epoch FROM "resolvedAt" - "createdAt")) / 60 AS avg_resolution,
              count(*) FILTER (WHERE ${MEASURED}) AS sla_measured,
              count(*) FILTER (WHERE ${MEASURED}
                                 AND coalesce("firstRespondedAt", $4) <= "firstResponseDueAt"
                                 AND coalesce("resolvedAt", $4) <= "resolutionDueAt") AS sla_met,
              avg(rating) AS avg_rating,
              count(rating) AS rated
         FROM ticket
        WHERE "tenantId" = $1 AND "createdAt" >= $2 AND "createdAt" < $3`,
      [actor.tenantId, from, to, now],
    );
    // Queue figures describe the work waiting now, whenever it was created.
    const [queue]: QueueRow[] = await this.dataSource.query(
      `SELECT count(*) FILTER (WHERE "assigneeId" IS NULL) AS unassigned,
              count(*) FILTER (WHERE priority = $3) AS urgent,
              count(*) FILTER (WHERE "assigneeId" = $4 AND status = ANY($5::ticket_status[])) AS mine
         FROM ticket
        WHERE "tenantId" = $1 AND status = ANY($2::ticket_status[])`,
      [actor.tenantId, UNFINISHED_STATUSES, TicketPriority.URGENT, actor.userId, ACTIVE_STATUSES],
    );
    const statusRows: Array<{ status: TicketStatus; count: string }> = await this.dataSource.query(
      `SELECT status, count(*) AS count FROM ticket
        WHERE "tenantId" = $1 AND "createdAt" >= $2 AND "createdAt" < $3 GROUP BY status`,
      [actor.tenantId, from, to],
    );
    const counts = new Map(statusRows.map((r) => [r.status, Number(r.count)]));
    const measured = Number(row.sla_measured);
    return {
      from,
      to,
      total: Number(row.total),
      byStatus: Object.values(TicketStatus).map((status) => ({ status, count: counts.get(status) ?? 0 })),
      unassigned: Number(queue.unassigned),
      urgent: Number(queue.urgent),
      mine: Number(queue.mine),
      averageFirstResponseMinutes: roundOrNull(row.avg_first_response),
      averageResolutionMinutes: roundOrNull(row.avg_resolution),
      slaCompliancePercent: measured ? Math.round((Number(row.sla_met) / measured) * 1000) / 10 : null,
      averageRating: roundOrNull(row.avg_rating, 2),
      ratedCount: Number(row.rated),
    };
  }
}

function roundOrNull(value: string | null, digits = 1): number | null {
  if (value === null) return null;
  const factor = 10 ** digits;
  return Math.round(Number(value) * factor) / factor;
}
