import { createHmac } from 'node:crypto';
import { ProviderKind } from '../entities/channel';
import { type ChannelSettings, createHttp, statusFailure, transportFailure } from './http';
import { type ChannelAdapter, type OutboundMessage, type ProviderAccount, type SendOutcome, credential } from './types';

export const SIGNATURE_HEADER = 'X-Notify-Signature';
export const TIMESTAMP_HEADER = 'X-Notify-Timestamp';

/** HMAC-SHA256 over `${timestamp}.${rawBody}`, hex, prefixed `sha256=`; receivers recompute it. */
export function signWebhook(secret: string, timestamp: string, rawBody: string): string {
  return 'sha256=' + createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex');
}

/** Generic outbound webhook: a JSON POST to the recipient URL, signed over the raw body and a timestamp. */
export class WebhookAdapter implements ChannelAdapter {
  readonly kind = ProviderKind.WEBHOOK;
  private readonly http;

  constructor(settings: ChannelSettings) {
    this.http = createHttp(settings);
  }

  async send(account: ProviderAccount, message: OutboundMessage): Promise<SendOutcome> {
    try {
      const timestamp = String(Math.floor(Date.now() / 1000));
      const raw = JSON.stringify({
        id: message.deliveryId,
        to: message.to,
        subject: message.subject,
        body: message.body,
        sentAt: new Date().toISOString(),
      });
      const response = await this.http.post(message.to, raw, {
        headers: {
          'Content-Type': 'application/json',
          [TIMESTAMP_HEADER]: timestamp,
          [SIGNATURE_HEADER]: signWebhook(credential(account, 'signingSecret'), timestamp, raw),
        },
        transformRequest: [(body: string) => body],
      });
      if (response.status >= 200 && response.status < 300) return { ok: true, providerMessageId: message.deliveryId };
      return statusFailure(
        response.status,
        `HTTP_${response.status}`,
        `The webhook answered HTTP ${response.status}`,
        response.headers,
      );
    } catch (error) {
      // The URL is the recipient: a refused address ends this message, not the provider.
      return transportFailure(error, 'rejected');
    }
  }
}
