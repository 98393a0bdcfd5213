import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { createPubSub } from '@graphql-yoga/subscription';
import type { DataSource } from 'typeorm';
import { ENTITIES } from './entities';
import type { Logger } from './logger';
import { PgListener } from './pg-listener';
import { redisClient } from './redis';
import { hotRows } from './services/platform/sql';
import type { LiveEvents, LiveTopics } from './services/platform/live-events';

/** The NOTIFY channel live events cross processes on (PostgreSQL transport). */
export const LIVE_EVENT_CHANNEL = 'live_event';
/** NOTIFY payloads must stay under 8,000 bytes; bigger events travel by the id of a stored copy. */
const NOTIFY_LIMIT = 7_500;
/** NOTIFYs sent in one statement at most. */
const NOTIFY_BATCH = 500;
/** Stored copies of big events are needed for moments only. */
const STORED_PAYLOAD_TTL_MS = 5 * 60_000;

export interface LiveTransport {
  live: LiveEvents;
  /** Which transport carries the events between processes. */
  kind: 'postgres' | 'redis';
  close(): Promise<void>;
}

/**
 * Live events (subscriptions) shared by every process of a deployment: a change made in
 * one API process, or by a worker, reaches the subscribers of every API process. With
 * REDIS_URL, Redis pub/sub carries them (@graphql-yoga/redis-event-target); otherwise
 * PostgreSQL LISTEN/NOTIFY, with no extra service. Each process hears its own events back
 * through the same channel, so every subscriber gets each event exactly once. Live events
 * are for screens: the durable path is the outbox, so a publish that fails is logged, not retried.
 */
export async function createLiveTransport(options: {
  dataSource: DataSource;
  databaseUrl: string;
  redisUrl: string | undefined;
  logger: Logger;
}): Promise<LiveTransport> {
  const codec = entityCodec();
  if (options.redisUrl) {
    const connect = (name: string) => redisClient(options.redisUrl!, name, options.logger);
    const publishClient = connect('live-publish');
    const subscribeClient = connect('live-subscribe');
    const eventTarget = createRedisEventTarget({ publishClient, subscribeClient, serializer: codec });
    return {
      live: createPubSub<LiveTopics>({ eventTarget }),
      kind: 'redis',
      close: async () => {
        publishClient.disconnect();
        subscribeClient.disconnect();
      },
    };
  }
  const target = new PostgresEventTarget(options.dataSource, codec, options.logger);
  await target.listen(options.databaseUrl);
  return { live: createPubSub<LiveTopics>({ eventTarget: target }), kind: 'postgres', close: () => target.close() };
}

type Callback = (event: CustomEvent) => void;
type Listener = Callback | { handleEvent: Callback };

/** An EventTarget whose events go through PostgreSQL NOTIFY on one channel, to every process listening. */
class PostgresEventTarget {
  private readonly callbacks = new Map<string, Set<Callback>>();
  private readonly outbox: Array<{ message: string; resolve: () => void; reject: (error: unknown) => void }> = [];
  private flushing: Promise<void> | undefined;
  private listener: PgListener | undefined;

  constructor(
    private readonly dataSource: DataSource,
    private readonly codec: Codec,
    private readonly logger: Logger,
  ) {}

  async listen(databaseUrl: string): Promise<void> {
    this.listener = new PgListener({
      databaseUrl,
      channels: [LIVE_EVENT_CHANNEL],
      name: 'live events',
      logger: this.logger,
      onNotification: (_channel, payload) => void this.receive(payload ?? ''),
    });
    await this.listener.start();
  }

  addEventListener(topic: string, listener: Listener | null): void {
    if (!listener) return;
    const callback = 'handleEvent' in listener ? listener.handleEvent : listener;
    const callbacks = this.callbacks.get(topic) ?? new Set<Callback>();
    callbacks.add(callback);
    this.callbacks.set(topic, callbacks);
  }

  removeEventListener(topic: string, listener: Listener | null): void {
    if (!listener) return;
    const callback = 'handleEvent' in listener ? listener.handleEvent : listener;
    const callbacks = this.callbacks.get(topic);
    callbacks?.delete(callback);
    if (callbacks?.size === 0) this.callbacks.delete(topic);
  }

  dispatchEvent(event: CustomEvent): boolean {
    void this.publish(event.type, event.detail).catch((error: unknown) =>
      this.logger.warn('a live event could not be published', { error, topic: event.type.split(':')[0] }),
    );
    return true;
  }

  async close(): Promise<void> {
    await this.flushing;
    await this.listener?.stop();
  }

  private async publish(topic: string, detail: unknown): Promise<void> {
    const message = JSON.stringify({ topic, data: detail === undefined ? null : this.codec.stringify(detail) });
    if (Buffer.byteLength(message) <= NOTIFY_LIMIT) return this.notify(message);
    const [{ id }] = (await this.dataSource.query(
      `WITH stale AS (DELETE FROM live_event_payload WHERE "createdAt" < now() - make_interval(secs => $2))
       INSERT INTO live_event_payload (payload) VALUES ($1) RETURNING id`,
      [message, STORED_PAYLOAD_TTL_MS / 1000],
    )) as Array<{ id: string }>;
    await this.notify(JSON.stringify({ topic, stored: id }));
  }

  /**
   * Queues a NOTIFY: what is published while a statement is under way goes out together in
   * the next one (one round trip for a dispatcher's batch of status changes, not one per
   * message), in the order published. Identical payloads of one batch arrive once, as
   * PostgreSQL folds them: they are the same event.
   */
  private notify(message: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.outbox.push({ message, resolve, reject });
      if (!this.flushing) this.flushing = this.flush();
    });
  }

  private async flush(): Promise<void> {
    // Let the rest of this tick's events join.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.outbox.length) {
      const batch = this.outbox.splice(0, NOTIFY_BATCH);
      try {
        // As one JSON array, a prepared statement: as a text[] parameter, pg escaped each
        // payload character by character in JavaScript (3% of a busy dispatcher's CPU).
        await hotRows(this.dataSource, `SELECT pg_notify($1, message) FROM json_array_elements_text($2::json) AS message`, [
          LIVE_EVENT_CHANNEL,
          JSON.stringify(batch.map((entry) => entry.message)),
        ]);
        for (const entry of batch) entry.resolve();
      } catch (error) {
        for (const entry of batch) entry.reject(error);
      }
    }
    this.flushing = undefined;
  }

  private async receive(payload: string): Promise<void> {
    try {
      let message = JSON.parse(payload) as { topic?: string; data?: string | null; stored?: string };
      // Most processes have no subscriber for most topics: they fetch nothing.
      if (!message.topic || !this.callbacks.get(message.topic)?.size) return;
      if (message.stored) {
        const [row] = (await this.dataSource.query(`SELECT payload FROM live_event_payload WHERE id = $1`, [
          message.stored,
        ])) as Array<{ payload: string }>;
        if (!row) return;
        message = JSON.parse(row.payload) as typeof message;
      }
      const callbacks = message.topic ? this.callbacks.get(message.topic) : undefined;
      if (!callbacks?.size) return;
      const event = new CustomEvent(message.topic!, {
        detail: message.data === null || message.data === undefined ? null : this.codec.parse(message.data),
      });
      for (const callback of callbacks) callback(event);
    } catch (error) {
      this.logger.warn('a live event could not be read', { error });
    }
  }
}

interface Codec {
  stringify(value: unknown): string;
  parse(text: string): unknown;
}

/**
 * JSON that keeps what subscribers need across processes: dates stay dates, and entities
 * come back as instances of their class (a Ticket keeps its `reference` getter).
 */
function entityCodec(): Codec {
  const classes = new Map<string, new () => object>(ENTITIES.map((entity) => [entity.name, entity as new () => object]));
  return {
    stringify: (value) =>
      JSON.stringify(value, function (this: Record<string, unknown>, key, encoded: unknown) {
        const original = this[key];
        if (original instanceof Date) return { $date: original.toISOString() };
        if (original && typeof original === 'object' && classes.get(original.constructor.name) === original.constructor) {
          return { $entity: original.constructor.name, ...(encoded as object) };
        }
        return encoded;
      }),
    parse: (text) =>
      JSON.parse(text, (_key, value: unknown) => {
        if (!value || typeof value !== 'object') return value;
        const tagged = value as { $date?: string; $entity?: string };
        if (typeof tagged.$date === 'string') return new Date(tagged.$date);
        if (typeof tagged.$entity === 'string') {
          const { $entity, ...fields } = tagged;
          const Entity = classes.get($entity);
          return Entity ? Object.assign(new Entity(), fields) : fields;
        }
        return value;
      }),
  };
}
