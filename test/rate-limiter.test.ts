import { RateLimiter } from '../src/channels/rate-limiter';

/** A virtual clock: sleeping advances time, so pacing is measured exactly and instantly. */
function virtualLimiter() {
  let now = 0;
  const limiter = new RateLimiter(
    () => now,
    async (ms) => {
      now += ms;
    },
  );
  return { limiter, now: () => now };
}

describe(RateLimiter.name, () => {
  it('holds a provider to its rate after a burst of at most 100 ms worth', async () => {
    const { limiter, now } = virtualLimiter();
    for (let i = 0; i < 80; i++) await limiter.acquire('meta', 80, 0);
    // 80 messages at 80/s: the first 8 (100 ms worth) go at once, the rest 12.5 ms apart, so the
    // 80th leaves 72 intervals after the start.
    expect(now()).toBe(72 * 12.5);
  });

  it('keeps a fixed gap between messages without a burst', async () => {
    const { limiter, now } = virtualLimiter();
    for (let i = 0; i < 5; i++) await limiter.acquire('fonnte', null, 2000);
    expect(now()).toBe(8000);
  });

  it('paces providers independently and lets unlimited ones through at once', async () => {
    const { limiter, now } = virtualLimiter();
    await limiter.acquire('a', 1, 0);
    await limiter.acquire('b', 1, 0);
    for (let i = 0; i < 100; i++) await limiter.acquire('c', null, 0);
    expect(now()).toBe(0);
  });
});
