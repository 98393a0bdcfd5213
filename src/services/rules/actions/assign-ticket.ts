import { z } from 'zod';
import { defineAction, id } from './action';
import { ticketOf } from './ticket-target';

export const assignTicketAction = defineAction({
  type: 'assign_ticket',
  summary: "Assign the ticket to a user, or (without userId) to the least-loaded agent of the ticket's skills",
  schema: z.strictObject({
    type: z.literal('assign_ticket'),
    userId: id('must be a user id (or omit it for the least-loaded agent)').optional(),
  }),
  async perform(run, params) {
    const ticket = await run.services.tickets.assign(await run.actor(), ticketOf(run), params.userId ?? null, run.uow);
    return { detail: `Assigned to ${ticket.assigneeId}` };
  },
});
