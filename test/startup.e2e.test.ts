import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/**
 * `npm start` as a user runs it: the compiled service with no DATABASE_URL, so it
 * starts its own embedded PostgreSQL under DATA_DIR.
 */
const ROOT = path.join(__dirname, '..');
const MAIN = path.join(ROOT, 'dist', 'src', 'main.js');

/** Whether something accepts TCP connections on the port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

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

/** The service as `node dist/src/main.js`, or through npm as a process manager starts it. */
function run(env: Record<string, string>, through: 'node' | 'npm' = 'node'): Running {
  const { DATABASE_URL: _ignored, LOG_FORMAT: _format, ...inherited } = process.env;
  const options = { env: { ...inherited, NODE_ENV: 'development', ...env }, stdio: 'pipe' as const, cwd: ROOT };
  // `--ignore-scripts` skips the prestart build (the suite has built already) and runs the start script itself.
  const child =
    through === 'npm'
      ? spawn('npm', ['start', '--silent', '--ignore-scripts'], options)
      : spawn(process.execPath, [MAIN], options);
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function waitForLine(running: Running, pattern: RegExp, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const match = running.output().match(pattern);
    if (match) return match[0];
    if (running.child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`did not see ${pattern} in:\n${running.output()}`);
}

describe('npm start', () => {
  jest.setTimeout(120_000);
  let dataDir: string;

  beforeAll(() => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'notify-start-'));
    chmodSync(dataDir, 0o755);
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('serves the API, IDE and health checks on embedded PostgreSQL, stops cleanly on SIGTERM, and reuses its data', async () => {
    const port = await freePort();
    const env = { DATA_DIR: dataDir, PORT: String(port), EMBEDDED_PG_PORT: String(await freePort()) };
    const base = `http://127.0.0.1:${port}`;

    const first = run(env);
    expect(await waitForLine(first, /ready at http:\/\/localhost:\d+\/graphql/)).toContain(`:${port}/graphql`);
    expect(first.output()).toMatch(/sign in as admin@demo\.test with password demo-password/);
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });
    expect(await (await fetch(`${base}/readyz`)).json()).toEqual({
      status: 'ready',
      checks: { database: true, migrations: true },
    });

    for (const url of [`${base}/`, `${base}/graphql`]) {
      const page = await fetch(url, { headers: { accept: 'text/html' } });
      const html = await page.text();
      expect(page.headers.get('content-type')).toMatch(/text\/html/);
      expect(html).toContain('/ruru-static/');
      expect(html).not.toMatch(/https?:\/\/(unpkg|cdn|esm\.sh)/);
      expect(html).toContain('Authorization');
    }
    expect((await fetch(`${base}/ruru-static/ruru.js`)).status).toBe(200);

    const login = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'mutation { login(email: "admin@demo.test", password: "demo-password") { token } }' }),
    });
    const token = ((await login.json()) as any).data.login.token as string;
    const tickets = async () => {
      const response = await fetch(`${base}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: '{ tickets { totalCount } }' }),
      });
      return ((await response.json()) as any).data.tickets.totalCount as number;
    };
    const seeded = await tickets();
    expect(seeded).toBeGreaterThanOrEqual(3);

    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(first.output()).toMatch(/stopped cleanly/);

    const second = run(env);
    await waitForLine(second, /ready at/);
    expect(second.output()).toMatch(/"reused":true/);
    expect(second.output()).not.toMatch(/demo data created/);
    // Same data, and the development secret survived: the old token still works.
    expect(await tickets()).toBe(seeded);
    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);
  });

  it('stops the server and the embedded database when npm itself gets SIGTERM, as process managers send it', async () => {
    const port = await freePort();
    const databasePort = await freePort();
    const npm = run({ DATA_DIR: dataDir, PORT: String(port), EMBEDDED_PG_PORT: String(databasePort) }, 'npm');
    await waitForLine(npm, /ready at/);
    expect([await listening(port), await listening(databasePort)]).toEqual([true, true]);
    npm.child.kill('SIGTERM');
    expect(await npm.exited).toBe(0);
    expect(npm.output()).toMatch(/stopped cleanly/);
    expect([await listening(port), await listening(databasePort)]).toEqual([false, false]);
  });

  it('refuses to start on an invalid setting, naming the variable and the reason', async () => {
    const running = run({ DATA_DIR: dataDir, PORT: 'forty' });
    expect(await running.exited).toBe(1);
    expect(running.output()).toContain('PORT must be a whole number (got "forty")');
  });

  it('refuses to start in production without JWT_SECRET', async () => {
    const running = run({ DATA_DIR: dataDir, NODE_ENV: 'production' });
    expect(await running.exited).toBe(1);
    // Production's output is JSON lines from the first one: a log collector parses the refusal too.
    const lines = running.output().trim().split('\n');
    expect(lines.map((line) => JSON.parse(line))).toEqual([
      expect.objectContaining({
        level: 'error',
        code: 'INVALID_CONFIGURATION',
        message: expect.stringContaining('JWT_SECRET is required when NODE_ENV=production'),
      }),
    ]);
  });
});
