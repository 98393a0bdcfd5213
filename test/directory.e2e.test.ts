import { Role } from '../src/entities/user.entity';
import { PASSWORD, makeContact, makeTenant, makeUser } from './helpers/factories';
import { type TestApp, errorCode, gql, gqlOk, startTestApp } from './helpers/test-app';

const CONTACTS = `query ($first: Int, $after: String, $search: String) {
  contacts(first: $first, after: $after, search: $search) { totalCount pageInfo { hasNextPage endCursor } edges { node { name } } }
}`;
const USERS = `query ($first: Int, $after: String, $roles: [Role!], $active: Boolean) {
  users(first: $first, after: $after, roles: $roles, active: $active) { totalCount pageInfo { hasNextPage endCursor } edges { node { name role } } }
}`;

describe('directory lists', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.stop());

  async function world() {
    const tenant = await makeTenant(t.app.dataSource);
    const admin = await makeUser(t.app.dataSource, tenant, { role: Role.ADMIN, name: 'Zed Admin' });
    const token = (await t.app.services.auth.login(admin.email, PASSWORD)).token;
    return { tenant, admin, token };
  }

  it('pages contacts by name with cursors and a total, without repeats or gaps', async () => {
    const w = await world();
    const names = Array.from({ length: 25 }, (_, i) => `Contact ${String(i).padStart(2, '0')}`);
    // Same-named contacts too: the id breaks the tie, so none is skipped or repeated.
    for (const name of [...names, 'Contact 07']) await makeContact(t.app.dataSource, w.tenant, { name });
    const other = await makeTenant(t.app.dataSource);
    await makeContact(t.app.dataSource, other, { name: 'Contact 00 of another tenant' });

    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const { contacts }: { contacts: any } = await gqlOk(t.url, CONTACTS, { first: 10, after }, w.token);
      expect(contacts.totalCount).toBe(26);
      seen.push(...contacts.edges.map((edge: any) => edge.node.name));
      pages++;
      if (!contacts.pageInfo.hasNextPage) break;
      after = contacts.pageInfo.endCursor;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual([...names, 'Contact 07'].sort());

    const found = (await gqlOk(t.url, CONTACTS, { search: 'ntact 1' }, w.token)).contacts;
    expect(found.totalCount).toBe(10);
  });

  it('pages staff users and filters them by role and activity', async () => {
    const w = await world();
    for (let i = 0; i < 4; i++) await makeUser(t.app.dataSource, w.tenant, { role: Role.AGENT, name: `Agent ${i}` });
    await makeUser(t.app.dataSource, w.tenant, { role: Role.AGENT, name: 'Agent gone', active: false });
    await makeUser(t.app.dataSource, w.tenant, { role: Role.MANAGER, name: 'Manager' });
    const agents = (await gqlOk(t.url, USERS, { first: 3, roles: ['AGENT'], active: true }, w.token)).users;
    expect(agents.totalCount).toBe(4);
    expect(agents.edges.map((edge: any) => edge.node.name)).toEqual(['Agent 0', 'Agent 1', 'Agent 2']);
    const rest = (
      await gqlOk(t.url, USERS, { first: 3, roles: ['AGENT'], active: true, after: agents.pageInfo.endCursor }, w.token)
    ).users;
    expect(rest.edges.map((edge: any) => edge.node.name)).toEqual(['Agent 3']);
    expect(rest.pageInfo.hasNextPage).toBe(false);
    expect((await gqlOk(t.url, USERS, {}, w.token)).users.totalCount).toBe(7);
  });

  it('refuses huge pages and forged cursors with BAD_USER_INPUT, and customers altogether', async () => {
    const w = await world();
    const contact = await makeContact(t.app.dataSource, w.tenant);
    expect(errorCode(await gql(t.url, CONTACTS, { first: 100_000 }, w.token))).toBe('BAD_USER_INPUT');
    expect(errorCode(await gql(t.url, USERS, { first: 0 }, w.token))).toBe('BAD_USER_INPUT');
    const forged = Buffer.from(JSON.stringify(['name', 'x'.repeat(600), contact.id])).toString('base64url');
    expect(errorCode(await gql(t.url, CONTACTS, { after: forged }, w.token))).toBe('BAD_USER_INPUT');
    expect(errorCode(await gql(t.url, USERS, { after: 'not a cursor' }, w.token))).toBe('BAD_USER_INPUT');
    const customer = await t.app.services.auth.issueCustomerToken(
      { kind: 'staff', tenantId: w.tenant.id, userId: w.admin.id, role: Role.ADMIN, name: w.admin.name },
      contact.id,
    );
    expect(errorCode(await gql(t.url, CONTACTS, {}, customer.token))).toBe('FORBIDDEN');
    expect(errorCode(await gql(t.url, USERS, {}, customer.token))).toBe('FORBIDDEN');
  });
});
