import { Delivery } from '../src/entities/delivery.entity';
import { DomainEvent } from '../src/entities/domain-event.entity';
import { Tenant } from '../src/entities/tenant.entity';
import { Role, type User } from '../src/entities/user.entity';
import { ManualClock } from '../src/services/platform/clock';
import { ProviderFake } from './fakes/provider-fake';
import { PASSWORD, addMetaProvider, makeContact, makeTenant, makeUser } from './helpers/factories';
import { runJob } from './helpers/jobs';
import { type TestApp, errorCode, gql, gqlOk, relayAll, startTestApp } from './helpers/test-app';
import { until } from './helpers/wait';

const T0 = new Date('2026-03-02T01:00:00Z');
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);

const CREATE_TICKET = `mutation ($input: CreateTicketInput!) { createTicket(input: $input) { id reference } }`;
const UPDATE_SLA = `mutation ($input: SlaPolicyInput!) {
  updateSlaPolicy(input: $input) { recomputedTickets policy { priority firstResponseMinutes resolutionMinutes warningLeadMinutes customized } }
}`;
const ESCALATIONS = `query ($filter: EscalationFilter) {
  escalations(filter: $filter, first: 100) { totalCount edges { node { id level status manual reason recipientId ticket { reference } deliveries { totalCount } } } }
}`;

describe('SLA monitoring and escalation up the hierarchy', () => {
  let t: TestApp;
  let fake: ProviderFake;
  const clock = new ManualClock(T0);

  beforeAll(async () => {
    fake = await new ProviderFake().start();
    // Tokens outlive the hours the clock is moved through.
    t = await startTestApp(clock, {
      ROLE: 'all',
      SCHEDULER_PROCESS_EVERY_MS: '100',
      SCHEDULER_LOCK_LIFETIME_MS: '2000',
      ACCESS_TOKEN_TTL_SECONDS: '2592000',
    });
  });
  afterAll(async () => {
    await t.stop();
    await fake.stop();
  });

  const token = async (user: User) => (await t.app.services.auth.login(user.email, PASSWORD)).token;

  /** A tenant with a two-team hierarchy: agents → team leads → director, plus a supervisor and an admin. */
  async function organisation() {
    const ds = t.app.dataSource;
    const tenant = await makeTenant(ds);
    const admin = await makeUser(ds, tenant, { role: Role.ADMIN, name: 'Ada', phone: '+6280000000001' });
    const supervisor = await makeUser(ds, tenant, { role: Role.SUPERVISOR, name: 'Sam', phone: '+6280000000002' });
    const director = await makeUser(ds, tenant, { role: Role.MANAGER, name: 'Dina', phone: '+6280000000003' });
    const mona = await makeUser(ds, tenant, {
      role: Role.MANAGER,
      name: 'Mona',
      phone: '+6280000000004',
      managerId: director.id,
    });
    const max = await makeUser(ds, tenant, { role: Role.MANAGER, name: 'Max', phone: null, managerId: director.id });
    const ali = await makeUser(ds, tenant, { role: Role.AGENT, name: 'Ali', managerId: mona.id });
    const bea = await makeUser(ds, tenant, { role: Role.AGENT, name: 'Bea', managerId: max.id });
    const contact = await makeContact(ds, tenant);
    return { tenant, admin, supervisor, director, mona, max, ali, bea, contact, adminToken: await token(admin) };
  }

  async function ticket(adminToken: string, input: Record<string, unknown>): Promise<{ id: string; reference: string }> {
    return (await gqlOk(t.url, CREATE_TICKET, { input: { category: 'TECHNICAL', ...input } }, adminToken)).createTicket;
  }

  /** Asks for an escalation run and waits until the ticket has been escalated. */
  async function escalatedOnRun(adminToken: string, ticketId: string): Promise<any> {
    await gqlOk(t.url, `mutation { runEscalationsNow { name } }`, {}, adminToken);
    return until(`ticket ${ticketId} to be escalated`, async () => {
      const page = (await gqlOk(t.url, ESCALATIONS, { filter: { ticketId } }, adminToken)).escalations;
      return page.totalCount ? page : undefined;
    });
  }

  const messages = (tenant: Tenant, notificationType: string) =>
    t.app.dataSource
      .getRepository(Delivery)
      .find({ where: { tenantId: tenant.id, notificationType }, order: { createdAt: 'ASC', body: 'ASC' } });

  const events = (tenant: Tenant, type: string) =>
    t.app.dataSource.getRepository(DomainEvent).find({ where: { tenantId: tenant.id, type }, order: { id: 'ASC' } });

  it('warns, marks breaches, escalates level by level with one message per recipient, and closes on resolution', async () => {
    const org = await organisation();
    const { adminToken } = org;
    const sla = await gqlOk(
      t.url,
      UPDATE_SLA,
      { input: { priority: 'URGENT', firstResponseMinutes: 240, resolutionMinutes: 240, warningLeadMinutes: 60 } },
      adminToken,
    );
    expect(sla.updateSlaPolicy.policy).toMatchObject({ customized: true, resolutionMinutes: 240 });

    const a1 = await ticket(adminToken, {
      subject: 'Router down',
      priority: 'URGENT',
      requesterId: org.contact.id,
      assigneeId: org.ali.id,
    });
    const a2 = await ticket(adminToken, {
      subject: 'No invoice',
      priority: 'URGENT',
      requesterId: org.contact.id,
      assigneeId: org.ali.id,
    });
    const b1 = await ticket(adminToken, {
      subject: 'App crash',
      priority: 'URGENT',
      requesterId: org.contact.id,
      assigneeId: org.bea.id,
    });
    const monitor = async (minutes: number) => {
      clock.set(at(minutes));
      return runJob(t, adminToken, 'sla-monitor');
    };
    const escalate = async (minutes: number) => {
      clock.set(at(minutes));
      await gqlOk(t.url, `mutation { runEscalationsNow { name } }`, {}, adminToken);
      return until('the escalation run', async () => {
        const { escalationStatus } = await gqlOk(
          t.url,
          `{ escalationStatus { lastFinishedAt running lastError } }`,
          {},
          adminToken,
        );
        return escalationStatus.lastFinishedAt &&
          new Date(escalationStatus.lastFinishedAt) >= at(minutes) &&
          !escalationStatus.running
          ? escalationStatus
          : undefined;
      });
    };

    // Before the warning window nothing happens; inside it the supervisor gets one message for all three.
    await monitor(178);
    expect(await messages(org.tenant, 'sla_warning')).toHaveLength(0);
    await monitor(181);
    let warnings = await messages(org.tenant, 'sla_warning');
    expect(warnings.map((message) => message.userId)).toEqual([org.supervisor.id]);
    expect(warnings[0].body).toContain('3 tickets are close to their SLA due time');
    for (const reference of [a1.reference, a2.reference, b1.reference]) expect(warnings[0].body).toContain(reference);
    expect(await events(org.tenant, 'sla.warning')).toHaveLength(3);

    // The cooldown (30 min) holds; once it has passed, one more warning.
    await monitor(200);
    expect(await messages(org.tenant, 'sla_warning')).toHaveLength(1);
    await monitor(212);
    warnings = await messages(org.tenant, 'sla_warning');
    expect(warnings).toHaveLength(2);

    // Due at 4 h: breached, both first response and resolution, no further warnings.
    await monitor(241);
    expect(await messages(org.tenant, 'sla_warning')).toHaveLength(2);
    const breached = await events(org.tenant, 'sla.breached');
    expect(breached.map((event) => event.payload.kind).sort()).toEqual([
      'first_response',
      'first_response',
      'first_response',
      'resolution',
      'resolution',
      'resolution',
    ]);
    const { ticket: shown } = await gqlOk(
      t.url,
      `query ($id: ID!) { ticket(id: $id) { resolutionBreachedAt firstResponseBreachedAt escalationLevel } }`,
      { id: a1.id },
      adminToken,
    );
    // runJob steps the clock one second before asking for the run.
    expect(new Date(shown.resolutionBreachedAt)).toEqual(new Date(at(241).getTime() + 1000));
    expect(shown.escalationLevel).toBe(0);

    // Level 1 (1 h after breach) goes to each assignee's manager: one message per manager.
    await escalate(299);
    expect(await messages(org.tenant, 'escalation')).toHaveLength(0);
    await escalate(301);
    let sent = await messages(org.tenant, 'escalation');
    expect(sent.map((message) => message.userId).sort()).toEqual([org.mona.id, org.max.id].sort());
    const toMona = sent.find((message) => message.userId === org.mona.id)!;
    expect(toMona.channel).toBe('whatsapp');
    expect(toMona.body).toContain('Escalation level 1: 2 tickets overdue');
    expect(toMona.body).toMatch(/Ali, 1 h \d+ min overdue/);
    expect(toMona.body).toContain(a1.reference);
    expect(toMona.body).toContain(a2.reference);
    const toMax = sent.find((message) => message.userId === org.max.id)!;
    expect(toMax.channel).toBe('email'); // Max has no phone
    expect(toMax.body).toContain(b1.reference);

    // A re-run sends nothing new and raises nothing twice.
    await escalate(302);
    expect(await messages(org.tenant, 'escalation')).toHaveLength(2);
    const level1 = (await gqlOk(t.url, ESCALATIONS, { filter: { level: 1 } }, adminToken)).escalations;
    expect(level1.totalCount).toBe(3);
    expect(level1.edges.every((edge: any) => edge.node.deliveries.totalCount === 1)).toBe(true);

    // Mona acknowledges one; Bea's ticket is resolved, which closes its escalation at once.
    const monaEscalation = level1.edges.find((edge: any) => edge.node.recipientId === org.mona.id).node;
    const acked = await gqlOk(
      t.url,
      `mutation ($id: ID!) { acknowledgeEscalation(id: $id) { status acknowledgedAt } }`,
      { id: monaEscalation.id },
      await token(org.mona),
    );
    expect(acked.acknowledgeEscalation.status).toBe('ACKNOWLEDGED');
    const someoneElse = await gql(
      t.url,
      `mutation ($id: ID!) { acknowledgeEscalation(id: $id) { status } }`,
      { id: monaEscalation.id },
      await token(org.ali),
    );
    expect(errorCode(someoneElse)).toBe('FORBIDDEN');
    clock.set(at(320));
    for (const status of ['IN_PROGRESS', 'RESOLVED']) {
      await gqlOk(
        t.url,
        `mutation ($id: ID!, $status: TicketStatus!) { changeTicketStatus(ticketId: $id, status: $status) { status } }`,
        { id: b1.id, status },
        adminToken,
      );
    }
    // Escalations listen to the ticket's status change on the relay (before any further run).
    await relayAll(t);
    const closed = (await gqlOk(t.url, ESCALATIONS, { filter: { ticketId: b1.id } }, adminToken)).escalations;
    expect(closed.edges.map((edge: any) => edge.node.status)).toEqual(['RESOLVED']);

    // Level 2 (2 h): the director, once, grouped by team; Bea's resolved ticket is no longer escalated.
    await escalate(361);
    sent = await messages(org.tenant, 'escalation');
    expect(sent).toHaveLength(3);
    expect(sent[2].userId).toBe(org.director.id);
    expect(sent[2].body).toContain('Escalation level 2: 2 tickets in 1 team still overdue');
    expect(sent[2].body).toContain('Team Mona: 2 tickets');

    // Level 3 (4 h): the supervisor role; level 4 (8 h): the admins, with a summary.
    await escalate(481);
    await escalate(721);
    sent = await messages(org.tenant, 'escalation');
    expect(sent.slice(3).map((message) => message.userId)).toEqual([org.supervisor.id, org.admin.id]);
    expect(sent[4].body).toContain('Escalation level 4, summary: 2 overdue tickets across 1 team; 0 critical');
    expect(sent[4].body).toContain('Teams affected: Team Mona (2)');
    await escalate(900);
    expect(await messages(org.tenant, 'escalation')).toHaveLength(5);

    const { overdueItems } = await gqlOk(
      t.url,
      `{ overdueItems { totalCount edges { node { reference overdueMinutes escalationLevel } } } }`,
      {},
      adminToken,
    );
    expect(overdueItems.totalCount).toBe(2);
    // Equally overdue: in the order of their ids, which the test does not choose.
    const overdueNodes = overdueItems.edges.map((edge: any) => edge.node);
    expect(overdueNodes.sort((x: any, y: any) => x.reference.localeCompare(y.reference))).toEqual([
      { reference: a1.reference, overdueMinutes: 900 - 240, escalationLevel: 4 },
      { reference: a2.reference, overdueMinutes: 900 - 240, escalationLevel: 4 },
    ]);

    const { escalationStats } = await gqlOk(
      t.url,
      `query ($from: DateTimeISO!, $to: DateTimeISO!) { escalationStats(from: $from, to: $to) {
        total acknowledged resolved perLevel { level count acknowledged } perRecipient { recipientName count } } }`,
      { from: T0.toISOString(), to: at(1000).toISOString() },
      adminToken,
    );
    // One row per ticket and recipient: 3 at level 1, then Mona's two tickets at each level above.
    expect(escalationStats).toMatchObject({ total: 9, acknowledged: 1, resolved: 1 });
    expect(escalationStats.perLevel).toEqual([
      { level: 1, count: 3, acknowledged: 1 },
      { level: 2, count: 2, acknowledged: 0 },
      { level: 3, count: 2, acknowledged: 0 },
      { level: 4, count: 2, acknowledged: 0 },
    ]);

    // Resolving the rest closes every open escalation.
    for (const id of [a1.id, a2.id]) {
      for (const status of ['IN_PROGRESS', 'RESOLVED']) {
        await gqlOk(
          t.url,
          `mutation ($id: ID!, $status: TicketStatus!) { changeTicketStatus(ticketId: $id, status: $status) { status } }`,
          { id, status },
          adminToken,
        );
      }
    }
    await relayAll(t);
    const open = (await gqlOk(t.url, ESCALATIONS, { filter: { status: 'OPEN' } }, adminToken)).escalations;
    expect(open.totalCount).toBe(0);
  });

  it('jumps straight to the highest level reached and escalates by hand', async () => {
    clock.set(T0);
    const org = await organisation();
    const late = await ticket(org.adminToken, {
      subject: 'Lost parcel',
      priority: 'MEDIUM',
      requesterId: org.contact.id,
      assigneeId: org.ali.id,
    });
    // Medium: first response due after 4 h; 4 h 10 min later it is past level 3 (4 h after breach).
    clock.set(at(8 * 60 + 10));
    const raised = await escalatedOnRun(org.adminToken, late.id);
    expect(raised.edges.map((edge: any) => [edge.node.level, edge.node.recipientId])).toEqual([[3, org.supervisor.id]]);

    const manual = await gqlOk(
      t.url,
      `mutation ($ticketId: ID!, $to: ID!, $reason: String!) {
        escalateTicket(ticketId: $ticketId, toUserId: $to, reason: $reason) { level manual reason status deliveries { edges { node { recipient body } } } } }`,
      { ticketId: late.id, to: org.director.id, reason: 'Customer threatens to cancel' },
      org.adminToken,
    );
    expect(manual.escalateTicket).toMatchObject({ level: 3, manual: true, status: 'OPEN' });
    expect(manual.escalateTicket.deliveries.edges[0].node).toMatchObject({ recipient: org.director.phone });
    expect(manual.escalateTicket.deliveries.edges[0].node.body).toContain('Ada escalated');
    expect(manual.escalateTicket.deliveries.edges[0].node.body).toContain('Customer threatens to cancel');

    const refused = await gql(
      t.url,
      `mutation ($ticketId: ID!, $to: ID!) { escalateTicket(ticketId: $ticketId, toUserId: $to, reason: " ") { id } }`,
      { ticketId: late.id, to: org.director.id },
      org.adminToken,
    );
    expect(errorCode(refused)).toBe('BAD_USER_INPUT');
  });

  it('applies the most specific policy: a category ladder in days to a named user', async () => {
    clock.set(T0);
    const org = await organisation();
    const POLICY = `mutation ($input: EscalationPolicyInput!) {
      updateEscalationPolicy(input: $input) { id name category levels { level afterMinutes target { kind userId } channels } } }`;
    const refused = await gql(
      t.url,
      POLICY,
      {
        input: {
          name: 'Billing',
          category: 'BILLING',
          levels: [
            { afterDays: 2, target: { kind: 'USER', userId: org.director.id } },
            { afterDays: 1, target: { kind: 'ROLE', role: 'ADMIN' } },
          ],
        },
      },
      org.adminToken,
    );
    expect(errorCode(refused)).toBe('BAD_USER_INPUT');
    expect((await gqlOk(t.url, `{ escalationPolicies { id name } }`, {}, org.adminToken)).escalationPolicies).toEqual([
      { id: null, name: 'Default' },
    ]);

    const saved = await gqlOk(
      t.url,
      POLICY,
      {
        input: {
          name: 'Billing',
          category: 'BILLING',
          levels: [{ afterDays: 1, target: { kind: 'USER', userId: org.director.id } }],
        },
      },
      org.adminToken,
    );
    expect(saved.updateEscalationPolicy).toMatchObject({
      category: 'BILLING',
      levels: [
        { level: 1, afterMinutes: 1440, target: { kind: 'USER', userId: org.director.id }, channels: ['WHATSAPP', 'EMAIL'] },
      ],
    });
    const billing = await ticket(org.adminToken, {
      subject: 'Double charge',
      priority: 'MEDIUM',
      category: 'BILLING',
      requesterId: org.contact.id,
      assigneeId: org.ali.id,
    });
    const other = await ticket(org.adminToken, {
      subject: 'Slow app',
      priority: 'MEDIUM',
      requesterId: org.contact.id,
      assigneeId: org.ali.id,
    });
    // Both first responses were due after 4 h; 23 h later the default ladder is at level 4, the billing one not yet at 1.
    clock.set(at(4 * 60 + 23 * 60));
    await escalatedOnRun(org.adminToken, other.id);
    expect((await gqlOk(t.url, ESCALATIONS, { filter: { ticketId: billing.id } }, org.adminToken)).escalations.totalCount).toBe(
      0,
    );
    clock.set(at(4 * 60 + 24 * 60 + 1));
    const raised = await escalatedOnRun(org.adminToken, billing.id);
    expect(raised.edges.map((edge: any) => [edge.node.level, edge.node.recipientId])).toEqual([[1, org.director.id]]);
  });

  it('sends escalations to the test recipient in test mode', async () => {
    clock.set(T0);
    const org = await organisation();
    await addMetaProvider(t.app.services, org.tenant, fake.url);
    await gqlOk(
      t.url,
      `mutation { updateDeliverySettings(input: { testMode: true, testRecipients: [{ channel: WHATSAPP, address: "+15559990000" }] }) { testMode } }`,
      {},
      org.adminToken,
    );
    await ticket(org.adminToken, {
      subject: 'Broken lock',
      priority: 'URGENT',
      requesterId: org.contact.id,
      assigneeId: org.ali.id,
    });
    clock.set(at(15 + 61)); // urgent first response is due after 15 min by default
    await gqlOk(t.url, `mutation { runEscalationsNow { name } }`, {}, org.adminToken);
    const [request] = await fake.waitForRequests(1, 15_000);
    expect(request.body.to).toBe('15559990000');
    expect(request.body.text.body).toContain('Escalation level 1');
    const delivery = await until('the outcome to be recorded', async () => {
      const [row] = await messages(org.tenant, 'escalation');
      return row.status === 'sent' ? row : undefined;
    });
    expect(delivery).toMatchObject({ recipient: '+15559990000', originalRecipient: org.mona.phone });
  });
});

describe('SLA policies with business hours', () => {
  let t: TestApp;
  const clock = new ManualClock(new Date('2026-03-06T09:00:00Z')); // Friday 16:00 in Jakarta

  beforeAll(async () => {
    t = await startTestApp(clock, { ACCESS_TOKEN_TTL_SECONDS: '2592000' });
  });
  afterAll(() => t.stop());

  it('re-computes open tickets when a policy changes, respecting windows, holidays and timezone', async () => {
    const tenant = await makeTenant(t.app.dataSource);
    const admin = await makeUser(t.app.dataSource, tenant, { role: Role.ADMIN });
    const adminToken = (await t.app.services.auth.login(admin.email, PASSWORD)).token;
    const contact = await makeContact(t.app.dataSource, tenant);
    const DUE = `query ($id: ID!) { ticket(id: $id) { firstResponseDueAt resolutionDueAt } }`;
    const open = (
      await gqlOk(
        t.url,
        CREATE_TICKET,
        { input: { subject: 'Slow website', priority: 'LOW', category: 'TECHNICAL', requesterId: contact.id } },
        adminToken,
      )
    ).createTicket;
    // Default low policy: 8 h / 48 h round the clock.
    expect((await gqlOk(t.url, DUE, { id: open.id }, adminToken)).ticket).toEqual({
      firstResponseDueAt: '2026-03-06T17:00:00.000Z',
      resolutionDueAt: '2026-03-08T09:00:00.000Z',
    });

    const businessHours = {
      timezone: 'Asia/Jakarta',
      windows: [1, 2, 3, 4, 5].map((day) => ({ day, start: '09:00', end: '17:00' })),
      holidays: ['2026-03-09'],
    };
    const bad = await gql(
      t.url,
      UPDATE_SLA,
      {
        input: {
          priority: 'LOW',
          firstResponseMinutes: 120,
          resolutionMinutes: 600,
          warningLeadMinutes: 30,
          businessHours: { ...businessHours, timezone: 'Mars/Olympus' },
        },
      },
      adminToken,
    );
    expect(errorCode(bad)).toBe('BAD_USER_INPUT');
    expect((await gqlOk(t.url, `{ slaPolicies { priority customized } }`, {}, adminToken)).slaPolicies).toContainEqual({
      priority: 'LOW',
      customized: false,
    });

    const saved = await gqlOk(
      t.url,
      UPDATE_SLA,
      { input: { priority: 'LOW', firstResponseMinutes: 120, resolutionMinutes: 600, warningLeadMinutes: 30, businessHours } },
      adminToken,
    );
    expect(saved.updateSlaPolicy.recomputedTickets).toBe(1);
    // Friday 16-17 counts one hour; Monday is a holiday; Tuesday 09:00-10:00 the second hour.
    // Resolution: 1 h Friday + 8 h Tuesday + 1 h Wednesday.
    expect((await gqlOk(t.url, DUE, { id: open.id }, adminToken)).ticket).toEqual({
      firstResponseDueAt: '2026-03-10T03:00:00.000Z',
      resolutionDueAt: '2026-03-11T03:00:00.000Z',
    });

    // A ticket opened on Saturday starts counting on the next working day.
    clock.set(new Date('2026-03-07T03:00:00Z'));
    const weekend = (
      await gqlOk(
        t.url,
        CREATE_TICKET,
        { input: { subject: 'Weekend', priority: 'LOW', category: 'OTHER', requesterId: contact.id } },
        adminToken,
      )
    ).createTicket;
    expect((await gqlOk(t.url, DUE, { id: weekend.id }, adminToken)).ticket.firstResponseDueAt).toBe('2026-03-10T04:00:00.000Z');
  });
});
