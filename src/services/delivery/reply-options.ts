import type { ReplyOptions } from '../../channels/types';

/**
 * The answers a kind of notification asks for, offered as reply buttons where the channel
 * has them. Each option's id is the word the customer could type, so a tapped button is
 * read exactly like the typed answer (YA / TIDAK for a completion request, 1-5 for a survey).
 */
const REPLY_OPTIONS: Record<string, ReplyOptions> = {
  completion_request: { listLabel: 'YA / TIDAK', options: [option('YA'), option('TIDAK')] },
  completion_reminder: { listLabel: 'YA / TIDAK', options: [option('YA'), option('TIDAK')] },
  satisfaction_survey: { listLabel: '1-5', options: ['1', '2', '3', '4', '5'].map(option) },
};

function option(word: string) {
  return { id: word, title: word };
}

/** The reply options of a notification type, or null when it asks for none. */
export function replyOptionsFor(notificationType: string): ReplyOptions | null {
  return REPLY_OPTIONS[notificationType] ?? null;
}
