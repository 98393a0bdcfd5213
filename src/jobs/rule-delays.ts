import type { Logger } from '../logger';
import type { RuleService } from '../services/rules/rule.service';

/**
 * Acts on delayed rule executions as they come due, in the worker. A delay is a row
 * written with the decision (status delayed, runAt), so a crash or restart loses none;
 * each due row is claimed with SKIP LOCKED, so several workers share them.
 */
export class RuleDelays {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly rules: RuleService,
    private readonly pollMs: number,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.tick(), this.pollMs);
    this.timer.unref();
    this.tick();
  }

  private tick(): void {
    if (this.running || this.stopped) return;
    this.running = (async () => {
      try {
        while (!this.stopped && (await this.rules.runDue(100)) === 100);
      } catch (error) {
        this.logger.error('acting on delayed rule executions failed; the next poll retries', { error });
      }
    })().finally(() => {
      this.running = undefined;
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
