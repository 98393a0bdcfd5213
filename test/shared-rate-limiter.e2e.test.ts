import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { SharedRateLimiter } from '../src/channels/shared-rate-limiter';
import { openDataSource } from '../src/database';
import { silentLogger } from '../src/logger';
import { createTestDatabase } from './helpers/test-app';

/** The most sends that fall in any window of `windowMs`. */
function busiestWindow(times: number[], windowMs: number): number {
  return Math.max(...times.map((start) => times.filter((time) => time >= start && time < start + windowMs).length));
}

/** Provider pacing shared through PostgreSQL: two workers together keep one provider's rate. */
describe(SharedRateLimiter.name, () => {
  let database: { url: string; drop(): Promise<void> };
  const workers: DataSource[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    for (let n = 0; n < 2; n++) workers.push(await openDataSource(database.url, 4, silentLogger));
  });
  afterAll(async () => {
    for (const worker of workers) await worker.destroy();
    await database.drop();
  });

  it('holds two workers together to the provider’s rate in every sliding second, the first one included', async () => {
    const provider = randomUUID();
    const limiters = workers.map((worker) => new SharedRateLimiter(worker));
    const times: number[] = [];
    const start = performance.now();
    // Each worker keeps 4 sends in flight, as the dispatcher does, for 30 sends each.
    await Promise.all(
      limiters.flatMap((limiter) =>
        Array.from({ length: 4 }, async () => {
          for (let n = 0; n < 15; n++) {
            await limiter.acquire(provider, 25, 0);
            times.push(performance.now() - start);
          }
        }),
      ),
    );
    expect(times).toHaveLength(120);
    // 25/s: never more than 25 in any second (a timer may fire 1 ms late, so a window can catch one more edge).
    expect(busiestWindow(times, 1000)).toBeLessThanOrEqual(26);
    expect(times.filter((time) => time < 1000).length).toBeLessThanOrEqual(26);
    // And they were not slower than the rate allows: 120 sends at 25/s take about 4.76 s.
    expect(Math.max(...times)).toBeGreaterThan(4600);
    expect(Math.max(...times)).toBeLessThan(5600);
  });

  it('keeps a fixed gap, paces providers independently and lets unlimited ones through at once', async () => {
    const [one, other] = workers.map((worker) => new SharedRateLimiter(worker));
    const gapped = randomUUID();
    const start = performance.now();
    await one.acquire(gapped, null, 300);
    await other.acquire(gapped, null, 300);
    await one.acquire(gapped, null, 300);
    expect(performance.now() - start).toBeGreaterThanOrEqual(600);
    const unlimited = performance.now();
    for (let n = 0; n < 50; n++) await one.acquire(randomUUID(), null, 0);
    await other.acquire(randomUUID(), 1, 0);
    expect(performance.now() - unlimited).toBeLessThan(500);
  });
});
