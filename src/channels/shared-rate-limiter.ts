import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';

/** What the dispatcher paces sends with. */
export interface SendPacer {
  /** Waits until the provider may send one more message. */
  acquire(key: string, perSecond: number | null, minIntervalMs: number): Promise<void>;
}

/** How late a reserved slot may still be used (event-loop lag, a pause); later ones are dropped rather than sent in a burst. */
const LATE_TOLERANCE_MS = 1000;

/**
 * Slots this worker reserved and has not used yet: the n-th is at `start + n * interval`
 * (local clock), which is `storeStart + n * interval` by the store's clock.
 */
interface Block {
  start: number;
  storeStart: number;
  interval: number;
  next: number;
  count: number;
}

/** A reservation: when its first slot starts, by the store's clock (ms since the epoch) and from now. */
export interface Reservation {
  startsAt: number;
  waitMs: number;
}

/**
 * Where the next free send slot of each provider is kept for every worker: `reserve`
 * takes `spanMs` of slots after the last one anyone reserved, atomically and by the
 * store's own clock, and answers when the first of them starts.
 */
export interface SlotStore {
  reserve(key: string, spanMs: number): Promise<Reservation>;
}

/** A slot handed to a send: the provider and its time by the store's clock (ms since the epoch). */
export interface HandedSlot {
  key: string;
  at: number;
}

/** Slots in PostgreSQL: one `provider_pace` row per provider, one upsert per reservation. */
export class PostgresSlots implements SlotStore {
  constructor(private readonly dataSource: DataSource) {}

  async reserve(key: string, spanMs: number): Promise<Reservation> {
    const [row] = (await this.dataSource.query(
      `WITH reserved AS (
         INSERT INTO provider_pace ("providerId", "nextSlot") VALUES ($1, clock_timestamp() + $2 * interval '1 millisecond')
         ON CONFLICT ("providerId") DO UPDATE
           SET "nextSlot" = GREATEST(provider_pace."nextSlot", clock_timestamp()) + $2 * interval '1 millisecond'
         RETURNING "nextSlot" - $2 * interval '1 millisecond' AS start)
       SELECT extract(epoch FROM start) * 1000 AS "startsAt", extract(epoch FROM (start - clock_timestamp())) * 1000 AS "waitMs"
         FROM reserved`,
      [key, spanMs],
    )) as Array<{ startsAt: string; waitMs: string }>;
    return { startsAt: Number(row.startsAt), waitMs: Number(row.waitMs) };
  }
}

/**
 * The reservation as one Lua script, atomic in Redis and timed by Redis's clock (TIME,
 * in microseconds); the key expires a minute after its last slot. The start and the wait
 * come back as text, since Redis turns Lua numbers into integers.
 */
const RESERVE_SCRIPT = `
  local time = redis.call('TIME')
  local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
  local start = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), now)
  local finish = start + tonumber(ARGV[1])
  redis.call('SET', KEYS[1], string.format('%.3f', finish), 'PX', math.ceil(finish - now) + 60000)
  return string.format('%.3f %.3f', start, start - now)`;

/** Slots in Redis (with REDIS_URL): a key per provider, one script call per reservation. */
export class RedisSlots implements SlotStore {
  constructor(private readonly redis: Redis) {}

  async reserve(key: string, spanMs: number): Promise<Reservation> {
    const answer = (await this.redis.eval(RESERVE_SCRIPT, 1, `notify-desk:pace:${key}`, String(spanMs))) as string;
    const [startsAt, waitMs] = answer.split(' ').map(Number);
    return { startsAt, waitMs };
  }
}

/**
 * Provider pacing shared by every worker through a slot store (PostgreSQL, or Redis when
 * configured) holding the next free send slot of each provider. A worker reserves slots
 * after the last one reserved by anyone, atomically and by the store's clock, so N workers
 * together keep the provider's rate (e.g. Meta's 80/s per number) instead of each
 * assuming 1/N of it. Slots are spaced by the rate's interval and each send waits for its
 * own, so no second ever holds more than the rate.
 *
 * At high rates a reservation takes a block of 20 ms worth of slots (one at 80/s, 20,000
 * at 1,000,000/s), so pacing costs one round trip per block, not per message; a slot not
 * used within a second of its time is dropped, never sent in a burst after a stall. A
 * provider without a rate costs nothing.
 */
export class SharedRateLimiter implements SendPacer {
  private readonly blocks = new Map<string, Block>();
  private readonly reserving = new Map<string, Promise<void>>();

  private readonly watchers = new Set<(slot: HandedSlot) => void>();

  constructor(
    private readonly slots: SlotStore,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  ) {}

  /**
   * Hears each slot handed to a send, by the store's clock: what the pacing decided,
   * exactly, whatever the machine's load did to the timers after. Returns the unwatch.
   */
  watch(watcher: (slot: HandedSlot) => void): () => void {
    this.watchers.add(watcher);
    return () => this.watchers.delete(watcher);
  }

  async acquire(key: string, perSecond: number | null, minIntervalMs: number): Promise<void> {
    const rateInterval = perSecond && perSecond > 0 ? 1000 / perSecond : 0;
    const interval = Math.max(rateInterval, minIntervalMs);
    if (interval === 0) return;
    const slot = await this.take(key, interval);
    // Timers may fire a little early: sleep until the slot has really come.
    for (let wait = slot - performance.now(); wait > 0; wait = slot - performance.now()) await this.sleep(wait);
  }

  /** The local time of a slot of this worker's own: from its block, or from a new reservation. */
  private async take(key: string, interval: number): Promise<number> {
    for (;;) {
      const block = this.blocks.get(key);
      if (block && block.interval === interval) {
        // Slots more than a moment past are dropped: sending them now could bunch up with others' slots.
        const oldest = performance.now() - Math.max(LATE_TOLERANCE_MS, interval);
        if (block.next < block.count && block.start + block.next * interval < oldest) {
          block.next = Math.min(block.count, Math.ceil((oldest - block.start) / interval));
        }
        if (block.next < block.count) {
          const n = block.next++;
          for (const watcher of this.watchers) watcher({ key, at: block.storeStart + n * interval });
          return block.start + n * interval;
        }
      }
      // One reservation at a time per provider in this worker; the others wait for it and take from it.
      let pending = this.reserving.get(key);
      if (!pending) {
        pending = this.reserve(key, interval).finally(() => this.reserving.delete(key));
        this.reserving.set(key, pending);
      }
      await pending;
    }
  }

  private async reserve(key: string, interval: number): Promise<void> {
    const count = Math.max(1, Math.floor(20 / interval));
    const { startsAt, waitMs } = await this.slots.reserve(key, interval * count);
    this.blocks.set(key, { start: performance.now() + waitMs, storeStart: startsAt, interval, next: 0, count });
  }
}
