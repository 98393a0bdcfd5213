import { ProviderKind } from '../entities/channel';
import { createHttp, retryAfterMs, statusFailure, transportFailure } from './http';
import {
  type ChannelAdapter,
  type OutboundMessage,
  type ProviderAccount,
  type SendOutcome,
  credential,
  permanent,
  retryable,
  setting,
} from './types';

export const META_API_VERSION = 'v21.0';

/**
 * Meta's documented error codes that clear up by themselves: throughput and pair
 * rate limits, spam rate limiting, temporary unavailability and generic errors.
 * Everything else Meta answers with a code is permanent for this message
 * (131026 undeliverable, 131047 outside the 24-hour window, 132000-132015
 * template problems, 190 expired token, 100 invalid parameter, ...).
 */
const RETRYABLE_CODES = new Set([1, 2, 4, 80007, 130429, 131000, 131048, 131056, 133004]);

interface MetaError {
  error?: { message?: string; code?: number; error_subcode?: number; error_data?: { details?: string } };
}

/** Meta WhatsApp Cloud API: POST /{version}/{phone-number-id}/messages with a bearer token. */
export class MetaWhatsAppAdapter implements ChannelAdapter {
  readonly kind = ProviderKind.META_WHATSAPP;
  private readonly http = createHttp();

  async send(account: ProviderAccount, message: OutboundMessage): Promise<SendOutcome> {
    try {
      const base = account.baseUrl ?? 'https://graph.facebook.com';
      const url = `${base}/${META_API_VERSION}/${setting(account, 'phoneNumberId')}/messages`;
      const to = message.to.replace(/^\+/, '');
      const payload = message.metaTemplate
        ? {
            messaging_product: 'whatsapp',
            recipient_type: 'individual',
            to,
            type: 'template',
            template: {
              name: message.metaTemplate.name,
              language: { code: message.metaTemplate.language },
              components: message.metaTemplate.parameters.length
                ? [{ type: 'body', parameters: message.metaTemplate.parameters.map((text) => ({ type: 'text', text })) }]
                : [],
            },
          }
        : {
            messaging_product: 'whatsapp',
            recipient_type: 'individual',
            to,
            type: 'text',
            text: { preview_url: false, body: message.body },
          };
      const response = await this.http.post(url, payload, {
        headers: { Authorization: `Bearer ${credential(account, 'accessToken')}` },
      });
      if (response.status >= 200 && response.status < 300) {
        const id = (response.data as { messages?: Array<{ id?: string }> }).messages?.[0]?.id;
        return id
          ? { ok: true, providerMessageId: id }
          : retryable('META_NO_MESSAGE_ID', 'Meta accepted the request but returned no message id');
      }
      const error = (response.data as MetaError).error;
      if (error?.code === undefined)
        return statusFailure(response.status, `HTTP_${response.status}`, 'Meta answered without an error body', response.headers);
      const text = [error.message, error.error_data?.details].filter(Boolean).join(': ');
      return RETRYABLE_CODES.has(error.code)
        ? retryable(String(error.code), text, retryAfterMs(response.headers['retry-after']))
        : permanent(String(error.code), text);
    } catch (error) {
      return transportFailure(error);
    }
  }
}
