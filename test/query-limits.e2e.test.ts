import { getIntrospectionQuery } from 'graphql';
import { Client } from 'pg';
import { Role } from '../src/entities/user.entity';
import { PASSWORD, makeContact, makeTenant, makeUser } from './helpers/factories';
import { Subscription, type TestApp, errorCode, gql, gqlOk, startTestApp, wsClient } from './helpers/test-app';

/** Hostile queries are refused before they run; what a frontend asks for is not. */
describe('query limits', () => {
  let t: TestApp;
  let token: string;

  beforeAll(async () => {
    t = await startTestApp();
    const tenant = await makeTenant(t.app.dataSource);
    const admin = await makeUser(t.app.dataSource, tenant, { role: Role.ADMIN });
    token = (await t.app.services.auth.login(admin.email, PASSWORD)).token;
  });
  afterAll(() => t.stop());

  const refused = async (query: string) => {
    const result = await gql(t.url, query, {}, token);
    expect(result.data ?? null).toBeNull();
    return {
      code: errorCode(result),
      extensions: result.errors![0].extensions as Record<string, unknown>,
      message: result.errors![0].message,
    };
  };

  it('refuses a thousand aliases, deep nesting, too many tokens and expensive nested lists, naming the limit', async () => {
    const aliases = await refused(`{ ${Array.from({ length: 40 }, (_, i) => `a${i}: me { name }`).join(' ')} }`);
    expect(aliases).toMatchObject({ code: 'QUERY_TOO_COMPLEX', extensions: { limit: 'aliases', max: 30 } });
    // A thousand aliases does not even get parsed.
    const thousand = await refused(`{ ${Array.from({ length: 1000 }, (_, i) => `a${i}: me { name }`).join(' ')} }`);
    expect(thousand.code).toBe('QUERY_TOO_COMPLEX');

    const deep = `{ me { name } users(first: 1) { edges { node { ${'manager { '.repeat(15)}id${' }'.repeat(15)} } } } }`;
    expect(await refused(deep)).toMatchObject({ code: 'QUERY_TOO_COMPLEX', extensions: { limit: 'depth', max: 12 } });

    const tokens = await refused(`{ me { ${Array.from({ length: 6000 }, () => 'name').join(' ')} } }`);
    expect(tokens).toMatchObject({ code: 'QUERY_TOO_COMPLEX', extensions: { limit: 'tokens' } });

    const costly = await refused(
      `{ users(first: 100) { edges { node { businessRecords(first: 100) { edges { node { contact { businessRecords(first: 100) { totalCount } } } } } } } } }`,
    );
    expect(costly.code).toBe('QUERY_TOO_COMPLEX');
    expect(costly.extensions).toMatchObject({ limit: 'cost', max: 25000 });
    expect(costly.message).toContain('Ask for fewer items per page');
  });

  it('answers expected errors without a stack trace, outside production too', async () => {
    for (const query of [`{ ticket(id: "00000000-0000-0000-0000-000000000000") { id } }`, `{ nope }`, `{ me { name `]) {
      const result = await gql(t.url, query, {}, token);
      expect(result.errors?.length).toBeGreaterThan(0);
      for (const error of result.errors!) expect(error.extensions).not.toHaveProperty('stacktrace');
    }
  });

  it('answers what a frontend and the IDE ask for', async () => {
    await gqlOk(
      t.url,
      `query Queue($after: String) {
        tickets(first: 20, after: $after) { totalCount edges { cursor node { id reference subject status priority
          requester { id name phone } assignee { id name } messages(last: 3) { edges { node { id body authorName } } } } } pageInfo { endCursor hasNextPage } }
        me { name role }
      }`,
      {},
      token,
    );
    const introspection = await gqlOk(t.url, getIntrospectionQuery(), {}, token);
    expect(introspection.__schema.queryType.name).toBe('Query');
  });

  it('applies the same limits to subscriptions over graphql-ws', async () => {
    const client = wsClient(t.url, token);
    const subscription = new Subscription(
      client,
      `subscription { ${Array.from({ length: 40 }, (_, i) => `a${i}: ticketChanged { kind }`).join(' ')} }`,
    );
    try {
      await subscription.waitFor(1).catch(() => undefined);
      expect(JSON.stringify(subscription.errors)).toContain('QUERY_TOO_COMPLEX');
    } finally {
      subscription.close();
      await client.dispose();
    }
  });
});

describe('introspection and the IDE in production', () => {
  const INTROSPECT = '{ __schema { queryType { name } } }';

  it('opens introspection to signed-in staff only by default, and serves no IDE unless asked', async () => {
    const t = await startTestApp(undefined, {
      NODE_ENV: 'production',
      JWT_SECRET: 'x'.repeat(40),
      CREDENTIALS_KEY: Buffer.alloc(32, 7).toString('base64'),
    });
    try {
      const tenant = await makeTenant(t.app.dataSource);
      const admin = await makeUser(t.app.dataSource, tenant, { role: Role.ADMIN });
      const staff = (await t.app.services.auth.login(admin.email, PASSWORD)).token;
      const contact = await makeContact(t.app.dataSource, tenant);
      const customer = (
        await t.app.services.auth.issueCustomerToken(
          { kind: 'staff', tenantId: tenant.id, userId: admin.id, role: Role.ADMIN, name: 'A' },
          contact.id,
        )
      ).token;
      expect(errorCode(await gql(t.url, INTROSPECT))).toBe('UNAUTHENTICATED');
      expect(errorCode(await gql(t.url, INTROSPECT, {}, customer))).toBe('FORBIDDEN');
      expect((await gqlOk(t.url, INTROSPECT, {}, staff)).__schema.queryType.name).toBe('Query');
      const page = await fetch(`${t.url}/graphql`, { headers: { accept: 'text/html' } });
      expect(page.headers.get('content-type') ?? '').not.toContain('text/html');
    } finally {
      await t.stop();
    }
  });

  it('refuses introspection to everyone when switched off', async () => {
    const t = await startTestApp(undefined, { GRAPHQL_INTROSPECTION: 'off' });
    try {
      const tenant = await makeTenant(t.app.dataSource);
      const admin = await makeUser(t.app.dataSource, tenant, { role: Role.ADMIN });
      const staff = (await t.app.services.auth.login(admin.email, PASSWORD)).token;
      expect(errorCode(await gql(t.url, INTROSPECT, {}, staff))).toBe('FORBIDDEN');
      expect(errorCode(await gql(t.url, INTROSPECT))).toBe('FORBIDDEN');
      await gqlOk(t.url, '{ me { name } }', {}, staff);
    } finally {
      await t.stop();
    }
  });
});

describe('statement timeout of the api role', () => {
  it('stops a statement that runs past DB_STATEMENT_TIMEOUT_MS, and the pool keeps serving', async () => {
    const t = await startTestApp(undefined, { ROLE: 'api', DB_STATEMENT_TIMEOUT_MS: '200' });
    const locker = new Client({ connectionString: t.databaseUrl });
    try {
      await expect(t.app.dataSource.query('SELECT pg_sleep(1)')).rejects.toMatchObject({ driverError: { code: '57014' } });
      expect(await t.app.dataSource.query('SELECT 1 AS ok')).toEqual([{ ok: 1 }]);
      // The tickets list (a prepared statement on the pool, not through TypeORM) answers QUERY_TIMEOUT alike.
      const tenant = await makeTenant(t.app.dataSource);
      const admin = await makeUser(t.app.dataSource, tenant, { role: Role.ADMIN });
      const token = (await t.app.services.auth.login(admin.email, PASSWORD)).token;
      await locker.connect();
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE ticket IN ACCESS EXCLUSIVE MODE');
      expect(errorCode(await gql(t.url, '{ tickets(first: 5) { totalCount } }', {}, token))).toBe('QUERY_TIMEOUT');
      await locker.query('ROLLBACK');
      expect((await gqlOk(t.url, '{ tickets(first: 5) { totalCount } }', {}, token)).tickets.totalCount).toBe(0);
    } finally {
      await locker.end();
      await t.stop();
    }
  });
});

describe('request timeout', () => {
  it('answers a request stuck behind a lock with REQUEST_TIMEOUT while other requests answer normally', async () => {
    const t = await startTestApp(undefined, { REQUEST_TIMEOUT_MS: '300', DB_STATEMENT_TIMEOUT_MS: '2000' });
    const locker = new Client({ connectionString: t.databaseUrl });
    try {
      await locker.connect();
      const tenant = await makeTenant(t.app.dataSource);
      const admin = await makeUser(t.app.dataSource, tenant, { role: Role.ADMIN });
      const token = (await t.app.services.auth.login(admin.email, PASSWORD)).token;
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE contact IN ACCESS EXCLUSIVE MODE');
      const started = Date.now();
      const stuck = fetch(`${t.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: '{ contacts(first: 5) { totalCount } }' }),
      });
      // Meanwhile another user is answered at once.
      expect((await gqlOk(t.url, '{ me { kind } }', {}, token)).me.kind).toBe('STAFF');
      const response = await stuck;
      expect(response.status).toBe(503);
      expect(await response.json()).toEqual({
        errors: [{ message: 'The request took longer than 300 ms and was stopped', extensions: { code: 'REQUEST_TIMEOUT' } }],
      });
      expect(Date.now() - started).toBeLessThan(1500);
      await locker.query('ROLLBACK');
      expect((await gqlOk(t.url, '{ contacts(first: 5) { totalCount } }', {}, token)).contacts.totalCount).toBe(0);
    } finally {
      await locker.end();
      await t.stop();
    }
  });
});
