import { TicketStatus } from '../../entities/ticket.entity';
import { DomainError, ErrorCode } from '../platform/errors';

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

/** The same list as an SQL tuple, for `status IN ${UNFINISHED_SQL}`. */
export const UNFINISHED_SQL = `(${UNFINISHED_STATUSES.map((status) => `'${status}'`).join(', ')})`;

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
