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
    // The client retries after a timeout: the first answer again, nothing stored twice.
    const retried = await post(w.key, event, { 'idempotency-key': 'Q-1001:sent' });
    expect(retried.status).toBe(202);
    expect(retried.headers.get('idempotent-replayed')).toBe('true');
    expect(await retried.json()).toEqual(answer);
    expect(await stored(w.tenant.id)).toBe(1);
    // The same event again under its own key is a duplicate, as before.
    const duplicate = await (await post(w.key, { ...event, idempotencyKey: 'Q-1001:sent' })).json();
    expect(duplicate).toMatchObject({ accepted: 0, duplicates: 1, events: [{ id: null, duplicate: true }] });

    const row = await t.app.dataSource.getRepository(DomainEvent).findOneByOrFail({ id: answer.events[0].id });
    expect(row).toMatchObject({ type: 'quote.sent', subjectType: 'contact', subjectId: w.contact.id, source: 'api' });
    expect(row.occurredAt.toISOString()).toBe('2026-11-20T09:00:00.000Z');
    while ((await t.app.services.events.runOnce()).handedOn > 0);
    expect(handled.filter((e) => e.tenantId === w.tenant.id).map((e) => e.payload.quoteNumber)).toEqual(['Q-1001']);
  });

  const batch = [
    { type: 'quote.sent', payload: { quoteNumber: 'Q-2001' } },
    { type: 'quote.sent', payload: { quoteNumber: 'Q-2002' } },
    { type: 'quote.accepted', payload: { quoteNumber: 'Q-2001' } },
  ];
  const handledFor = async (tenantId: string) => {
    while ((await t.app.services.events.runOnce()).handedOn > 0);
    return handled.filter((event) => event.tenantId === tenantId).map((event) => `${event.type} ${event.payload.quoteNumber}`);
  };

  it('answers a retried batch (same Idempotency-Key, same body) with the first answer: every consumer acts once', async () => {
    const w = await tenant();
    const first = await post(w.key, { events: batch }, { 'idempotency-key': 'import-2026-12-05' });
    expect(first.status).toBe(202);
    const answer = (await first.json()) as any;
    expect(answer).toMatchObject({ accepted: 3, duplicates: 0 });
    // Sent again after a timeout, once as it was and once as a bare array (the same events).
    for (const body of [{ events: batch }, batch]) {
      const retried = await post(w.key, body, { 'idempotency-key': 'import-2026-12-05' });
      expect(retried.status).toBe(202);
      expect(retried.headers.get('idempotent-replayed')).toBe('true');
      expect(await retried.json()).toEqual(answer);
    }
    expect(await stored(w.tenant.id)).toBe(3);
    expect(await handledFor(w.tenant.id)).toEqual(['quote.sent Q-2001', 'quote.sent Q-2002', 'quote.accepted Q-2001']);
    // Each event took the request's key with its place in the batch.
    const keys = await t.app.dataSource
      .getRepository(DomainEvent)
      .find({ where: { tenantId: w.tenant.id }, order: { id: 'ASC' } });
    expect(keys.map((event) => event.idempotencyKey)).toEqual([
      'import-2026-12-05:0',
      'import-2026-12-05:1',
      'import-2026-12-05:2',
    ]);
  });

  it('refuses the same key with a different batch (422 IDEMPOTENCY_KEY_REUSED), storing nothing of it', async () => {
    const w = await tenant();
    expect((await post(w.key, batch, { 'idempotency-key': 'nightly-1' })).status).toBe(202);
    const changed = await post(w.key, [...batch.slice(0, 2), { type: 'quote.rejected', payload: { quoteNumber: 'Q-2001' } }], {
      'idempotency-key': 'nightly-1',
    });
    expect(changed.status).toBe(422);
    expect(((await changed.json()) as any).error).toEqual({
      code: 'IDEMPOTENCY_KEY_REUSED',
      message: expect.stringContaining('already used for a different request'),
    });
    expect(await stored(w.tenant.id)).toBe(3);
    const malformed = await post(w.key, batch, { 'idempotency-key': 'not a key' });
    expect(malformed.status).toBe(400);
    expect(await stored(w.tenant.id)).toBe(3);
  });

  it('runs two copies of one request sent at once (a client retrying before the first answered) once', async () => {
    const w = await tenant();
    const events = Array.from({ length: 200 }, (_, n) => ({ type: 'quote.sent', payload: { quoteNumber: `Q-${3000 + n}` } }));
    const answers = await Promise.all([1, 2, 3].map(() => post(w.key, events, { 'idempotency-key': 'burst-1' })));
    expect(answers.map((response) => response.status)).toEqual([202, 202, 202]);
    const bodies = (await Promise.all(answers.map((response) => response.json()))) as any[];
    expect(bodies[1]).toEqual(bodies[0]);
    expect(bodies[2]).toEqual(bodies[0]);
    expect(answers.filter((response) => response.headers.get('idempotent-replayed') === 'true')).toHaveLength(2);
    expect(await stored(w.tenant.id)).toBe(200);
  });

  it('keeps keys per tenant: another tenant sending the victim’s key gets its own answer, never the victim’s', async () => {
    const victim = await tenant();
    const attacker = await tenant();
    const victimAnswer = await (await post(victim.key, batch, { 'idempotency-key': 'shared-key' })).json();
    const attackerResponse = await post(attacker.key, batch, { 'idempotency-key': 'shared-key' });
    expect(attackerResponse.status).toBe(202);
    expect(attackerResponse.headers.get('idempotent-replayed')).toBeNull();
    const attackerAnswer = (await attackerResponse.json()) as any;
    expect(attackerAnswer.accepted).toBe(3);
    const victimIds = new Set((victimAnswer as any).events.map((event: { id: string }) => event.id));
    expect(attackerAnswer.events.some((event: { id: string }) => victimIds.has(event.id))).toBe(false);
    // And a different body under the victim's key is the attacker's own request, not a refusal that reveals the key.
    const other = await post(attacker.key, batch.slice(0, 1), { 'idempotency-key': 'another' });
    expect(other.status).toBe(202);
    expect(await stored(victim.tenant.id)).toBe(3);
  });

  it('still answers a batch as duplicates once its key is forgotten: each event keeps the request key', async () => {
    const w = await tenant();
    await post(w.key, batch, { 'idempotency-key': 'old-import' });
    t.clock.advance(25 * 3_600_000);
    expect(await t.app.services.requests.prune(24 * 3_600_000)).toBeGreaterThan(0);
    const later = await post(w.key, batch, { 'idempotency-key': 'old-import' });
    expect(later.status).toBe(202);
    expect(later.headers.get('idempotent-replayed')).toBeNull();
    expect(await later.json()).toMatchObject({ accepted: 0, duplicates: 3 });
    expect(await stored(w.tenant.id)).toBe(3);
  });

  /** A GraphQL request with extra headers, as a partner's client sends it. */
  const gqlWith = async (token: string, query: string, variables: Record<string, unknown>, headers: Record<string, string>) => {
    const response = await fetch(`${t.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as { data?: any; errors?: Array<{ extensions?: { code?: string } }> };
  };

  it('makes publishEvents, upsertBusinessRecords and importContacts retry-safe with a key (argument or header)', async () => {
    const w = await tenant();
    const publish = `mutation ($events: [PublishEventInput!]!, $key: String) {
      publishEvents(events: $events, idempotencyKey: $key) { accepted duplicates events { id } } }`;
    const first = await gqlOk(t.url, publish, { events: batch, key: 'gql-1' }, w.key);
    expect(first.publishEvents.accepted).toBe(3);
    expect(await gqlOk(t.url, publish, { events: batch, key: 'gql-1' }, w.key)).toEqual(first);
    const viaHeader = await gqlWith(w.key, publish, { events: batch }, { 'idempotency-key': 'gql-1' });
    expect(viaHeader.data).toEqual(first);
    const reused = await gql(t.url, publish, { events: batch.slice(1), key: 'gql-1' }, w.key);
    expect(errorCode(reused)).toBe('IDEMPOTENCY_KEY_REUSED');
    const conflicting = await gqlWith(w.key, publish, { events: batch, key: 'gql-1' }, { 'idempotency-key': 'gql-2' });
    expect(conflicting.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(await stored(w.tenant.id)).toBe(3);

    const upsert = `mutation ($records: [BusinessRecordInput!]!, $key: String) {
      upsertBusinessRecords(records: $records, idempotencyKey: $key) { created updated unchanged failed } }`;
    const records = [{ kind: 'invoice', externalId: 'INV-1', status: 'open' }];
    const firstUpsert = await gqlOk(t.url, upsert, { records, key: 'records-1' }, w.adminToken);
    expect(firstUpsert.upsertBusinessRecords.created).toBe(1);
    // Without the key a resend reports "unchanged"; with it, the first answer.
    expect(await gqlOk(t.url, upsert, { records, key: 'records-1' }, w.adminToken)).toEqual(firstUpsert);
    expect(
      errorCode(await gql(t.url, upsert, { records: [{ ...records[0], status: 'paid' }], key: 'records-1' }, w.adminToken)),
    ).toBe('IDEMPOTENCY_KEY_REUSED');
    const [{ status }] = await t.app.dataSource.query(`SELECT status FROM business_record WHERE "tenantId" = $1`, [w.tenant.id]);
    expect(status).toBe('open');

    const importContacts = `mutation ($rows: [ContactImportInput!]!, $key: String) {
      importContacts(rows: $rows, idempotencyKey: $key) { created updated } }`;
    const rows = [{ name: 'Budi', phone: '+6281233344455', externalId: 'C-9' }];
    const imported = await gqlOk(t.url, importContacts, { rows, key: 'contacts-1' }, w.adminToken);
    expect(imported.importContacts).toEqual({ created: 1, updated: 0 });
    expect(await gqlOk(t.url, importContacts, { rows, key: 'contacts-1' }, w.adminToken)).toEqual(imported);
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
      { events: [{ type: 'training.assigned', subject: { type: 'USER', email: w.admin.email }, idempotencyKey: 'T-1' }] },
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
