/**
 * bench:api — the request path under load, against a bare baseline in the same run.
 *
 * An API process (ROLE=api) and a worker (ROLE=worker), a tenant with BENCH_TICKETS (500)
 * tickets and a 30-message thread. With autocannon, BENCH_CONNECTIONS (50) concurrent
 * clients for BENCH_SECONDS (10) each:
 * 1. `tickets(first: 20)` with requester and assignee: this service, then the baseline
 *    (graphql-js + a hand-written pg query, no framework, no auth: bench/api-baseline-server.ts),
 *    requests/s and latency p50/p99, and the ratio (target ≥ 0.8x on throughput);
 * 2. `ticket(id)` with its thread;
 * 3. `addTicketMessage`: all clients on one ticket (each reply waits for the ticket's row
 *    lock), then spread over 50 tickets, as agents reply to their own.
 * Then runJobNow → the job's handler starting (job_run.startedAt), BENCH_JOB_RUNS (20)
 * times: p50/p99 (target p50 < 50 ms on the PostgreSQL backend).
 * Prints figures; asserts nothing. DATABASE_URL: use that server; otherwise embedded.
 */
import 'reflect-metadata';
import autocannon from 'autocannon';
import type { ChildProcess } from 'node:child_process';
import os from 'node:os';
import { servicesFor } from '../src/app';
import { loadConfig } from '../src/config';
import { openDataSource } from '../src/database';
import { TicketCategory, TicketPriority } from '../src/entities/ticket.entity';
import { Role } from '../src/entities/user.entity';
import { silentLogger } from '../src/logger';
import type { StaffPrincipal } from '../src/services/directory/principal';
import { BENCH_ENV, freePort, prepareDatabase, runBench, startProcess } from './support';

const TICKETS = Number(process.env.BENCH_TICKETS ?? 500);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const JOB_RUNS = Number(process.env.BENCH_JOB_RUNS ?? 20);

const LIST = `query Tickets { tickets(first: 20) { totalCount edges { cursor node {
  id reference subject status priority createdAt requester { id name } assignee { id name } } } } }`;
const THREAD = `query Thread($id: ID!) { ticket(id: $id) { id reference subject messages(last: 30) { totalCount edges { node { id body authorName createdAt } } } } }`;
const REPLY = `mutation Reply($input: AddTicketMessageInput!) { addTicketMessage(input: $input) { id } }`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

/** Load on one endpoint: the same body every time, or the next of `bodies` for each request. */
async function load(url: string, body: unknown, token?: string, bodies?: unknown[]) {
  let next = 0;
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: SECONDS,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
    ...(bodies
      ? { requests: [{ setupRequest: (request) => ({ ...request, body: JSON.stringify(bodies[next++ % bodies.length]) }) }] }
      : {}),
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx,
  };
}

async function main(): Promise<void> {
  console.log(`bench:api — ${os.cpus().length} CPUs, Node ${process.version}, ${CONNECTIONS} connections, ${SECONDS} s each`);
  const database = await prepareDatabase();
  const children: ChildProcess[] = [];
  try {
    const port = await freePort();
    const env = { ...BENCH_ENV, DATABASE_URL: database.url };
    // BENCH_PROFILE_DIR: the API process and the baseline write V8 CPU profiles there when they stop.
    const profile = process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : [];
    const api = await startProcess([...profile, 'dist/src/main.js'], { ...env, ROLE: 'api', PORT: String(port) }, /ready at/);
    const worker = await startProcess(['dist/src/main.js'], { ...env, ROLE: 'worker' }, /worker running/);
    for (const started of [api, worker]) {
      children.push(started.child);
      // Their logs (a line per operation) are drained, not kept.
      for (const stream of [started.child.stdout!, started.child.stderr!]) {
        stream.removeAllListeners('data');
        stream.resume();
      }
    }
    const graphql = `http://127.0.0.1:${port}/graphql`;

    const config = loadConfig(env);
    const dataSource = await openDataSource(database.url, 4, silentLogger);
    const services = await servicesFor(config, dataSource);
    const { user, password } = await services.tenantSetup.createAdmin({ tenantSlug: 'bench-api', email: 'bench@example.test' });
    const actor: StaffPrincipal = { kind: 'staff', tenantId: user.tenantId, userId: user.id, role: Role.ADMIN, name: user.name };
    await dataSource.query(
      `INSERT INTO contact ("tenantId", name, phone) SELECT $1, 'Customer ' || n, '+62812' || lpad(n::text, 8, '0')
         FROM generate_series(1, 200) AS n`,
      [actor.tenantId],
    );
    const contacts = (await dataSource.query(`SELECT id FROM contact WHERE "tenantId" = $1`, [actor.tenantId])) as Array<{
      id: string;
    }>;
    const ticketIds: string[] = [];
    for (let n = 0; n < TICKETS; n++) {
      const ticket = await services.tickets.create(actor, {
        subject: `Bench ticket ${n}`,
        category: TicketCategory.TECHNICAL,
        priority: TicketPriority.MEDIUM,
        requesterId: contacts[n % contacts.length].id,
        assigneeId: n % 2 ? user.id : null,
      });
      ticketIds.push(ticket.id);
    }
    const first = ticketIds[0];
    for (let n = 0; n < 30; n++) await services.tickets.addMessage(actor, first, { body: `Message ${n} of the thread` });
    const { token } = await services.auth.login('bench@example.test', password!);
    // Planner statistics as a running database has them (autovacuum would, a minute later),
    // so neither side of the comparison runs on plans made for empty tables.
    await dataSource.query('ANALYZE');

    const baseline = await startProcess(
      [...profile, 'dist/bench/api-baseline-server.js'],
      { DATABASE_URL: database.url, TENANT_ID: actor.tenantId },
      /listening (\d+)/,
    );
    children.push(baseline.child);

    const service = await load(graphql, { query: LIST }, token);
    const bare = await load(`http://127.0.0.1:${baseline.match[1]}/`, { query: LIST });
    // The request path alone: a signed-in query that reads nothing (no statement at all).
    const floor = await load(graphql, { query: '{ __typename }' }, token);
    if (process.env.BENCH_ONLY === 'list') {
      console.log(
        `list: ${Math.round(service.rps)} req/s (p50 ${service.p50} ms); baseline ${Math.round(bare.rps)} req/s; ${(service.rps / bare.rps).toFixed(2)}x; { __typename } ${Math.round(floor.rps)} req/s`,
      );
      return;
    }
    const thread = await load(graphql, { query: THREAD, variables: { id: first } }, token);
    const reply = await load(graphql, { query: REPLY, variables: { input: { ticketId: first, body: 'A reply' } } }, token);
    const replies = await load(
      graphql,
      null,
      token,
      ticketIds.slice(0, 50).map((ticketId) => ({ query: REPLY, variables: { input: { ticketId, body: 'A reply' } } })),
    );

    // runJobNow → the handler starting.
    const latencies: number[] = [];
    for (let n = 0; n < JOB_RUNS; n++) {
      const sent = Date.now();
      const response = await fetch(graphql, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: 'mutation { runJobNow(name: "sla-monitor") { name } }' }),
      });
      if (!response.ok) throw new Error(`runJobNow answered ${response.status}`);
      for (;;) {
        const [run] = (await dataSource.query(
          `SELECT extract(epoch FROM "startedAt") * 1000 AS started FROM job_run
            WHERE "tenantId" = $1 AND "jobName" = 'sla-monitor' AND "startedAt" >= to_timestamp($2 / 1000.0) AND "finishedAt" IS NOT NULL
            ORDER BY "startedAt" DESC LIMIT 1`,
          [actor.tenantId, sent],
        )) as Array<{ started: string }>;
        if (run) {
          latencies.push(Number(run.started) - sent);
          break;
        }
        await sleep(5);
      }
    }
    latencies.sort((a, b) => a - b);

    console.table([
      {
        figure: `tickets(first: 20) with requester and assignee — this service`,
        value: `${Math.round(service.rps)} req/s, p50 ${service.p50} ms, p99 ${service.p99} ms (${service.errors} errors)`,
      },
      {
        figure: 'the same page — bare graphql-js + hand-written pg',
        value: `${Math.round(bare.rps)} req/s, p50 ${bare.p50} ms, p99 ${bare.p99} ms (${bare.errors} errors)`,
      },
      { figure: 'throughput ratio (service / baseline)', value: `${(service.rps / bare.rps).toFixed(2)}x` },
      {
        figure: '{ __typename } signed in: the request path with no statement',
        value: `${Math.round(floor.rps)} req/s, p50 ${floor.p50} ms, p99 ${floor.p99} ms (${floor.errors} errors)`,
      },
      {
        figure: 'ticket(id) with a 30-message thread',
        value: `${Math.round(thread.rps)} req/s, p50 ${thread.p50} ms, p99 ${thread.p99} ms (${thread.errors} errors)`,
      },
      {
        figure: 'addTicketMessage, every client on one ticket',
        value: `${Math.round(reply.rps)} req/s, p50 ${reply.p50} ms, p99 ${reply.p99} ms (${reply.errors} errors)`,
      },
      {
        figure: 'addTicketMessage spread over 50 tickets',
        value: `${Math.round(replies.rps)} req/s, p50 ${replies.p50} ms, p99 ${replies.p99} ms (${replies.errors} errors)`,
      },
      {
        figure: `runJobNow → handler started (${JOB_RUNS} runs, PostgreSQL backend)`,
        value: `p50 ${percentile(latencies, 50).toFixed(0)} ms, p99 ${percentile(latencies, 99).toFixed(0)} ms`,
      },
    ]);
    await dataSource.destroy();
  } finally {
    await Promise.all(
      children.map(
        (child) =>
          new Promise((resolve) =>
            child.exitCode !== null ? resolve(null) : (child.once('exit', resolve), child.kill('SIGTERM')),
          ),
      ),
    );
    await database.cleanup();
  }
}

runBench(main);
