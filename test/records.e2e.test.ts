import { BusinessRecord } from '../src/entities/business-record.entity';
import { DomainEvent } from '../src/entities/domain-event.entity';
import { Role } from '../src/entities/user.entity';
import { PASSWORD, makeContact, makeTenant, makeUser } from './helpers/factories';
import { type TestApp, errorCode, gql, gqlOk, startTestApp } from './helpers/test-app';

const UPSERT = `mutation ($records: [BusinessRecordInput!]!) {
  upsertBusinessRecords(records: $records) {
    created updated unchanged failed
    records { index id outcome statusChanged previousStatus problems { field problem } }
  }
}`;

/** Quotes, invoices, bookings, jobs and trainings other systems own, kept here in step. */
describe('business records', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.stop());

  async function tenant() {
    const tenant = await makeTenant(t.app.dataSource, { defaultCountry: 'ID' });
    const admin = await makeUser(t.app.dataSource, tenant, { role: Role.ADMIN });
    const owner = await makeUser(t.app.dataSource, tenant, { role: Role.TECHNICIAN, externalId: 'EMP-7' });
    const adminToken = (await t.app.services.auth.login(admin.email, PASSWORD)).token;
    const contact = await makeContact(t.app.dataSource, tenant, { phone: '+6281298765432', email: 'rina@example.test' });
    const key = async (scopes: string) =>
      (await gqlOk(t.url, `mutation { createApiKey(name: "Billing", scopes: [${scopes}]) { secret } }`, {}, adminToken))
        .createApiKey.secret as string;
    return { tenant, admin, owner, adminToken, contact, key };
  }

  const events = (tenantId: string, type: string) =>
    t.app.dataSource.getRepository(DomainEvent).find({ where: { tenantId, type }, order: { id: 'ASC' } });

  it('upserts by kind and external id, finds people by local phone and HR id, and records status changes once', async () => {
    const w = await tenant();
    const key = await w.key('RECORDS_WRITE');
    const invoice = {
      kind: 'invoice',
      externalId: 'INV-1001',
      status: 'sent',
      title: 'AC service, November',
      subject: { type: 'CONTACT', phone: '0812-9876-5432' },
      owner: { externalId: 'EMP-7' },
      dueAt: '2026-12-01T02:00:00.000Z',
      amount: '1250000.5',
      currency: 'idr',
      attributes: { branch: 'Bandung' },
    };
    const first = (await gqlOk(t.url, UPSERT, { records: [invoice] }, key)).upsertBusinessRecords;
    expect(first).toMatchObject({ created: 1, updated: 0, failed: 0, records: [{ outcome: 'CREATED', problems: [] }] });
    const stored = await t.app.dataSource.getRepository(BusinessRecord).findOneByOrFail({ id: first.records[0].id });
    expect(stored).toMatchObject({
      tenantId: w.tenant.id,
      contactId: w.contact.id,
      ownerId: w.owner.id,
      amount: '1250000.5000',
      currency: 'IDR',
      status: 'sent',
    });

    // The same again changes nothing and records nothing.
    const again = (await gqlOk(t.url, UPSERT, { records: [invoice] }, key)).upsertBusinessRecords;
    expect(again).toMatchObject({ unchanged: 1, records: [{ outcome: 'UNCHANGED', id: stored.id }] });

    // Paid: a status change, with the amount and the attributes kept and merged.
    const paid = (
      await gqlOk(
        t.url,
        UPSERT,
        {
          records: [
            {
              kind: 'invoice',
              externalId: 'INV-1001',
              status: 'PAID',
              completedAt: '2026-11-25T03:00:00Z',
              attributes: { paidBy: 'transfer' },
            },
          ],
        },
        key,
      )
    ).upsertBusinessRecords;
    expect(paid.records[0]).toMatchObject({ outcome: 'UPDATED', statusChanged: true, previousStatus: 'sent' });
    const after = await t.app.dataSource.getRepository(BusinessRecord).findOneByOrFail({ id: stored.id });
    expect(after).toMatchObject({
      status: 'paid',
      amount: '1250000.5000',
      attributes: { branch: 'Bandung', paidBy: 'transfer' },
    });

    expect((await events(w.tenant.id, 'record.created')).map((e) => e.subjectId)).toEqual([stored.id]);
    const changes = await events(w.tenant.id, 'record.status_changed');
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ subjectType: 'business_record', subjectId: stored.id });
    expect(changes[0].payload).toMatchObject({
      previousStatus: 'sent',
      status: 'paid',
      record: { kind: 'invoice', externalId: 'INV-1001' },
    });
  });

  it('reports bad rows by field and writes the good ones', async () => {
    const w = await tenant();
    const { upsertBusinessRecords } = await gqlOk(
      t.url,
      UPSERT,
      {
        records: [
          { kind: 'booking', externalId: 'B-1', status: 'confirmed', scheduledAt: '2026-12-02T01:00:00Z' },
          { kind: 'Booking Type', externalId: 'B-2', status: 'confirmed' },
          { kind: 'booking', externalId: 'B-3', status: 'confirmed', amount: '12.345678', currency: 'rupiah' },
          { kind: 'booking', externalId: 'B-4', status: 'confirmed', subject: { type: 'CONTACT', email: 'nobody@example.test' } },
          { kind: 'booking', externalId: 'B-5' },
          { kind: 'booking', externalId: 'B-1', status: 'cancelled' },
        ],
      },
      w.adminToken,
    );
    expect(upsertBusinessRecords).toMatchObject({ created: 1, failed: 5 });
    const problems = upsertBusinessRecords.records.map((row: any) => row.problems.map((p: any) => p.field));
    expect(problems).toEqual([[], ['kind'], ['amount', 'currency'], ['subject'], ['status'], ['externalId']]);
    expect(upsertBusinessRecords.records[5].problems[0].problem).toContain('row 0');
    const rows = await t.app.dataSource.getRepository(BusinessRecord).findBy({ tenantId: w.tenant.id });
    expect(rows.map((row) => [row.externalId, row.status])).toEqual([['B-1', 'confirmed']]);
  });

  it('refuses more than 10,000 records, keys without records:write, and agents, writing nothing', async () => {
    const w = await tenant();
    const many = Array.from({ length: 10_001 }, (_, i) => ({ kind: 'quote', externalId: `Q-${i}`, status: 'sent' }));
    expect(errorCode(await gql(t.url, UPSERT, { records: many }, w.adminToken))).toBe('BAD_USER_INPUT');
    const eventsOnly = await w.key('EVENTS_WRITE');
    const one = [{ kind: 'quote', externalId: 'Q-1', status: 'sent' }];
    expect(errorCode(await gql(t.url, UPSERT, { records: one }, eventsOnly))).toBe('FORBIDDEN');
    const agent = await makeUser(t.app.dataSource, w.tenant, { role: Role.AGENT });
    const agentToken = (await t.app.services.auth.login(agent.email, PASSWORD)).token;
    expect(errorCode(await gql(t.url, UPSERT, { records: one }, agentToken))).toBe('FORBIDDEN');
    // A records key reaches nothing else.
    const recordsKey = await w.key('RECORDS_WRITE');
    expect(errorCode(await gql(t.url, '{ businessRecords { totalCount } }', {}, recordsKey))).toBe('FORBIDDEN');
    expect(await t.app.dataSource.getRepository(BusinessRecord).countBy({ tenantId: w.tenant.id })).toBe(0);
  });

  it('takes records inside events, in the batch order, once per idempotency key', async () => {
    const w = await tenant();
    const key = await w.key('EVENTS_WRITE');
    const post = (body: unknown) =>
      fetch(`${t.url}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify(body),
      });
    const quote = (status: string) => ({ kind: 'quote', externalId: 'Q-77', status, expiresAt: '2026-12-20T00:00:00Z' });
    const response = await post([
      {
        type: 'quote.sent',
        idempotencyKey: 'q77-sent',
        subject: { type: 'contact', phone: '081298765432' },
        payload: { record: quote('sent') },
      },
      {
        type: 'quote.accepted',
        idempotencyKey: 'q77-accepted',
        payload: { record: { kind: 'quote', externalId: 'Q-77', status: 'accepted' } },
      },
      { type: 'quote.viewed', idempotencyKey: 'q77-viewed', subject: { type: 'record', kind: 'quote', externalId: 'Q-77' } },
    ]);
    expect(response.status).toBe(202);
    const body = (await response.json()) as any;
    const record = await t.app.dataSource
      .getRepository(BusinessRecord)
      .findOneByOrFail({ tenantId: w.tenant.id, externalId: 'Q-77' });
    expect(record).toMatchObject({ status: 'accepted', contactId: w.contact.id });
    expect(body.events.map((e: any) => [e.recordId, e.subjectFound])).toEqual([
      [record.id, true],
      [record.id, true],
      [null, true],
    ]);
    const stored = await t.app.dataSource
      .getRepository(DomainEvent)
      .find({ where: { tenantId: w.tenant.id }, order: { id: 'ASC' } });
    expect(stored.map((e) => e.type)).toEqual([
      'record.created',
      'record.status_changed',
      'quote.sent',
      'quote.accepted',
      'quote.viewed',
    ]);
    expect(stored[2]).toMatchObject({ subjectType: 'contact', subjectId: w.contact.id, payload: { record: { id: record.id } } });
    expect(stored[3]).toMatchObject({ subjectType: 'business_record', subjectId: record.id });
    expect(stored[4]).toMatchObject({ subjectType: 'business_record', subjectId: record.id });

    // A retry of the first event is a duplicate: the record does not go back to sent.
    const retry = (await (
      await post([{ type: 'quote.sent', idempotencyKey: 'q77-sent', payload: { record: quote('sent') } }])
    ).json()) as any;
    expect(retry).toMatchObject({ accepted: 0, duplicates: 1 });
    expect((await t.app.dataSource.getRepository(BusinessRecord).findOneByOrFail({ id: record.id })).status).toBe('accepted');

    // A bad record refuses the whole batch, naming the field, and writes nothing.
    const bad = await post([
      {
        type: 'invoice.created',
        payload: { record: { kind: 'invoice', externalId: 'I-1', status: 'sent', dueAt: 'next week' } },
      },
    ]);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).error.problems).toEqual([
      { path: 'events[0].payload.record.dueAt', problem: expect.stringContaining('ISO 8601') },
    ]);
    expect(await t.app.dataSource.getRepository(BusinessRecord).countBy({ tenantId: w.tenant.id })).toBe(1);
  });

  it('lists records by filter and on their contact and owner; customers see only their own', async () => {
    const w = await tenant();
    const other = await makeContact(t.app.dataSource, w.tenant, { phone: '+6281211112222' });
    const records = [
      {
        kind: 'invoice',
        externalId: 'I-1',
        status: 'overdue',
        subject: { type: 'CONTACT', id: w.contact.id },
        dueAt: '2026-11-01T00:00:00Z',
      },
      {
        kind: 'invoice',
        externalId: 'I-2',
        status: 'paid',
        subject: { type: 'CONTACT', id: w.contact.id },
        completedAt: '2026-11-02T00:00:00Z',
      },
      {
        kind: 'service_job',
        externalId: 'J-1',
        status: 'scheduled',
        subject: { type: 'CONTACT', id: other.id },
        owner: { id: w.owner.id },
      },
      {
        kind: 'training',
        externalId: 'T-1',
        status: 'assigned',
        subject: { type: 'USER', externalId: 'EMP-7' },
        dueAt: '2026-11-10T00:00:00Z',
      },
    ];
    await gqlOk(t.url, UPSERT, { records }, w.adminToken);
    const list = async (args: string, token = w.adminToken) =>
      (await gqlOk(t.url, `{ businessRecords(${args}) { totalCount edges { node { externalId } } } }`, {}, token))
        .businessRecords;
    expect((await list('first: 10')).totalCount).toBe(4);
    expect((await list('kinds: ["invoice"], open: true')).edges.map((e: any) => e.node.externalId)).toEqual(['I-1']);
    expect((await list('dueBefore: "2026-11-05T00:00:00Z"')).edges.map((e: any) => e.node.externalId)).toEqual(['I-1']);
    expect((await list('contactId: "not-a-uuid"')).totalCount).toBe(0);

    const page1 = await gqlOk(
      t.url,
      `{ businessRecords(first: 3) { edges { cursor } pageInfo { endCursor hasNextPage } } }`,
      {},
      w.adminToken,
    );
    expect(page1.businessRecords.pageInfo.hasNextPage).toBe(true);
    const page2 = await list(`first: 3, after: "${page1.businessRecords.pageInfo.endCursor}"`);
    expect(page2.edges).toHaveLength(1);
    expect(errorCode(await gql(t.url, `{ businessRecords(after: "Zm9yZ2Vk") { totalCount } }`, {}, w.adminToken))).toBe(
      'BAD_USER_INPUT',
    );

    const { contact } = await gqlOk(
      t.url,
      `query ($id: ID!) { contact(id: $id) { businessRecords(kinds: ["invoice"]) { edges { node { externalId status contact { id } } } } } }`,
      { id: w.contact.id },
      w.adminToken,
    );
    expect(contact.businessRecords.edges.map((e: any) => e.node.externalId).sort()).toEqual(['I-1', 'I-2']);
    const { user } = await gqlOk(
      t.url,
      `query ($id: ID!) { user(id: $id) { trainings: businessRecords { edges { node { externalId } } } owned: businessRecords(owned: true) { edges { node { externalId owner { id } } } } } }`,
      { id: w.owner.id },
      w.adminToken,
    );
    expect(user.trainings.edges.map((e: any) => e.node.externalId)).toEqual(['T-1']);
    expect(user.owned.edges).toEqual([{ node: { externalId: 'J-1', owner: { id: w.owner.id } } }]);

    const customerToken = (
      await t.app.services.auth.issueCustomerToken(
        { kind: 'staff', tenantId: w.tenant.id, userId: w.admin.id, role: Role.ADMIN, name: 'Admin' },
        w.contact.id,
      )
    ).token;
    expect((await list('first: 10', customerToken)).edges.map((e: any) => e.node.externalId).sort()).toEqual(['I-1', 'I-2']);
    const job = await t.app.dataSource
      .getRepository(BusinessRecord)
      .findOneByOrFail({ tenantId: w.tenant.id, externalId: 'J-1' });
    expect(
      errorCode(await gql(t.url, `query ($id: ID!) { businessRecord(id: $id) { id } }`, { id: job.id }, customerToken)),
    ).toBe('NOT_FOUND');
  });

  it('keeps a second tenant out: it cannot read, link to, or overwrite the first tenant’s records', async () => {
    const victim = await tenant();
    const attacker = await tenant();
    const { upsertBusinessRecords } = await gqlOk(
      t.url,
      UPSERT,
      {
        records: [
          { kind: 'invoice', externalId: 'SHARED-1', status: 'sent', subject: { type: 'CONTACT', id: victim.contact.id } },
        ],
      },
      victim.adminToken,
    );
    const victimRecordId = upsertBusinessRecords.records[0].id;
    expect(
      errorCode(
        await gql(t.url, `query ($id: ID!) { businessRecord(id: $id) { id } }`, { id: victimRecordId }, attacker.adminToken),
      ),
    ).toBe('NOT_FOUND');
    expect((await gqlOk(t.url, '{ businessRecords { totalCount } }', {}, attacker.adminToken)).businessRecords.totalCount).toBe(
      0,
    );
    const hostile = await gqlOk(
      t.url,
      UPSERT,
      {
        records: [
          { kind: 'invoice', externalId: 'SHARED-1', status: 'void' },
          { kind: 'invoice', externalId: 'X-2', status: 'sent', subject: { type: 'CONTACT', id: victim.contact.id } },
          { kind: 'invoice', externalId: 'X-3', status: 'sent', subject: { type: 'CONTACT', email: 'rina@example.test' } },
          { kind: 'invoice', externalId: 'X-4', status: 'sent', owner: { id: victim.owner.id } },
        ],
      },
      attacker.adminToken,
    );
    expect(hostile.upsertBusinessRecords.records.map((r: any) => r.outcome)).toEqual(['CREATED', 'FAILED', 'CREATED', 'FAILED']);
    const victimRecord = await t.app.dataSource.getRepository(BusinessRecord).findOneByOrFail({ id: victimRecordId });
    expect(victimRecord.status).toBe('sent');
    // The attacker's e-mail match found the attacker's own contact with that address, never the victim's.
    const x3 = await t.app.dataSource
      .getRepository(BusinessRecord)
      .findOneByOrFail({ tenantId: attacker.tenant.id, externalId: 'X-3' });
    expect(x3.contactId).toBe(attacker.contact.id);
  });
});
