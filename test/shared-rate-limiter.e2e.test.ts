import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { Redis } from 'ioredis';
import { PostgresSlots, RedisSlots, SharedRateLimiter, type SlotStore } from '../src/channels/shared-rate-limiter';
import { openDataSource } from '../src/database';
import { silentLogger } from '../src/logger';
import { createTestDatabase } from './helpers/test-app';

/** The most sends that fall in any window of `windowMs`. */
function busiestWindow(times: number[], windowMs: number): number {
  return Math.max(...times.map((start) => times.filter((time) => time >= start && time < start + windowMs).length));
}

/** Set by .ci/run when a Redis answers (these machines run one): the Redis slot store is then tested too. */
const REDIS_URL = process.env.TEST_REDIS_URL;

/**
 * Provider pacing shared through PostgreSQL (and through Redis with REDIS_URL): two
 * workers, each with its own connection to the store, together keep one provider's rate.
 */
describe.each([['PostgreSQL'], ...(REDIS_URL ? [['Redis']] : [])])(`${SharedRateLimiter.name} through %s`, (store) => {
  let database: { url: string; drop(): Promise<void> } | undefined;
  const workers: DataSource[] = [];
  const redises: Redis[] = [];
  const slots: SlotStore[] = [];

  beforeAll(async () => {
    if (store === 'Redis') {
      for (let n = 0; n < 2; n++) redises.push(new Redis(REDIS_URL!));
      slots.push(...redises.map((redis) => new RedisSlots(redis)));
      return;
    }
    database = await createTestDatabase();
    for (let n = 0; n < 2; n++) workers.push(await openDataSource(database.url, 4, silentLogger));
    slots.push(...workers.map((worker) => new PostgresSlots(worker)));
  });
  afterAll(async () => {
    for (const worker of workers) await worker.destroy();
    for (const redis of redises) redis.disconnect();
    await database?.drop();
  });

  it('holds two workers together to the provider’s rate in every sliding second, the first one included', async () => {
    const provider = randomUUID();
    const limiters = slots.map((slot) => new SharedRateLimiter(slot));
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
    const [one, other] = slots.map((slot) => new SharedRateLimiter(slot));
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
