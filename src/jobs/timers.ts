import type { Logger } from '../logger';

/** A piece of periodic work of the worker. */
export interface TimedWork {
  name: string;
  everyMs: number;
  run(): Promise<unknown>;
}

/**
 * The worker's clocks: delayed rule executions coming due, relative-date and schedule
 * rules, completion requests to remind, escalate or auto-complete. What they act on is
 * rows written with the decisions (due times, keyed occurrences), so a crash or restart
 * loses or repeats nothing; due rows are claimed with SKIP LOCKED, so several workers
 * share them. One run of each piece at a time; a failure is logged and the next tick
 * retries.
 */
export class Timers {
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly running = new Map<string, Promise<void>>();
  private stopped = false;

  constructor(
    private readonly work: TimedWork[],
    private readonly logger: Logger,
  ) {}

  start(): void {
    for (const piece of this.work) {
      const timer = setInterval(() => this.once(piece), piece.everyMs);
      timer.unref();
      this.timers.push(timer);
      this.once(piece);
    }
  }

  private once(piece: TimedWork): void {
    if (this.running.has(piece.name) || this.stopped) return;
    const run = piece
      .run()
      .then(() => undefined)
      .catch((error: unknown) => this.logger.error(`${piece.name} failed; the next tick retries`, { error }))
      .finally(() => this.running.delete(piece.name));
    this.running.set(piece.name, run);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    await Promise.all(this.running.values());
  }
}
