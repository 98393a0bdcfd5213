import type { Logger } from '../logger';
import { PgListener } from '../pg-listener';
import { DELIVERY_WAKE_CHANNEL } from '../services/delivery/delivery.service';
import type { DispatchService } from '../services/delivery/dispatch.service';
import type { Delivery } from '../entities/delivery.entity';

/**
 * Runs the dispatcher in the worker. It keeps up to `concurrency` sends in flight and
 * claims more as soon as any finishes, so a slow or hanging provider holds only its own
 * sends, never a whole batch. It wakes on the NOTIFY an enqueue sends at commit (no
 * polling delay on the happy path), on a periodic sweep for retries that came due and
 * leases that ran out, and after its LISTEN connection comes back from a database outage.
 */
export class DeliveryDispatcher {
  private readonly listener: PgListener;
  private readonly sending = new Set<Promise<void>>();
  private sweepTimer: NodeJS.Timeout | undefined;
  private claiming: Promise<void> | undefined;
  private wakeAgain = false;
  private stopped = false;

  constructor(
    private readonly dispatch: DispatchService,
    databaseUrl: string,
    private readonly settings: { sweepMs: number; concurrency: number; batchSize: number },
    private readonly logger: Logger,
  ) {
    this.listener = new PgListener({
      databaseUrl,
      channels: [DELIVERY_WAKE_CHANNEL],
      name: 'delivery dispatcher',
      logger,
      onNotification: () => this.wake(),
      onConnect: () => this.wake(),
    });
  }

  async start(): Promise<void> {
    await this.listener.start();
    this.sweepTimer = setInterval(() => this.wake(), this.settings.sweepMs);
    this.sweepTimer.unref();
    this.wake();
  }

  /** Claims as many due deliveries as there is room for; a wake-up while claiming claims once more after. */
  wake(): void {
    if (this.stopped) return;
    if (this.claiming) {
      this.wakeAgain = true;
      return;
    }
    this.claiming = this.fill().finally(() => {
      this.claiming = undefined;
    });
  }

  private async fill(): Promise<void> {
    do {
      this.wakeAgain = false;
      while (!this.stopped && this.sending.size < this.settings.concurrency) {
        let claimed: Delivery[];
        try {
          claimed = await this.dispatch.claim(Math.min(this.settings.batchSize, this.settings.concurrency - this.sending.size));
        } catch (error) {
          this.logger.error('dispatcher could not claim deliveries; the next sweep retries', { error });
          return;
        }
        if (!claimed.length) break;
        for (const delivery of claimed) this.send(delivery);
      }
    } while (this.wakeAgain && !this.stopped);
  }

  private send(delivery: Delivery): void {
    const sending: Promise<void> = this.dispatch
      .dispatchOne(delivery)
      .then(
        () => undefined,
        (error: unknown) =>
          // The claim's lease runs out and another pass takes the delivery back: nothing is lost.
          this.logger.error('dispatching a delivery failed; it is retried when its lease runs out', {
            error,
            deliveryId: delivery.id,
          }),
      )
      .finally(() => {
        this.sending.delete(sending);
        this.wake();
      });
    this.sending.add(sending);
  }

  /** Lets the sends in flight finish (their outcomes are recorded, not abandoned) and stops listening. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.sweepTimer);
    await this.claiming;
    while (this.sending.size) await Promise.all([...this.sending]);
    await this.listener.stop();
  }
}
