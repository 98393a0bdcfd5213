import { Client } from 'pg';
import type { Logger } from './logger';

/** Reconnect delays: 250 ms doubling to 30 s, for as long as the database stays away. */
const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 30_000;

/**
 * One dedicated connection that LISTENs on some channels and survives the database going
 * away (restart, failover, `pg_terminate_backend`): a lost connection is reported once and
 * re-established with backoff, forever, and `onConnect` runs after every (re)connection so
 * the owner can catch up on notifications sent while it was away.
 */
export class PgListener {
  private client: Client | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private stopped = false;

  constructor(
    private readonly options: {
      databaseUrl: string;
      channels: string[];
      name: string;
      logger: Logger;
      onNotification: (channel: string, payload: string | undefined) => void;
      onConnect?: () => void;
      /** The connection was lost (notifications stop until onConnect runs again). */
      onLost?: () => void;
    },
  ) {}

  /** Connects once; when the database is unreachable now, keeps trying in the background. */
  async start(): Promise<void> {
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const { databaseUrl, channels, name, logger, onNotification, onConnect } = this.options;
    const client = new Client({ connectionString: databaseUrl, application_name: `notify-desk-${name.replace(/\W+/g, '-')}` });
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client));
    client.on('notification', (message) => onNotification(message.channel, message.payload));
    try {
      await client.connect();
      for (const channel of channels) await client.query(`LISTEN "${channel.replace(/"/g, '""')}"`);
    } catch (error) {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
      this.retry(error);
      return;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    if (this.failures > 0) logger.info(`${name}: listening again`, { channels });
    this.client = client;
    this.failures = 0;
    onConnect?.();
  }

  private lost(client: Client, error?: Error): void {
    if (client !== this.client || this.stopped) return;
    this.client = undefined;
    client.end().catch(() => undefined);
    this.options.onLost?.();
    this.retry(error ?? new Error('connection ended'));
  }

  private retry(error: unknown): void {
    if (this.stopped) return;
    const delay = Math.min(FIRST_RETRY_MS * 2 ** this.failures, MAX_RETRY_MS);
    // Said once per outage; the retries themselves are quiet.
    if (this.failures === 0) {
      this.options.logger.warn(`${this.options.name}: lost its database connection; reconnecting`, { error });
    }
    this.failures++;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.connect(), delay);
    this.retryTimer.unref();
  }
}
