/**
 * bench:deliveries — the dispatcher against a local Meta Cloud API stand-in that
 * answers as fast as it can (its own process).
 *
 * 1. BENCH_MESSAGES (10,000) deliveries queued through DeliveryService.enqueue, then
 *    dispatched with rate limits off: messages/s and CPU seconds per 1,000 messages
 *    (this process: dispatcher and enqueue; PostgreSQL and the fake run elsewhere).
 * 2. BENCH_LIMITED_MESSAGES (800) against a provider limited to BENCH_RATE (80/s):
 *    the achieved rate and its deviation, overall and per second.
 * Prints figures; asserts nothing. DATABASE_URL: use that server; otherwise embedded.
 */
import 'reflect-metadata';
import type { ChildProcess } from 'node:child_process';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { servicesFor } from '../src/app';
import { loadConfig } from '../src/config';
import { openDataSource } from '../src/database';
import { Channel, ProviderKind } from '../src/entities/channel';
import { Role } from '../src/entities/user.entity';
import { silentLogger } from '../src/logger';
import type { Principal } from '../src/services/directory/principal';
import type { Services } from '../src/services';
import { prepareDatabase, runBench, startProcess } from './support';

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 10_000);
const LIMITED = Number(process.env.BENCH_LIMITED_MESSAGES ?? 800);
const RATE = Number(process.env.BENCH_RATE ?? 80);

async function enqueueMany(services: Services, tenantId: string, count: number, tag: string): Promise<number> {
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const n = next++;
      await services.deliveries.enqueue(tenantId, {
        channel: Channel.WHATSAPP,
        to: `+62812${String(n).padStart(7, '0')}`,
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

    console.table([
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
    ]);
    await dataSource.destroy();
  } finally {
    fake?.kill('SIGTERM');
    await database.cleanup();
  }
}

runBench(main);
