import { z } from 'zod';
import { renderTemplate } from '../../delivery/template-rendering';
import { badInput } from '../../platform/errors';
import { templateValues } from '../facts';
import { defineAction, text } from './action';
import { channelsOf, checkMessage, delivery, sendMessage } from './messaging';
import { checkPlaceholders } from './placeholders';
import { recipientList, resolveRecipients, staffRecipient } from './recipients';

export const notifyStaffAction = defineAction({
  type: 'notify_staff',
  summary: 'An in-app notification for staff; with channels, a message to them too',
  schema: z.strictObject({
    type: z.literal('notify_staff'),
    title: text(200).meta({ description: 'With {{placeholders}}' }),
    text: text(2000).meta({ description: 'With {{placeholders}}' }),
    ...delivery,
    recipients: recipientList(staffRecipient),
  }),
  check(params, at, templates, problem) {
    checkPlaceholders(params.title, `${at}.title`, params.variables, problem);
    // With channels it is also a message: its channels and text are checked like one.
    if (channelsOf(params).length) checkMessage(params, at, templates, problem);
    else checkPlaceholders(params.text, `${at}.text`, params.variables, problem);
  },
  async perform(run, params) {
    const { uow, rule, execution, index, facts } = run;
    const targets = (await resolveRecipients(uow.manager, rule.tenantId, params.recipients, facts)).filter(
      (target) => target.user,
    );
    if (!targets.length) throw badInput('No staff user could be found for this notification');
    const values = templateValues(facts, params.variables);
    const ids = await run.services.notifications.notify(
      uow,
      rule.tenantId,
      targets.map((target) => target.user!.id),
      {
        title: renderTemplate(params.title, values),
        body: renderTemplate(params.text, values),
        ticketId: (facts.ticket?.id as string) ?? null,
        recordId: (facts.record?.id as string) ?? null,
      },
      `rule:${execution.id}:${index}`,
    );
    const deliveryIds = channelsOf(params).length ? await sendMessage(run, params) : [];
    return {
      detail: `${ids.length} staff notified${deliveryIds.length ? `, ${deliveryIds.length} message(s) queued` : ''}`,
      deliveryIds,
    };
  },
});
