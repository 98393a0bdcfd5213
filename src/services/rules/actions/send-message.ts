import { z } from 'zod';
import { defineAction } from './action';
import { checkMessage, content, delivery, sendMessage } from './messaging';

export const sendMessageAction = defineAction({
  type: 'send_message',
  summary: 'Send a message (template or text) to recipients on the first channel each can be reached on',
  schema: z.strictObject({ type: z.literal('send_message'), ...delivery, ...content }),
  check: (params, at, templates, problem) => checkMessage(params, at, templates, problem),
  async perform(run, params) {
    const deliveryIds = await sendMessage(run, params);
    return { detail: `${deliveryIds.length} message(s) queued`, deliveryIds };
  },
});
