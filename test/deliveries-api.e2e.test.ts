import { Delivery } from '../src/entities/delivery.entity';
import { Role, type User } from '../src/entities/user.entity';
import { ProviderFake, metaError } from './fakes/provider-fake';
import { PASSWORD, makeContact, makeTenant, makeUser, uniquePhoneNumberId } from './helpers/factories';
import {
  type TestApp,
  cancelOutstandingDeliveries,
  Subscription,
  errorCode,
  gql,
  gqlOk,
  settle,
  startTestApp,
  wsClient,
} from './helpers/test-app';

const CREATE_PROVIDER = `mutation ($input: ProviderInput!) {
  createChannelProvider(input: $input) { id kind channel name priority hasCredentials circuitState settings }
}`;
const SEND = `mutation ($input: SendMessageInput!) { sendMessage(input: $input) { id status recipient body idempotencyKey } }`;
const DELIVERY = `query ($id: ID!) { delivery(id: $id) { status providerMessageId failedOver attempts events { type providerCode } } }`;

describe('delivery API', () => {
  let t: TestApp;
  let fake: ProviderFake;

  beforeAll(async () => {
    fake = await new ProviderFake().start();
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.stop();
    await fake.stop();
  });
  beforeEach(() => fake.reset());
  afterEach(() => cancelOutstandingDeliveries(t));

  async function login(user: User): Promise<string> {
    return (await t.app.services.auth.login(user.email, PASSWORD)).token;
  }

  async function world() {
    const ds = t.app.dataSource;
    const tenant = await makeTenant(ds);
    const admin = await makeUser(ds, tenant, { role: Role.ADMIN, phone: '+15550000001' });
    const agent = await makeUser(ds, tenant, { role: Role.AGENT, phone: '+15550000002' });
    await makeUser(ds, tenant, { role: Role.TECHNICIAN, phone: null });
    const contact = await makeContact(ds, tenant, { phone: '+6281234567890' });
    const adminToken = await login(admin);
    const { createChannelProvider } = await gqlOk(
      t.url,
      CREATE_PROVIDER,
      {
        input: {
          kind: 'META_WHATSAPP',
          name: 'Meta primary',
          priority: 10,
          baseUrl: fake.url,
          settings: { phoneNumberId: uniquePhoneNumberId(), serviceWindow: false },
          credentials: { accessToken: 'meta-token' },
        },
      },
      adminToken,
    );
    return { tenant, admin, agent, contact, adminToken, agentToken: await login(agent), provider: createChannelProvider };
  }

  const drain = async () => {
    while ((await t.app.services.dispatch.dispatchBatch()).claimed > 0);
  };

  it('manages providers with write-only credentials', async () => {
    const w = await world();
    expect(w.provider).toMatchObject({
      kind: 'META_WHATSAPP',
      channel: 'WHATSAPP',
      hasCredentials: true,
      circuitState: 'CLOSED',
    });
    const listed = await gql(t.url, '{ channelProviders { id name hasCredentials settings } }', {}, w.adminToken);
    expect(JSON.stringify(listed)).not.toContain('meta-token');
    expect(errorCode(await gql(t.url, '{ channelProviders { id } }', {}, w.agentToken))).toBe('FORBIDDEN');
  });

  it('sends a message from staff, shows its history, and streams its status changes', async () => {
    const w = await world();
    const client = wsClient(t.url, w.adminToken);
    const live = new Subscription<any>(
      client,
      `subscription ($c: ID!) { deliveryStatusChanged(filter: { contactId: $c }) { status recipient } }`,
      { c: w.contact.id },
    );
    await settle();

    const { sendMessage } = await gqlOk(
      t.url,
      SEND,
      { input: { channel: 'WHATSAPP', contactId: w.contact.id, text: 'Your order shipped' } },
      w.agentToken,
    );
    expect(sendMessage).toMatchObject({ status: 'QUEUED', recipient: '+6281234567890', body: 'Your order shipped' });
    await drain();
    const { delivery } = await gqlOk(t.url, DELIVERY, { id: sendMessage.id }, w.agentToken);
    expect(delivery).toMatchObject({
      status: 'SENT',
      failedOver: false,
      attempts: 1,
      events: [{ type: 'QUEUED' }, { type: 'SENT' }],
    });
    expect(delivery.providerMessageId).toMatch(/^wamid\./);

    const items = await live.waitFor(2);
    expect(items.map((i) => i.deliveryStatusChanged.status)).toEqual(['QUEUED', 'SENT']);
    await client.dispose();
  });

  it('returns the first delivery when the same idempotency key is sent again', async () => {
    const w = await world();
    const input = { channel: 'WHATSAPP', to: '+6289999999999', text: 'once', idempotencyKey: 'order-42-shipped' };
    const first = await gqlOk(t.url, SEND, { input }, w.agentToken);
    const second = await gqlOk(t.url, SEND, { input }, w.agentToken);
    expect(second.sendMessage.id).toBe(first.sendMessage.id);
  });

  it('refuses a bad address with BAD_USER_INPUT and queues nothing', async () => {
    const w = await world();
    const result = await gql(t.url, SEND, { input: { channel: 'SMS', to: '0812-not-e164', text: 'x' } }, w.agentToken);
    expect(errorCode(result)).toBe('BAD_USER_INPUT');
    expect(result.errors?.[0].message).toMatch(/E\.164/);
    expect(await t.app.dataSource.getRepository(Delivery).countBy({ tenantId: w.tenant.id })).toBe(0);
  });

  it('alerts every staff member with a phone and the emergency groups; agents may not', async () => {
    const w = await world();
    await gqlOk(
      t.url,
      'mutation { updateDeliverySettings(input: { emergencyWhatsAppGroups: ["120363025246125486@g.us"] }) { emergencyWhatsAppGroups } }',
      {},
      w.adminToken,
    );
    const alert =
      'mutation { broadcastEmergencyAlert(message: "Server room flooded") { alertId queued deliveries(first: 10) { totalCount edges { node { recipient body notificationType } } } } }';
    expect(errorCode(await gql(t.url, alert, {}, w.agentToken))).toBe('FORBIDDEN');
    const { broadcastEmergencyAlert } = await gqlOk(t.url, alert, {}, w.adminToken);
    expect(broadcastEmergencyAlert.queued).toBe(3);
    expect(broadcastEmergencyAlert.deliveries.totalCount).toBe(3);
    expect(broadcastEmergencyAlert.deliveries.edges.map((e: any) => e.node.recipient).sort()).toEqual([
      '+15550000001',
      '+15550000002',
      '120363025246125486@g.us',
    ]);
    expect(broadcastEmergencyAlert.deliveries.edges[0].node).toMatchObject({
      body: 'EMERGENCY: Server room flooded',
      notificationType: 'emergency',
    });
  });

  it('lets an operator resend a failed delivery and discard dead ones', async () => {
    const w = await world();
    fake.script('meta', metaError(131026, 'Message undeliverable'));
    const { sendMessage } = await gqlOk(
      t.url,
      SEND,
      { input: { channel: 'WHATSAPP', to: '+6281111111111', text: 'hi' } },
      w.agentToken,
    );
    await drain();
    expect((await gqlOk(t.url, DELIVERY, { id: sendMessage.id }, w.agentToken)).delivery.status).toBe('FAILED');

    const retry = 'mutation ($id: ID!) { retryDelivery(id: $id) { id status parentDeliveryId } }';
    expect(errorCode(await gql(t.url, retry, { id: sendMessage.id }, w.agentToken))).toBe('FORBIDDEN');
    const { retryDelivery } = await gqlOk(t.url, retry, { id: sendMessage.id }, w.adminToken);
    expect(retryDelivery).toMatchObject({ status: 'QUEUED', parentDeliveryId: sendMessage.id });
    await drain();
    expect((await gqlOk(t.url, DELIVERY, { id: retryDelivery.id }, w.adminToken)).delivery.status).toBe('SENT');
    expect(errorCode(await gql(t.url, retry, { id: retryDelivery.id }, w.adminToken))).toBe('INVALID_TRANSITION');

    await t.app.dataSource.getRepository(Delivery).update({ id: sendMessage.id }, { status: 'dead' as never });
    const { discardDeadDeliveries } = await gqlOk(t.url, 'mutation { discardDeadDeliveries }', {}, w.adminToken);
    expect(discardDeadDeliveries).toBe(1);
    expect((await gqlOk(t.url, DELIVERY, { id: sendMessage.id }, w.adminToken)).delivery.status).toBe('CANCELLED');
  });

  it('reports statistics, and lets only platform super-admins read across tenants', async () => {
    const w = await world();
    const other = await world();
    const start = new Date(t.clock.now().getTime() - 1000).toISOString();
    fake.script('meta', metaError(131026, 'Message undeliverable'));
    await gqlOk(t.url, SEND, { input: { channel: 'WHATSAPP', to: '+6281111111111', text: 'a' } }, w.agentToken);
    await drain();
    await gqlOk(
      t.url,
      SEND,
      { input: { channel: 'WHATSAPP', to: '+6281111111112', text: 'b', notificationType: 'payment_reminder' } },
      w.agentToken,
    );
    expect(
      errorCode(
        await gql(
          t.url,
          SEND,
          { input: { channel: 'WHATSAPP', to: '+6281111111112', text: 'b', notificationType: 'Bad Kind' } },
          w.agentToken,
        ),
      ),
    ).toBe('BAD_USER_INPUT');
    await gqlOk(t.url, SEND, { input: { channel: 'WHATSAPP', to: '+6281111111113', text: 'c' } }, other.agentToken);
    await drain();
    const stats = `query ($from: DateTimeISO!, $to: DateTimeISO!, $all: Boolean!) {
      deliveryStats(from: $from, to: $to, allTenants: $all) {
        total successRate failureRate byStatus { key count } byProvider { key count } byNotificationType { key count }
      }
    }`;
    const vars = { from: start, to: new Date(t.clock.now().getTime() + 1000).toISOString(), all: false };
    const { deliveryStats } = await gqlOk(t.url, stats, vars, w.adminToken);
    // Each message counts under its kind: sendMessage takes one (ad_hoc when omitted).
    expect(deliveryStats.byNotificationType).toEqual(
      expect.arrayContaining([
        { key: 'ad_hoc', count: 1 },
        { key: 'payment_reminder', count: 1 },
      ]),
    );
    expect(deliveryStats).toMatchObject({
      total: 2,
      successRate: 50,
      failureRate: 50,
      byProvider: [{ key: 'Meta primary', count: 2 }],
    });
    expect(deliveryStats.byStatus).toEqual(
      expect.arrayContaining([
        { key: 'sent', count: 1 },
        { key: 'failed', count: 1 },
      ]),
    );
    expect(errorCode(await gql(t.url, stats, { ...vars, all: true }, w.adminToken))).toBe('FORBIDDEN');

    // Platform rights are set by `create-admin --platform-admin` only (see test/security.e2e.test.ts).
    const root = await makeUser(t.app.dataSource, w.tenant, { role: Role.ADMIN, platformAdmin: true });
    const rootToken = await login(root);
    const across = await gqlOk(t.url, stats, { ...vars, all: true }, rootToken);
    expect(across.deliveryStats.total).toBeGreaterThanOrEqual(3);

    // Per business: the owner sees only their own; the platform sees each, and can tell them apart.
    const perBusiness = `query ($from: DateTimeISO!, $to: DateTimeISO!, $all: Boolean!, $tenantId: ID) {
      deliveryStats(from: $from, to: $to, allTenants: $all, tenantId: $tenantId) {
        total retried retries failuresByReason { key count }
        byTenant { tenantId tenantSlug total succeeded failed successRate retried retries failuresByReason { key count } }
      }
    }`;
    const own = (await gqlOk(t.url, perBusiness, vars, w.adminToken)).deliveryStats;
    expect(own.failuresByReason).toEqual([{ key: '131026', count: 1 }]);
    expect(own.byTenant).toEqual([
      {
        tenantId: w.tenant.id,
        tenantSlug: w.tenant.slug,
        total: 2,
        succeeded: 1,
        failed: 1,
        successRate: 50,
        retried: 0,
        retries: 0,
        failuresByReason: [{ key: '131026', count: 1 }],
      },
    ]);
    const platform = (await gqlOk(t.url, perBusiness, { ...vars, all: true }, rootToken)).deliveryStats;
    const rows = new Map(platform.byTenant.map((row: any) => [row.tenantId, row]));
    expect(rows.get(w.tenant.id)).toMatchObject({ total: 2, successRate: 50 });
    expect(rows.get(other.tenant.id)).toMatchObject({ total: 1, successRate: 100, failuresByReason: [] });
    const narrowed = (await gqlOk(t.url, perBusiness, { ...vars, all: true, tenantId: other.tenant.id }, rootToken))
      .deliveryStats;
    expect(narrowed.byTenant.map((row: any) => row.tenantId)).toEqual([other.tenant.id]);
    // An owner cannot widen the view by naming another tenant: figures stay their own.
    const sneaky = (await gqlOk(t.url, perBusiness, { ...vars, tenantId: other.tenant.id }, w.adminToken)).deliveryStats;
    expect(sneaky.byTenant.map((row: any) => row.tenantId)).toEqual([w.tenant.id]);

    const listed = await gqlOk(
      t.url,
      `query ($tenantId: ID) { deliveries(first: 10, allTenants: true, filter: { tenantId: $tenantId }) { totalCount edges { node { tenant { id slug name } } } } }`,
      { tenantId: other.tenant.id },
      rootToken,
    );
    expect(listed.deliveries.totalCount).toBe(1);
    expect(listed.deliveries.edges[0].node.tenant).toEqual({
      id: other.tenant.id,
      slug: other.tenant.slug,
      name: other.tenant.name,
    });
    const foreign = await gqlOk(t.url, '{ deliveries(first: 1) { edges { node { id } } } }', {}, other.adminToken);
    expect(errorCode(await gql(t.url, DELIVERY, { id: foreign.deliveries.edges[0].node.id }, w.adminToken))).toBe('NOT_FOUND');
  });

  it('tests a provider directly and reports its answer', async () => {
    const w = await world();
    const test =
      'mutation ($id: ID!) { testChannelProvider(id: $id, to: "+6281234567890") { ok providerMessageId code retryable failureKind } }';
    expect((await gqlOk(t.url, test, { id: w.provider.id }, w.adminToken)).testChannelProvider).toMatchObject({
      ok: true,
      code: null,
      failureKind: null,
    });
    fake.script('meta', metaError(190, 'Error validating access token', 401));
    expect((await gqlOk(t.url, test, { id: w.provider.id }, w.adminToken)).testChannelProvider).toEqual({
      ok: false,
      providerMessageId: null,
      code: '190',
      // The token belongs to this provider: another provider could still carry messages.
      retryable: true,
      failureKind: 'PROVIDER',
    });
  });
});
