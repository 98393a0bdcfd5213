import { ProviderKind } from '../entities/channel';
import { type ChannelSettings, createHttp, retryAfterMs, statusFailure, transportFailure } from './http';
import {
  type ChannelAdapter,
  type OutboundMedia,
  type OutboundMessage,
  type ProviderAccount,
  type ReplyOptions,
  type SendFailure,
  type SendOutcome,
  credential,
  providerFault,
  outsideWindow,
  recipientLimited,
  rejected,
  setting,
  throttled,
  transient,
} from './types';

export const META_API_VERSION = 'v21.0';

/**
 * Meta's documented error codes by whose problem they are. Throughput limits (4, 80007,
 * 130429) throttle the phone number. Temporary trouble (1, 2, 131000, 131016, 133004)
 * clears up by itself. The pair rate limit (131056: too many messages to this one
 * recipient) and the spam limit (131048) concern one recipient or message: that message
 * waits, the number keeps sending to everyone else. The account's own (0 and 190 credentials, 3 and 10 and 200-299 permissions,
 * 368 policy block, 131031 account locked, 131042 payment, 131045 certificate, 133010
 * number not registered) leave other providers able to carry the message. 131047 (free
 * text outside the customer's 24-hour window) leaves the template, or a gateway. Everything
 * else (131026 undeliverable, 132000-132015 template problems, 100 invalid parameter, ...)
 * is about this message and is final.
 */
const THROTTLE_CODES = new Set([4, 80007, 130429]);
const TRANSIENT_CODES = new Set([1, 2, 131000, 131016, 133004]);
const RECIPIENT_CODES = new Set([131048, 131056]);
const OUTSIDE_WINDOW_CODE = 131047;
const ACCOUNT_CODES = new Set([0, 3, 10, 190, 368, 131031, 131042, 131045, 133010]);

function classifyMetaError(code: number, text: string, retryAfter: number | undefined): SendFailure {
  if (THROTTLE_CODES.has(code)) return throttled(String(code), text, retryAfter);
  if (TRANSIENT_CODES.has(code)) return transient(String(code), text, retryAfter);
  if (RECIPIENT_CODES.has(code)) return recipientLimited(String(code), text, retryAfter);
  if (code === OUTSIDE_WINDOW_CODE) return outsideWindow(String(code), text);
  if (ACCOUNT_CODES.has(code) || (code >= 200 && code < 300)) return providerFault(String(code), text);
  return rejected(String(code), text);
}

interface MetaError {
  error?: { message?: string; code?: number; error_subcode?: number; error_data?: { details?: string } };
}

/** Meta's limits on an interactive message: body text, reply buttons and their titles, list rows and theirs. */
export const INTERACTIVE_LIMITS = { body: 1024, buttons: 3, buttonTitle: 20, rows: 10, rowTitle: 24, listLabel: 20 };

/** Whether Meta would take these options as reply buttons (or a list) with this body. */
function interactiveFits(body: string, replies: ReplyOptions | null | undefined): replies is ReplyOptions {
  if (!replies?.options.length || body.length > INTERACTIVE_LIMITS.body) return false;
  const asButtons = replies.options.length <= INTERACTIVE_LIMITS.buttons;
  return asButtons
    ? replies.options.every((option) => option.title.length <= INTERACTIVE_LIMITS.buttonTitle)
    : replies.options.length <= INTERACTIVE_LIMITS.rows &&
        replies.listLabel.length <= INTERACTIVE_LIMITS.listLabel &&
        replies.options.every((option) => option.title.length <= INTERACTIVE_LIMITS.rowTitle);
}

/**
 * The Cloud API message: the template when one is chosen; otherwise free text, as reply
 * buttons (up to three answers) or a list (up to ten) when the message offers answers and
 * fits Meta's interactive limits, else plain text (the body says how to answer in words).
 */
export function metaMessagePayload(message: OutboundMessage): Record<string, unknown> {
  const envelope = { messaging_product: 'whatsapp', recipient_type: 'individual', to: message.to.replace(/^\+/, '') };
  const media = message.media ? mediaObject(message.media) : null;
  if (message.metaTemplate) {
    const components: unknown[] = [];
    // The template's media header (an invoice PDF, a photo): the template must have one.
    if (media) components.push({ type: 'header', parameters: [{ type: media.type, [media.type]: media.object }] });
    if (message.metaTemplate.parameters.length)
      components.push({ type: 'body', parameters: message.metaTemplate.parameters.map((text) => ({ type: 'text', text })) });
    return {
      ...envelope,
      type: 'template',
      template: { name: message.metaTemplate.name, language: { code: message.metaTemplate.language }, components },
    };
  }
  const replies = message.replyOptions;
  if (!interactiveFits(message.body, replies)) {
    if (media)
      return {
        ...envelope,
        type: media.type,
        [media.type]: { ...media.object, caption: caption(message.body) },
      };
    return { ...envelope, type: 'text', text: { preview_url: false, body: message.body } };
  }
  const action =
    replies.options.length <= INTERACTIVE_LIMITS.buttons
      ? { buttons: replies.options.map((option) => ({ type: 'reply', reply: { id: option.id, title: option.title } })) }
      : {
          button: replies.listLabel,
          sections: [{ rows: replies.options.map((option) => ({ id: option.id, title: option.title })) }],
        };
  const asButtons = 'buttons' in action;
  return {
    ...envelope,
    type: 'interactive',
    interactive: {
      type: asButtons ? 'button' : 'list',
      // Reply buttons may carry the file as their header (lists take text headers only).
      ...(media && asButtons ? { header: { type: media.type, [media.type]: media.object } } : {}),
      body: { text: message.body },
      action,
    },
  };
}

/** Meta's media object: by link, with the file name for a document. */
function mediaObject(media: OutboundMedia): { type: OutboundMedia['kind']; object: Record<string, string> } {
  return {
    type: media.kind,
    object: media.kind === 'document' ? { link: media.link, filename: media.fileName } : { link: media.link },
  };
}

/** A media caption is at most 1,024 characters. */
function caption(body: string): string {
  return body.length <= INTERACTIVE_LIMITS.body ? body : `${body.slice(0, INTERACTIVE_LIMITS.body - 1)}…`;
}

/** Meta WhatsApp Cloud API: POST /{version}/{phone-number-id}/messages with a bearer token. */
export class MetaWhatsAppAdapter implements ChannelAdapter {
  readonly kind = ProviderKind.META_WHATSAPP;
  readonly sendsMedia = true;
  private readonly http;

  constructor(settings: ChannelSettings) {
    this.http = createHttp(settings);
  }

  async send(account: ProviderAccount, message: OutboundMessage): Promise<SendOutcome> {
    try {
      const base = account.baseUrl ?? 'https://graph.facebook.com';
      const url = `${base}/${META_API_VERSION}/${setting(account, 'phoneNumberId')}/messages`;
      const payload = metaMessagePayload(message);
      const response = await this.http.post(url, payload, {
        headers: { Authorization: `Bearer ${credential(account, 'accessToken')}` },
      });
      if (response.status >= 200 && response.status < 300) {
        const id = (response.data as { messages?: Array<{ id?: string }> }).messages?.[0]?.id;
        return id
          ? { ok: true, providerMessageId: id }
          : transient('META_NO_MESSAGE_ID', 'Meta accepted the request but returned no message id');
      }
      const error = (response.data as MetaError).error;
      if (error?.code === undefined)
        return statusFailure(response.status, `HTTP_${response.status}`, 'Meta answered without an error body', response.headers);
      const text = [error.message, error.error_data?.details].filter(Boolean).join(': ');
      return classifyMetaError(error.code, text, retryAfterMs(response.headers['retry-after']));
    } catch (error) {
      return transportFailure(error);
    }
  }
}
