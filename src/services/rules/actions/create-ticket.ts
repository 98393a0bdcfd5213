import { z } from 'zod';
import { TicketCategory, TicketPriority } from '../../../entities/ticket.entity';
import { renderTemplate } from '../../delivery/template-rendering';
import { badInput } from '../../platform/errors';
import { templateValues } from '../facts';
import { defineAction, oneOf, text, variables } from './action';
import { checkPlaceholders } from './placeholders';

export const createTicketAction = defineAction({
  type: 'create_ticket',
  summary: "Open a ticket for the event's contact",
  schema: z.strictObject({
    type: z.literal('create_ticket'),
    subject: text(200).meta({ description: 'With {{placeholders}}' }),
    description: text(5000).optional().meta({ description: 'With {{placeholders}}' }),
    category: oneOf(Object.values(TicketCategory)),
    priority: oneOf(Object.values(TicketPriority)),
    variables,
  }),
  check(params, at, _templates, problem) {
    checkPlaceholders(params.subject, `${at}.subject`, params.variables, problem);
    if (params.description) checkPlaceholders(params.description, `${at}.description`, params.variables, problem);
  },
  async perform(run, params) {
    const contactId = run.facts.contact?.id as string | undefined;
    if (!contactId) throw badInput('There is no contact to open a ticket for');
    const values = templateValues(run.facts, params.variables);
    const ticket = await run.services.tickets.create(
      await run.actor(),
      {
        subject: renderTemplate(params.subject, values),
        description: params.description ? renderTemplate(params.description, values) : '',
        category: params.category,
        priority: params.priority,
        requesterId: contactId,
      },
      run.uow,
    );
    return { detail: `Ticket ${ticket.reference} opened` };
  },
});
