import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { startApp, type App } from '../../src/app';
import { loadConfig } from '../../src/config';
import { silentLogger } from '../../src/logger';
import { ManualClock } from '../../src/services/clock';

export interface TestApp {
  app: App;
  url: string;
  clock: ManualClock;
  stop(): Promise<void>;
}

/** The real service (HTTP, graphql-ws, services, PostgreSQL) on a free port with a hand-moved clock. */
export async function startTestApp(clock = new ManualClock(new Date()), env: Record<string, string> = {}): Promise<TestApp> {
  const databaseUrl = process.env.TEST_DATABASE_URL;
  if (!databaseUrl) throw new Error('TEST_DATABASE_URL is set by test/global-setup.mjs');
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
    ...env,
  });
  const app = await startApp(config, silentLogger, clock);
  const url = app.api!.url;
  return { app, url, clock, stop: () => app.stop() };
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
    const deadline = Date.now() + timeoutMs;
    while (this.items.length < count && this.errors.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`expected ${count} subscription items, got ${this.items.length}`);
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
