import type { DataSource, EntityManager } from 'typeorm';
import { Channel } from '../../entities/channel';
import {
  type EscalationLevelSpec,
  EscalationPolicy,
  type EscalationTarget,
  EscalationTargetKind,
} from '../../entities/escalation-policy.entity';

import { TicketCategory, TicketPriority } from '../../entities/ticket.entity';
import { Role, STAFF_ROLES } from '../../entities/user.entity';

import { DomainError, ErrorCode, badInput } from '../platform/errors';

import type { StaffPrincipal } from '../directory/principal';
import { type StaffContact, supervisorsOf } from './staff-notices';

import { templateVariables } from '../delivery/template-rendering';

import type { Transactor } from '../platform/unit-of-work';

/** Product default: 1 h, 2 h, 4 h and 8 h after breach, up the hierarchy and then to supervisors and admins. */
export const DEFAULT_ESCALATION_LEVELS: EscalationLevelSpec[] = [
  { afterMinutes: 60, target: { kind: EscalationTargetKind.MANAGER_CHAIN, depth: 1 } },
  { afterMinutes: 120, target: { kind: EscalationTargetKind.MANAGER_CHAIN, depth: 2 } },
  { afterMinutes: 240, target: { kind: EscalationTargetKind.ROLE, role: Role.SUPERVISOR } },
  { afterMinutes: 480, target: { kind: EscalationTargetKind.ROLE, role: Role.ADMIN } },
].map((level, index) => ({ ...level, level: index + 1, channels: [Channel.WHATSAPP, Channel.EMAIL], intro: null }));

export const DEFAULT_CRITICAL_AFTER_MINUTES = 24 * 60;
export const RECORD_KIND = /^[a-z][a-z0-9_]{0,49}$/;
export const INTRO_VARIABLES = ['recipientName', 'count', 'level'];
export const STAFF_CHANNELS = [Channel.WHATSAPP, Channel.SMS, Channel.EMAIL];
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

export function specificity(policy: EffectiveEscalationPolicy): number {
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

export function teamOf(assigneeId: string | null, staff: Map<string, StaffContact>): string {
  const assignee = assigneeId ? staff.get(assigneeId) : undefined;
  if (!assignee) return 'Unassigned';
  const lead = assignee.managerId ? staff.get(assignee.managerId) : undefined;
  return `Team ${(lead ?? assignee).name}`;
}

export function toEffective(row: EscalationPolicy): EffectiveEscalationPolicy {
  const { id, name, category, priority, recordKind, levels, criticalAfterMinutes, active } = row;
  return { id, name, category, priority, recordKind, levels, criticalAfterMinutes, active };
}

export const DEFAULT_POLICY: EffectiveEscalationPolicy = {
  id: null,
  name: 'Default',
  category: null,
  priority: null,
  recordKind: null,
  levels: DEFAULT_ESCALATION_LEVELS,
  criticalAfterMinutes: DEFAULT_CRITICAL_AFTER_MINUTES,
  active: true,
};

/** Escalation policies: the tenant's ladders (or the built-in default), and saving one. */
export class EscalationPolicies {
  constructor(
    private readonly dataSource: DataSource,
    private readonly transactor: Transactor,
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
}
