/**
 * Per-provider pacing: messages leave at least `1000 / perSecond` ms apart (and at least
 * `minIntervalMs` apart), so every sliding second holds at most `perSecond` of them: no
 * burst, not even at the start. Slots are reserved in order, so concurrent senders queue
 * fairly. It is per process: with several workers each holds its own share, so configure
 * limits per worker.
 */
export class RateLimiter {
  private readonly nextSlot = new Map<string, number>();

  constructor(
    private readonly now: () => number = () => performance.now(),
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  ) {}

  /** Waits until the provider may send one more message. */
  async acquire(key: string, perSecond: number | null, minIntervalMs: number): Promise<void> {
    const rateInterval = perSecond && perSecond > 0 ? 1000 / perSecond : 0;
    const interval = Math.max(rateInterval, minIntervalMs);
    if (interval === 0) return;
    const slot = Math.max(this.nextSlot.get(key) ?? 0, this.now());
    this.nextSlot.set(key, slot + interval);
    // Timers may fire a little early: sleep until the slot has really come.
    for (let wait = slot - this.now(); wait > 0; wait = slot - this.now()) await this.sleep(wait);
  }
}
