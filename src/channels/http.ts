import axios, { type AxiosInstance, isAxiosError } from 'axios';
import { type AddressGuard, isRefusedAddressError } from './address-guard';
import { type FailureKind, MissingSettingError, type SendFailure, providerFault, rejected, throttled, transient } from './types';

/** What every adapter's outbound connections share: the send timeout and the address guard. */
export interface ChannelSettings {
  sendTimeoutMs: number;
  guard: AddressGuard;
}

/**
 * One axios instance per adapter: a timeout, connections only to allowed addresses, no
 * redirects (a redirect could lead past the guard's intent), and every status handed
 * back to the adapter to classify.
 */
export function createHttp(settings: ChannelSettings): AxiosInstance {
  return axios.create({
    timeout: settings.sendTimeoutMs,
    validateStatus: () => true,
    maxRedirects: 0,
    httpAgent: settings.guard.httpAgent,
    httpsAgent: settings.guard.httpsAgent,
  });
}

/** Parses Retry-After (seconds or an HTTP date) into milliseconds. */
export function retryAfterMs(header: unknown, now = Date.now()): number | undefined {
  if (typeof header !== 'string') return undefined;
  if (/^\d+$/.test(header)) return Number(header) * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * Errors that never reached a provider answer: network failures and timeouts are
 * transient; a refused address belongs to whatever named it (`addressFault`: the
 * provider's base URL, or the recipient URL of a webhook).
 */
export function transportFailure(error: unknown, addressFault: FailureKind = 'provider'): SendFailure {
  if (error instanceof MissingSettingError) return providerFault('PROVIDER_MISCONFIGURED', error.message);
  if (isRefusedAddressError(error)) {
    const fail = addressFault === 'rejected' ? rejected : providerFault;
    return fail('ADDRESS_NOT_ALLOWED', 'The address is loopback, private or link-local; only public addresses are reached');
  }
  if (isAxiosError(error)) {
    const timedOut = error.code === 'ECONNABORTED' || error.code === 'ETIMEDOUT';
    return transient(
      timedOut ? 'TIMEOUT' : (error.code ?? 'NETWORK'),
      timedOut ? 'The provider did not answer in time' : error.message,
    );
  }
  return transient('NETWORK', error instanceof Error ? error.message : String(error));
}

/**
 * Classification by HTTP status alone, for answers without a more specific code:
 * 429 throttles, 5xx and 408 are transient, 401/402/403 belong to the provider account,
 * anything else to the message.
 */
export function statusFailure(status: number, code: string, message: string, headers: Record<string, unknown> = {}): SendFailure {
  if (status === 429) return throttled(code, message, retryAfterMs(headers['retry-after']));
  if (status >= 500 || status === 408) return transient(code, message);
  if (status === 401 || status === 402 || status === 403) return providerFault(code, message);
  return rejected(code, message);
}
