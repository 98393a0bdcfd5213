/**
 * bench:subscriptions — live fan-out of ticket messages to graphql-ws clients.
 *
 * Starts the real service (compiled, its own process, on PostgreSQL) and a bare
 * graphql-js + graphql-ws baseline (its own process, no framework, no database),
 * connects 1,000 graphql-ws clients to each, posts messages over HTTP at a steady
 * rate and measures, per delivered event, the time from sending the mutation to
 * the client receiving it. Two layouts: every client on one ticket, and clients
 * spread over 100 tickets. Prints figures; asserts nothing.
 *
 * Knobs: BENCH_CLIENTS (1000), BENCH_TICKETS (100), BENCH_SECONDS (10),
 * BENCH_RATE_ONE (messages/s to the single ticket, 10), BENCH_RATE_SPREAD (100).
 * DATABASE_URL: use that server (a fresh database is created and dropped);
 * otherwise an embedded PostgreSQL in a temporary directory.
 */
import 'reflect-metadata';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { openDataSource } from '../src/database';
import { freePort, prepareDatabase, runBench, startProcess } from './support';
import { silentLogger } from '../src/logger';
import { servicesFor } from '../src/app';
import { loadConfig } from '../src/config';

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 1000);
const TICKETS = Number(process.env.BENCH_TICKETS ?? 100);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const RATE_ONE = Number(process.env.BENCH_RATE_ONE ?? 10);
const RATE_SPREAD = Number(process.env.BENCH_RATE_SPREAD ?? 100);
const BENCH_JWT_SECRET = 'bench-secret-bench-secret-bench-secret';
const BENCH_CREDENTIALS_KEY = Buffer.alloc(32, 1).toString('base64');

interface Target {
  name: string;
  url: string;
  token?: string;
  ticketIds: string[];
  /** The mutation that posts one message, and its variables. */
  post: (ticketId: string, body: string) => { query: string; variables: Record<string, unknown> };
}

interface Result {
  latencies: number[];
  delivered: number;
  expected: number;
  seconds: number;
  sent: number;
}

async function post(url: string, query: string, variables: Record<string, unknown>, token?: string): Promise<any> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: any; errors?: unknown[] };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

async function connectClients(
  target: Target,
  ticketOf: (i: number) => string,
  onMessage: (body: string) => void,
): Promise<Client[]> {
  const clients: Client[] = [];
  const subscribed: Promise<void>[] = [];
  for (let i = 0; i < CLIENTS; i++) {
    const client = createClient({
      url: target.url.replace(/^http/, 'ws') + '/graphql',
      webSocketImpl: WebSocket,
      connectionParams: target.token ? { authorization: `Bearer ${target.token}` } : {},
      retryAttempts: 0,
    });
    clients.push(client);
    subscribed.push(
      new Promise<void>((resolve, reject) => {
        client.on('connected', () => setTimeout(resolve, 50));
        client.subscribe<{ ticketMessageAdded: { body: string } }>(
          {
            query: 'subscription ($id: ID!) { ticketMessageAdded(ticketId: $id) { id body authorName createdAt } }',
            variables: { id: ticketOf(i) },
          },
          { next: (value) => onMessage(value.data!.ticketMessageAdded.body), error: reject, complete: () => {} },
        );
      }),
    );
    // Connect in small waves so the accept queue never overflows.
    if (i % 100 === 99) await Promise.all(subscribed.slice(-100));
  }
  await Promise.all(subscribed);
  // Let every subscription reach the server's pub/sub before the clock starts.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  return clients;
}

async function runLayout(target: Target, layout: 'one ticket' | 'spread', rate: number): Promise<Result> {
  const tickets = layout === 'one ticket' ? [target.ticketIds[0]] : target.ticketIds;
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  let lastReceipt = 0;
  const clients = await connectClients(
    target,
    (i) => tickets[i % tickets.length],
    (body) => {
      const now = performance.now();
      const started = sentAt.get(body);
      if (started !== undefined) latencies.push(now - started);
      lastReceipt = now;
    },
  );
  const subscribersPerTicket = CLIENTS / tickets.length;
  const total = Math.round(rate * SECONDS);
  const interval = 1000 / rate;
  const start = performance.now();
  const posts: Promise<unknown>[] = [];
  for (let n = 0; n < total; n++) {
    const due = start + n * interval;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const body = `bench ${n} ${randomBytes(3).toString('hex')}`;
    const ticketId = tickets[n % tickets.length];
    sentAt.set(body, performance.now());
    const { query, variables } = target.post(ticketId, body);
    posts.push(post(target.url, query, variables, target.token));
  }
  await Promise.all(posts);
  const expected = total * subscribersPerTicket;
  const deadline = performance.now() + 30_000;
  while (latencies.length < expected && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  await Promise.all(clients.map((client) => client.dispose()));
  return { latencies, delivered: latencies.length, expected, seconds: (lastReceipt - start) / 1000, sent: total };
}

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function summarize(result: Result) {
  const sorted = [...result.latencies].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    eventsPerSecond: result.delivered / result.seconds,
    delivered: result.delivered,
    expected: result.expected,
  };
}

async function main(): Promise<void> {
  console.log(
    `bench:subscriptions — ${CLIENTS} graphql-ws clients, ${SECONDS} s per run, ${os.cpus().length} CPUs, Node ${process.version}`,
  );
  const database = await prepareDatabase();
  const children: ChildProcess[] = [];
  try {
    // Seed a tenant through the services, then drive the service only over HTTP and WebSocket.
    const dataSource = await openDataSource(database.url, 2, silentLogger);
    const services = await servicesFor(
      loadConfig({ JWT_SECRET: BENCH_JWT_SECRET, CREDENTIALS_KEY: BENCH_CREDENTIALS_KEY }),
      dataSource,
    );
    const { user, password } = await services.tenantSetup.createAdmin({ tenantSlug: 'bench', email: 'bench@example.test' });
    await dataSource.destroy();

    const port = await freePort();
    const ours = await startProcess(
      ['dist/src/main.js'],
      {
        DATABASE_URL: database.url,
        PORT: String(port),
        JWT_SECRET: BENCH_JWT_SECRET,
        SEED_DEMO_DATA: 'false',
        LOG_LEVEL: 'info',
        NODE_ENV: 'production',
        CREDENTIALS_KEY: BENCH_CREDENTIALS_KEY,
        DATABASE_POOL_SIZE: '20',
      },
      /ready at/,
    );
    children.push(ours.child);
    const url = `http://127.0.0.1:${port}`;
    const { login } = await post(url, 'mutation ($e: String!, $p: String!) { login(email: $e, password: $p) { token } }', {
      e: user.email,
      p: password,
    });
    const token = login.token as string;
    const { createContact } = await post(url, 'mutation { createContact(input: { name: "Bench Customer" }) { id } }', {}, token);
    const ticketIds: string[] = [];
    for (let i = 0; i < TICKETS; i++) {
      const { createTicket } = await post(
        url,
        'mutation ($r: ID!, $s: String!) { createTicket(input: { subject: $s, requesterId: $r }) { id } }',
        { r: createContact.id, s: `Bench ${i}` },
        token,
      );
      ticketIds.push(createTicket.id);
    }

    const baseline = await startProcess(['dist/bench/baseline-server.js'], {}, /listening (\d+)/);
    children.push(baseline.child);
    const baselineUrl = `http://127.0.0.1:${baseline.match[1]}`;

    const targets: Target[] = [
      {
        name: 'notify-desk',
        url,
        token,
        ticketIds,
        post: (ticketId, body) => ({
          query: 'mutation ($input: AddTicketMessageInput!) { addTicketMessage(input: $input) { id } }',
          variables: { input: { ticketId, body } },
        }),
      },
      {
        name: 'baseline',
        url: baselineUrl,
        ticketIds,
        post: (ticketId, body) => ({
          query: 'mutation ($t: ID!, $b: String!) { addTicketMessage(ticketId: $t, body: $b) { id } }',
          variables: { t: ticketId, b: body },
        }),
      },
    ];

    const rows: Array<Record<string, string | number>> = [];
    for (const [layout, rate] of [
      ['one ticket', RATE_ONE],
      ['spread', RATE_SPREAD],
    ] as const) {
      const figures: Record<string, ReturnType<typeof summarize>> = {};
      for (const target of targets) {
        figures[target.name] = summarize(await runLayout(target, layout, rate));
      }
      const ours = figures['notify-desk'];
      const base = figures.baseline;
      const label =
        layout === 'one ticket'
          ? `${CLIENTS} clients on 1 ticket, ${rate} msg/s`
          : `${CLIENTS} clients over ${TICKETS} tickets, ${rate} msg/s`;
      for (const [name, f] of Object.entries(figures)) {
        rows.push({
          layout: label,
          server: name,
          'p50 ms': f.p50.toFixed(1),
          'p95 ms': f.p95.toFixed(1),
          'p99 ms': f.p99.toFixed(1),
          'events/s': Math.round(f.eventsPerSecond),
          delivered: `${f.delivered}/${f.expected}`,
        });
      }
      rows.push({
        layout: label,
        server: 'ratio ours/baseline',
        'p50 ms': (ours.p50 / base.p50).toFixed(2) + 'x',
        'p95 ms': (ours.p95 / base.p95).toFixed(2) + 'x',
        'p99 ms': (ours.p99 / base.p99).toFixed(2) + 'x',
        'events/s': (ours.eventsPerSecond / base.eventsPerSecond).toFixed(2) + 'x',
        delivered: '',
      });
    }
    console.table(rows);
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 500));
    await database.cleanup();
  }
}

runBench(main);
