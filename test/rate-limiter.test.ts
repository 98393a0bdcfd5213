import { RateLimiter } from '../src/channels/rate-limiter';

/** A virtual clock: sleeping advances time, so pacing is measured exactly and instantly. */
function virtualLimiter(early = 0) {
  let now = 0;
  const limiter = new RateLimiter(
    () => now,
    async (ms) => {
      // A timer that fires `early` ms before it should, as real ones sometimes do.
      now += Math.max(ms - early, 0.25);
    },
  );
  return { limiter, now: () => now };
}

/** The most sends that fall in any window of `windowMs`. */
function busiestWindow(times: number[], windowMs: number): number {
  return Math.max(...times.map((start) => times.filter((time) => time >= start && time < start + windowMs).length));
}

describe(RateLimiter.name, () => {
  it('holds a provider to its rate in every sliding second, the first one included', async () => {
    const { limiter, now } = virtualLimiter();
    const times: number[] = [];
    for (let i = 0; i < 120; i++) {
      await limiter.acquire('meta', 50, 0);
      times.push(now());
    }
    expect(busiestWindow(times, 1000)).toBe(50);
    expect(times.filter((time) => time < 1000)).toHaveLength(50);
    expect(now()).toBe(119 * 20);
  });

  it('never lets a message leave before its slot when timers fire early', async () => {
    const { limiter, now } = virtualLimiter(3);
    const times: number[] = [];
    for (let i = 0; i < 60; i++) {
      await limiter.acquire('meta', 50, 0);
      times.push(now());
    }
    expect(busiestWindow(times, 1000)).toBeLessThanOrEqual(50);
    times.slice(1).forEach((time, i) => expect(time - times[i]).toBeGreaterThanOrEqual(20 - 1e-9));
  });

  it('keeps a fixed gap between messages', async () => {
    const { limiter, now } = virtualLimiter();
    for (let i = 0; i < 5; i++) await limiter.acquire('fonnte', null, 2000);
    expect(now()).toBe(8000);
  });

  it('queues concurrent senders one slot apart', async () => {
    let now = 0;
    const wakeups: Array<{ at: number; resolve: () => void }> = [];
    const limiter = new RateLimiter(
      () => now,
      (ms) => new Promise<void>((resolve) => wakeups.push({ at: now + ms, resolve })),
    );
    const sent: number[] = [];
    const senders = Array.from({ length: 5 }, () => limiter.acquire('meta', 10, 0).then(() => sent.push(now)));
    // Run the virtual timers in order until every sender is through.
    while (sent.length < 5) {
      await Promise.resolve();
      wakeups.sort((a, b) => a.at - b.at);
      const next = wakeups.shift();
      if (!next) continue;
      now = next.at;
      next.resolve();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(senders);
    expect(sent).toEqual([0, 100, 200, 300, 400]);
  });

  it('paces providers independently and lets unlimited ones through at once', async () => {
    const { limiter, now } = virtualLimiter();
    await limiter.acquire('a', 1, 0);
    await limiter.acquire('b', 1, 0);
    for (let i = 0; i < 100; i++) await limiter.acquire('c', null, 0);
    expect(now()).toBe(0);
  });
});
