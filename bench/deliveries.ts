/**
 * bench:deliveries — the dispatcher against a local Meta Cloud API stand-in that
 * answers as fast as it can (its own process).
 *
 * 1. BENCH_MESSAGES (10,000) deliveries queued through DeliveryService.enqueue, then
 *    dispatched with rate limits off: messages/s and CPU seconds per 1,000 messages
 *    (this process: dispatcher and enqueue; PostgreSQL and the fake run elsewhere).
 * 2. BENCH_LIMITED_MESSAGES (800) against a provider limited to BENCH_RATE (80/s):
 *    the achieved rate and its deviation, overall and per second.
 * 3. Failover, BENCH_FAILOVER_MESSAGES (500) through the worker's dispatcher loop with the
 *    default settings (32 sends in flight, 8 per provider, 10 s provider timeout), Fonnte
 *    primary and Wablas backup: once with the primary healthy, once with it accepting
 *    connections and never answering. Queue-to-sent p50/p95/p99 (sentAt - createdAt, by
 *    the database's clock), the latency the hang adds, and requests at each gateway.
 * Every recipient of runs 1 and 2 wrote to the Meta number first (their 24-hour service
 * window is open, recorded through ServiceWindowService as the inbound webhook does), so
 * the free text goes out as it would in a conversation and the dispatcher reads each
 * claim's windows as in production.
 * Prints figures; asserts nothing. DATABASE_URL: use that server; otherwise embedded.
 */
import 'reflect-metadata';
import type { ChildProcess } from 'node:child_process';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import type { DataSource } from 'typeorm';
import { servicesFor } from '../src/app';
import { loadConfig } from '../src/config';
import { openDataSource } from '../src/database';
import { Channel, ProviderKind } from '../src/entities/channel';
import { Role } from '../src/entities/user.entity';
import { DeliveryDispatcher } from '../src/jobs/delivery-dispatcher';
import { silentLogger } from '../src/logger';
import type { Principal } from '../src/services/directory/principal';
import type { Services } from '../src/services';
import { prepareDatabase, runBench, startProcess } from './support';

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 10_000);
const LIMITED = Number(process.env.BENCH_LIMITED_MESSAGES ?? 800);
const RATE = Number(process.env.BENCH_RATE ?? 80);
const FAILOVER = Number(process.env.BENCH_FAILOVER_MESSAGES ?? 500);

interface FailoverRun {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  fonnte: number;
  wablas: number;
}

/** Enqueues `count` messages while the worker's dispatcher loop runs, until all are sent: latencies in ms. */
async function failoverRun(
  services: Services,
  dataSource: DataSource,
  fakeUrl: string,
  tenantId: string,
  tag: string,
): Promise<FailoverRun> {
  await enqueueMany(services, tenantId, FAILOVER, tag);
  const deadline = performance.now() + 120_000;
  for (;;) {
    const [{ sent }]: Array<{ sent: number }> = await dataSource.query(
      `SELECT count(*)::int AS sent FROM delivery WHERE "idempotencyKey" LIKE $1 AND status = 'sent'`,
      [`bench:${tag}:%`],
    );
    if (sent === FAILOVER || performance.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const [row]: Array<{ p50: number; p95: number; p99: number; max: number }> = await dataSource.query(
    `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50, percentile_cont(0.95) WITHIN GROUP (ORDER BY ms) AS p95,
            percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99, max(ms) AS max
       FROM (SELECT extract(epoch FROM "sentAt" - "createdAt") * 1000 AS ms
               FROM delivery WHERE "idempotencyKey" LIKE $1 AND status = 'sent') s`,
    [`bench:${tag}:%`],
  );
  const counts = (await (await fetch(`${fakeUrl}/counts`)).json()) as { fonnte: number; wablas: number };
  return { ...row, ...counts };
}

const recipient = (n: number) => `+62812${String(n).padStart(7, '0')}`;

async function enqueueMany(services: Services, tenantId: string, count: number, tag: string): Promise<number> {
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const n = next++;
      await services.deliveries.enqueue(tenantId, {
        channel: Channel.WHATSAPP,
        to: recipient(n),
        text: `Bench message ${n}`,
        idempotencyKey: `bench:${tag}:${n}`,
      });
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return (performance.now() - started) / 1000;
}

async function drain(services: Services): Promise<{ seconds: number; cpuSeconds: number; sent: number }> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  let sent = 0;
  for (;;) {
    const batch = await services.dispatch.dispatchBatch();
    sent += batch.sent;
    if (batch.claimed === 0) break;
  }
  const used = process.cpuUsage(cpu);
  return { seconds: (performance.now() - started) / 1000, cpuSeconds: (used.user + used.system) / 1e6, sent };
}

async function main(): Promise<void> {
  console.log(`bench:deliveries — ${os.cpus().length} CPUs, Node ${process.version}`);
  const database = await prepareDatabase();
  let fake: ChildProcess | undefined;
  try {
    const started = await startProcess(['dist/bench/fake-provider-server.js'], {}, /listening (\d+)/);
    fake = started.child;
    const fakeUrl = `http://127.0.0.1:${started.match[1]}`;
    const config = loadConfig({
      DATABASE_URL: database.url,
      JWT_SECRET: 'bench-secret-bench-secret-bench-secret',
      CREDENTIALS_KEY: Buffer.alloc(32, 3).toString('base64'),
      DISPATCHER_BATCH_SIZE: process.env.DISPATCHER_BATCH_SIZE ?? '200',
      // The fake provider listens on loopback, which outbound requests may not reach by default.
      OUTBOUND_ALLOWED_ADDRESSES: '127.0.0.1',
      PROVIDER_MAX_IN_FLIGHT: process.env.PROVIDER_MAX_IN_FLIGHT ?? '32',
    });
    const dataSource = await openDataSource(database.url, 20, silentLogger);
    const services = await servicesFor(config, dataSource);
    const { user } = await services.tenantSetup.createAdmin({ tenantSlug: 'bench', email: 'bench@example.test' });
    const admin: Principal = { kind: 'staff', tenantId: user.tenantId, userId: user.id, role: Role.ADMIN, name: user.name };
    const provider = await services.providers.create(admin, {
      kind: ProviderKind.META_WHATSAPP,
      name: 'Meta (fake)',
      baseUrl: fakeUrl,
      // Effectively unlimited for the first run.
      rateLimitPerSecond: 1_000_000,
      settings: { phoneNumberId: '1055' },
      credentials: { accessToken: 'bench' },
    });

    let wrote = 0;
    const windowsStarted = performance.now();
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (wrote < Math.max(MESSAGES, LIMITED)) {
          const n = wrote++;
          await services.serviceWindows.noteInbound(provider, recipient(n), null);
        }
      }),
    );
    const windowSeconds = (performance.now() - windowsStarted) / 1000;
    const enqueueSeconds = await enqueueMany(services, user.tenantId, MESSAGES, 'open');
    const open = await drain(services);

    await services.providers.update(admin, provider.id, { rateLimitPerSecond: RATE });
    // A dispatcher reads provider settings at most once a second: the limited run starts
    // once the new limit has reached it (otherwise the first moments went out unthrottled,
    // and the figure measured that second, not the limit).
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await enqueueMany(services, user.tenantId, LIMITED, 'limited');
    const limitedStart = performance.now();
    await drain(services);
    const rows: Array<{ second: string; count: number }> = await dataSource.query(
      `SELECT floor(extract(epoch FROM "sentAt" - min("sentAt") OVER ()))::int AS second, "sentAt"
         FROM delivery WHERE "idempotencyKey" LIKE 'bench:limited:%' AND status = 'sent'`,
    );
    const span: Array<{ first: Date; last: Date; n: number }> = await dataSource.query(
      `SELECT min("sentAt") AS first, max("sentAt") AS last, count(*)::int AS n FROM delivery WHERE "idempotencyKey" LIKE 'bench:limited:%' AND status = 'sent'`,
    );
    const { first, last, n } = span[0];
    const achieved = (n - 1) / ((last.getTime() - first.getTime()) / 1000);
    const perSecond = new Map<number, number>();
    for (const row of rows) perSecond.set(Number(row.second), (perSecond.get(Number(row.second)) ?? 0) + 1);
    const fullSeconds = [...perSecond.entries()]
      .filter(([second]) => second < Math.floor((last.getTime() - first.getTime()) / 1000))
      .map(([, count]) => count);
    const mean = fullSeconds.reduce((a, b) => a + b, 0) / Math.max(1, fullSeconds.length);
    const stddev = Math.sqrt(fullSeconds.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, fullSeconds.length));

    // 3. Failover through the worker's loop, with the default dispatch settings.
    const workerConfig = loadConfig({
      DATABASE_URL: database.url,
      JWT_SECRET: 'bench-secret-bench-secret-bench-secret',
      CREDENTIALS_KEY: Buffer.alloc(32, 3).toString('base64'),
      OUTBOUND_ALLOWED_ADDRESSES: '127.0.0.1',
    });
    const worker = await servicesFor(workerConfig, dataSource);
    const gateways = await worker.tenantSetup.createAdmin({ tenantSlug: 'bench-gateways', email: 'gw@example.test' });
    const gatewayAdmin: Principal = { ...admin, tenantId: gateways.user.tenantId, userId: gateways.user.id };
    await worker.providers.create(gatewayAdmin, {
      kind: ProviderKind.FONNTE,
      name: 'Fonnte (primary)',
      priority: 10,
      baseUrl: fakeUrl,
      credentials: { token: 'bench' },
    });
    await worker.providers.create(gatewayAdmin, {
      kind: ProviderKind.WABLAS,
      name: 'Wablas (backup)',
      priority: 20,
      baseUrl: fakeUrl,
      settings: { serverUrl: fakeUrl },
      credentials: { token: 'bench', secretKey: 'bench' },
    });
    const loop = new DeliveryDispatcher(
      worker.dispatch,
      database.url,
      {
        sweepMs: workerConfig.delivery.sweepMs,
        concurrency: workerConfig.delivery.concurrency,
        batchSize: workerConfig.delivery.batchSize,
      },
      silentLogger,
    );
    await loop.start();
    await fetch(`${fakeUrl}/fonnte/ok`, { method: 'POST' });
    const healthy = await failoverRun(worker, dataSource, fakeUrl, gateways.user.tenantId, 'healthy');
    await fetch(`${fakeUrl}/fonnte/hang`, { method: 'POST' });
    const hung = await failoverRun(worker, dataSource, fakeUrl, gateways.user.tenantId, 'hung');
    await loop.stop();
    const ms = (value: number) => `${Math.round(value)} ms`;
    const latency = (run: FailoverRun) => `p50 ${ms(run.p50)}, p95 ${ms(run.p95)}, p99 ${ms(run.p99)}, max ${ms(run.max)}`;

    console.table([
      {
        figure: `customers' messages noted (service windows opened)`,
        value: `${Math.round(Math.max(MESSAGES, LIMITED) / windowSeconds)} /s`,
      },
      { figure: `enqueue ${MESSAGES} (16 concurrent callers)`, value: `${Math.round(MESSAGES / enqueueSeconds)} msg/s` },
      {
        figure: `dispatch ${MESSAGES}, rate limits off`,
        value: `${Math.round(open.sent / open.seconds)} msg/s (${open.sent} sent in ${open.seconds.toFixed(1)} s)`,
      },
      { figure: 'CPU per 1,000 messages (dispatcher process)', value: `${((open.cpuSeconds / open.sent) * 1000).toFixed(3)} s` },
      {
        figure: `limited to ${RATE}/s, ${LIMITED} messages`,
        value: `${achieved.toFixed(2)} msg/s achieved (${(((achieved - RATE) / RATE) * 100).toFixed(2)}% from the limit)`,
      },
      {
        figure: 'per-second counts while limited',
        value: `mean ${mean.toFixed(1)}, stddev ${stddev.toFixed(2)} over ${fullSeconds.length} full seconds`,
      },
      { figure: 'limited run wall time', value: `${((performance.now() - limitedStart) / 1000).toFixed(1)} s` },
      { figure: `failover, ${FAILOVER} messages, primary healthy: queue to sent`, value: latency(healthy) },
      { figure: 'failover, primary healthy: requests at Fonnte / Wablas', value: `${healthy.fonnte} / ${healthy.wablas}` },
      { figure: `failover, ${FAILOVER} messages, primary hangs: queue to sent`, value: latency(hung) },
      { figure: 'failover, primary hangs: requests at Fonnte / Wablas', value: `${hung.fonnte} / ${hung.wablas}` },
      {
        figure: 'latency a hung primary adds (p50 / p95)',
        value: `${ms(hung.p50 - healthy.p50)} / ${ms(hung.p95 - healthy.p95)}`,
      },
    ]);
    await dataSource.destroy();
  } finally {
    fake?.kill('SIGTERM');
    await database.cleanup();
  }
}

runBench(main);
