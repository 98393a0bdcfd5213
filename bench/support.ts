import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client as PgClient } from 'pg';
import { createDatabaseIfMissing, startEmbeddedPostgres } from '../src/database';
import { silentLogger } from '../src/logger';

export const ROOT = path.join(__dirname, '..', '..');

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Starts a compiled script as its own process and waits for a line of its output. */
export function startProcess(
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
): Promise<{ child: ChildProcess; match: RegExpMatchArray }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: 'pipe' });
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk;
      const match = output.match(ready);
      if (match) resolve({ child, match });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`process exited (${code}) before it was ready:\n${output}`)));
  });
}

/** A fresh database: on DATABASE_URL's server, or on an embedded PostgreSQL in a temporary directory. */
export async function prepareDatabase(): Promise<{ url: string; cleanup: () => Promise<void> }> {
  const name = `notify_bench_${randomBytes(4).toString('hex')}`;
  if (process.env.DATABASE_URL) {
    const admin = process.env.DATABASE_URL;
    await createDatabaseIfMissing(admin, name);
    const url = new URL(admin);
    url.pathname = `/${name}`;
    return {
      url: url.toString(),
      cleanup: async () => {
        const client = new PgClient({ connectionString: admin });
        await client.connect();
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
        await client.end();
      },
    };
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'notify-bench-'));
  chmodSync(dir, 0o755);
  const server = await startEmbeddedPostgres(path.join(dir, 'pg'), await freePort(), silentLogger);
  return {
    url: server.url,
    cleanup: async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs a benchmark's main and exits: 0 when it finished, 1 (with the error) when it failed. */
export function runBench(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}

/** The environment the benchmarks' own service processes run with (production mode, fixed secrets, no demo data). */
export const BENCH_ENV = {
  JWT_SECRET: 'bench-secret-bench-secret-bench-secret',
  CREDENTIALS_KEY: Buffer.alloc(32, 3).toString('base64'),
  SEED_DEMO_DATA: 'false',
  NODE_ENV: 'production',
  LOG_LEVEL: 'info',
};

/** Clock ticks per second in /proc (USER_HZ, 100 on Linux). */
const TICKS = 100;

/**
 * CPU seconds used so far by the whole machine (busy time, all CPUs together) and by the
 * given processes, from /proc; undefined where there is none (not Linux).
 */
export function cpuSeconds(pids: number[]): { machine: number; processes: number } | undefined {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, , , irq, softirq, steal = 0] = fields;
    let processes = 0;
    for (const pid of pids) {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      processes += Number(rest[11]) + Number(rest[12]);
    }
    return { machine: (user + nice + system + irq + softirq + steal) / TICKS, processes: processes / TICKS };
  } catch {
    return undefined;
  }
}
