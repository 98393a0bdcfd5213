import { ProviderKind } from '../entities/channel';
import { type ChannelSettings, createHttp, statusFailure, transportFailure } from './http';
import {
  type ChannelAdapter,
  type OutboundMessage,
  type ProviderAccount,
  type SendOutcome,
  credential,
  providerFault,
  setting,
  throttled,
  transient,
} from './types';

/** Twilio codes that clear up by themselves: queue overflow, service unavailable. */
const TRANSIENT_CODES = new Set([30001, 20503]);
/** Twilio codes of the account: authentication, suspended account, a From number it may not use. */
const ACCOUNT_CODES = new Set([20003, 20005, 21606, 21608, 30002]);

/** Twilio's Messages API: POST /2010-04-01/Accounts/{sid}/Messages.json, basic auth, form fields. */
export class TwilioSmsAdapter implements ChannelAdapter {
  readonly kind = ProviderKind.TWILIO_SMS;
  private readonly http;

  constructor(settings: ChannelSettings) {
    this.http = createHttp(settings);
  }

  async send(account: ProviderAccount, message: OutboundMessage): Promise<SendOutcome> {
    try {
      const sid = credential(account, 'accountSid');
      const url = `${account.baseUrl ?? 'https://api.twilio.com'}/2010-04-01/Accounts/${sid}/Messages.json`;
      const form = new URLSearchParams({ To: message.to, From: setting(account, 'from'), Body: message.body });
      const response = await this.http.post(url, form, { auth: { username: sid, password: credential(account, 'authToken') } });
      const data = response.data as { sid?: string; code?: number; message?: string };
      if (response.status >= 200 && response.status < 300 && data.sid) return { ok: true, providerMessageId: data.sid };
      const code = data?.code !== undefined ? String(data.code) : `HTTP_${response.status}`;
      if (data?.code === 20429) return throttled(code, data.message ?? 'Too many requests', undefined);
      if (data?.code !== undefined && TRANSIENT_CODES.has(data.code)) return transient(code, data.message ?? 'Twilio is busy');
      if (data?.code !== undefined && ACCOUNT_CODES.has(data.code)) {
        return providerFault(code, data.message ?? 'Twilio refused the account');
      }
      return statusFailure(response.status, code, data?.message ?? `Twilio answered HTTP ${response.status}`, response.headers);
    } catch (error) {
      return transportFailure(error);
    }
  }
}
