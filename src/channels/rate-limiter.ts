/**
 * Per-provider pacing: a token bucket (GCRA form) with a short burst allowance,
 * and an optional fixed gap between messages. It is per process: with several
 * workers each holds its own share, so configure limits per worker.
 */
export class RateLimiter {
  private readonly theoreticalArrival = new Map<string, number>();

  constructor(
    private readonly now: () => number = () => performance.now(),
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  ) {}

  /** Waits until the provider may send one more message. */
  async acquire(key: string, perSecond: number | null, minIntervalMs: number): Promise<void> {
    const rateInterval = perSecond && perSecond > 0 ? 1000 / perSecond : 0;
    const interval = Math.max(rateInterval, minIntervalMs);
    if (interval === 0) return;
    // A fixed gap allows no burst; a plain rate allows 100 ms worth of messages at once.
    const burst = minIntervalMs > 0 ? 0 : Math.max(0, 100 - interval);
    const now = this.now();
    const tat = Math.max(this.theoreticalArrival.get(key) ?? now, now);
    this.theoreticalArrival.set(key, tat + interval);
    const wait = tat - burst - now;
    if (wait > 0) await this.sleep(wait);
  }
}
