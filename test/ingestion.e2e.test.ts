import { DomainEvent } from '../src/entities/domain-event.entity';
import { ApiKey } from '../src/entities/api-key.entity';
import { Role } from '../src/entities/user.entity';
import { PASSWORD, makeContact, makeTenant, makeUser } from './helpers/factories';
import { type TestApp, errorCode, gql, gqlOk, startTestApp } from './helpers/test-app';

const CREATE_KEY = `mutation ($name: String!) { createApiKey(name: $name, scopes: [EVENTS_WRITE]) { secret apiKey { id prefix scopes } } }`;

/** Other systems (billing, booking, HR) sending business events with API keys, over HTTP and GraphQL. */
describe('business events from other systems', () => {
  let t: TestApp;
  const handled: DomainEvent[] = [];

  beforeAll(async () => {
    t = await startTestApp();
    t.app.services.eventConsumers.register({
      name: 'quotes',
      description: 'Follows quotes up',
      types: ['quote.*'],
      handle: async (event) => void handled.push(event),
    });
  });
  afterAll(() => t.stop());

  async function tenant() {
    const tenant = await makeTenant(t.app.dataSource);
    const admin = await makeUser(t.app.dataSource, tenant, { role: Role.ADMIN });
    const adminToken = (await t.app.services.auth.login(admin.email, PASSWORD)).token;
    const contact = await makeContact(t.app.dataSource, tenant, { phone: '+6281298765432', email: 'rina@example.test' });
    const { createApiKey } = await gqlOk(t.url, CREATE_KEY, { name: 'Billing system' }, adminToken);
    return { tenant, admin, adminToken, contact, key: createApiKey.secret as string, keyId: createApiKey.apiKey.id as string };
  }

  const post = (key: string | null, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${t.url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const stored = (tenantId: string) => t.app.dataSource.getRepository(DomainEvent).countBy({ tenantId, source: 'api' });

  it('shows a key once, keeps only its hash, and lists it without the secret', async () => {
    const w = await tenant();
    expect(w.key).toMatch(/^nd_[A-Za-z0-9]{12}_[\w-]{43}$/);
    const row = await t.app.dataSource.getRepository(ApiKey).findOneByOrFail({ id: w.keyId });
    expect(row.secretHash).not.toContain(w.key.slice(16));
    expect(JSON.stringify(row)).not.toContain(w.key);
    const listed = await gql(t.url, '{ apiKeys { name prefix scopes secret } }', {}, w.adminToken);
    expect(errorCode(listed)).toBe('GRAPHQL_VALIDATION_FAILED');
    const { apiKeys } = await gqlOk(t.url, '{ apiKeys { name prefix scopes revokedAt } }', {}, w.adminToken);
    expect(apiKeys).toEqual([{ name: 'Billing system', prefix: w.key.slice(3, 15), scopes: ['EVENTS_WRITE'], revokedAt: null }]);
  });

  it('takes an event over HTTP once per idempotency key, finds its subject, and hands it to consumers', async () => {
    const w = await tenant();
    const event = {
      type: 'quote.sent',
      occurredAt: '2026-11-20T09:00:00Z',
      subject: { type: 'contact', phone: '+6281298765432' },
      payload: { quoteNumber: 'Q-1001', amount: 2500000, currency: 'IDR' },
    };
    const first = await post(w.key, event, { 'idempotency-key': 'Q-1001:sent' });
    expect(first.status).toBe(202);
    const answer = (await first.json()) as any;
    expect(answer).toMatchObject({ accepted: 1, duplicates: 0, events: [{ index: 0, duplicate: false, subjectFound: true }] });
    const again = await (await post(w.key, event, { 'idempotency-key': 'Q-1001:sent' })).json();
    expect(again).toMatchObject({ accepted: 0, duplicates: 1, events: [{ id: null, duplicate: true }] });
    expect(await stored(w.tenant.id)).toBe(1);

    const row = await t.app.dataSource.getRepository(DomainEvent).findOneByOrFail({ id: answer.events[0].id });
    expect(row).toMatchObject({ type: 'quote.sent', subjectType: 'contact', subjectId: w.contact.id, source: 'api' });
    expect(row.occurredAt.toISOString()).toBe('2026-11-20T09:00:00.000Z');
    while ((await t.app.services.events.runOnce()).handedOn > 0);
    expect(handled.filter((e) => e.tenantId === w.tenant.id).map((e) => e.payload.quoteNumber)).toEqual(['Q-1001']);
  });

  it('stores an event whose subject is unknown, saying so, and never links another tenant’s contact', async () => {
    const victim = await tenant();
    const w = await tenant();
    const response = await post(w.key, {
      events: [
        { type: 'invoice.created', subject: { type: 'contact', id: victim.contact.id }, payload: { invoice: 'I-1' } },
        { type: 'invoice.created', subject: { type: 'contact', email: 'nobody@example.test' } },
        { type: 'payment.received', subject: { type: 'contact', email: 'RINA@example.test' } },
      ],
    });
    expect(response.status).toBe(202);
    const answer = (await response.json()) as any;
    expect(answer.events.map((e: { subjectFound: boolean }) => e.subjectFound)).toEqual([false, false, true]);
    const rows = await t.app.dataSource
      .getRepository(DomainEvent)
      .find({ where: { tenantId: w.tenant.id }, order: { id: 'ASC' } });
    const apiRows = rows.filter((row) => row.source === 'api');
    expect(apiRows.map((row) => row.subjectId)).toEqual([null, null, w.contact.id]);
    expect(apiRows[0].subjectRef).toEqual({ type: 'contact', id: victim.contact.id });
  });

  it('refuses bad keys, bad events and oversized batches, writing nothing', async () => {
    const w = await tenant();
    const event = { type: 'booking.created', payload: {} };
    expect((await post(null, event)).status).toBe(401);
    expect((await post(`${w.key.slice(0, -1)}x`, event)).status).toBe(401);
    const sessionToken = w.adminToken;
    expect((await post(sessionToken, event)).status).toBe(401);

    const bad = await post(w.key, {
      events: [event, { type: 'Booking Created', payload: [] }, { type: 'x.y', occurredAt: 'yesterday' }],
    });
    expect(bad.status).toBe(400);
    const body = (await bad.json()) as any;
    expect(body.error.problems).toEqual([
      { path: 'events[1].type', problem: expect.stringContaining('namespace.name') },
      { path: 'events[1].payload', problem: 'must be a JSON object' },
      { path: 'events[2].occurredAt', problem: 'must be an ISO 8601 date and time' },
    ]);
    const malformed = await post(w.key, '{"type": "booking.created",');
    expect(malformed.status).toBe(400);
    expect(
      (
        await post(
          w.key,
          Array.from({ length: 1001 }, () => event),
        )
      ).status,
    ).toBe(413);
    expect(await stored(w.tenant.id)).toBe(0);

    await gqlOk(t.url, 'mutation ($id: ID!) { revokeApiKey(id: $id) { revokedAt } }', { id: w.keyId }, w.adminToken);
    expect((await post(w.key, event)).status).toBe(401);
    expect(await stored(w.tenant.id)).toBe(0);
  });

  it('lets a key publish over GraphQL and nothing else', async () => {
    const w = await tenant();
    const publish = `mutation ($events: [PublishEventInput!]!) { publishEvents(events: $events) { accepted duplicates events { subjectFound } } }`;
    const { publishEvents } = await gqlOk(
      t.url,
      publish,
      { events: [{ type: 'training.assigned', subject: { type: 'user', email: w.admin.email }, idempotencyKey: 'T-1' }] },
      w.key,
    );
    expect(publishEvents).toEqual({ accepted: 1, duplicates: 0, events: [{ subjectFound: true }] });
    expect(errorCode(await gql(t.url, '{ tickets { totalCount } }', {}, w.key))).toBe('FORBIDDEN');
    expect(errorCode(await gql(t.url, CREATE_KEY, { name: 'escalate' }, w.key))).toBe('FORBIDDEN');
    const invalid = await gql(t.url, publish, { events: [{ type: 'nope' }] }, w.key);
    expect(errorCode(invalid)).toBe('BAD_USER_INPUT');
    // An agent may neither publish nor manage keys.
    const agent = await makeUser(t.app.dataSource, w.tenant, { role: Role.AGENT });
    const agentToken = (await t.app.services.auth.login(agent.email, PASSWORD)).token;
    expect(errorCode(await gql(t.url, publish, { events: [{ type: 'a.b' }] }, agentToken))).toBe('FORBIDDEN');
    expect(errorCode(await gql(t.url, CREATE_KEY, { name: 'mine' }, agentToken))).toBe('FORBIDDEN');
  });
});
