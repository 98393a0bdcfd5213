/**
 * How the dispatcher treats one provider of a channel's list for one message, decided from
 * what this process sees of its traffic. Pure, so the failover choice is tested on its own.
 */

/** Requests out to a provider from this process, in monotonic milliseconds. */
export interface ProviderTraffic {
  /** When each request now out to it started. */
  started: readonly number[];
  /** When the last request came back, if any did. */
  lastDone: number | undefined;
}

/**
 * - `slow`: every request out has been out past PROVIDER_SLOW_MS: hung, as far as routing
 *   goes; passed over while another provider can take the message.
 * - `stalled`: its requests have been out a while and none came back meanwhile: its slots
 *   will not free up soon, so a message that finds it full goes to the next one at once.
 * - `healthy`: answering; a message that finds it full waits a moment for its next slot.
 *
 * The last usable provider is never slow or stalled: with nothing to pass on to, waiting
 * for it (and then the queue) is all there is, and a busy machine's late answers must not
 * make a healthy only provider look hung.
 */
export type ProviderState = 'slow' | 'stalled' | 'healthy';

export interface RoutingSettings {
  providerSlowMs: number;
  /** How long without an answer, with requests out, makes a full provider stalled. */
  stallMs: number;
}

export function providerState(
  traffic: ProviderTraffic | undefined,
  now: number,
  hasAlternative: boolean,
  settings: RoutingSettings,
): ProviderState {
  if (!hasAlternative || !traffic?.started.length) return 'healthy';
  const newest = Math.max(...traffic.started);
  if (now - newest >= settings.providerSlowMs) return 'slow';
  const oldest = Math.min(...traffic.started);
  const silent = traffic.lastDone === undefined || now - traffic.lastDone >= settings.stallMs;
  return now - oldest >= settings.stallMs && silent ? 'stalled' : 'healthy';
}
