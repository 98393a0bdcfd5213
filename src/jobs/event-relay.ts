import type { Logger } from '../logger';
import { PgListener } from '../pg-listener';
import type { EventRelayService, RelayPass } from '../services/events/event-relay.service';
import { DOMAIN_EVENT_CHANNEL } from '../services/platform/unit-of-work';

/** How often handled events past their retention are pruned. */
const PRUNE_EVERY_MS = 10 * 60_000;

/**
 * Runs the outbox relay in the worker: woken by the NOTIFY an outbox write sends at
 * commit, by a periodic sweep (retries that came due, and a fallback), and after its
 * LISTEN connection comes back from a database outage. Passes run one after another in
 * this process; other workers take other lanes.
 */
export class EventRelay {
  private readonly listener: PgListener;
  private sweepTimer: NodeJS.Timeout | undefined;
  private pruneTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private wakeAgain = false;
  private stopped = false;

  constructor(
    private readonly relay: EventRelayService,
    databaseUrl: string,
    private readonly sweepMs: number,
    private readonly logger: Logger,
  ) {
    this.listener = new PgListener({
      databaseUrl,
      channels: [DOMAIN_EVENT_CHANNEL],
      name: 'event relay',
      logger,
      onNotification: () => this.wake(),
      onConnect: () => this.wake(),
    });
  }

  async start(): Promise<void> {
    await this.listener.start();
    this.sweepTimer = setInterval(() => this.wake(), this.sweepMs);
    this.sweepTimer.unref();
    this.pruneTimer = setInterval(() => void this.prune(), PRUNE_EVERY_MS);
    this.pruneTimer.unref();
    this.wake();
  }

  /** Runs passes until one finds nothing to do; a wake-up during a pass asks for one more. */
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
          let pass: RelayPass;
          do {
            pass = await this.relay.runOnce();
          } while ((pass.handedOn > 0 || pass.handled > 0) && !this.stopped);
        } catch (error) {
          this.logger.error('event relay pass failed; the next sweep retries', { error });
        }
      } while (this.wakeAgain && !this.stopped);
    })().finally(() => {
      this.running = undefined;
    });
  }

  private async prune(): Promise<void> {
    try {
      let pruned = 0;
      for (let batch = await this.relay.prune(); batch > 0 && !this.stopped; batch = await this.relay.prune()) pruned += batch;
      if (pruned) this.logger.info('pruned handled domain events past their retention', { pruned });
    } catch (error) {
      this.logger.warn('pruning domain events failed; the next round retries', { error });
    }
  }

  /** Finishes the pass in hand (its lanes commit or roll back whole) and stops listening. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.sweepTimer);
    clearInterval(this.pruneTimer);
    await this.running;
    await this.listener.stop();
  }
}
