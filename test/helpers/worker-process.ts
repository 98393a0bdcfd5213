import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { Client as PgClient } from 'pg';
import type { TestApp } from './test-app';
import { until } from './wait';

export const MAIN = path.join(__dirname, '..', '..', 'dist', 'src', 'main.js');
/** The test app's credentials key, so a worker reads the providers the test app stored. */
export const CREDENTIALS_KEY = Buffer.alloc(32, 9).toString('base64');

/** The environment of a ROLE=worker process on the test app's database. */
export function workerEnv(t: TestApp): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ROLE: 'worker',
    DATABASE_URL: t.databaseUrl,
    JWT_SECRET: 'x'.repeat(40),
    CREDENTIALS_KEY,
    NODE_ENV: 'test',
    SEED_DEMO_DATA: 'false',
  };
}

/** A ROLE=worker process as deployed, started and running: its output, and its exit code once it exited. */
export async function startWorker(
  t: TestApp,
  env: Record<string, string>,
): Promise<{ child: ChildProcess; output: () => string; exited: () => number | null }> {
  let output = '';
  let exited: number | null = null;
  const child = spawn(process.execPath, [MAIN], { env: { ...workerEnv(t), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  child.once('exit', (code) => (exited = code ?? -1));
  await until('the worker to start', async () => output.includes('worker running'), 20_000);
  return { child, output: () => output, exited: () => exited };
}

/** What a database restart or failover does: every connection of the service's processes on the test database ends. */
export async function terminateConnections(t: TestApp): Promise<number> {
  const admin = new PgClient({ connectionString: t.databaseUrl });
  await admin.connect();
  try {
    const { rows } = await admin.query(
      `SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity
        WHERE datname = $1 AND pid <> pg_backend_pid() AND application_name LIKE 'notify-desk%'`,
      [new URL(t.databaseUrl).pathname.slice(1)],
    );
    return rows.filter((row: { killed: boolean }) => row.killed).length;
  } finally {
    await admin.end();
  }
}
