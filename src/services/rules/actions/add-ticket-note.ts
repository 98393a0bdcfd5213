import { z } from 'zod';
import { renderTemplate } from '../../delivery/template-rendering';
import { templateValues } from '../facts';
import { defineAction, text, variables } from './action';
import { checkPlaceholders } from './placeholders';
import { ticketOf } from './ticket-target';

export const addTicketNoteAction = defineAction({
  type: 'add_ticket_note',
  summary: 'Add an internal note (staff only) to the ticket',
  schema: z.strictObject({
    type: z.literal('add_ticket_note'),
    text: text(5000).meta({ description: 'The note, with {{placeholders}}' }),
    variables,
  }),
  check: (params, at, _templates, problem) => checkPlaceholders(params.text, `${at}.text`, params.variables, problem),
  async perform(run, params) {
    const body = renderTemplate(params.text, templateValues(run.facts, params.variables));
    await run.services.tickets.addMessage(await run.actor(), ticketOf(run), { body, internal: true }, run.uow);
    return { detail: 'Internal note added' };
  },
});
