import type { DataSource } from 'typeorm';

/** What the dispatcher paces sends with: one process's limiter, or one shared by every worker. */
export interface SendPacer {
  /** Waits until the provider may send one more message. */
  acquire(key: string, perSecond: number | null, minIntervalMs: number): Promise<void>;
}

/**
 * Provider pacing shared by every worker through PostgreSQL: one row per provider holds
 * the next free send slot. Each send reserves the slot after the last one reserved by
 * anyone, atomically (one upsert, a row lock held for microseconds) and by the
 * database's clock, so N workers together keep the provider's rate (e.g. Meta's 80/s per
 * number) instead of each assuming 1/N of it. A provider without a rate costs nothing.
 */
export class SharedRateLimiter implements SendPacer {
  constructor(
    private readonly dataSource: DataSource,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  ) {}

  async acquire(key: string, perSecond: number | null, minIntervalMs: number): Promise<void> {
    const rateInterval = perSecond && perSecond > 0 ? 1000 / perSecond : 0;
    const interval = Math.max(rateInterval, minIntervalMs);
    if (interval === 0) return;
    const [row] = (await this.dataSource.query(
      `INSERT INTO provider_pace ("providerId", "nextSlot") VALUES ($1, clock_timestamp() + $2 * interval '1 millisecond')
       ON CONFLICT ("providerId") DO UPDATE
         SET "nextSlot" = GREATEST(provider_pace."nextSlot", clock_timestamp()) + $2 * interval '1 millisecond'
       RETURNING extract(epoch FROM ("nextSlot" - $2 * interval '1 millisecond' - clock_timestamp())) * 1000 AS "waitMs"`,
      [key, interval],
    )) as Array<{ waitMs: string }>;
    // Timers may fire a little early: sleep until the slot has really come.
    const until = performance.now() + Number(row.waitMs);
    for (let wait = until - performance.now(); wait > 0; wait = until - performance.now()) await this.sleep(wait);
  }
}
