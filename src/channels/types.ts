import type { ProviderKind } from '../entities/channel';
import type { MetaTemplateMessage } from '../entities/delivery.entity';

/** An answer the customer can tap instead of typing; its id comes back as their reply. */
export interface ReplyOption {
  id: string;
  title: string;
}

/** Answers offered with a message, where the channel has buttons (WhatsApp on Meta). */
export interface ReplyOptions {
  /** Label of the button that opens the list, when there are more options than buttons (at most 20 characters). */
  listLabel: string;
  options: ReplyOption[];
}

/** A stored file sent with a message, by a link the provider (or the recipient) fetches it from. */
export interface OutboundMedia {
  link: string;
  contentType: string;
  fileName: string;
  /** How WhatsApp shows it: photos (JPEG, PNG) and MP4 videos inline, anything else as a document. */
  kind: 'image' | 'video' | 'document';
}

/** What a provider is asked to send. */
export interface OutboundMessage {
  deliveryId: string;
  to: string;
  subject: string | null;
  body: string;
  metaTemplate: MetaTemplateMessage | null;
  /** Answers to offer as buttons, where the provider has them; the body still says how to answer in words. */
  replyOptions?: ReplyOptions | null;
  /** A file it carries: Meta sends it as media; providers without media get the link in the text. */
  media?: OutboundMedia | null;
  /** One-click unsubscribe URL (RFC 8058) for marketing e-mail. */
  unsubscribeUrl?: string | null;
}

/** A provider account as an adapter needs it: decrypted credentials included. */
export interface ProviderAccount {
  id: string;
  kind: ProviderKind;
  baseUrl: string | null;
  settings: Record<string, unknown>;
  credentials: Record<string, string>;
}

/**
 * Whose problem a failed send is, which decides what the dispatcher does next:
 * - `rejected`: the message or its recipient (invalid number, template refused): no
 *   provider will ever carry it, so the delivery fails at once;
 * - `provider`: this provider account (revoked or expired credentials, suspended account,
 *   exhausted quota, misconfiguration): the next provider, with its own credentials, may;
 * - `transient`: may clear up by itself (timeouts, network, 5xx): the next provider now,
 *   this one later;
 * - `throttled`: the provider asked us to slow down (429, Retry-After): it is paused until
 *   then and the message is not charged an attempt for it;
 * - `recipient`: a passing limit on one recipient or this one message (Meta's pair rate
 *   limit and spam limit): the provider is healthy and keeps its other traffic, so this
 *   message alone is retried after its Retry-After (or its backoff), and nothing counts
 *   toward the provider's circuit;
 * - `window`: free text outside the customer's 24-hour service window (Meta's 131047): this
 *   provider takes the message only as its approved template; a gateway may take the text.
 */
export type FailureKind = 'rejected' | 'provider' | 'transient' | 'throttled' | 'recipient' | 'window';

export interface SendFailure {
  ok: false;
  kind: FailureKind;
  code: string;
  message: string;
  retryAfterMs?: number;
}

/** The outcome of one send, returned as a value: expected failures are not thrown. */
export type SendOutcome = { ok: true; providerMessageId: string } | SendFailure;

export interface ChannelAdapter {
  readonly kind: ProviderKind;
  /** Sends OutboundMessage.media as media; adapters without it get the file's link in the text. */
  readonly sendsMedia?: boolean;
  send(account: ProviderAccount, message: OutboundMessage): Promise<SendOutcome>;
}

const failure =
  (kind: FailureKind) =>
  (code: string, message: string, retryAfterMs?: number): SendFailure => ({ ok: false, kind, code, message, retryAfterMs });

export const rejected = failure('rejected');
export const providerFault = failure('provider');
export const transient = failure('transient');
export const throttled = failure('throttled');
export const recipientLimited = failure('recipient');
export const outsideWindow = failure('window');

/** Whether the message may still go out, later or through another provider. */
export const isRetryable = (outcome: SendFailure): boolean => outcome.kind !== 'rejected';

export function setting(account: ProviderAccount, name: string): string {
  const value = account.settings[name];
  if (typeof value !== 'string' || value === '') throw new MissingSettingError(`The provider needs the setting "${name}"`);
  return value;
}

export function credential(account: ProviderAccount, name: string): string {
  const value = account.credentials[name];
  if (!value) throw new MissingSettingError(`The provider needs the credential "${name}"`);
  return value;
}

/** A provider configured without something it needs: a permanent failure of that provider. */
export class MissingSettingError extends Error {}
