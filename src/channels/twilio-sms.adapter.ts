import { ProviderKind } from '../entities/channel';
import { createHttp, statusFailure, transportFailure } from './http';
import {
  type ChannelAdapter,
  type OutboundMessage,
  type ProviderAccount,
  type SendOutcome,
  credential,
  retryable,
  setting,
} from './types';

/** Twilio codes that clear up by themselves: too many requests, queue overflow, service unavailable. */
const RETRYABLE_CODES = new Set([20429, 30001, 20503]);

/** Twilio's Messages API: POST /2010-04-01/Accounts/{sid}/Messages.json, basic auth, form fields. */
export class TwilioSmsAdapter implements ChannelAdapter {
  readonly kind = ProviderKind.TWILIO_SMS;
  private readonly http = createHttp();

  async send(account: ProviderAccount, message: OutboundMessage): Promise<SendOutcome> {
    try {
      const sid = credential(account, 'accountSid');
      const url = `${account.baseUrl ?? 'https://api.twilio.com'}/2010-04-01/Accounts/${sid}/Messages.json`;
      const form = new URLSearchParams({ To: message.to, From: setting(account, 'from'), Body: message.body });
      const response = await this.http.post(url, form, { auth: { username: sid, password: credential(account, 'authToken') } });
      const data = response.data as { sid?: string; code?: number; message?: string };
      if (response.status >= 200 && response.status < 300 && data.sid) return { ok: true, providerMessageId: data.sid };
      const code = data?.code !== undefined ? String(data.code) : `HTTP_${response.status}`;
      if (data?.code !== undefined && RETRYABLE_CODES.has(data.code)) return retryable(code, data.message ?? 'Twilio is busy');
      return statusFailure(response.status, code, data?.message ?? `Twilio answered HTTP ${response.status}`, response.headers);
    } catch (error) {
      return transportFailure(error);
    }
  }
}
