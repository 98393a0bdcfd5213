import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client as PgClient } from 'pg';
import { In } from 'typeorm';
import { startApp, type App } from '../../src/app';
import { DeliveryStatus } from '../../src/entities/channel';
import { Delivery } from '../../src/entities/delivery.entity';
import { loadConfig } from '../../src/config';
import { type Logger, silentLogger } from '../../src/logger';
import { ManualClock } from '../../src/services/platform/clock';

export interface TestApp {
  app: App;
  databaseUrl: string;
  url: string;
  clock: ManualClock;
  stop(): Promise<void>;
}

/** The real service (HTTP, graphql-ws, services, PostgreSQL) on a free port with a hand-moved clock. */
export async function startTestApp(
  clock = new ManualClock(new Date()),
  env: Record<string, string> = {},
  logger: Logger = silentLogger,
): Promise<TestApp> {
  const database = await createTestDatabase();
  const databaseUrl = database.url;
  // Files (uploads, received media) of this app only, removed with it.
  const dataDir = await mkdtemp(path.join(tmpdir(), 'notify-desk-test-'));
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: databaseUrl,
    DATABASE_POOL_SIZE: '5',
    PORT: '0',
    JWT_SECRET: 'test-secret-that-is-long-enough-for-hs256-signing',
    SEED_DEMO_DATA: 'false',
    CREDENTIALS_KEY: Buffer.alloc(32, 9).toString('base64'),
    // Tests drive the dispatcher batch by batch unless they ask for the running worker (ROLE=all).
    ROLE: 'api',
    // Provider fakes listen on loopback, which outbound requests may not reach by default.
    OUTBOUND_ALLOWED_ADDRESSES: '127.0.0.1,::1',
    DATA_DIR: dataDir,
    ...env,
  });
  const app = await startApp(config, logger, clock);
  const url = app.api!.url;
  return {
    app,
    databaseUrl,
    url,
    clock,
    stop: async () => {
      await app.stop();
      await database.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * A database of this test file's own, copied from the migrated template that
 * test/global-setup.mjs prepared: test files run in parallel, and the dispatcher
 * claims every due delivery of its database, so files must not share one.
 */
export async function createTestDatabase({ empty = false }: { empty?: boolean } = {}): Promise<{
  url: string;
  drop(): Promise<void>;
}> {
  const template = process.env.TEST_DATABASE_URL;
  if (!template) throw new Error('TEST_DATABASE_URL is set by test/global-setup.mjs');
  const templateName = new URL(template).pathname.slice(1);
  const name = `${templateName}_${randomBytes(4).toString('hex')}`;
  const admin = new URL(template);
  admin.pathname = '/postgres';
  const run = async (sql: string) => {
    const client = new PgClient({ connectionString: admin.toString() });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  // `empty`: a database as a first deploy finds it, without the migrated template's tables.
  await run(empty ? `CREATE DATABASE "${name}"` : `CREATE DATABASE "${name}" TEMPLATE "${templateName}"`);
  const url = new URL(template);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => dropWhenIdle(admin.toString(), name) };
}

/**
 * Drops a test database once nothing is connected to it any more: worker processes a
 * test killed may take a moment to let go. A connection still open after that is a
 * leak, and it is named in the error rather than cut off by a forced drop (which used
 * to kill whatever process still held it, at random).
 */
async function dropWhenIdle(adminUrl: string, name: string): Promise<void> {
  const client = new PgClient({ connectionString: adminUrl });
  client.on('error', () => undefined);
  await client.connect();
  try {
    let holders: Array<{ application_name: string; query: string }> = [];
    for (let waited = 0; waited <= 5000; waited += 100) {
      holders = (
        await client.query(
          `SELECT application_name, left(query, 60) AS query FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`,
          [name],
        )
      ).rows;
      if (!holders.length) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    if (holders.length) throw new Error(`connections to ${name} were left open: ${JSON.stringify(holders)}`);
  } finally {
    await client.end();
  }
}

export interface GraphQLResponse<T = Record<string, unknown>> {
  status: number;
  data?: T;
  errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
}

/** POSTs one operation to /graphql as a frontend would. */
export async function gql<T = Record<string, any>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  token?: string,
): Promise<GraphQLResponse<T>> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as GraphQLResponse<T>;
  return { ...body, status: response.status };
}

/** Like gql, but fails the test on any GraphQL error. */
export async function gqlOk<T = Record<string, any>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  token?: string,
): Promise<T> {
  const result = await gql<T>(url, query, variables, token);
  if (result.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
  return result.data as T;
}

/** The path of the first input problem of a BAD_USER_INPUT answer (`extensions.problems[0].path`). */
export function problemPath(result: GraphQLResponse<unknown>): unknown {
  const problems = result.errors?.[0]?.extensions?.problems as Array<{ path: unknown }> | undefined;
  return problems?.[0]?.path;
}

export function errorCode(result: GraphQLResponse<unknown>): unknown {
  return result.errors?.[0]?.extensions?.code;
}

/** A real graphql-ws client over a socket. */
export function wsClient(url: string, token?: string, onClose?: (code: number) => void): Client {
  return createClient({
    url: url.replace(/^http/, 'ws') + '/graphql',
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: 0,
    lazy: true,
    on: onClose ? { closed: (event) => onClose((event as { code: number }).code) } : undefined,
  });
}

/** Collects what a subscription delivers, so tests can wait for items. */
export class Subscription<T> {
  readonly items: T[] = [];
  readonly errors: unknown[] = [];
  private waiters: Array<() => void> = [];
  private readonly dispose: () => void;

  constructor(client: Client, query: string, variables: Record<string, unknown> = {}) {
    this.dispose = client.subscribe<T>(
      { query, variables },
      {
        next: (value) => {
          if (value.errors) this.errors.push(...value.errors);
          if (value.data) this.items.push(value.data as T);
          this.notify();
        },
        error: (error) => {
          this.errors.push(error);
          this.notify();
        },
        complete: () => this.notify(),
      },
    );
  }

  /** Waits until `count` items arrived (or an error), failing after `timeoutMs`. */
  async waitFor(count: number, timeoutMs = 5000): Promise<T[]> {
    return this.waitUntil((items) => items.length >= count, timeoutMs, `${count} subscription items`);
  }

  /** Waits until the items received so far satisfy `done` (or an error), failing after `timeoutMs`. */
  async waitUntil(done: (items: T[]) => boolean, timeoutMs = 5000, what = 'subscription items'): Promise<T[]> {
    const deadline = Date.now() + timeoutMs;
    while (!done(this.items) && this.errors.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`expected ${what}, got ${this.items.length}: ${JSON.stringify(this.items)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.items;
  }

  close(): void {
    this.dispose();
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

/** Lets in-flight events reach subscribers before asserting that nothing (more) arrived. */
export const settle = (ms = 300) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The dispatcher is shared by every tenant of a test file: cancelling what a test left
 * queued keeps it from reaching the next test's provider fake.
 */
export async function cancelOutstandingDeliveries(t: TestApp): Promise<void> {
  await t.app.dataSource
    .getRepository(Delivery)
    .update({ status: In([DeliveryStatus.QUEUED, DeliveryStatus.SENDING]) }, { status: DeliveryStatus.CANCELLED });
}

/** Hands every pending domain event to its consumers, as the worker's relay does on NOTIFY. */
export async function relayAll(t: TestApp): Promise<void> {
  for (let pass = await t.app.services.events.runOnce(); pass.handedOn || pass.handled;) {
    pass = await t.app.services.events.runOnce();
  }
}

/** Sends every due delivery, batch after batch, as the worker would (tests drive the dispatcher this way). */
export async function dispatchAll(t: TestApp): Promise<void> {
  while ((await t.app.services.dispatch.dispatchBatch()).claimed > 0);
}
