import { createHmac, timingSafeEqual } from 'node:crypto';
import { DeliveryStatus } from '../entities/channel';

/**
 * Twilio's webhooks for an SMS number: status callbacks of our messages (MessageStatus)
 * and messages customers send (Body). Twilio signs each request: X-Twilio-Signature is
 * the Base64 HMAC-SHA1, keyed by the account's auth token, of the URL it called followed
 * by every POST parameter's name and value, sorted by name.
 */
export function twilioSignature(authToken: string, url: string, params: Record<string, string>): string {
  const signed = Object.keys(params)
    .sort()
    .reduce((text, name) => text + name + params[name], url);
  return createHmac('sha1', authToken).update(signed, 'utf8').digest('base64');
}

export function verifyTwilioSignature(
  authToken: string | undefined,
  url: string,
  params: Record<string, string>,
  given: unknown,
): boolean {
  if (!authToken || typeof given !== 'string') return false;
  const expected = Buffer.from(twilioSignature(authToken, url, params));
  const actual = Buffer.from(given);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

export type TwilioCallback =
  | { kind: 'status'; messageSid: string; status: ReportedStatus; errorCode: string | null; raw: Record<string, string> }
  | { kind: 'message'; messageSid: string; from: string; to: string; text: string; raw: Record<string, string> };

type ReportedStatus = DeliveryStatus.SENT | DeliveryStatus.DELIVERED | DeliveryStatus.READ | DeliveryStatus.FAILED;

/** Twilio's message statuses as ours; queued, accepted and sending say nothing new. */
const STATUS: Record<string, ReportedStatus> = {
  sent: DeliveryStatus.SENT,
  delivered: DeliveryStatus.DELIVERED,
  read: DeliveryStatus.READ,
  undelivered: DeliveryStatus.FAILED,
  failed: DeliveryStatus.FAILED,
};

/** What a (verified) callback says, or undefined for one that says nothing we keep. */
export function parseTwilioCallback(params: Record<string, string>): TwilioCallback | undefined {
  const messageSid = params.MessageSid ?? params.SmsSid;
  if (!messageSid) return undefined;
  const status = (params.MessageStatus ?? params.SmsStatus ?? '').toLowerCase();
  if (params.Body !== undefined && params.From && (status === '' || status === 'received')) {
    return { kind: 'message', messageSid, from: params.From, to: params.To ?? '', text: params.Body, raw: params };
  }
  if (STATUS[status]) {
    return { kind: 'status', messageSid, status: STATUS[status], errorCode: params.ErrorCode || null, raw: params };
  }
  return undefined;
}
