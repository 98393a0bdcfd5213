import { timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Request, Response } from 'express';
import { Gauge, Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import type { Logger } from './logger';
import { processRegistry } from './services/platform/metrics';

/** What pg's pool says about itself (TypeORM keeps the pool as driver.master). */
interface PoolStats {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
}

interface Snapshot {
  due: number;
  oldestDue: number | null;
  circuits: Array<{ kind: string; open: number }> | null;
  backlog: Array<{ consumer: string; pending: number; age: number }> | null;
}

/**
 * Gauges true of the whole system, read from the database when Prometheus scrapes, in
 * one statement (one connection per scrape): the queue of due deliveries and its oldest,
 * open provider circuits by kind, each event consumer's backlog and its oldest event; and
 * this process's database pool. A failed read leaves the gauges as they were rather than
 * failing the scrape.
 */
function systemMetrics(dataSource: DataSource, logger: Logger): { registry: Registry; refresh(): Promise<void> } {
  const registry = new Registry();
  const gauge = (name: string, help: string, labelNames: string[] = []) =>
    new Gauge({ name, help, labelNames, registers: [registry] });
  const due = gauge('delivery_queue_due', 'Deliveries queued and due now (waiting for a dispatcher).');
  const oldestDue = gauge(
    'delivery_queue_oldest_due_seconds',
    'How long the oldest due delivery has been waiting (0 when none is).',
  );
  const circuits = gauge(
    'channel_provider_circuits_open',
    'Provider accounts whose circuit is open (cooling down, or paused by a 429), by kind.',
    ['kind'],
  );
  const pending = gauge('event_consumer_pending', 'Domain events waiting for each consumer.', ['consumer']);
  const oldestPending = gauge('event_consumer_oldest_pending_seconds', 'Age of the oldest event waiting for each consumer.', [
    'consumer',
  ]);
  const pool = gauge('db_pool_connections', "This process's database pool: connections in use, idle, and callers waiting.", [
    'state',
  ]);
  return {
    registry,
    async refresh() {
      try {
        const [snapshot] = (await dataSource.query(
          `SELECT (SELECT count(*)::int FROM delivery WHERE status = 'queued' AND "nextAttemptAt" <= now()) AS due,
                  (SELECT extract(epoch FROM now() - min("nextAttemptAt"))::float FROM delivery
                    WHERE status = 'queued' AND "nextAttemptAt" <= now()) AS "oldestDue",
                  (SELECT json_agg(c) FROM (SELECT kind, count(*) FILTER (WHERE "circuitOpenUntil" > now())::int AS open
                                              FROM channel_provider GROUP BY kind) c) AS circuits,
                  (SELECT json_agg(b) FROM (SELECT h.consumer, count(*)::int AS pending,
                                                   extract(epoch FROM now() - min(e."occurredAt"))::float AS age
                                              FROM event_handling h JOIN domain_event e ON e.id = h."eventId"
                                             WHERE h.status = 'pending' GROUP BY h.consumer) b) AS backlog`,
        )) as Snapshot[];
        due.set(snapshot.due);
        oldestDue.set(Math.max(0, snapshot.oldestDue ?? 0));
        circuits.reset();
        for (const row of snapshot.circuits ?? []) circuits.set({ kind: row.kind }, row.open);
        pending.reset();
        oldestPending.reset();
        for (const row of snapshot.backlog ?? []) {
          pending.set({ consumer: row.consumer }, row.pending);
          oldestPending.set({ consumer: row.consumer }, Math.max(0, row.age));
        }
      } catch (error) {
        logger.warn('metrics: reading the system figures failed', { error });
      }
      const stats = (dataSource.driver as unknown as { master?: PoolStats }).master;
      if (stats) {
        pool.set({ state: 'in_use' }, stats.totalCount - stats.idleCount);
        pool.set({ state: 'idle' }, stats.idleCount);
        pool.set({ state: 'waiting' }, stats.waitingCount);
      }
    },
  };
}

/** The process's metrics and the system's, in Prometheus's text format. */
export function metricsText(dataSource: DataSource, logger: Logger): () => Promise<{ contentType: string; body: string }> {
  const system = systemMetrics(dataSource, logger);
  const merged = Registry.merge([processRegistry, system.registry]);
  return async () => {
    await system.refresh();
    return { contentType: merged.contentType, body: await merged.metrics() };
  };
}

/** Whether a scrape may read the metrics: always without METRICS_TOKEN, else with `Authorization: Bearer <token>`. */
export function scrapeAllowed(token: string | undefined, authorization: string | undefined): boolean {
  if (!token) return true;
  const given = Buffer.from(authorization?.replace(/^Bearer\s+/i, '') ?? '');
  const wanted = Buffer.from(token);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

/** GET /metrics on the API's HTTP server. */
export function metricsRoute(dataSource: DataSource, logger: Logger, token: string | undefined) {
  const render = metricsText(dataSource, logger);
  return async (req: Request, res: Response) => {
    if (!scrapeAllowed(token, req.headers.authorization)) {
      res
        .status(401)
        .json({ errors: [{ message: 'A valid metrics token is required', extensions: { code: 'UNAUTHENTICATED' } }] });
      return;
    }
    const { contentType, body } = await render();
    res.type(contentType).send(body);
  };
}

/** A worker has no API server: with METRICS_PORT set it serves /metrics on a port of its own. */
export async function startMetricsServer(
  port: number,
  host: string,
  dataSource: DataSource,
  logger: Logger,
  token: string | undefined,
): Promise<{ server: Server; url: string }> {
  const render = metricsText(dataSource, logger);
  const server = createServer((req, res) => {
    if (req.url !== '/metrics' || req.method !== 'GET') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"status":"not_found"}');
      return;
    }
    if (!scrapeAllowed(token, req.headers.authorization)) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"status":"unauthorized"}');
      return;
    }
    render().then(
      ({ contentType, body }) => res.writeHead(200, { 'content-type': contentType }).end(body),
      (error: unknown) => {
        logger.error('metrics failed', { error });
        res.writeHead(500).end();
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}
