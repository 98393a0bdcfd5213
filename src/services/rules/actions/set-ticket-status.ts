import { z } from 'zod';
import { TicketStatus } from '../../../entities/ticket.entity';
import { defineAction, oneOf } from './action';
import { ticketOf } from './ticket-target';

export const setTicketStatusAction = defineAction({
  type: 'set_ticket_status',
  summary: "Move the ticket to a status (the ticket's own transitions apply)",
  schema: z.strictObject({ type: z.literal('set_ticket_status'), status: oneOf(Object.values(TicketStatus)) }),
  async perform(run, params) {
    await run.services.tickets.changeStatus(await run.actor(), ticketOf(run), params.status, run.uow);
    return { detail: `Status ${params.status}` };
  },
});
