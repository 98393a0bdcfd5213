import { BusinessRecord } from '../src/entities/business-record.entity';
import { Contact } from '../src/entities/contact.entity';
import { AudienceSql } from '../src/services/rules/condition-sql';
import { AUDIENCE_SCHEMA, type Condition, checkCondition, evaluate } from '../src/services/rules/conditions';
import { makeContact, makeTenant } from './helpers/factories';
import { type TestApp, startTestApp } from './helpers/test-app';

const NOW = new Date('2026-11-23T02:00:00Z');
const day = 86_400_000;

/**
 * An audience compiled to SQL selects exactly the contacts for whom `evaluate`, the
 * rules' evaluator, says the same condition holds: one language, one meaning.
 */
describe('audience conditions in SQL', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.stop());

  it('selects the same contacts as the evaluator, for every operator, missing values and records included', async () => {
    const tenant = await makeTenant(t.app.dataSource);
    const ds = t.app.dataSource;
    const people: Contact[] = [
      await makeContact(ds, tenant, {
        name: 'Ana',
        phone: '+6281200000001',
        email: 'ana@example.test',
        area: 'Bandung',
        locale: 'id',
        tags: ['vip', 'fiber'],
        attributes: { plan: 'Gold', mbps: 100, churnRisk: '0.7', since: '2020-05-01' },
        consent: { whatsapp: { granted: false, at: '2026-11-01T00:00:00Z', source: 'keyword:STOP' } },
        birthday: '1990-11-23',
      }),
      await makeContact(ds, tenant, {
        name: 'Budi',
        phone: '+6281200000002',
        area: 'bandung',
        tags: ['fiber'],
        attributes: { mbps: 20 },
      }),
      await makeContact(ds, tenant, { name: 'Citra', email: 'citra@example.test', phone: null, area: null, tags: [] }),
      await makeContact(ds, tenant, {
        name: 'Dewi',
        phone: '+6289900000004',
        area: 'Jakarta',
        locale: 'en-GB',
        attributes: { plan: 'silver', tags: ['Promo', 'x'] },
        consent: { whatsapp: { granted: true, at: '2026-10-01T00:00:00Z', source: 'form' } },
      }),
      await makeContact(ds, tenant, { name: 'Eko', phone: '+6281200000005', area: '', attributes: { plan: null } }),
    ];
    const records = ds.getRepository(BusinessRecord);
    await records.save(
      [
        {
          tenantId: tenant.id,
          kind: 'invoice',
          externalId: 'I-1',
          status: 'open',
          contactId: people[0].id,
          amount: '150000.0000',
          dueAt: new Date(NOW.getTime() - 10 * day),
        },
        {
          tenantId: tenant.id,
          kind: 'invoice',
          externalId: 'I-2',
          status: 'paid',
          contactId: people[1].id,
          amount: '90000.0000',
          dueAt: new Date(NOW.getTime() - 20 * day),
        },
        {
          tenantId: tenant.id,
          kind: 'invoice',
          externalId: 'I-3',
          status: 'open',
          contactId: people[3].id,
          amount: '50000.0000',
          dueAt: new Date(NOW.getTime() + 3 * day),
        },
        {
          tenantId: tenant.id,
          kind: 'quote',
          externalId: 'Q-1',
          status: 'sent',
          contactId: people[4].id,
          attributes: { source: 'web' },
        },
      ].map((record) => ({ ...record, statusChangedAt: NOW })) as Array<Partial<BusinessRecord>>,
    );

    const conditions: Condition[] = [
      { path: 'contact.area', op: 'eq', value: 'BANDUNG' },
      { path: 'contact.area', op: 'neq', value: 'bandung' },
      { path: 'contact.area', op: 'exists' },
      { path: 'contact.area', op: 'not_exists' },
      { path: 'contact.area', op: 'in', value: ['jakarta', 'Bandung'] },
      { path: 'contact.area', op: 'not_in', value: ['jakarta'] },
      { path: 'contact.name', op: 'contains', value: 'i' },
      { path: 'contact.name', op: 'not_contains', value: 'I' },
      { path: 'contact.phone', op: 'starts_with', value: '+62812' },
      { path: 'contact.email', op: 'exists' },
      { path: 'contact.tags', op: 'contains', value: 'FIBER' },
      { path: 'contact.tags', op: 'not_contains', value: 'vip' },
      { path: 'contact.tags', op: 'not_exists' },
      { path: 'contact.locale', op: 'starts_with', value: 'en' },
      { path: 'contact.birthday', op: 'eq', value: '1990-11-23' },
      { path: 'contact.consent.whatsapp', op: 'eq', value: false },
      { path: 'contact.consent.whatsapp', op: 'neq', value: false },
      { path: 'contact.attributes.plan', op: 'eq', value: 'gold' },
      { path: 'contact.attributes.plan', op: 'in', value: ['gold', 'SILVER'] },
      { path: 'contact.attributes.plan', op: 'exists' },
      { path: 'contact.attributes.plan', op: 'not_exists' },
      { path: 'contact.attributes.mbps', op: 'gte', value: 50 },
      { path: 'contact.attributes.mbps', op: 'lt', value: 50 },
      { path: 'contact.attributes.churnRisk', op: 'gt', value: 0.5 },
      { path: 'contact.attributes.tags', op: 'contains', value: 'promo' },
      { path: 'contact.attributes.since', op: 'older_than', value: '52w' },
      { path: 'contact.createdAt', op: 'within_last', value: '1d' },
      {
        not: {
          any: [
            { path: 'contact.area', op: 'eq', value: 'bandung' },
            { path: 'contact.tags', op: 'contains', value: 'vip' },
          ],
        },
      },
      {
        someRecord: {
          all: [
            { path: 'record.kind', op: 'eq', value: 'invoice' },
            { not: { path: 'record.status', op: 'in', value: ['paid', 'void'] } },
            { path: 'record.dueAt', op: 'older_than', value: '7d' },
          ],
        },
      },
      { someRecord: { path: 'record.dueAt', op: 'within_next', value: '7d' } },
      { someRecord: { path: 'record.amount', op: 'gt', value: 80000 } },
      { not: { someRecord: { path: 'record.kind', op: 'eq', value: 'invoice' } } },
      { someRecord: { path: 'record.attributes.source', op: 'eq', value: 'WEB' } },
    ];

    const stored = await records.findBy({ tenantId: tenant.id });
    const facts = (contact: Contact) =>
      JSON.parse(
        JSON.stringify({
          contact: {
            ...contact,
            consent: Object.fromEntries(
              Object.entries(contact.consent ?? {}).map(([channel, record]) => [channel, record?.granted]),
            ),
          },
          records: stored
            .filter((record) => record.contactId === contact.id)
            .map((record) => ({ ...record, amount: record.amount === null ? null : Number(record.amount) })),
        }),
      );
    const fresh = await ds.getRepository(Contact).findBy({ tenantId: tenant.id });
    const nameOf = new Map(fresh.map((contact) => [contact.id, contact.name]));
    for (const [n, condition] of conditions.entries()) {
      expect([n, checkCondition(condition, AUDIENCE_SCHEMA)]).toEqual([n, []]);
      // createdAt is now-ish for every contact: that one comparison runs at the real time, in SQL and in Node alike.
      const clock = JSON.stringify(condition).includes('createdAt') ? new Date() : NOW;
      const compiler = new AudienceSql(clock, [tenant.id]);
      const rows = (await ds.query(
        `SELECT c.id FROM contact c WHERE c."tenantId" = $1 AND ${compiler.where(condition)}`,
        compiler.params,
      )) as Array<{
        id: string;
      }>;
      const bySql = rows.map((row) => nameOf.get(row.id)).sort();
      const byNode = fresh
        .filter((contact) => evaluate(condition, facts(contact), clock).matched)
        .map((contact) => contact.name)
        .sort();
      expect([n, JSON.stringify(condition), bySql]).toEqual([n, JSON.stringify(condition), byNode]);
    }
  });

  it('refuses someRecord in a rule, and record paths outside someRecord in an audience', () => {
    expect(checkCondition({ someRecord: { path: 'record.kind', op: 'eq', value: 'invoice' } })).toEqual([
      { path: 'conditions', problem: '"someRecord" is for audiences; a rule tests its own record with record.* paths' },
    ]);
    expect(checkCondition({ path: 'record.kind', op: 'eq', value: 'invoice' }, AUDIENCE_SCHEMA, 'filter')).toEqual([
      { path: 'filter.path', problem: 'unknown path "record.kind"' },
    ]);
    expect(checkCondition({ someRecord: { path: 'contact.name', op: 'eq', value: 'x' } }, AUDIENCE_SCHEMA, 'filter')).toEqual([
      { path: 'filter.someRecord.path', problem: 'unknown path "contact.name"' },
    ]);
  });
});
