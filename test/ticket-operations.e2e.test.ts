import { Ticket } from '../src/entities/ticket.entity';
import { Role } from '../src/entities/user.entity';
import type { StaffPrincipal } from '../src/services/directory/principal';
import { ManualClock } from '../src/services/platform/clock';
import { PASSWORD, makeContact, makeTenant, makeUser } from './helpers/factories';
import { type TestApp, errorCode, gql, gqlOk, startTestApp } from './helpers/test-app';

const DAY = 86_400_000;

/** Resolving with details, bulk work, finer filters and auto-closing. */
describe('ticket operations', () => {
  let t: TestApp;
  const clock = new ManualClock(new Date('2026-11-23T02:00:00Z'));

  beforeAll(async () => {
    t = await startTestApp(clock);
  });
  afterAll(() => t.stop());

  async function tenant() {
    const tenant = await makeTenant(t.app.dataSource);
    const admin = await makeUser(t.app.dataSource, tenant, { role: Role.ADMIN });
    const agent = await makeUser(t.app.dataSource, tenant, { role: Role.AGENT });
    const contact = await makeContact(t.app.dataSource, tenant, { name: 'Nina', phone: '+6281298761111', area: 'Dago' });
    const actor: StaffPrincipal = { kind: 'staff', tenantId: tenant.id, userId: admin.id, role: Role.ADMIN, name: 'Admin' };
    const token = async () => (await t.app.services.auth.login(admin.email, PASSWORD)).token;
    const ticket = async (subject: string, requesterId = contact.id) =>
      t.app.services.tickets.create(actor, {
        subject,
        category: 'technical' as never,
        priority: 'low' as never,
        requesterId,
        assigneeId: agent.id,
      });
    return { tenant, admin, agent, contact, actor, token, ticket };
  }

  it('resolves with a summary, a type and notes the customer does not see', async () => {
    const w = await tenant();
    const ticket = await w.ticket('Slow internet');
    await t.app.services.tickets.changeStatus(w.actor, ticket.id, 'in_progress' as never);
    const RESOLVE = `mutation ($id: ID!, $input: ResolveTicketInput!) { resolveTicket(ticketId: $id, input: $input) { status resolutionType resolutionSummary resolutionNotes } }`;
    const token = await w.token();
    expect(errorCode(await gql(t.url, RESOLVE, { id: ticket.id, input: { summary: '  ', type: 'FIXED' } }, token))).toBe(
      'BAD_USER_INPUT',
    );
    expect((await t.app.dataSource.getRepository(Ticket).findOneByOrFail({ id: ticket.id })).status).toBe('in_progress');
    const { resolveTicket } = await gqlOk(
      t.url,
      RESOLVE,
      { id: ticket.id, input: { summary: 'Replaced the router', type: 'FIXED', notes: 'Old unit had a burnt port' } },
      token,
    );
    expect(resolveTicket).toEqual({
      status: 'RESOLVED',
      resolutionType: 'FIXED',
      resolutionSummary: 'Replaced the router',
      resolutionNotes: 'Old unit had a burnt port',
    });
    const notes = await t.app.dataSource.query(`SELECT body, internal FROM ticket_message WHERE "ticketId" = $1`, [ticket.id]);
    expect(notes).toEqual([{ body: 'Resolved (fixed): Replaced the router\nOld unit had a burnt port', internal: true }]);
    const customer = (await t.app.services.auth.issueCustomerToken(w.actor, w.contact.id)).token;
    const { ticket: seen } = await gqlOk(
      t.url,
      `query ($id: ID!) { ticket(id: $id) { resolutionSummary resolutionNotes } }`,
      { id: ticket.id },
      customer,
    );
    expect(seen).toEqual({ resolutionSummary: 'Replaced the router', resolutionNotes: null });
  });

  it('applies one change to many tickets, each on its own, and reports each', async () => {
    const w = await tenant();
    const other = await tenant();
    const [a, b, c] = [await w.ticket('A'), await w.ticket('B'), await w.ticket('C')];
    await t.app.services.tickets.changeStatus(w.actor, c.id, 'in_progress' as never);
    await t.app.services.tickets.changeStatus(w.actor, c.id, 'resolved' as never);
    await t.app.services.tickets.changeStatus(w.actor, c.id, 'closed' as never);
    const foreign = await other.ticket('Not yours');
    const BULK = `mutation ($ids: [ID!]!, $change: BulkTicketChange!) { bulkUpdateTickets(ticketIds: $ids, change: $change) { ticketId ok errorCode } }`;
    const { bulkUpdateTickets } = await gqlOk(
      t.url,
      BULK,
      { ids: [a.id, b.id, c.id, foreign.id, 'nope'], change: { status: 'IN_PROGRESS', priority: 'HIGH', addTag: 'Outage' } },
      await w.token(),
    );
    expect(bulkUpdateTickets).toEqual([
      { ticketId: a.id, ok: true, errorCode: null },
      { ticketId: b.id, ok: true, errorCode: null },
      { ticketId: c.id, ok: false, errorCode: 'INVALID_TRANSITION' },
      { ticketId: foreign.id, ok: false, errorCode: 'NOT_FOUND' },
      { ticketId: 'nope', ok: false, errorCode: 'NOT_FOUND' },
    ]);
    const rows = await t.app.dataSource.query(
      `SELECT subject, status, priority, tags FROM ticket WHERE "tenantId" = ANY($1) ORDER BY subject`,
      [[w.tenant.id, other.tenant.id]],
    );
    expect(rows).toEqual([
      { subject: 'A', status: 'in_progress', priority: 'high', tags: ['outage'] },
      { subject: 'B', status: 'in_progress', priority: 'high', tags: ['outage'] },
      // Refused whole: the priority change that came before the refused status did not stay.
      { subject: 'C', status: 'closed', priority: 'low', tags: [] },
      { subject: 'Not yours', status: 'assigned', priority: 'low', tags: [] },
    ]);
    const agentToken = (await t.app.services.auth.login(w.agent.email, PASSWORD)).token;
    const technician = await makeUser(t.app.dataSource, w.tenant, { role: Role.TECHNICIAN });
    expect(
      errorCode(
        await gql(
          t.url,
          BULK,
          { ids: [a.id], change: { addTag: 'x' } },
          (await t.app.services.auth.login(technician.email, PASSWORD)).token,
        ),
      ),
    ).toBe('FORBIDDEN');
    expect(errorCode(await gql(t.url, BULK, { ids: [a.id], change: {} }, agentToken))).toBe('BAD_USER_INPUT');

    const list = async (filter: Record<string, unknown>) =>
      (
        await gqlOk(
          t.url,
          `query ($filter: TicketFilter) { tickets(filter: $filter) { edges { node { subject } } } }`,
          { filter },
          agentToken,
        )
      ).tickets.edges
        .map((edge: any) => edge.node.subject)
        .sort();
    expect(await list({ tags: ['OUTAGE'] })).toEqual(['A', 'B']);
    expect(await list({ area: 'dago' })).toEqual(['A', 'B', 'C']);
    expect(await list({ area: 'Elsewhere' })).toEqual([]);
    expect(await list({ breached: true })).toEqual([]);
    expect(await list({ createdFrom: new Date(clock.now().getTime() + 1000).toISOString() })).toEqual([]);
  });

  it('lets customers choose category and priority within what the tenant allows, and only when opening', async () => {
    const w = await tenant();
    const adminToken = await w.token();
    const customer = (await t.app.services.auth.issueCustomerToken(w.actor, w.contact.id)).token;
    const OPEN = `mutation ($message: String!, $ticketId: ID, $category: TicketCategory, $priority: TicketPriority) {
      startSupportConversation(message: $message, ticketId: $ticketId, category: $category, priority: $priority) { ticket { id category priority } }
    }`;
    const CHOICES = `{ ticketChoices { categories priorities } }`;
    // By default every category, and priorities up to HIGH: URGENT is for staff.
    expect((await gqlOk(t.url, CHOICES, {}, customer)).ticketChoices).toEqual({
      categories: ['ACCOUNT', 'BOOKING', 'PAYMENT', 'TECHNICAL', 'BILLING', 'COMPLAINT', 'OTHER'],
      priorities: ['LOW', 'MEDIUM', 'HIGH'],
    });
    const urgent = await gql(t.url, OPEN, { message: 'Help now', priority: 'URGENT' }, customer);
    expect(errorCode(urgent)).toBe('BAD_USER_INPUT');
    expect(urgent.errors?.[0].extensions).toMatchObject({
      problems: [{ path: ['priority'], code: 'INVALID' }],
      allowed: ['LOW', 'MEDIUM', 'HIGH'],
    });
    expect(await t.app.dataSource.getRepository(Ticket).countBy({ tenantId: w.tenant.id })).toBe(0);
    const opened = (await gqlOk(t.url, OPEN, { message: 'Charged twice', category: 'BILLING', priority: 'HIGH' }, customer))
      .startSupportConversation.ticket;
    expect(opened).toMatchObject({ category: 'BILLING', priority: 'HIGH' });
    // A reply cannot re-classify the ticket.
    const reclassify = await gql(t.url, OPEN, { message: 'Also this', ticketId: opened.id, priority: 'LOW' }, customer);
    expect(errorCode(reclassify)).toBe('BAD_USER_INPUT');
    expect((await t.app.dataSource.getRepository(Ticket).findOneByOrFail({ id: opened.id })).priority).toBe('high');

    // The admin narrows the choices; nothing chosen opens in the first allowed category when OTHER is not offered.
    const SETTINGS = `mutation ($input: TenantSettingsInput!) { updateTenantSettings(input: $input) { customerCategories customerPriorities } }`;
    expect(errorCode(await gql(t.url, SETTINGS, { input: { customerPriorities: [] } }, adminToken))).toBe('BAD_USER_INPUT');
    const narrowed = await gqlOk(
      t.url,
      SETTINGS,
      { input: { customerCategories: ['BOOKING', 'PAYMENT'], customerPriorities: ['LOW', 'MEDIUM'] } },
      adminToken,
    );
    expect(narrowed.updateTenantSettings).toEqual({
      customerCategories: ['BOOKING', 'PAYMENT'],
      customerPriorities: ['LOW', 'MEDIUM'],
    });
    expect(errorCode(await gql(t.url, OPEN, { message: 'Billing again', category: 'BILLING' }, customer))).toBe('BAD_USER_INPUT');
    const plain = (await gqlOk(t.url, OPEN, { message: 'Where is my booking?' }, customer)).startSupportConversation.ticket;
    expect(plain).toMatchObject({ category: 'BOOKING', priority: 'MEDIUM' });
    // Customers cannot change the allowance, and staff see every choice.
    expect(errorCode(await gql(t.url, SETTINGS, { input: { customerPriorities: ['URGENT'] } }, customer))).toBe('FORBIDDEN');
    expect((await gqlOk(t.url, CHOICES, {}, adminToken)).ticketChoices.priorities).toContain('URGENT');
  });

  it('closes resolved tickets after the tenant’s quiet days, telling the customer, and never when switched off', async () => {
    clock.set('2026-11-23T02:00:00Z');
    const w = await tenant();
    const never = await tenant();
    await gqlOk(
      t.url,
      `mutation { updateTenantSettings(input: { ticketAutoCloseDays: 3 }) { ticketAutoCloseDays } }`,
      {},
      await w.token(),
    );
    await gqlOk(
      t.url,
      `mutation { updateTenantSettings(input: { ticketAutoCloseDays: 0 }) { ticketAutoCloseDays } }`,
      {},
      await never.token(),
    );
    for (const x of [w, never]) {
      const ticket = await x.ticket('Done');
      await t.app.services.tickets.changeStatus(x.actor, ticket.id, 'in_progress' as never);
      await t.app.services.tickets.changeStatus(x.actor, ticket.id, 'resolved' as never);
    }
    clock.set(new Date(Date.parse('2026-11-23T02:00:00Z') + 3 * DAY - 60_000));
    expect(await t.app.services.tickets.autoCloseDue()).toBe(0);
    clock.set(new Date(Date.parse('2026-11-23T02:00:00Z') + 3 * DAY));
    expect(await t.app.services.tickets.autoCloseDue()).toBe(1);
    expect(await t.app.services.tickets.autoCloseDue()).toBe(0);
    const statuses = await t.app.dataSource.query(`SELECT "tenantId", status FROM ticket WHERE "tenantId" = ANY($1)`, [
      [w.tenant.id, never.tenant.id],
    ]);
    expect(statuses).toEqual(
      expect.arrayContaining([
        { tenantId: w.tenant.id, status: 'closed' },
        { tenantId: never.tenant.id, status: 'resolved' },
      ]),
    );
    const told = await t.app.dataSource.query(
      `SELECT recipient, body FROM delivery WHERE "tenantId" = $1 AND "notificationType" = 'ticket_auto_closed'`,
      [w.tenant.id],
    );
    expect(told).toEqual([{ recipient: '+6281298761111', body: expect.stringContaining('after 3 days without news from you') }]);
    expect(
      errorCode(
        await gql(t.url, `mutation { updateTenantSettings(input: { ticketAutoCloseDays: 999 }) { id } }`, {}, await w.token()),
      ),
    ).toBe('BAD_USER_INPUT');
  });
});
