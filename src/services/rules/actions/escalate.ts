import { z } from 'zod';
import { User } from '../../../entities/user.entity';
import { renderTemplate } from '../../delivery/template-rendering';
import { badInput } from '../../platform/errors';
import { templateValues } from '../facts';
import { defineAction, id, text, variables } from './action';
import { checkPlaceholders } from './placeholders';
import { ticketOf } from './ticket-target';

export const escalateAction = defineAction({
  type: 'escalate',
  summary: "Escalate the ticket to a user, or (without userId) to its assignee's manager",
  schema: z.strictObject({
    type: z.literal('escalate'),
    userId: id("must be a user id (or omit it for the assignee's manager)").optional(),
    reason: text(1000).optional().meta({ description: 'With {{placeholders}}' }),
    variables,
  }),
  check(params, at, _templates, problem) {
    if (params.reason) checkPlaceholders(params.reason, `${at}.reason`, params.variables, problem);
  },
  async perform(run, params) {
    const { manager } = run.uow;
    let to = params.userId;
    if (!to) {
      const assigneeId = run.facts.ticket?.assigneeId as string | undefined;
      const assignee = assigneeId ? await manager.findOneBy(User, { id: assigneeId, tenantId: run.rule.tenantId }) : null;
      to = assignee?.managerId ?? undefined;
    }
    if (!to) throw badInput('Nobody to escalate to: the ticket has no assignee with a manager, and the action names no user');
    const reason = renderTemplate(
      params.reason ?? `Escalated by the rule "${run.rule.name}"`,
      templateValues(run.facts, params.variables),
    );
    const escalation = await run.services.escalations.escalateManually(await run.actor(), ticketOf(run), to, reason, run.uow);
    return { detail: `Escalated to ${to}`, deliveryIds: escalation.deliveryIds };
  },
});
