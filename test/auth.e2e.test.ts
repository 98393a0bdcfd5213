import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { Tenant } from '../src/entities/tenant.entity';
import { Role, User } from '../src/entities/user.entity';
import { PASSWORD, makeContact, makeTenant, makeUser } from './helpers/factories';
import { type TestApp, Subscription, errorCode, gql, gqlOk, settle, startTestApp, wsClient } from './helpers/test-app';
import { until } from './helpers/wait';

const LOGIN = `mutation ($email: String!, $password: String!, $tenant: String) {
  login(email: $email, password: $password, tenant: $tenant) { token expiresAt user { id role } }
}`;

describe('authentication', () => {
  let t: TestApp;
  let tenant: Tenant;
  let admin: User;
  let agent: User;

  beforeAll(async () => {
    t = await startTestApp();
    const ds = t.app.dataSource;
    tenant = await makeTenant(ds);
    admin = await makeUser(ds, tenant, { role: Role.ADMIN });
    agent = await makeUser(ds, tenant, { role: Role.AGENT });
  });
  afterAll(() => t.stop());

  it('signs a user in and answers `me` with the token', async () => {
    const { login } = await gqlOk(t.url, LOGIN, { email: admin.email.toUpperCase(), password: PASSWORD });
    expect(login.user).toEqual({ id: admin.id, role: 'ADMIN' });
    const { me } = await gqlOk(t.url, '{ me { kind role name tenantId user { email } } }', {}, login.token);
    expect(me).toEqual({ kind: 'STAFF', role: 'ADMIN', name: admin.name, tenantId: tenant.id, user: { email: admin.email } });
  });

  it('says only that the credentials are wrong, for a wrong password and for an unknown e-mail alike', async () => {
    const wrongPassword = await gql(t.url, LOGIN, { email: admin.email, password: 'nope' });
    const unknownEmail = await gql(t.url, LOGIN, { email: 'nobody@example.test', password: PASSWORD });
    expect(errorCode(wrongPassword)).toBe('UNAUTHENTICATED');
    expect(errorCode(unknownEmail)).toBe('UNAUTHENTICATED');
    expect(wrongPassword.errors?.[0].message).toBe(unknownEmail.errors?.[0].message);
    expect(wrongPassword.data).toBeNull();
  });

  it('refuses a deactivated user', async () => {
    const ds = t.app.dataSource;
    const gone = await makeUser(ds, tenant, { active: false });
    expect(errorCode(await gql(t.url, LOGIN, { email: gone.email, password: PASSWORD }))).toBe('UNAUTHENTICATED');
  });

  it('sees a demotion, a rename and a deactivation made elsewhere on the next requests, also after its notices were cut off', async () => {
    const ds = t.app.dataSource;
    const user = await makeUser(ds, tenant, { role: Role.ADMIN, name: 'Before' });
    const { login } = await gqlOk(t.url, LOGIN, { email: user.email, password: PASSWORD });
    const me = async () => gql(t.url, '{ me { role name } }', {}, login.token);
    // Read once, so the API process holds the principal.
    expect((await me()).data).toEqual({ me: { role: 'ADMIN', name: 'Before' } });
    // Changed by plain SQL, as another process (an import, an admin elsewhere) would.
    await ds.query(`UPDATE "user" SET role = 'agent', name = 'After' WHERE id = $1`, [user.id]);
    await until('the demotion to show', async () => (await me()).data?.me?.role === 'AGENT', 3_000);
    expect((await me()).data).toEqual({ me: { role: 'AGENT', name: 'After' } });

    // The process's change notices are cut off; it reconnects and must not trust what it held.
    await ds.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'notify-desk-principal-changes'`,
    );
    await until(
      'the notices to flow again',
      async () => {
        const [row] = await ds.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'notify-desk-principal-changes'`,
        );
        return row.n > 0;
      },
      5_000,
    );
    expect((await me()).data).toEqual({ me: { role: 'AGENT', name: 'After' } });
    await ds.query(`UPDATE "user" SET active = false WHERE id = $1`, [user.id]);
    await until('the deactivation to show', async () => errorCode(await me()) === 'UNAUTHENTICATED', 3_000);
  });

  it('refuses every operation but login without a token', async () => {
    const result = await gql(t.url, '{ tickets { totalCount } }');
    expect(errorCode(result)).toBe('UNAUTHENTICATED');
    expect(errorCode(await gql(t.url, '{ me { name } }'))).toBe('UNAUTHENTICATED');
    // Outside production the schema itself is open, so the IDE has docs before sign-in; data is not.
    expect((await gql(t.url, '{ __schema { queryType { name } } }')).data).toEqual({
      __schema: { queryType: { name: 'Query' } },
    });
    expect(errorCode(await gql(t.url, '{ __schema { queryType { name } } me { name } }'))).toBe('UNAUTHENTICATED');
  });

  it('answers 401 to a forged, malformed or expired token', async () => {
    const { login } = await gqlOk(t.url, LOGIN, { email: agent.email, password: PASSWORD });
    const forged = login.token.slice(0, -4) + (login.token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    for (const token of [forged, 'not-a-jwt']) {
      const result = await gql(t.url, '{ me { name } }', {}, token);
      expect(result.status).toBe(401);
      expect(errorCode(result)).toBe('UNAUTHENTICATED');
    }
    // Used while valid (its signature is then known good), and refused once it has expired.
    expect((await gqlOk(t.url, '{ me { name } }', {}, login.token)).me.name).toBe(agent.name);
    t.clock.advance(13 * 3600 * 1000);
    try {
      const expired = await gql(t.url, '{ me { name } }', {}, login.token);
      expect(expired.status).toBe(401);
      expect(expired.errors?.[0].message).toMatch(/expired/);
      // Signing in again works whatever the old header says: an IDE keeps sending it.
      const again = await gql(t.url, LOGIN, { email: agent.email, password: PASSWORD }, login.token);
      expect(again.errors).toBeUndefined();
      expect(again.data?.login.token).toEqual(expect.any(String));
    } finally {
      t.clock.advance(-13 * 3600 * 1000);
    }
  });

  it('checks roles on mutations: an agent cannot create users', async () => {
    const { login } = await gqlOk(t.url, LOGIN, { email: agent.email, password: PASSWORD });
    const result = await gql(
      t.url,
      'mutation { createUser(input: { name: "X", email: "x@example.test", role: AGENT }) { oneTimePassword } }',
      {},
      login.token,
    );
    expect(errorCode(result)).toBe('FORBIDDEN');
    expect(await t.app.dataSource.getRepository(User).countBy({ email: 'x@example.test' })).toBe(0);
  });

  it('lets an admin create a user who can then sign in with the one-time password', async () => {
    const { login } = await gqlOk(t.url, LOGIN, { email: admin.email, password: PASSWORD });
    const { createUser } = await gqlOk(
      t.url,
      'mutation { createUser(input: { name: "Nia New", email: "nia@example.test", role: SUPERVISOR, phone: "+6281234567890" }) { oneTimePassword user { id role } } }',
      {},
      login.token,
    );
    const second = await gqlOk(t.url, LOGIN, { email: 'nia@example.test', password: createUser.oneTimePassword });
    expect(second.login.user).toEqual(createUser.user);
  });

  it('issues customer tokens only to staff, for contacts of their own tenant', async () => {
    const ds = t.app.dataSource;
    const contact = await makeContact(ds, tenant);
    const otherContact = await makeContact(ds, await makeTenant(ds));
    const { login } = await gqlOk(t.url, LOGIN, { email: agent.email, password: PASSWORD });
    const issue = 'mutation ($id: ID!) { issueCustomerToken(contactId: $id) { token } }';
    const { issueCustomerToken } = await gqlOk(t.url, issue, { id: contact.id }, login.token);
    const { me } = await gqlOk(t.url, '{ me { kind role contactId } }', {}, issueCustomerToken.token);
    expect(me).toEqual({ kind: 'CUSTOMER', role: 'CUSTOMER', contactId: contact.id });
    expect(errorCode(await gql(t.url, issue, { id: otherContact.id }, login.token))).toBe('NOT_FOUND');
    expect(errorCode(await gql(t.url, issue, { id: contact.id }, issueCustomerToken.token))).toBe('FORBIDDEN');
  });

  it('closes a graphql-ws connection with 4403 when the token is missing or bad, and starts no subscription', async () => {
    for (const token of [undefined, 'bad-token']) {
      let closeCode: number | undefined;
      const client = wsClient(t.url, token, (code) => (closeCode = code));
      const subscription = new Subscription(client, 'subscription { ticketChanged { kind } }');
      await settle(500);
      expect(closeCode).toBe(4403);
      expect(subscription.items).toHaveLength(0);
      await client.dispose();
    }
  });

  it('closes a live socket with 4403 when its token expires', async () => {
    const { login } = await gqlOk(t.url, LOGIN, { email: agent.email, password: PASSWORD });
    const lifetime = Date.parse(login.expiresAt) - t.clock.now().getTime();
    t.clock.advance(lifetime - 1000);
    try {
      let closeCode: number | undefined;
      const client = wsClient(t.url, login.token, (code) => (closeCode = code));
      const subscription = new Subscription(client, 'subscription { ticketChanged { kind } }');
      await settle(300);
      expect(closeCode).toBeUndefined();
      await settle(1200);
      expect(closeCode).toBe(4403);
      expect(subscription.errors).toHaveLength(1);
      await client.dispose();
    } finally {
      t.clock.advance(1000 - lifetime);
    }
  });

  it('accepts the token as the IDE sends it over graphql-ws: its Headers tab as connection params', async () => {
    const { login } = await gqlOk(t.url, LOGIN, { email: agent.email, password: PASSWORD });
    let closeCode: number | undefined;
    const client = createClient({
      url: t.url.replace(/^http/, 'ws') + '/graphql',
      webSocketImpl: WebSocket,
      connectionParams: { Authorization: `Bearer ${login.token}` },
      retryAttempts: 0,
      on: { closed: (event) => (closeCode = (event as { code: number }).code) },
    });
    const subscription = new Subscription(client, 'subscription { ticketChanged { kind } }');
    await settle(300);
    expect(subscription.errors).toEqual([]);
    expect(closeCode).toBeUndefined();
    await client.dispose();
  });

  it('refuses further sign-ins for an address after 10 failures in 15 minutes, with RATE_LIMITED', async () => {
    const target = await makeUser(t.app.dataSource, tenant, { role: Role.AGENT });
    for (let i = 0; i < 10; i++) {
      expect(errorCode(await gql(t.url, LOGIN, { email: target.email, password: `guess-${i}` }))).toBe('UNAUTHENTICATED');
    }
    const limited = await gql(t.url, LOGIN, { email: target.email, password: PASSWORD });
    expect(errorCode(limited)).toBe('RATE_LIMITED');
    expect(limited.errors?.[0].extensions?.retryAfterSeconds).toBe(900);
    t.clock.advance(15 * 60_000);
    try {
      expect((await gqlOk(t.url, LOGIN, { email: target.email, password: PASSWORD })).login.user.id).toBe(target.id);
    } finally {
      t.clock.advance(-15 * 60_000);
    }
  });
});
