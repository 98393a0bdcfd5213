import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import { Client as PgClient } from 'pg';
import { MIGRATIONS } from '../src/migrations';
import { createTestDatabase } from './helpers/test-app';
import { until } from './helpers/wait';
import { CREDENTIALS_KEY, MAIN } from './helpers/worker-process';

/**
 * A first deploy as compose runs it: the API and two workers started at the same moment on
 * an empty database, in production. Each of them finds migrations pending; one applies them
 * under the advisory lock and the others wait, then find nothing left to do.
 */
async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

interface Running {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function start(env: Record<string, string>): Running {
  // The format is production's default, not whatever the suite's environment says.
  const { LOG_FORMAT: _format, ...inherited } = process.env;
  const child = spawn(process.execPath, [MAIN], { env: { ...inherited, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

describe('first deploy: three processes on one empty database', () => {
  jest.setTimeout(120_000);
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  const processes: Running[] = [];

  beforeAll(async () => {
    database = await createTestDatabase({ empty: true });
  });
  afterAll(async () => {
    for (const running of processes) if (running.child.exitCode === null) running.child.kill('SIGKILL');
    await Promise.all(processes.map((running) => running.exited));
    await database.drop();
  });

  it('all start, migrate once, log only JSON and stop cleanly', async () => {
    const port = await freePort();
    const common = {
      NODE_ENV: 'production',
      DATABASE_URL: database.url,
      JWT_SECRET: 's'.repeat(40),
      CREDENTIALS_KEY,
      LOG_LEVEL: 'info',
    };
    processes.push(
      start({ ...common, ROLE: 'api', PORT: String(port) }),
      start({ ...common, ROLE: 'worker' }),
      start({ ...common, ROLE: 'worker' }),
    );
    const [api, ...workers] = processes;
    await until(
      'all three to start',
      async () => {
        const failed = processes.find((running) => running.child.exitCode !== null);
        if (failed) throw new Error(`a process exited during start-up:\n${failed.output()}`);
        return api.output().includes('API ready at') && workers.every((worker) => worker.output().includes('worker running'));
      },
      90_000,
    );

    const client = new PgClient({ connectionString: database.url });
    await client.connect();
    try {
      const { rows } = await client.query(`SELECT count(*)::int AS applied FROM schema_migration`);
      expect(rows[0].applied).toBe(MIGRATIONS.length);
    } finally {
      await client.end();
    }
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { database: true, migrations: true } });
    // Production serves no IDE, so the ready line does not point at one.
    expect(api.output()).not.toMatch(/GraphQL IDE/);
    expect((await fetch(`http://127.0.0.1:${port}/`, { headers: { accept: 'text/html' } })).status).toBe(404);

    for (const running of processes) running.child.kill('SIGTERM');
    expect(await Promise.all(processes.map((running) => running.exited))).toEqual([0, 0, 0]);
    for (const running of processes) {
      const lines = running
        .output()
        .split('\n')
        .filter((line) => line.trim());
      expect(lines.length).toBeGreaterThan(1);
      for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    }
    const applied = processes.filter((running) => running.output().includes('"migrations applied"'));
    expect(applied).toHaveLength(1);
  });
});
