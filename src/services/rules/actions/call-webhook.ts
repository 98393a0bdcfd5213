import { z } from 'zod';
import { Channel } from '../../../entities/channel';
import { defineAction } from './action';

export const callWebhookAction = defineAction({
  type: 'call_webhook',
  summary: 'POST the rule, the execution and its facts as JSON to a URL (signed, retried like any delivery)',
  schema: z.strictObject({
    type: z.literal('call_webhook'),
    url: z
      .string({ error: 'must be an http(s) URL' })
      .max(500, { error: 'must be an http(s) URL' })
      .regex(/^https?:\/\/[^\s]+$/, { error: 'must be an http(s) URL' }),
  }),
  async perform(run, params) {
    const { rule, execution, index, facts } = run;
    const queued = await run.services.deliveries.enqueue(
      rule.tenantId,
      {
        channel: Channel.WEBHOOK,
        to: params.url,
        text: JSON.stringify({ rule: { id: rule.id, name: rule.name }, executionId: execution.id, ...facts }),
        notificationType: 'automation_webhook',
        idempotencyKey: `rule:${execution.id}:${index}`,
        ticketId: (facts.ticket?.id as string | undefined) ?? null,
        ruleExecutionId: execution.id,
      },
      run.uow,
    );
    return { detail: 'Webhook queued', deliveryIds: [queued.id] };
  },
});
