import axios, { type AxiosInstance, isAxiosError } from 'axios';
import { MissingSettingError, type SendOutcome, permanent, retryable } from './types';

export const DEFAULT_SEND_TIMEOUT_MS = 10_000;

/** One axios instance per adapter: a timeout, and every status handed back to the adapter to classify. */
export function createHttp(timeoutMs = DEFAULT_SEND_TIMEOUT_MS): AxiosInstance {
  return axios.create({ timeout: timeoutMs, validateStatus: () => true, maxRedirects: 0 });
}

/** Parses Retry-After (seconds or an HTTP date) into milliseconds. */
export function retryAfterMs(header: unknown, now = Date.now()): number | undefined {
  if (typeof header !== 'string') return undefined;
  if (/^\d+$/.test(header)) return Number(header) * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Errors that never reached a provider answer: network failures and timeouts are retryable. */
export function transportFailure(error: unknown): SendOutcome {
  if (error instanceof MissingSettingError) return permanent('PROVIDER_MISCONFIGURED', error.message);
  if (isAxiosError(error)) {
    const timedOut = error.code === 'ECONNABORTED' || error.code === 'ETIMEDOUT';
    return retryable(
      timedOut ? 'TIMEOUT' : (error.code ?? 'NETWORK'),
      timedOut ? 'The provider did not answer in time' : error.message,
    );
  }
  return retryable('NETWORK', error instanceof Error ? error.message : String(error));
}

/** Classification by HTTP status alone, for answers without a more specific code. */
export function statusFailure(status: number, code: string, message: string, headers: Record<string, unknown> = {}): SendOutcome {
  if (status === 429) return retryable(code, message, retryAfterMs(headers['retry-after']));
  if (status >= 500 || status === 408) return retryable(code, message);
  return permanent(code, message);
}
