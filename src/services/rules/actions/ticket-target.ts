import { badInput } from '../../platform/errors';
import type { ActionRun } from './action';

/** The ticket a ticket action acts on: the one the facts are about. */
export function ticketOf(run: ActionRun): string {
  const ticketId = run.facts.ticket?.id as string | undefined;
  if (!ticketId) throw badInput('There is no ticket for this action');
  return ticketId;
}
