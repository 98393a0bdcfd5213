import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { type TestApp, gqlOk, startTestApp } from './helpers/test-app';

const CLI = path.join(__dirname, '..', 'dist', 'src', 'cli', 'create-admin.js');

function createAdmin(...args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    env: {
      ...process.env,
      NODE_ENV: 'production',
      DATABASE_URL: t.databaseUrl,
      JWT_SECRET: 'x'.repeat(40),
      CREDENTIALS_KEY: Buffer.alloc(32, 7).toString('base64'),
    },
    encoding: 'utf8',
  });
  return { code: result.status, out: result.stdout + result.stderr };
}

let t: TestApp;

describe('npm run create-admin', () => {
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.stop());

  it('creates the tenant and an admin whose one-time password signs in', async () => {
    const { code, out } = createAdmin('--tenant', 'acme-prod', '--email', 'Ops@Acme.example', '--name', 'Ops Admin');
    expect(code).toBe(0);
    const password = /One-time password \(shown only now\): (\S+)/.exec(out)?.[1];
    expect(password).toHaveLength(20);
    const { login } = await gqlOk(
      t.url,
      'mutation ($p: String!) { login(email: "ops@acme.example", password: $p, tenant: "acme-prod") { user { name role } } }',
      { p: password },
    );
    expect(login.user).toEqual({ name: 'Ops Admin', role: 'ADMIN' });
  });

  it('grants platform rights only with --platform-admin, to a new admin or an existing user', async () => {
    const created = createAdmin('--tenant', 'platform-ops', '--email', 'root@platform.example', '--platform-admin');
    expect(created.code).toBe(0);
    expect(created.out).toContain('with platform super-admin rights');
    const plain = createAdmin('--tenant', 'platform-ops', '--email', 'helper@platform.example');
    expect(plain.out).not.toContain('platform super-admin');
    const granted = createAdmin('--tenant', 'platform-ops', '--email', 'helper@platform.example', '--platform-admin');
    expect(granted).toEqual({
      code: 0,
      out: 'helper@platform.example in tenant platform-ops now has platform super-admin rights.\n',
    });
    const rows: Array<{ email: string; platformAdmin: boolean }> = await t.app.dataSource.query(
      `SELECT email, "platformAdmin" FROM "user" WHERE email LIKE '%@platform.example' ORDER BY email`,
    );
    expect(rows).toEqual([
      { email: 'helper@platform.example', platformAdmin: true },
      { email: 'root@platform.example', platformAdmin: true },
    ]);
  });

  it('refuses a second account with the same e-mail, and explains its usage', () => {
    createAdmin('--tenant', 'acme-twice', '--email', 'twice@acme.example');
    const again = createAdmin('--tenant', 'acme-twice', '--email', 'twice@acme.example');
    expect(again.code).toBe(1);
    expect(again.out).toContain('twice@acme.example already has an account in acme-twice');
    const usage = createAdmin('--tenant', 'acme');
    expect(usage.code).toBe(2);
    expect(usage.out).toContain('Usage: npm run create-admin');
  });
});
