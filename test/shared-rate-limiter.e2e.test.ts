import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { Redis } from 'ioredis';
import {
  PostgresSlots,
  RedisSlots,
  type Reservation,
  SharedRateLimiter,
  type SlotStore,
} from '../src/channels/shared-rate-limiter';
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

  /** Each limiter's handed slots, by the store's clock: what the pacing decided, whatever the machine's load. */
  function watched(limiters: SharedRateLimiter[]): number[] {
    const handed: number[] = [];
    for (const limiter of limiters) limiter.watch((slot) => handed.push(slot.at));
    return handed;
  }

  it('holds two workers together to the provider’s rate in every sliding second, the first one included', async () => {
    const provider = randomUUID();
    const limiters = slots.map((slot) => new SharedRateLimiter(slot));
    const handed = watched(limiters);
    // Each worker keeps 4 sends in flight, as the dispatcher does, for 60 sends each.
    await Promise.all(
      limiters.flatMap((limiter) =>
        Array.from({ length: 4 }, async () => {
          for (let n = 0; n < 15; n++) await limiter.acquire(provider, 25, 0);
        }),
      ),
    );
    expect(handed).toHaveLength(120);
    // 25/s: the slots the two workers were given never come closer than 40 ms by the store's
    // clock (sub-microsecond rounding aside), so no second holds more than 25, the first included.
    const times = [...handed].sort((a, b) => a - b);
    const gaps = times.slice(1).map((time, n) => time - times[n]);
    expect(Math.min(...gaps)).toBeGreaterThan(40 - 0.01);
    expect(busiestWindow(times, 1000)).toBeLessThanOrEqual(25);
    expect(times.filter((time) => time < times[0] + 1000).length).toBeLessThanOrEqual(25);
  });

  it('keeps a fixed gap between workers, paces providers independently and reserves nothing for unlimited ones', async () => {
    const reservations: Reservation[] = [];
    const counted = slots.map((slot): SlotStore => ({
      reserve: async (key, spanMs) => {
        const reservation = await slot.reserve(key, spanMs);
        reservations.push(reservation);
        return reservation;
      },
    }));
    const [one, other] = counted.map((slot) => new SharedRateLimiter(slot));
    const gapped = watched([one, other]);
    const provider = randomUUID();
    await one.acquire(provider, null, 300);
    await other.acquire(provider, null, 300);
    await one.acquire(provider, null, 300);
    expect(gapped).toHaveLength(3);
    expect(gapped[1] - gapped[0]).toBeGreaterThan(300 - 0.01);
    expect(gapped[2] - gapped[1]).toBeGreaterThan(300 - 0.01);

    // Providers without a rate or gap never reach the store: nothing to wait for.
    reservations.length = 0;
    for (let n = 0; n < 50; n++) await one.acquire(randomUUID(), null, 0);
    expect(reservations).toHaveLength(0);
    // Another provider's first slot is its own, starting now, whatever the first provider has reserved.
    await other.acquire(randomUUID(), 1, 0);
    expect(reservations).toHaveLength(1);
    expect(reservations[0].waitMs).toBeLessThanOrEqual(0);
  });
});
