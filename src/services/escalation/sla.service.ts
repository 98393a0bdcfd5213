import type { DataSource, EntityManager } from 'typeorm';
import { type BusinessHours, SlaPolicy } from '../../entities/sla-policy.entity';
import { formatTicketReference, TicketPriority } from '../../entities/ticket.entity';
import { addWorkingMinutes, validateBusinessHours } from './business-hours';
import type { Clock } from '../platform/clock';
import type { DeliveryService } from '../delivery/delivery.service';
import { badInput } from '../platform/errors';
import { returningRows } from '../platform/sql';
import type { StaffPrincipal } from '../directory/principal';
import { activeStaff, formatDuration, notifyStaff, supervisorsOf } from './staff-notices';
import { UNFINISHED_SQL } from '../tickets/ticket-workflow';
import type { Transactor, UnitOfWork } from '../platform/unit-of-work';

export interface SlaTargets {
  firstResponseMinutes: number;
  resolutionMinutes: number;
  /** How long before a due time supervisors are warned. */
  warningLeadMinutes: number;
}

/** Product defaults for priorities a tenant has not configured. */
export const DEFAULT_SLA_TARGETS: Record<TicketPriority, SlaTargets> = {
  [TicketPriority.URGENT]: { firstResponseMinutes: 15, resolutionMinutes: 4 * 60, warningLeadMinutes: 60 },
  [TicketPriority.HIGH]: { firstResponseMinutes: 60, resolutionMinutes: 8 * 60, warningLeadMinutes: 2 * 60 },
  [TicketPriority.MEDIUM]: { firstResponseMinutes: 4 * 60, resolutionMinutes: 24 * 60, warningLeadMinutes: 4 * 60 },
  [TicketPriority.LOW]: { firstResponseMinutes: 8 * 60, resolutionMinutes: 48 * 60, warningLeadMinutes: 8 * 60 },
};

const PRIORITIES = [TicketPriority.URGENT, TicketPriority.HIGH, TicketPriority.MEDIUM, TicketPriority.LOW];
const MAX_TARGET_MINUTES = 365 * 24 * 60;

/** The policy in force for one priority: the tenant's row, or the default. */
export interface EffectiveSlaPolicy extends SlaTargets {
  priority: TicketPriority;
  businessHours: BusinessHours | null;
  customized: boolean;
  updatedAt: Date | null;
}

export interface SlaPolicyInput extends SlaTargets {
  priority: TicketPriority;
  businessHours: BusinessHours | null;
}

export interface SlaMonitorSummary {
  firstResponseBreached: number;
  resolutionBreached: number;
  warnedTickets: number;
  warningMessages: number;
}

export function computeDueTimes(policy: EffectiveSlaPolicy, openedAt: Date): { firstResponseDueAt: Date; resolutionDueAt: Date } {
  return {
    firstResponseDueAt: addWorkingMinutes(openedAt, policy.firstResponseMinutes, policy.businessHours),
    resolutionDueAt: addWorkingMinutes(openedAt, policy.resolutionMinutes, policy.businessHours),
  };
}

function effective(priority: TicketPriority, row: SlaPolicy | undefined): EffectiveSlaPolicy {
  if (!row) return { priority, ...DEFAULT_SLA_TARGETS[priority], businessHours: null, customized: false, updatedAt: null };
  return {
    priority,
    firstResponseMinutes: row.firstResponseMinutes,
    resolutionMinutes: row.resolutionMinutes,
    warningLeadMinutes: row.warningLeadMinutes,
    businessHours: row.businessHours,
    customized: true,
    updatedAt: row.updatedAt,
  };
}

/**
 * SLA policies (targets per priority, optional business hours) and the monitor
 * that marks breaches and warns supervisors before due times.
 */
export class SlaService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly transactor: Transactor,
    private readonly deliveries: DeliveryService,
    private readonly clock: Clock,
    private readonly warningCooldownMinutes: number,
  ) {}

  async policies(tenantId: string, manager: EntityManager = this.dataSource.manager): Promise<EffectiveSlaPolicy[]> {
    const rows = await manager.findBy(SlaPolicy, { tenantId });
    return PRIORITIES.map((priority) =>
      effective(
        priority,
        rows.find((row) => row.priority === priority),
      ),
    );
  }

  async policyFor(manager: EntityManager, tenantId: string, priority: TicketPriority): Promise<EffectiveSlaPolicy> {
    return effective(priority, (await manager.findOneBy(SlaPolicy, { tenantId, priority })) ?? undefined);
  }

  async dueTimes(manager: EntityManager, tenantId: string, priority: TicketPriority, openedAt: Date) {
    return computeDueTimes(await this.policyFor(manager, tenantId, priority), openedAt);
  }

  /**
   * Saves the policy of one priority and re-computes the due times of that priority's
   * unfinished tickets (from when each was opened). A breach mark whose due time moved
   * into the future is cleared. All in one transaction.
   */
  async updatePolicy(
    actor: StaffPrincipal,
    input: SlaPolicyInput,
  ): Promise<{ policy: EffectiveSlaPolicy; recomputedTickets: number }> {
    for (const field of ['firstResponseMinutes', 'resolutionMinutes'] as const) {
      if (!Number.isInteger(input[field]) || input[field] < 1 || input[field] > MAX_TARGET_MINUTES) {
        throw badInput(`${field} must be a whole number of minutes from 1 to ${MAX_TARGET_MINUTES}`, field);
      }
    }
    if (input.firstResponseMinutes > input.resolutionMinutes) {
      throw badInput('The first-response target cannot be longer than the resolution target', 'firstResponseMinutes');
    }
    if (!Number.isInteger(input.warningLeadMinutes) || input.warningLeadMinutes < 0) {
      throw badInput('warningLeadMinutes must be a whole number of minutes, 0 or more', 'warningLeadMinutes');
    }
    if (input.warningLeadMinutes >= input.resolutionMinutes) {
      throw badInput('The warning lead must be shorter than the resolution target', 'warningLeadMinutes');
    }
    if (input.businessHours) validateBusinessHours(input.businessHours);

    return this.transactor.run(async (uow) => {
      const { manager } = uow;
      await manager
        .createQueryBuilder()
        .insert()
        .into(SlaPolicy)
        .values({
          tenantId: actor.tenantId,
          priority: input.priority,
          firstResponseMinutes: input.firstResponseMinutes,
          resolutionMinutes: input.resolutionMinutes,
          warningLeadMinutes: input.warningLeadMinutes,
          businessHours: input.businessHours,
        })
        .orUpdate(['firstResponseMinutes', 'resolutionMinutes', 'warningLeadMinutes', 'businessHours'], ['tenantId', 'priority'])
        .execute();
      const policy = await this.policyFor(manager, actor.tenantId, input.priority);
      const recomputedTickets = await this.recompute(manager, actor.tenantId, policy);
      await uow.record({
        tenantId: actor.tenantId,
        type: 'sla.policy_updated',
        subjectType: 'sla_policy',
        subjectId: actor.tenantId,
        payload: { ...input, recomputedTickets },
        actorId: actor.userId,
      });
      return { policy, recomputedTickets };
    });
  }

  private async recompute(manager: EntityManager, tenantId: string, policy: EffectiveSlaPolicy): Promise<number> {
    const tickets: Array<{ id: string; createdAt: Date }> = await manager.query(
      `SELECT id, "createdAt" FROM ticket WHERE "tenantId" = $1 AND priority = $2 AND status IN ${UNFINISHED_SQL}`,
      [tenantId, policy.priority],
    );
    const now = this.clock.now();
    for (let start = 0; start < tickets.length; start += 5000) {
      const batch = tickets.slice(start, start + 5000);
      const due = batch.map((ticket) => computeDueTimes(policy, ticket.createdAt));
      await manager.query(
        `UPDATE ticket t
            SET "firstResponseDueAt" = v.fr,
                "resolutionDueAt" = v.res,
                "firstResponseBreachedAt" = CASE WHEN v.fr > $4 THEN NULL ELSE t."firstResponseBreachedAt" END,
                "resolutionBreachedAt" = CASE WHEN v.res > $4 THEN NULL ELSE t."resolutionBreachedAt" END,
                "updatedAt" = $4
           FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[]) AS v(id, fr, res)
          WHERE t.id = v.id AND t.id = ANY($1::uuid[])`,
        [
          batch.map((ticket) => ticket.id),
          due.map((times) => times.firstResponseDueAt),
          due.map((times) => times.resolutionDueAt),
          now,
        ],
      );
    }
    return tickets.length;
  }

  /**
   * One monitor pass for one tenant, in one transaction: marks first-response and
   * resolution breaches (a `sla.breached` event each), then warns supervisors about
   * tickets whose due time is within the warning lead, each ticket at most once per
   * cooldown, with one message per supervisor listing them soonest first.
   */
  async monitor(tenantId: string, runId: string): Promise<SlaMonitorSummary> {
    return this.transactor.run(async (uow) => {
      const { manager } = uow;
      // Two passes over one tenant (a manual run beside the scheduled one) take turns.
      await manager.query(`SELECT pg_advisory_xact_lock(hashtext('sla-monitor:' || $1))`, [tenantId]);
      const now = this.clock.now();
      const firstResponse = await this.markBreaches(uow, tenantId, now, 'firstResponse');
      const resolution = await this.markBreaches(uow, tenantId, now, 'resolution');
      const warned = await this.warn(uow, tenantId, runId, now);
      return {
        firstResponseBreached: firstResponse,
        resolutionBreached: resolution,
        warnedTickets: warned.tickets,
        warningMessages: warned.messages,
      };
    });
  }

  private async markBreaches(
    { manager, recordAll }: UnitOfWork,
    tenantId: string,
    now: Date,
    kind: 'firstResponse' | 'resolution',
  ): Promise<number> {
    const due = `"${kind}DueAt"`;
    const breached = `"${kind}BreachedAt"`;
    const pending = kind === 'firstResponse' ? `AND "firstRespondedAt" IS NULL` : '';
    const rows = returningRows<{ id: string; number: number; dueAt: Date; assigneeId: string | null }>(
      await manager.query(
        `UPDATE ticket SET ${breached} = $2
        WHERE "tenantId" = $1 AND status IN ${UNFINISHED_SQL} ${pending}
          AND ${due} <= $2 AND ${breached} IS NULL
        RETURNING id, number, ${due} AS "dueAt", "assigneeId"`,
        [tenantId, now],
      ),
    );
    await recordAll(
      rows.map((row) => ({
        tenantId,
        type: 'sla.breached',
        subjectType: 'ticket',
        subjectId: row.id,
        payload: { kind: kind === 'firstResponse' ? 'first_response' : 'resolution', dueAt: row.dueAt, number: row.number },
      })),
    );
    return rows.length;
  }

  private async warn(uow: UnitOfWork, tenantId: string, runId: string, now: Date) {
    const { manager } = uow;
    const policies = await this.policies(tenantId, manager);
    const maxLead = Math.max(...policies.map((policy) => policy.warningLeadMinutes));
    if (maxLead <= 0) return { tickets: 0, messages: 0 };
    const rows = returningRows<{
      id: string;
      number: number;
      subject: string;
      priority: TicketPriority;
      dueAt: Date;
      kind: 'first_response' | 'resolution';
    }>(
      await manager.query(
        `WITH lead(priority, minutes) AS (SELECT * FROM unnest($3::ticket_priority[], $4::int[])),
            near AS (
              SELECT t.id,
                     CASE WHEN t."firstRespondedAt" IS NULL AND t."firstResponseDueAt" > $2
                               AND t."firstResponseDueAt" <= $2 + lead.minutes * interval '1 minute'
                          THEN 'first_response' ELSE 'resolution' END AS kind
                FROM ticket t JOIN lead ON lead.priority = t.priority
               WHERE t."tenantId" = $1 AND t.status IN ${UNFINISHED_SQL}
                 AND (t."slaWarnedAt" IS NULL OR t."slaWarnedAt" <= $2 - $5 * interval '1 minute')
                 AND ((t."firstRespondedAt" IS NULL AND t."firstResponseDueAt" > $2
                       AND t."firstResponseDueAt" <= $2 + $6 * interval '1 minute')
                   OR (t."resolutionDueAt" > $2 AND t."resolutionDueAt" <= $2 + $6 * interval '1 minute'))
                 AND ((t."firstRespondedAt" IS NULL AND t."firstResponseDueAt" > $2
                       AND t."firstResponseDueAt" <= $2 + lead.minutes * interval '1 minute')
                   OR (t."resolutionDueAt" > $2 AND t."resolutionDueAt" <= $2 + lead.minutes * interval '1 minute'))
               FOR UPDATE OF t
            )
       UPDATE ticket t SET "slaWarnedAt" = $2 FROM near WHERE t.id = near.id
       RETURNING t.id, t.number, t.subject, t.priority, near.kind,
                 CASE WHEN near.kind = 'first_response' THEN t."firstResponseDueAt" ELSE t."resolutionDueAt" END AS "dueAt"`,
        [
          tenantId,
          now,
          policies.map((policy) => policy.priority),
          policies.map((policy) => policy.warningLeadMinutes),
          this.warningCooldownMinutes,
          maxLead,
        ],
      ),
    );
    if (!rows.length) return { tickets: 0, messages: 0 };
    rows.sort((a, b) => new Date(a.dueAt).getTime() - new Date(b.dueAt).getTime());
    await uow.recordAll(
      rows.map((row) => ({
        tenantId,
        type: 'sla.warning',
        subjectType: 'ticket',
        subjectId: row.id,
        payload: { kind: row.kind, dueAt: row.dueAt, number: row.number },
      })),
    );
    const lines = rows.map((row) => {
      const left = formatDuration((new Date(row.dueAt).getTime() - now.getTime()) / 60_000);
      const what = row.kind === 'first_response' ? 'first response' : 'resolution';
      return `- ${formatTicketReference(row.number)} "${row.subject}" (${row.priority}): ${what} due in ${left}`;
    });
    const count = rows.length === 1 ? '1 ticket is' : `${rows.length} tickets are`;
    let messages = 0;
    for (const supervisor of supervisorsOf(await activeStaff(manager, tenantId))) {
      const sent = await notifyStaff(this.deliveries, uow, tenantId, supervisor, {
        subject: `SLA warning: ${count} close to their due time`,
        text: `Hi ${supervisor.name}, ${count} close to their SLA due time:\n${lines.join('\n')}`,
        notificationType: 'sla_warning',
        idempotencyKey: `sla-warning:${runId}:user:${supervisor.id}`,
        ticketId: rows.length === 1 ? rows[0].id : null,
      });
      if (sent) messages++;
    }
    return { tickets: rows.length, messages };
  }
}
