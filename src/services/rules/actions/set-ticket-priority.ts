import { z } from 'zod';
import { TicketPriority } from '../../../entities/ticket.entity';
import { defineAction, oneOf } from './action';
import { ticketOf } from './ticket-target';

export const setTicketPriorityAction = defineAction({
  type: 'set_ticket_priority',
  summary: "Change the ticket's priority (its SLA targets follow)",
  schema: z.strictObject({ type: z.literal('set_ticket_priority'), priority: oneOf(Object.values(TicketPriority)) }),
  async perform(run, params) {
    await run.services.tickets.changePriority(await run.actor(), ticketOf(run), params.priority, run.uow);
    return { detail: `Priority ${params.priority}` };
  },
});
