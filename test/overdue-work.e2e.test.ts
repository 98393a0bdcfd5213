import { randomUUID } from 'node:crypto';
import { In } from 'typeorm';
import { Delivery } from '../src/entities/delivery.entity';
import { DomainEvent } from '../src/entities/domain-event.entity';
import { Escalation } from '../src/entities/escalation.entity';
import type { Tenant } from '../src/entities/tenant.entity';
import { Role, User } from '../src/entities/user.entity';
import { ManualClock } from '../src/services/platform/clock';
import { PASSWORD, makeContact, makeTenant, makeUser } from './helpers/factories';
import { type TestApp, errorCode, gql, gqlOk, startTestApp } from './helpers/test-app';

const T0 = new Date('2026-05-04T02:00:00Z');
const DAY = 86_400_000;
const day = (days: number) => new Date(T0.getTime() + days * DAY);

const IMPORT_USERS = `mutation ($rows: [UserImportInput!]!) { importUsers(rows: $rows) { created failed } }`;
const UPSERT = `mutation ($records: [BusinessRecordInput!]!) { upsertBusinessRecords(records: $records) { created updated failed } }`;
const POLICY = `mutation ($input: EscalationPolicyInput!) {
  updateEscalationPolicy(input: $input) { id recordKind levels { level afterMinutes target { kind depth userId } } criticalAfterMinutes }
}`;
const OVERDUE = `query ($filter: OverdueFilter, $first: Int, $after: String, $last: Int) {
  overdueItems(filter: $filter, first: $first, after: $after, last: $last) {
    totalCount pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { node { kind ticketId recordId reference subject personName group overdueMinutes escalationLevel } }
  }
}`;
const nodes = (connection: any) => connection.edges.map((edge: any) => edge.node);

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/**
 * Overdue work of kinds other than tickets climbs the same hierarchy: 5,000 staff trainings
 * across 50 stores and 5 clusters, 1 → 3 → 5 → 14 days overdue, with exactly the messages
 * of a training-compliance programme.
 */
describe('overdue trainings up the hierarchy', () => {
  let t: TestApp;
  const clock = new ManualClock(T0);

  beforeAll(async () => {
    t = await startTestApp(clock, { ACCESS_TOKEN_TTL_SECONDS: '2592000' });
  });
  afterAll(() => t.stop());

  const messages = (tenant: Tenant) =>
    t.app.dataSource
      .getRepository(Delivery)
      .find({ where: { tenantId: tenant.id, notificationType: 'escalation' }, order: { createdAt: 'ASC', userId: 'ASC' } });

  /** One escalation run at a day after T0, as the scheduled job runs it. */
  async function runAt(tenant: Tenant, days: number) {
    clock.set(day(days));
    return t.app.services.escalations.run(tenant.id, randomUUID());
  }

  it('escalates 5,000 trainings to store managers, cluster managers and HR with one message each, and closes completed ones', async () => {
    const ds = t.app.dataSource;
    const tenant = await makeTenant(ds);
    const admin = await makeUser(ds, tenant, { role: Role.ADMIN, name: 'Ada' });
    const adminToken = (await t.app.services.auth.login(admin.email, PASSWORD)).token;

    // The HR system's hierarchy: HR head, 5 cluster managers, 50 store managers, 500 employees.
    const rows: Array<Record<string, unknown>> = [
      { externalId: 'HR-1', name: 'Hana HR', email: `hr@${tenant.slug}.test`, phone: '+6281100000001', role: 'MANAGER' },
    ];
    for (let c = 1; c <= 5; c++) {
      rows.push({
        externalId: `C-${c}`,
        name: `Cluster Manager ${c}`,
        email: `c${c}@${tenant.slug}.test`,
        phone: `+62811100000${pad(c, 2)}`,
        role: 'MANAGER',
      });
    }
    for (let s = 1; s <= 50; s++) {
      rows.push({
        externalId: `S-${pad(s, 2)}`,
        name: `Store Manager ${pad(s, 2)}`,
        email: `s${s}@${tenant.slug}.test`,
        phone: `+6281120000${pad(s, 3)}`,
        role: 'MANAGER',
        managerExternalId: `C-${Math.ceil(s / 10)}`,
      });
    }
    for (let e = 1; e <= 500; e++) {
      const store = Math.ceil(e / 10);
      rows.push({
        externalId: `E-${pad(e, 4)}`,
        name: `Employee ${pad(e, 4)}`,
        email: `e${e}@${tenant.slug}.test`,
        role: 'AGENT',
        managerExternalId: `S-${pad(store, 2)}`,
        attributes: { store: `Store ${pad(store, 2)}` },
      });
    }
    expect((await gqlOk(t.url, IMPORT_USERS, { rows }, adminToken)).importUsers).toEqual({ created: 556, failed: 0 });
    const people = new Map((await ds.getRepository(User).findBy({ tenantId: tenant.id })).map((user) => [user.externalId, user]));
    const hr = people.get('HR-1')!;

    // Trainings escalate by days: store manager, cluster manager, then HR; critical from 14 days.
    const policy = await gqlOk(
      t.url,
      POLICY,
      {
        input: {
          name: 'Training compliance',
          recordKind: 'training',
          criticalAfterMinutes: 14 * 1440,
          levels: [
            { afterDays: 1, target: { kind: 'MANAGER_CHAIN', depth: 1 }, channels: ['WHATSAPP', 'EMAIL'] },
            { afterDays: 3, target: { kind: 'MANAGER_CHAIN', depth: 2 }, channels: ['WHATSAPP', 'EMAIL'] },
            { afterDays: 5, target: { kind: 'USER', userId: hr.id }, channels: ['WHATSAPP', 'EMAIL'] },
          ],
        },
      },
      adminToken,
    );
    expect(policy.updateEscalationPolicy).toMatchObject({ recordKind: 'training', criticalAfterMinutes: 20160 });
    // Tickets keep their own ladder: here one level, the assignee's manager after an hour.
    await gqlOk(
      t.url,
      POLICY,
      {
        input: {
          name: 'Tickets',
          levels: [{ afterMinutes: 60, target: { kind: 'MANAGER_CHAIN', depth: 1 }, channels: ['WHATSAPP', 'EMAIL'] }],
        },
      },
      adminToken,
    );

    // Ten trainings per employee, all due at T0.
    const trainings = [];
    for (let e = 1; e <= 500; e++) {
      for (let n = 1; n <= 10; n++) {
        trainings.push({
          kind: 'training',
          externalId: `TR-${pad(e, 4)}-${n}`,
          title: `Module ${n}`,
          status: 'assigned',
          subject: { type: 'USER', externalId: `E-${pad(e, 4)}` },
          dueAt: T0.toISOString(),
        });
      }
    }
    expect((await gqlOk(t.url, UPSERT, { records: trainings }, adminToken)).upsertBusinessRecords).toMatchObject({
      created: 5000,
      failed: 0,
    });
    // Employee 0001 (store 01) also has a ticket, overdue within hours; their store manager hears of it in the same message.
    const contact = await makeContact(ds, tenant);
    const ticket = await t.app.services.tickets.create(
      { kind: 'staff', tenantId: tenant.id, userId: admin.id, role: Role.ADMIN, name: admin.name },
      {
        subject: 'Broken till',
        category: 'technical' as never,
        priority: 'urgent' as never,
        requesterId: contact.id,
        assigneeId: people.get('E-0001')!.id,
      },
    );

    // Day 1: each of the 50 store managers gets one message for their store's 100 trainings.
    const first = await runAt(tenant, 1);
    expect(first).toMatchObject({ escalatedTickets: 1, escalatedRecords: 5000, escalations: 5001, messages: 50, unroutable: 0 });
    let sent = await messages(tenant);
    const storeManagers = [...people.values()].filter((user) => user.externalId?.startsWith('S-'));
    expect(sent.map((message) => message.userId).sort()).toEqual(storeManagers.map((user) => user.id).sort());
    expect(sent.every((message) => message.channel === 'whatsapp')).toBe(true);
    const toStore01 = sent.find((message) => message.userId === people.get('S-01')!.id)!;
    expect(toStore01.body).toContain('Hi Store Manager 01,');
    expect(toStore01.body).toContain('Escalation level 1: 100 trainings overdue.');
    expect(toStore01.body).toContain('• Employee 0001 (E-0001), Store 01: "Module 1", 1 day overdue');
    expect(toStore01.body).toContain('…and 85 more');
    expect(toStore01.body).not.toContain('Store 02');
    // The same message carries the ticket of one of the store's employees: one message per manager per run.
    expect(toStore01.body).toContain(
      `Escalation level 1: 1 ticket overdue.\n• ${ticket.reference} "Broken till" (urgent): Employee 0001`,
    );
    expect(toStore01.subject).toBe('Escalation level 1: 1 overdue ticket, 100 overdue trainings');

    // Day 2: nothing new; nothing is raised twice.
    expect(await runAt(tenant, 2)).toMatchObject({ escalations: 0, messages: 0 });

    // Day 3: each cluster manager gets one message listing their 10 stores.
    expect(await runAt(tenant, 3)).toMatchObject({ escalatedRecords: 5000, messages: 5 });
    sent = (await messages(tenant)).slice(50);
    const clusters = [1, 2, 3, 4, 5].map((c) => people.get(`C-${c}`)!);
    expect(sent.map((message) => message.userId).sort()).toEqual(clusters.map((user) => user.id).sort());
    const toCluster1 = sent.find((message) => message.userId === clusters[0].id)!;
    expect(toCluster1.body).toContain(
      'Escalation level 2: 1000 trainings in 10 stores still overdue; the store managers have not resolved them.',
    );
    for (let s = 1; s <= 10; s++) expect(toCluster1.body).toContain(`• Store ${pad(s, 2)}: 100 trainings, worst`);
    expect(toCluster1.body).not.toContain('Store 11');

    // Employee 0001 completes their ten trainings (the HR system's upsert): their escalations close at once.
    const done = trainings
      .slice(0, 10)
      .map((training) => ({ ...training, status: 'completed', completedAt: day(3.5).toISOString() }));
    clock.set(day(3.5));
    await gqlOk(t.url, UPSERT, { records: done }, adminToken);
    const closed = await ds.query(
      `SELECT e.status, count(*)::int AS n FROM escalation e JOIN business_record r ON r.id = e."recordId"
        WHERE r."tenantId" = $1 AND r."externalId" LIKE 'TR-0001-%' GROUP BY e.status`,
      [tenant.id],
    );
    expect(closed).toEqual([{ status: 'resolved', n: 20 }]);

    // Day 5: HR gets one summary of the 4,990 still overdue.
    expect(await runAt(tenant, 5)).toMatchObject({ escalatedRecords: 4990, messages: 1 });
    sent = (await messages(tenant)).slice(55);
    expect(sent.map((message) => message.userId)).toEqual([hr.id]);
    expect(sent[0].subject).toBe('Escalation level 3: 4990 overdue trainings');
    expect(sent[0].body).toContain('4990 overdue trainings across 50 stores; 0 critical (overdue 14 days or more).');
    expect(sent[0].body).toContain('Stores affected: Store 02 (100), Store 03 (100)');
    // Fifteen stores are named; WhatsApp takes 4,096 characters at most.
    expect(sent[0].body).toContain('Store 16 (100) and 35 more stores.');
    expect(sent[0].body.length).toBeLessThan(4096);

    // Day 14: the HR system sends 20 trainings it had missed, due at T0: they go straight to HR as critical.
    const late = [1, 2].flatMap((n) =>
      Array.from({ length: 10 }, (_, i) => ({
        kind: 'training',
        externalId: `TR-LATE-${n}-${i}`,
        title: `Fire safety ${n}`,
        status: 'assigned',
        subject: { type: 'USER', externalId: `E-${pad(61 + i, 4)}` },
        dueAt: (n === 1 ? T0 : day(-2)).toISOString(),
      })),
    );
    clock.set(day(14));
    await gqlOk(t.url, UPSERT, { records: late }, adminToken);
    expect(await runAt(tenant, 14)).toMatchObject({ escalatedRecords: 20, escalations: 20, messages: 1 });
    sent = (await messages(tenant)).slice(56);
    expect(sent.map((message) => message.userId)).toEqual([hr.id]);
    expect(sent[0].body).toContain('20 overdue trainings across 1 store; 20 critical (overdue 14 days or more).');
    expect(sent[0].body).toContain('Critical cases:\n• Employee 0061 (E-0061), Store 07: "Fire safety 2", 16 days overdue');
    // Worst first: the 16-day cases before the 14-day ones.
    expect(sent[0].body.indexOf('16 days overdue')).toBeLessThan(sent[0].body.indexOf('14 days overdue'));
    expect(await messages(tenant)).toHaveLength(57);

    // Every raise is an event of its own.
    expect(await ds.getRepository(DomainEvent).countBy({ tenantId: tenant.id, type: 'record.escalated' })).toBe(
      5000 + 5000 + 4990 + 20,
    );

    // overdueItems covers every kind, with kind, store and level filters.
    // Without a kind, every kind together, most overdue first (the trainings, then the ticket due hours after T0).
    const list = (variables: Record<string, unknown>) =>
      gqlOk(t.url, OVERDUE, variables, adminToken).then((data) => data.overdueItems);
    const page1 = await list({ first: 100 });
    const page2 = await list({ first: 100, after: page1.pageInfo.endCursor });
    const all = [...nodes(page1), ...nodes(page2)];
    expect(all).toHaveLength(200);
    expect(new Set(all.map((item: any) => item.recordId ?? item.ticketId)).size).toBe(200);
    expect(all[0]).toMatchObject({ kind: 'training', overdueMinutes: 16 * 1440 });
    const overdueDesc = all.map((item: any) => item.overdueMinutes);
    expect([...overdueDesc].sort((a: number, b: number) => b - a)).toEqual(overdueDesc);
    const trainingPage = await list({ filter: { kind: 'training' }, first: 1 });
    const tickets = await list({ filter: { kind: 'ticket' } });
    expect(page1.totalCount).toBe(trainingPage.totalCount + tickets.totalCount);
    expect(page1.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    // The least overdue come last: paged from the end, the ticket due hours after T0.
    const tail = await list({ last: 1 });
    expect(nodes(tail)).toEqual([expect.objectContaining({ kind: 'ticket', ticketId: ticket.id })]);
    expect(tail.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
    const everything = await list({ filter: { minOverdueMinutes: 0 } });
    expect(everything.edges.length).toBe(20);
    const store07 = await list({ filter: { kind: 'training', store: 'Store 07' }, first: 100 });
    expect(store07.totalCount).toBe(120);
    expect(nodes(store07)[0]).toMatchObject({
      kind: 'training',
      subject: 'Fire safety 2',
      group: 'Store 07',
      escalationLevel: 3,
    });
    expect(nodes(store07)[0].overdueMinutes).toBe(16 * 1440);
    expect(nodes(tickets)).toEqual([
      expect.objectContaining({ kind: 'ticket', ticketId: ticket.id, personName: 'Employee 0001' }),
    ]);
    const levelFilter = await list({ filter: { kind: 'training', level: 3 }, first: 10 });
    expect(levelFilter.edges).toHaveLength(10);

    // The escalations list shows the record behind each.
    const { escalations } = await gqlOk(
      t.url,
      `{ escalations(first: 1, filter: { level: 3 }) { edges { node { ticket { id } record { kind externalId title } } } } }`,
      {},
      adminToken,
    );
    expect(escalations.edges[0].node).toMatchObject({ ticket: null, record: { kind: 'training' } });
    expect(await ds.getRepository(Escalation).countBy({ tenantId: tenant.id, status: In(['open']) })).toBe(
      5000 + 5000 + 4990 + 20 - 20 + 1,
    );
  });

  it('refuses a policy that mixes a record kind with ticket scopes or names no kind, and shows another tenant nothing', async () => {
    const ds = t.app.dataSource;
    const tenant = await makeTenant(ds);
    const admin = await makeUser(ds, tenant, { role: Role.ADMIN });
    const token = (await t.app.services.auth.login(admin.email, PASSWORD)).token;
    const level = { afterDays: 1, target: { kind: 'MANAGER_CHAIN', depth: 1 }, channels: ['EMAIL'] };
    const mixed = await gql(
      t.url,
      POLICY,
      { input: { name: 'x', recordKind: 'training', category: 'TECHNICAL', levels: [level] } },
      token,
    );
    expect(errorCode(mixed)).toBe('BAD_USER_INPUT');
    const badKind = await gql(t.url, POLICY, { input: { name: 'x', recordKind: 'Training!', levels: [level] } }, token);
    expect(errorCode(badKind)).toBe('BAD_USER_INPUT');
    expect((await gqlOk(t.url, `{ escalationPolicies { recordKind } }`, {}, token)).escalationPolicies).toEqual([
      { recordKind: null },
    ]);
    // Another tenant with a training policy of its own sees none of the first tenant's 5,000 trainings.
    await gqlOk(t.url, POLICY, { input: { name: 'Trainings', recordKind: 'training', levels: [level] } }, token);
    expect((await gqlOk(t.url, OVERDUE, { filter: { kind: 'training' } }, token)).overdueItems).toMatchObject({
      totalCount: 0,
      edges: [],
    });
    expect(await runAt(tenant, 20)).toMatchObject({ escalations: 0, messages: 0 });
  });
});
