import { Role } from '../src/entities/user.entity';
import { PASSWORD, makeTenant, makeUser } from './helpers/factories';
import { type TestApp, startTestApp } from './helpers/test-app';

/**
 * Queries over GET, as urql (`preferGetMethod`) and graphql-request send them: no
 * content-type and none of Apollo's preflight headers, only the bearer token.
 */
const URQL_ACCEPT =
  'application/graphql-response+json, application/graphql+json, application/json, text/event-stream, multipart/mixed';

describe('GET queries', () => {
  let t: TestApp;
  let token: string;
  beforeAll(async () => {
    t = await startTestApp();
    const tenant = await makeTenant(t.app.dataSource);
    const admin = await makeUser(t.app.dataSource, tenant, { role: Role.ADMIN });
    token = (await t.app.services.auth.login(admin.email, PASSWORD)).token;
  });
  afterAll(() => t.stop());

  const get = (query: string, headers: Record<string, string>) =>
    fetch(`${t.url}/graphql?${new URLSearchParams({ query })}`, { headers: { accept: URQL_ACCEPT, ...headers } });

  it('answers an authenticated GET query without a preflight header', async () => {
    const response = await get('query Me { me { kind } }', { authorization: `Bearer ${token}` });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { me: { kind: 'STAFF' } } });
  });

  it('still refuses a GET with no token and no preflight header as a possible CSRF, and never runs a mutation over GET', async () => {
    const anonymous = await get('{ __typename }', {});
    expect(anonymous.status).toBe(400);
    expect(await anonymous.text()).toMatch(/Cross-Site Request Forgery/);
    const mutation = await get('mutation { pauseJob(name: "sla-monitor") { name } }', { authorization: `Bearer ${token}` });
    expect([mutation.status, await mutation.text()]).toEqual([405, expect.stringContaining('only support query operations')]);
  });
});
