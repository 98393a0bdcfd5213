import { TicketPriority, TicketStatus } from '../entities/ticket.entity';
import { DomainError, ErrorCode } from './errors';

/** The allowed moves of the ticket workflow; everything else is INVALID_TRANSITION. */
export const TICKET_TRANSITIONS: Record<TicketStatus, readonly TicketStatus[]> = {
  [TicketStatus.OPEN]: [TicketStatus.ASSIGNED],
  [TicketStatus.ASSIGNED]: [TicketStatus.IN_PROGRESS, TicketStatus.WAITING_ON_CUSTOMER],
  [TicketStatus.IN_PROGRESS]: [TicketStatus.WAITING_ON_CUSTOMER, TicketStatus.RESOLVED],
  [TicketStatus.WAITING_ON_CUSTOMER]: [TicketStatus.IN_PROGRESS, TicketStatus.RESOLVED],
  [TicketStatus.RESOLVED]: [TicketStatus.CLOSED, TicketStatus.IN_PROGRESS],
  [TicketStatus.CLOSED]: [],
};

/** Statuses in which a ticket counts against its assignee's load. */
export const ACTIVE_STATUSES = [TicketStatus.ASSIGNED, TicketStatus.IN_PROGRESS, TicketStatus.WAITING_ON_CUSTOMER];

/** Statuses in which a ticket is still waiting for someone to finish it. */
export const UNFINISHED_STATUSES = [TicketStatus.OPEN, ...ACTIVE_STATUSES];

export function assertTransition(from: TicketStatus, to: TicketStatus): void {
  const allowed = TICKET_TRANSITIONS[from];
  if (allowed.includes(to)) return;
  // Statuses are named as the GraphQL schema names them (IN_PROGRESS), which is what clients send.
  const name = (status: TicketStatus) => status.toUpperCase();
  const next = allowed.length ? allowed.map(name).join(', ') : 'none (the ticket is closed)';
  throw new DomainError(
    ErrorCode.InvalidTransition,
    `A ticket cannot move from ${name(from)} to ${name(to)}; allowed next states: ${next}`,
    {
      from: name(from),
      to: name(to),
      allowed: allowed.map(name),
    },
  );
}

export interface SlaTargets {
  firstResponseMinutes: number;
  resolutionMinutes: number;
}

/** Default targets per priority, until tenants configure their own SLA policies. */
export const DEFAULT_SLA_TARGETS: Record<TicketPriority, SlaTargets> = {
  [TicketPriority.URGENT]: { firstResponseMinutes: 15, resolutionMinutes: 4 * 60 },
  [TicketPriority.HIGH]: { firstResponseMinutes: 60, resolutionMinutes: 8 * 60 },
  [TicketPriority.MEDIUM]: { firstResponseMinutes: 4 * 60, resolutionMinutes: 24 * 60 },
  [TicketPriority.LOW]: { firstResponseMinutes: 8 * 60, resolutionMinutes: 48 * 60 },
};

export function dueTimes(priority: TicketPriority, openedAt: Date): { firstResponseDueAt: Date; resolutionDueAt: Date } {
  const targets = DEFAULT_SLA_TARGETS[priority];
  return {
    firstResponseDueAt: new Date(openedAt.getTime() + targets.firstResponseMinutes * 60_000),
    resolutionDueAt: new Date(openedAt.getTime() + targets.resolutionMinutes * 60_000),
  };
}
