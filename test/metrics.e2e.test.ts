import { Channel } from '../src/entities/channel';
import { Role } from '../src/entities/user.entity';
import { silentLogger } from '../src/logger';
import { startMetricsServer } from '../src/metrics';
import { operationLabel } from '../src/services/platform/metrics';
import { ProviderFake } from './fakes/provider-fake';
import { PASSWORD, addMetaProvider, makeTenant, makeUser } from './helpers/factories';
import { Subscription, type TestApp, gql, settle, startTestApp, wsClient } from './helpers/test-app';

const TOKEN = 'scrape-secret-0123456789';

/** The value of one sample line, e.g. value(text, 'db_pool_connections{state="idle"}'). */
function value(text: string, sample: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${sample} `));
  return line === undefined ? undefined : Number(line.slice(sample.length + 1));
}

/** GET /metrics in Prometheus's format: the process's counters and the system's gauges. */
describe('metrics', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(undefined, { METRICS_TOKEN: TOKEN });
  });
  afterAll(() => t.stop());

  const scrape = async (token: string | null = TOKEN) => {
    const response = await fetch(`${t.url}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
  };

  it('asks for the metrics token when one is set', async () => {
    expect((await scrape(null)).status).toBe(401);
    expect((await scrape('wrong')).status).toBe(401);
    const ok = await scrape();
    expect(ok.status).toBe(200);
    expect(ok.type).toContain('text/plain');
    expect(ok.text).toContain('process_cpu_user_seconds_total');
  });

  it('counts operations by name and outcome, sockets and subscriptions, the due queue and the pool', async () => {
    const tenant = await makeTenant(t.app.dataSource);
    const admin = await makeUser(t.app.dataSource, tenant, { role: Role.ADMIN });
    const token = (await t.app.services.auth.login(admin.email, PASSWORD)).token;
    const before = await scrape();
    const named = 'graphql_operations_total{operation="WhoAmI",type="query",outcome="ok"}';
    const refused = 'graphql_operations_total{operation="WhoAmI",type="query",outcome="UNAUTHENTICATED"}';
    await gql(t.url, 'query WhoAmI { me { kind } }', {}, token);
    await gql(t.url, 'query WhoAmI { me { kind } }', {}, token);
    await gql(t.url, 'query WhoAmI { me { kind } }', {});
    await t.app.services.deliveries.enqueue(tenant.id, {
      channel: Channel.SMS,
      to: '+6281200000009',
      text: 'queued',
      idempotencyKey: 'metrics-1',
    });
    const client = wsClient(t.url, token);
    const live = new Subscription<any>(client, 'subscription { ticketChanged { kind } }');
    await settle();
    const during = await scrape();
    expect((value(during.text, named) ?? 0) - (value(before.text, named) ?? 0)).toBe(2);
    expect((value(during.text, refused) ?? 0) - (value(before.text, refused) ?? 0)).toBe(1);
    expect(value(during.text, 'graphql_ws_sockets')).toBe(1);
    expect(value(during.text, 'graphql_ws_subscriptions')).toBe(1);
    expect(value(during.text, 'delivery_queue_due')).toBeGreaterThanOrEqual(1);
    expect(value(during.text, 'db_pool_connections{state="waiting"}')).toBe(0);
    expect(during.text).toMatch(
      /graphql_operation_duration_seconds_bucket\{le="0.05",operation="WhoAmI",type="query",outcome="ok"\}/,
    );
    // No id and no tenant is ever a label.
    expect(during.text).not.toContain(tenant.id);
    expect(during.text).not.toContain(admin.id);
    live.close?.();
    await client.dispose();
    await settle();
    const after = await scrape();
    expect(value(after.text, 'graphql_ws_sockets')).toBe(0);
    expect(value(after.text, 'graphql_ws_subscriptions')).toBe(0);
  });

  it('keeps operation names bounded', () => {
    const labels = new Set(Array.from({ length: 1000 }, (_, n) => operationLabel(`Op${n}`)));
    expect(labels.size).toBeLessThanOrEqual(301);
    expect(labels.has('other')).toBe(true);
    expect(operationLabel('drop table; --')).toBe('invalid');
    expect(operationLabel(undefined)).toBe('anonymous');
  });

  it('serves a worker’s metrics on a port of its own', async () => {
    const { server, url } = await startMetricsServer(0, '127.0.0.1', t.app.dataSource, silentLogger, TOKEN);
    try {
      expect((await fetch(`${url}/metrics`)).status).toBe(401);
      const response = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(response.status).toBe(200);
      expect(await response.text()).toContain('event_consumer_pending');
      expect((await fetch(`${url}/other`)).status).toBe(404);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('answers every request with its request id: the caller’s when sane, a new one otherwise', async () => {
    const ask = (id?: string) =>
      fetch(`${t.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(id ? { 'x-request-id': id } : {}) },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
    expect((await ask('trace-42.a:b')).headers.get('x-request-id')).toBe('trace-42.a:b');
    expect((await ask('has spaces in it')).headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect((await ask()).headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect((await fetch(`${t.url}/healthz`)).headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('metrics per tenant (METRICS_PER_TENANT=true)', () => {
  let t: TestApp;
  let fake: ProviderFake;
  beforeAll(async () => {
    fake = await new ProviderFake().start();
    t = await startTestApp(undefined, { METRICS_PER_TENANT: 'true' });
  });
  afterAll(async () => {
    await t.stop();
    await fake.stop();
  });

  it('labels operations and deliveries with their tenant, and deliveries with the provider kind that took them', async () => {
    const tenant = await makeTenant(t.app.dataSource);
    const admin = await makeUser(t.app.dataSource, tenant, { role: Role.ADMIN });
    await addMetaProvider(t.app.services, tenant, fake.url);
    const token = (await t.app.services.auth.login(admin.email, PASSWORD)).token;
    await gql(t.url, 'query WhoAmI { me { kind } }', {}, token);
    for (const n of [1, 2]) {
      await t.app.services.deliveries.enqueue(tenant.id, {
        channel: Channel.WHATSAPP,
        to: `+628120000000${n}`,
        text: 'hello',
        idempotencyKey: `per-tenant-${n}`,
      });
    }
    while ((await t.app.services.dispatch.dispatchBatch()).claimed > 0);
    const text = await (await fetch(`${t.url}/metrics`)).text();
    expect(value(text, `graphql_operations_total{operation="WhoAmI",type="query",outcome="ok",tenant="${tenant.id}"}`)).toBe(1);
    expect(value(text, `deliveries_total{channel="whatsapp",status="sent",provider="meta_whatsapp",tenant="${tenant.id}"}`)).toBe(
      2,
    );
    // Still no other id: not the user's.
    expect(text).not.toContain(admin.id);
  });
});
