import { ProviderKind } from '../entities/channel';
import { type ChannelSettings, createHttp, statusFailure, transportFailure } from './http';
import {
  type ChannelAdapter,
  type OutboundMessage,
  type ProviderAccount,
  type SendOutcome,
  credential,
  providerFault,
  rejected,
  setting,
  transient,
} from './types';

/**
 * Local WhatsApp gateways answer HTTP 200 with `status: false` and a free-text reason.
 * Reasons about the account (token, quota, expired package) belong to this gateway:
 * another provider may carry the message. A bad number never fixes itself. Anything
 * else (device disconnected, busy) may clear up.
 */
function classifyReason(code: string, reason: string): SendOutcome {
  if (/token|unauthori[sz]ed|api ?key/i.test(reason)) return providerFault(`${code}_AUTH`, reason);
  if (/quota|expired|suspend|package|subscription|balance|limit reached/i.test(reason)) {
    return providerFault(`${code}_ACCOUNT`, reason);
  }
  if (
    /(invalid|wrong|not registered|not (a )?whatsapp).*(target|number|phone)|(target|number|phone).*(invalid|not registered)/i.test(
      reason,
    )
  ) {
    return rejected(`${code}_INVALID_RECIPIENT`, reason);
  }
  return transient(`${code}_REFUSED`, reason);
}

/** Fonnte: POST https://api.fonnte.com/send, `Authorization: <token>`, form fields target and message. */
export class FonnteAdapter implements ChannelAdapter {
  readonly kind = ProviderKind.FONNTE;
  private readonly http;

  constructor(settings: ChannelSettings) {
    this.http = createHttp(settings);
  }

  async send(account: ProviderAccount, message: OutboundMessage): Promise<SendOutcome> {
    try {
      const body = new URLSearchParams({ target: message.to.replace(/^\+/, ''), message: message.body, countryCode: '0' });
      const response = await this.http.post(`${account.baseUrl ?? 'https://api.fonnte.com'}/send`, body, {
        headers: { Authorization: credential(account, 'token') },
      });
      const data = response.data as { status?: boolean; id?: Array<string | number>; reason?: string };
      if (response.status !== 200)
        return statusFailure(
          response.status,
          `FONNTE_HTTP_${response.status}`,
          data?.reason ?? 'Fonnte refused the request',
          response.headers,
        );
      if (data.status === true && data.id?.length) return { ok: true, providerMessageId: String(data.id[0]) };
      return classifyReason('FONNTE', data.reason ?? 'Fonnte did not accept the message');
    } catch (error) {
      return transportFailure(error);
    }
  }
}

/** Wablas: POST {server}/api/send-message, `Authorization: <token>.<secret key>`, JSON phone and message. */
export class WablasAdapter implements ChannelAdapter {
  readonly kind = ProviderKind.WABLAS;
  private readonly http;

  constructor(settings: ChannelSettings) {
    this.http = createHttp(settings);
  }

  async send(account: ProviderAccount, message: OutboundMessage): Promise<SendOutcome> {
    try {
      const base = account.baseUrl ?? setting(account, 'serverUrl');
      const secret = account.credentials.secretKey;
      const authorization = secret ? `${credential(account, 'token')}.${secret}` : credential(account, 'token');
      const response = await this.http.post(
        `${base}/api/send-message`,
        { phone: message.to.replace(/^\+/, ''), message: message.body },
        { headers: { Authorization: authorization } },
      );
      const data = response.data as { status?: boolean; message?: string; data?: { messages?: Array<{ id?: string }> } };
      if (response.status >= 500 || [401, 403, 429].includes(response.status)) {
        return statusFailure(
          response.status,
          `WABLAS_HTTP_${response.status}`,
          data?.message ?? 'Wablas is unavailable',
          response.headers,
        );
      }
      const id = data?.data?.messages?.[0]?.id;
      if (data?.status === true && id) return { ok: true, providerMessageId: id };
      return classifyReason('WABLAS', data?.message ?? `Wablas answered HTTP ${response.status}`);
    } catch (error) {
      return transportFailure(error);
    }
  }
}
