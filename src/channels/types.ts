import type { ProviderKind } from '../entities/channel';
import type { MetaTemplateMessage } from '../entities/delivery.entity';

/** What a provider is asked to send. */
export interface OutboundMessage {
  deliveryId: string;
  to: string;
  subject: string | null;
  body: string;
  metaTemplate: MetaTemplateMessage | null;
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
 * The outcome of one send, returned as a value: expected failures are not thrown.
 * `retryable` failures may succeed later or through another provider; the others
 * (invalid recipient, unapproved template, bad credentials) never will.
 */
export type SendOutcome =
  | { ok: true; providerMessageId: string }
  | { ok: false; retryable: boolean; code: string; message: string; retryAfterMs?: number };

export interface ChannelAdapter {
  readonly kind: ProviderKind;
  send(account: ProviderAccount, message: OutboundMessage): Promise<SendOutcome>;
}

export const permanent = (code: string, message: string): SendOutcome => ({ ok: false, retryable: false, code, message });
export const retryable = (code: string, message: string, retryAfterMs?: number): SendOutcome => ({
  ok: false,
  retryable: true,
  code,
  message,
  retryAfterMs,
});

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
