import { Client } from 'pg';
import type { Logger } from '../logger';
import { DELIVERY_WAKE_CHANNEL } from '../services/delivery.service';
import type { BatchResult, DispatchService } from '../services/dispatch.service';

/**
 * Runs the dispatcher in the worker: wakes on the NOTIFY an enqueue sends at
 * commit (no polling delay on the happy path) and also sweeps periodically for
 * retries that came due and leases that ran out. Batches run one after another
 * in this process; other workers claim other rows.
 */
export class DeliveryDispatcher {
  private listener: Client | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private wakeAgain = false;
  private stopped = false;

  constructor(
    private readonly dispatch: DispatchService,
    private readonly databaseUrl: string,
    private readonly sweepMs: number,
    private readonly logger: Logger,
    private readonly onBatch: (result: BatchResult) => void = () => {},
  ) {}

  async start(): Promise<void> {
    this.listener = new Client({ connectionString: this.databaseUrl, application_name: 'notify-desk-dispatcher' });
    this.listener.on('error', (error) => this.logger.warn('dispatcher listener lost its connection; sweeping only', { error }));
    this.listener.on('notification', () => this.wake());
    await this.listener.connect();
    await this.listener.query(`LISTEN ${DELIVERY_WAKE_CHANNEL}`);
    this.sweepTimer = setInterval(() => this.wake(), this.sweepMs);
    this.sweepTimer.unref();
    this.wake();
  }

  /** Runs batches until one claims nothing; a wake-up during a run schedules one more pass. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.wakeAgain = true;
      return;
    }
    this.running = (async () => {
      do {
        this.wakeAgain = false;
        try {
          let result: BatchResult;
          do {
            result = await this.dispatch.dispatchBatch();
            if (result.claimed) this.onBatch(result);
          } while (result.claimed > 0 && !this.stopped);
        } catch (error) {
          this.logger.error('dispatcher batch failed; the next sweep retries', { error });
        }
      } while (this.wakeAgain && !this.stopped);
    })().finally(() => {
      this.running = undefined;
    });
  }

  /** Finishes the batch in hand (its rows are recorded, not abandoned) and stops listening. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.sweepTimer);
    await this.running;
    await this.listener?.end().catch(() => undefined);
  }
}
