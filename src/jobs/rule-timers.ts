import type { Logger } from '../logger';
import type { RuleService } from '../services/rules/rule.service';

/**
 * The rules engine's clock in the worker: acts on delayed executions as they come due,
 * scans relative-date rules (a week before an invoice's due date, a birthday) for what
 * is due today, and runs schedule rules at their cron occurrences. Delays are rows written with the decision, and date occurrences
 * are keyed, so a crash or restart loses or repeats none; due rows are claimed with
 * SKIP LOCKED, so several workers share them.
 */
export class RuleTimers {
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly running = new Map<string, Promise<void>>();
  private stopped = false;

  constructor(
    private readonly rules: RuleService,
    private readonly settings: { delayPollMs: number; dateScanMs: number },
    private readonly logger: Logger,
  ) {}

  start(): void {
    const every = (name: string, ms: number, work: () => Promise<unknown>) => {
      const tick = () => this.once(name, work);
      const timer = setInterval(tick, ms);
      timer.unref();
      this.timers.push(timer);
      tick();
    };
    every('delays', this.settings.delayPollMs, async () => {
      while (!this.stopped && (await this.rules.runDue(100)) === 100);
    });
    every('dates', this.settings.dateScanMs, () => this.rules.scanDates());
    every('schedules', this.settings.dateScanMs, () => this.rules.scanSchedules());
  }

  /** One run of a timer's work at a time; a failure is logged and the next tick retries. */
  private once(name: string, work: () => Promise<unknown>): void {
    if (this.running.has(name) || this.stopped) return;
    const run = work()
      .then(() => undefined)
      .catch((error: unknown) => this.logger.error(`rule ${name} pass failed; the next tick retries`, { error }))
      .finally(() => this.running.delete(name));
    this.running.set(name, run);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    await Promise.all(this.running.values());
  }
}
