/**
 * bench:events — business events from another system through the ingestion API and the
 * outbox relay, each part its own process as deployed.
 *
 * 1. BENCH_EVENTS (100,000) events over HTTP (POST /v1/events, an API process) in batches
 *    of BENCH_BATCH (1,000) from BENCH_SENDERS (4) concurrent senders, for BENCH_TENANTS
 *    (10) tenants: events/s accepted.
 * 2. Two relay worker processes then hand them to a consumer: events/s handled.
 * 3. With the workers running, BENCH_SINGLES (500) single events, one after another:
 *    publication-to-consumer latency p50/p99 (HTTP request, commit, NOTIFY, relay).
 * Prints figures; asserts nothing. DATABASE_URL: use that server; otherwise embedded.
 */
import 'reflect-metadata';
import type { ChildProcess } from 'node:child_process';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { servicesFor } from '../src/app';
import { loadConfig } from '../src/config';
import { openDataSource } from '../src/database';
import { ApiScope } from '../src/entities/api-key.entity';
import { Role } from '../src/entities/user.entity';
import { silentLogger } from '../src/logger';
import type { StaffPrincipal } from '../src/services/directory/principal';
import { BENCH_ENV, freePort, prepareDatabase, runBench, startProcess } from './support';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 100_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 1_000);
const SENDERS = Number(process.env.BENCH_SENDERS ?? 4);
const TENANTS = Number(process.env.BENCH_TENANTS ?? 10);
const SINGLES = Number(process.env.BENCH_SINGLES ?? 500);

const ENV = BENCH_ENV;

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function main(): Promise<void> {
  console.log(`bench:events — ${os.cpus().length} CPUs, Node ${process.version}`);
  const database = await prepareDatabase();
  const children: ChildProcess[] = [];
  try {
    const config = loadConfig({ ...ENV, DATABASE_URL: database.url });
    const dataSource = await openDataSource(database.url, 4, silentLogger);
    const services = await servicesFor(config, dataSource);
    await dataSource.query(`CREATE TABLE bench_latency (event_id bigint PRIMARY KEY, ms double precision NOT NULL)`);
    const keys: string[] = [];
    for (let n = 0; n < TENANTS; n++) {
      const { user } = await services.tenantSetup.createAdmin({ tenantSlug: `bench-${n}`, email: `bench${n}@example.test` });
      const actor: StaffPrincipal = {
        kind: 'staff',
        tenantId: user.tenantId,
        userId: user.id,
        role: Role.ADMIN,
        name: user.name,
      };
      keys.push((await services.apiKeys.create(actor, 'Bench sender', [ApiScope.EVENTS_WRITE])).secret);
    }
    const port = await freePort();
    const api = await startProcess(
      ['dist/src/main.js'],
      { ...ENV, DATABASE_URL: database.url, ROLE: 'api', PORT: String(port) },
      /ready at/,
    );
    children.push(api.child);
    const url = `http://127.0.0.1:${port}/v1/events`;
    const post = async (key: string, body: unknown) => {
      const response = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (response.status !== 202) throw new Error(`ingestion answered ${response.status}: ${await response.text()}`);
      return (await response.json()) as { accepted: number };
    };

    // 1. Ingestion over HTTP, no worker running yet.
    const batches = Math.ceil(EVENTS / BATCH);
    let nextBatch = 0;
    let accepted = 0;
    const ingestStart = performance.now();
    await Promise.all(
      Array.from({ length: SENDERS }, async () => {
        while (nextBatch < batches) {
          const b = nextBatch++;
          const events = Array.from({ length: Math.min(BATCH, EVENTS - b * BATCH) }, (_, i) => ({
            type: 'invoice.created',
            idempotencyKey: `invoice:${b}:${i}`,
            payload: { invoice: `I-${b}-${i}`, amount: 150_000 + i, sentAt: Date.now() },
          }));
          const answer = await post(keys[b % TENANTS], { events });
          accepted += answer.accepted;
        }
      }),
    );
    const ingestSeconds = (performance.now() - ingestStart) / 1000;

    // 2. Two relay workers hand the backlog on.
    const relayStart = performance.now();
    for (let n = 0; n < 2; n++) {
      const worker = await startProcess(
        ['dist/bench/relay-worker.js'],
        { ...ENV, DATABASE_URL: database.url },
        /relay worker ready/,
      );
      children.push(worker.child);
    }
    const handledCount = async () => Number((await dataSource.query(`SELECT count(*)::int AS n FROM bench_latency`))[0].n);
    while ((await handledCount()) < accepted) await new Promise((resolve) => setTimeout(resolve, 200));
    const relaySeconds = (performance.now() - relayStart) / 1000;

    // 3. Latency of single events with the workers idle and listening.
    await dataSource.query(`TRUNCATE bench_latency`);
    for (let n = 0; n < SINGLES; n++) {
      await post(keys[n % TENANTS], { type: 'payment.received', payload: { payment: `P-${n}`, sentAt: Date.now() } });
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    while ((await handledCount()) < SINGLES) await new Promise((resolve) => setTimeout(resolve, 100));
    const latencies = ((await dataSource.query(`SELECT ms FROM bench_latency ORDER BY ms`)) as Array<{ ms: number }>).map(
      (row) => row.ms,
    );

    console.table([
      {
        figure: `ingest ${EVENTS} events over HTTP (batches of ${BATCH}, ${SENDERS} senders, ${TENANTS} tenants)`,
        value: `${Math.round(accepted / ingestSeconds)} events/s accepted (${accepted} in ${ingestSeconds.toFixed(1)} s)`,
      },
      {
        figure: 'relay with two worker processes, backlog to handled',
        value: `${Math.round(accepted / relaySeconds)} events/s (${relaySeconds.toFixed(1)} s)`,
      },
      {
        figure: `publication-to-consumer latency, ${SINGLES} single events`,
        value: `p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, max ${latencies[latencies.length - 1].toFixed(1)} ms`,
      },
    ]);
    await dataSource.destroy();
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 500));
    await database.cleanup();
  }
}

runBench(main);
