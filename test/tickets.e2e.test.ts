import { randomUUID } from 'node:crypto';
import { Contact } from '../src/entities/contact.entity';
import { DomainEvent } from '../src/entities/domain-event.entity';
import { Tenant } from '../src/entities/tenant.entity';
import { Ticket } from '../src/entities/ticket.entity';
import { Availability, Role, User } from '../src/entities/user.entity';
import { PASSWORD, makeContact, makeTenant, makeUser } from './helpers/factories';
import { type TestApp, Subscription, errorCode, gql, gqlOk, settle, startTestApp, wsClient } from './helpers/test-app';

const CREATE = `mutation ($input: CreateTicketInput!) {
  createTicket(input: $input) { id number reference status priority assigneeId firstResponseDueAt resolutionDueAt createdAt }
}`;
const STATUS = `mutation ($id: ID!, $status: TicketStatus!) { changeTicketStatus(ticketId: $id, status: $status) { status resolvedAt closedAt } }`;
const ASSIGN = `mutation ($id: ID!, $userId: ID) { assignTicket(ticketId: $id, userId: $userId) { status assigneeId } }`;
const MESSAGE = `mutation ($input: AddTicketMessageInput!) { addTicketMessage(input: $input) { id body internal authorKind authorName } }`;
const THREAD = `query ($id: ID!) { ticket(id: $id) { messageCount messages { totalCount edges { node { body internal } } } } }`;

interface World {
  tenant: Tenant;
  admin: User;
  agent: User;
  contact: Contact;
  adminToken: string;
  agentToken: string;
  customerToken: string;
}

describe('tickets', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.stop());

  async function login(user: User): Promise<string> {
    const { token } = await t.app.services.auth.login(user.email, PASSWORD);
    return token;
  }

  /** A fresh tenant per test, so tests never see each other's rows. */
  async function world(): Promise<World> {
    const ds = t.app.dataSource;
    const tenant = await makeTenant(ds);
    const admin = await makeUser(ds, tenant, { role: Role.ADMIN, availability: Availability.OFFLINE });
    const agent = await makeUser(ds, tenant, { role: Role.AGENT });
    const contact = await makeContact(ds, tenant);
    const adminToken = await login(admin);
    const customerToken = (
      await t.app.services.auth.issueCustomerToken(
        { kind: 'staff', tenantId: tenant.id, userId: admin.id, role: Role.ADMIN, name: admin.name },
        contact.id,
      )
    ).token;
    return { tenant, admin, agent, contact, adminToken, agentToken: await login(agent), customerToken };
  }

  async function createTicket(w: World, input: Record<string, unknown> = {}) {
    const { createTicket } = await gqlOk(
      t.url,
      CREATE,
      { input: { subject: 'Printer on fire', category: 'TECHNICAL', priority: 'HIGH', requesterId: w.contact.id, ...input } },
      w.adminToken,
    );
    return createTicket;
  }

  describe('creation', () => {
    it('numbers tickets per tenant as T-000001 and sets due times from the priority', async () => {
      const w = await world();
      const first = await createTicket(w, { priority: 'URGENT' });
      const second = await createTicket(w, { priority: 'LOW' });
      expect([first.reference, second.reference]).toEqual(['T-000001', 'T-000002']);
      const minutes = (from: string, to: string) => (Date.parse(to) - Date.parse(from)) / 60_000;
      expect(minutes(first.createdAt, first.firstResponseDueAt)).toBe(15);
      expect(minutes(first.createdAt, first.resolutionDueAt)).toBe(240);
      expect(minutes(second.createdAt, second.firstResponseDueAt)).toBe(480);
      expect(minutes(second.createdAt, second.resolutionDueAt)).toBe(2880);
      expect(first.status).toBe('OPEN');
    });

    it('gives 50 concurrent createTicket calls 50 distinct numbers', async () => {
      const w = await world();
      const created = await Promise.all(Array.from({ length: 50 }, (_, i) => createTicket(w, { subject: `Concurrent ${i}` })));
      const numbers = new Set(created.map((ticket) => ticket.number));
      expect(numbers.size).toBe(50);
      expect(Math.max(...numbers)).toBe(50);
    });

    it('writes a ticket.created DomainEvent in the same transaction', async () => {
      const w = await world();
      const ticket = await createTicket(w);
      const events = await t.app.dataSource.getRepository(DomainEvent).findBy({ tenantId: w.tenant.id, subjectId: ticket.id });
      expect(events.map((e) => e.type)).toEqual(['ticket.created']);
      expect(events[0].payload).toMatchObject({ number: ticket.number, priority: 'high', requesterId: w.contact.id });
    });

    it('refuses bad input with BAD_USER_INPUT naming the fields, and creates nothing', async () => {
      const w = await world();
      const result = await gql(
        t.url,
        CREATE,
        { input: { subject: '', category: 'TECHNICAL', requesterId: 'not-a-uuid' } },
        w.adminToken,
      );
      expect(errorCode(result)).toBe('BAD_USER_INPUT');
      // One shape for every refusal: a path into the arguments, a message and a code per problem.
      const problems = result.errors?.[0].extensions?.problems as Array<{ path: unknown[]; message: string; code: string }>;
      expect(problems.map((problem) => problem.path)).toEqual(
        expect.arrayContaining([
          ['input', 'subject'],
          ['input', 'requesterId'],
        ]),
      );
      for (const problem of problems)
        expect(problem).toEqual({
          path: expect.arrayContaining([]),
          message: expect.any(String),
          code: expect.stringMatching(/^[A-Z_]+$/),
        });
      expect(result.errors?.[0].extensions).not.toHaveProperty('fields');
      const unknownEnum = await gql(
        t.url,
        CREATE,
        { input: { subject: 'x', category: 'ROCKETS', requesterId: w.contact.id } },
        w.adminToken,
      );
      expect(errorCode(unknownEnum)).toBe('BAD_USER_INPUT');
      // A value the type system refuses in the variables comes in the same shape.
      expect(unknownEnum.errors?.[0].extensions?.problems).toEqual([
        { path: ['input', 'category'], message: expect.stringContaining('ROCKETS'), code: 'INVALID_VALUE' },
      ]);
      const missing = await gql(t.url, CREATE, {}, w.adminToken);
      expect(missing.errors?.[0].extensions?.problems).toEqual([
        { path: ['input'], message: expect.stringContaining('was not provided'), code: 'REQUIRED' },
      ]);
      expect(await t.app.dataSource.getRepository(Ticket).countBy({ tenantId: w.tenant.id })).toBe(0);
      expect(await t.app.dataSource.getRepository(DomainEvent).countBy({ tenantId: w.tenant.id })).toBe(0);
    });
  });

  describe('workflow', () => {
    it('walks open → assigned → in progress → waiting → in progress → resolved → closed', async () => {
      const w = await world();
      const ticket = await createTicket(w);
      expect((await gqlOk(t.url, ASSIGN, { id: ticket.id, userId: w.agent.id }, w.agentToken)).assignTicket).toEqual({
        status: 'ASSIGNED',
        assigneeId: w.agent.id,
      });
      for (const status of ['IN_PROGRESS', 'WAITING_ON_CUSTOMER', 'IN_PROGRESS', 'RESOLVED']) {
        const { changeTicketStatus } = await gqlOk(t.url, STATUS, { id: ticket.id, status }, w.agentToken);
        expect(changeTicketStatus.status).toBe(status);
      }
      t.clock.advance(60_000);
      const { changeTicketStatus } = await gqlOk(t.url, STATUS, { id: ticket.id, status: 'CLOSED' }, w.agentToken);
      expect(changeTicketStatus.closedAt).not.toBeNull();
      const events = await t.app.dataSource
        .getRepository(DomainEvent)
        .find({ where: { subjectId: ticket.id }, order: { id: 'ASC' } });
      expect(events.map((e) => e.type)).toEqual(['ticket.created', 'ticket.assigned', ...Array(5).fill('ticket.status_changed')]);
    });

    it('refuses a move outside the workflow with INVALID_TRANSITION naming the allowed next states, and changes nothing', async () => {
      const w = await world();
      const ticket = await createTicket(w);
      const result = await gql(t.url, STATUS, { id: ticket.id, status: 'RESOLVED' }, w.agentToken);
      expect(errorCode(result)).toBe('INVALID_TRANSITION');
      expect(result.errors?.[0].message).toBe('A ticket cannot move from OPEN to RESOLVED; allowed next states: ASSIGNED');
      expect(result.errors?.[0].extensions?.allowed).toEqual(['ASSIGNED']);
      const stored = await t.app.dataSource.getRepository(Ticket).findOneByOrFail({ id: ticket.id });
      expect(stored.status).toBe('open');
    });

    it('reopens a resolved ticket to in progress and clears resolvedAt; a closed ticket cannot move', async () => {
      const w = await world();
      const ticket = await createTicket(w, { assigneeId: w.agent.id });
      await gqlOk(t.url, STATUS, { id: ticket.id, status: 'IN_PROGRESS' }, w.agentToken);
      await gqlOk(t.url, STATUS, { id: ticket.id, status: 'RESOLVED' }, w.agentToken);
      const reopened = await gqlOk(t.url, STATUS, { id: ticket.id, status: 'IN_PROGRESS' }, w.agentToken);
      expect(reopened.changeTicketStatus).toMatchObject({ status: 'IN_PROGRESS', resolvedAt: null });
      await gqlOk(t.url, STATUS, { id: ticket.id, status: 'RESOLVED' }, w.agentToken);
      await gqlOk(t.url, STATUS, { id: ticket.id, status: 'CLOSED' }, w.agentToken);
      const closed = await gql(t.url, STATUS, { id: ticket.id, status: 'IN_PROGRESS' }, w.agentToken);
      expect(errorCode(closed)).toBe('INVALID_TRANSITION');
      expect(closed.errors?.[0].message).toMatch(/allowed next states: none/);
    });

    it('recomputes due times when the priority changes', async () => {
      const w = await world();
      const ticket = await createTicket(w, { priority: 'LOW' });
      const { changeTicketPriority } = await gqlOk(
        t.url,
        'mutation ($id: ID!) { changeTicketPriority(ticketId: $id, priority: URGENT) { priority resolutionDueAt } }',
        { id: ticket.id },
        w.agentToken,
      );
      expect(changeTicketPriority.priority).toBe('URGENT');
      expect(Date.parse(changeTicketPriority.resolutionDueAt) - Date.parse(ticket.createdAt)).toBe(4 * 3600_000);
    });

    it('records the first public staff reply as the first response, not an internal note', async () => {
      const w = await world();
      const ticket = await createTicket(w, { assigneeId: w.agent.id });
      t.clock.advance(5 * 60_000);
      await gqlOk(t.url, MESSAGE, { input: { ticketId: ticket.id, body: 'looking', internal: true } }, w.agentToken);
      const afterNote = await t.app.dataSource.getRepository(Ticket).findOneByOrFail({ id: ticket.id });
      expect(afterNote.firstRespondedAt).toBeNull();
      t.clock.advance(5 * 60_000);
      await gqlOk(t.url, MESSAGE, { input: { ticketId: ticket.id, body: 'Hello, we are on it' } }, w.agentToken);
      const afterReply = await t.app.dataSource.getRepository(Ticket).findOneByOrFail({ id: ticket.id });
      expect(afterReply.firstRespondedAt!.getTime() - afterReply.createdAt.getTime()).toBe(10 * 60_000);
    });
  });

  describe('least-loaded assignment', () => {
    it('picks the available agent with the fewest active tickets under their limit, ties to the one idle longest', async () => {
      const w = await world();
      const ds = t.app.dataSource;
      // w.agent: available, no tickets, but gets two now.
      const busy = w.agent;
      const idleLong = await makeUser(ds, w.tenant, { role: Role.AGENT, lastAssignedAt: new Date('2026-01-01T08:00:00Z') });
      const idleShort = await makeUser(ds, w.tenant, { role: Role.AGENT, lastAssignedAt: new Date('2026-01-01T09:00:00Z') });
      await makeUser(ds, w.tenant, { role: Role.AGENT, availability: Availability.AWAY });
      await makeUser(ds, w.tenant, { role: Role.AGENT, maxOpenTickets: 0 });
      await makeUser(ds, w.tenant, { role: Role.SUPERVISOR });
      await createTicket(w, { assigneeId: busy.id });
      await createTicket(w, { assigneeId: busy.id });

      const picks: string[] = [];
      for (let i = 0; i < 3; i++) {
        const ticket = await createTicket(w);
        picks.push((await gqlOk(t.url, ASSIGN, { id: ticket.id }, w.agentToken)).assignTicket.assigneeId);
        t.clock.advance(1000);
      }
      // idleLong and idleShort have 0 tickets: idleLong waited longest; then idleShort; then the three are even
      // (1, 1, 2), so idleLong again (its last assignment is older than idleShort's).
      expect(picks).toEqual([idleLong.id, idleShort.id, idleLong.id]);
    });

    it('fails with CONFLICT when no agent has room, leaving the ticket unassigned', async () => {
      const w = await world();
      await t.app.dataSource.getRepository(User).update({ id: w.agent.id }, { availability: Availability.OFFLINE });
      const ticket = await createTicket(w);
      const result = await gql(t.url, ASSIGN, { id: ticket.id }, w.adminToken);
      expect(errorCode(result)).toBe('CONFLICT');
      expect((await t.app.dataSource.getRepository(Ticket).findOneByOrFail({ id: ticket.id })).assigneeId).toBeNull();
    });

    it('auto-assigns a conversation a customer starts', async () => {
      const w = await world();
      const { startSupportConversation } = await gqlOk(
        t.url,
        'mutation { startSupportConversation(message: "My booking vanished\\nPlease help") { ticket { id subject status assigneeId } message { authorKind body } } }',
        {},
        w.customerToken,
      );
      // The customer sees that someone has it, not who (staff data).
      expect(startSupportConversation.ticket).toMatchObject({
        subject: 'My booking vanished',
        status: 'ASSIGNED',
        assigneeId: null,
      });
      expect(startSupportConversation.message.authorKind).toBe('CUSTOMER');
      const staffView = await gqlOk(
        t.url,
        'query ($id: ID!) { ticket(id: $id) { assigneeId } }',
        { id: startSupportConversation.ticket.id },
        w.adminToken,
      );
      expect(staffView.ticket.assigneeId).toBe(w.agent.id);
    });
  });

  describe('internal notes', () => {
    it('are hidden from the customer in the thread and in the count, but shown to staff', async () => {
      const w = await world();
      const ticket = await createTicket(w, { assigneeId: w.agent.id });
      await gqlOk(t.url, MESSAGE, { input: { ticketId: ticket.id, body: 'Public answer' } }, w.agentToken);
      await gqlOk(
        t.url,
        MESSAGE,
        { input: { ticketId: ticket.id, body: 'Customer is difficult', internal: true } },
        w.agentToken,
      );

      const staffView = await gqlOk(t.url, THREAD, { id: ticket.id }, w.agentToken);
      expect(staffView.ticket.messageCount).toBe(2);
      const customerView = await gqlOk(t.url, THREAD, { id: ticket.id }, w.customerToken);
      expect(customerView.ticket).toEqual({
        messageCount: 1,
        messages: { totalCount: 1, edges: [{ node: { body: 'Public answer', internal: false } }] },
      });
    });

    it('page like a chat: the latest first with last, older ones with before, two threads in one list', async () => {
      const w = await world();
      const [one, two] = [await createTicket(w), await createTicket(w)];
      // Seven replies on the first ticket (a note among them), two on the second; one second apart.
      for (let i = 1; i <= 7; i++) {
        t.clock.advance(1000);
        await gqlOk(t.url, MESSAGE, { input: { ticketId: one.id, body: `Reply ${i}`, internal: i === 4 } }, w.agentToken);
      }
      for (const body of ['Other 1', 'Other 2']) {
        t.clock.advance(1000);
        await gqlOk(t.url, MESSAGE, { input: { ticketId: two.id, body } }, w.agentToken);
      }
      const PAGE = `query ($id: ID!, $last: Int, $before: String, $first: Int, $after: String) { ticket(id: $id) {
        messages(last: $last, before: $before, first: $first, after: $after) {
          totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { node { body } } } } }`;
      const read = async (variables: Record<string, unknown>, token = w.agentToken) =>
        (await gqlOk(t.url, PAGE, { id: one.id, ...variables }, token)).ticket.messages;
      const bodies = (page: any) => page.edges.map((edge: any) => edge.node.body);
      const latest = await read({ last: 3 });
      expect(bodies(latest)).toEqual(['Reply 5', 'Reply 6', 'Reply 7']);
      expect(latest).toMatchObject({ totalCount: 7, pageInfo: { hasNextPage: false, hasPreviousPage: true } });
      const older = await read({ last: 3, before: latest.pageInfo.startCursor });
      expect(bodies(older)).toEqual(['Reply 2', 'Reply 3', 'Reply 4']);
      expect(older.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true });
      const oldest = await read({ last: 3, before: older.pageInfo.startCursor });
      expect(bodies(oldest)).toEqual(['Reply 1']);
      expect(oldest.pageInfo.hasPreviousPage).toBe(false);
      // Forwards from the start, the same thread in the same order.
      const start = await read({ first: 4 });
      const rest = await read({ first: 4, after: start.pageInfo.endCursor });
      expect([...bodies(start), ...bodies(rest)]).toEqual([...bodies(oldest), ...bodies(older), ...bodies(latest)]);
      expect([start.pageInfo.hasNextPage, rest.pageInfo.hasNextPage]).toEqual([true, false]);
      // The customer pages their view: no internal note, and the count agrees.
      const customer = await read({ last: 3 }, w.customerToken);
      expect(bodies(customer)).toEqual(['Reply 5', 'Reply 6', 'Reply 7']);
      const customerOlder = await read({ last: 3, before: customer.pageInfo.startCursor }, w.customerToken);
      expect([bodies(customerOlder), customer.totalCount]).toEqual([['Reply 1', 'Reply 2', 'Reply 3'], 6]);
      // A list of tickets pages each thread on its own (one statement for all of them).
      const listed = await gqlOk(
        t.url,
        `{ tickets(first: 10) { edges { node { id messages(last: 2) { totalCount edges { node { body } } } } } } }`,
        {},
        w.agentToken,
      );
      const threads = new Map(listed.tickets.edges.map((edge: any) => [edge.node.id, edge.node.messages]));
      expect(bodies(threads.get(one.id))).toEqual(['Reply 6', 'Reply 7']);
      expect(bodies(threads.get(two.id))).toEqual(['Other 1', 'Other 2']);
      // A forged cursor is refused.
      expect(errorCode(await gql(t.url, PAGE, { id: one.id, last: 2, before: 'garbage' }, w.agentToken))).toBe('BAD_USER_INPUT');
    });

    it('cannot be written by a customer', async () => {
      const w = await world();
      const ticket = await createTicket(w);
      const result = await gql(
        t.url,
        MESSAGE,
        { input: { ticketId: ticket.id, body: 'sneaky', internal: true } },
        w.customerToken,
      );
      expect(errorCode(result)).toBe('FORBIDDEN');
    });

    it('never reach a customer subscription, while staff receive both', async () => {
      const w = await world();
      const ticket = await createTicket(w, { assigneeId: w.agent.id });
      const query = 'subscription ($id: ID!) { ticketMessageAdded(ticketId: $id) { body internal authorName } }';
      const staffClient = wsClient(t.url, w.adminToken);
      const customerClient = wsClient(t.url, w.customerToken);
      const staff = new Subscription<any>(staffClient, query, { id: ticket.id });
      const customer = new Subscription<any>(customerClient, query, { id: ticket.id });
      await settle();

      await gqlOk(t.url, MESSAGE, { input: { ticketId: ticket.id, body: 'note', internal: true } }, w.agentToken);
      await gqlOk(t.url, MESSAGE, { input: { ticketId: ticket.id, body: 'reply' } }, w.agentToken);
      await gqlOk(
        t.url,
        'mutation ($id: ID!) { startSupportConversation(message: "thanks", ticketId: $id) { message { id } } }',
        { id: ticket.id },
        w.customerToken,
      );

      const staffItems = await staff.waitFor(3);
      expect(staffItems.map((i) => i.ticketMessageAdded.body)).toEqual(['note', 'reply', 'thanks']);
      const customerItems = await customer.waitFor(2);
      await settle();
      expect(customerItems.map((i) => i.ticketMessageAdded.body)).toEqual(['reply', 'thanks']);
      await Promise.all([staffClient.dispose(), customerClient.dispose()]);
    });
  });

  describe('tenant isolation', () => {
    it('treats another tenant’s ticket as unknown in a query, a mutation and a subscription', async () => {
      const mine = await world();
      const theirs = await world();
      const foreign = await createTicket(theirs);

      const read = await gql(t.url, 'query ($id: ID!) { ticket(id: $id) { id } }', { id: foreign.id }, mine.adminToken);
      const unknown = await gql(
        t.url,
        'query ($id: ID!) { ticket(id: $id) { id } }',
        { id: '00000000-0000-4000-8000-000000000000' },
        mine.adminToken,
      );
      expect(errorCode(read)).toBe('NOT_FOUND');
      expect(read.errors?.[0].message.replace(foreign.id, 'ID')).toBe(
        unknown.errors?.[0].message.replace('00000000-0000-4000-8000-000000000000', 'ID'),
      );

      const write = await gql(t.url, MESSAGE, { input: { ticketId: foreign.id, body: 'hi' } }, mine.adminToken);
      expect(errorCode(write)).toBe('NOT_FOUND');
      expect((await gqlOk(t.url, THREAD, { id: foreign.id }, theirs.adminToken)).ticket.messageCount).toBe(0);

      const listed = await gqlOk(t.url, '{ tickets { totalCount } }', {}, mine.adminToken);
      expect(listed.tickets.totalCount).toBe(0);
      // Filters naming the other tenant's people, subject and reference find nothing either.
      await gqlOk(t.url, ASSIGN, { id: foreign.id, userId: theirs.agent.id }, theirs.adminToken);
      for (const filter of [
        { requesterId: theirs.contact.id },
        { assigneeId: theirs.agent.id },
        { text: foreign.reference },
        { text: 'Printer on fire' },
      ]) {
        const probed = await gqlOk(
          t.url,
          'query ($filter: TicketFilter) { tickets(filter: $filter) { totalCount edges { node { id } } } }',
          { filter },
          mine.adminToken,
        );
        expect([filter, probed.tickets]).toEqual([filter, { totalCount: 0, edges: [] }]);
      }

      const client = wsClient(t.url, mine.adminToken);
      const spy = new Subscription<any>(client, 'subscription ($id: ID!) { ticketMessageAdded(ticketId: $id) { body } }', {
        id: foreign.id,
      });
      const changes = new Subscription<any>(client, 'subscription { ticketChanged { ticket { id } } }');
      await settle();
      expect(spy.errors).toEqual([expect.objectContaining({ extensions: { code: 'NOT_FOUND', id: foreign.id } })]);
      await gqlOk(t.url, MESSAGE, { input: { ticketId: foreign.id, body: 'secret' } }, theirs.adminToken);
      await createTicket(theirs);
      await settle();
      expect(spy.items).toEqual([]);
      expect(changes.items).toEqual([]);
      await client.dispose();
    });

    it('lets a customer see only their own tickets', async () => {
      const w = await world();
      const other = await makeContact(t.app.dataSource, w.tenant);
      const own = await createTicket(w);
      const notOwn = await createTicket(w, { requesterId: other.id });
      await gqlOk(t.url, MESSAGE, { input: { ticketId: own.id, body: 'internal', internal: true } }, w.agentToken);
      const { tickets } = await gqlOk(
        t.url,
        '{ tickets { totalCount edges { node { id messageCount requester { id } assignee { id } } } } }',
        {},
        w.customerToken,
      );
      expect(tickets.edges.map((e: any) => e.node)).toEqual([
        { id: own.id, messageCount: 0, requester: { id: w.contact.id }, assignee: null },
      ]);
      const staffList = await gqlOk(t.url, '{ tickets { edges { node { id requester { id } } } } }', {}, w.agentToken);
      expect(staffList.tickets.edges.map((e: any) => e.node.requester.id).sort()).toEqual([w.contact.id, other.id].sort());
      expect(errorCode(await gql(t.url, 'query ($id: ID!) { ticket(id: $id) { id } }', { id: notOwn.id }, w.customerToken))).toBe(
        'NOT_FOUND',
      );
    });
  });

  describe('ticketChanged subscription', () => {
    it('feeds an agent queue: only tickets assigned to me', async () => {
      const w = await world();
      const colleague = await makeUser(t.app.dataSource, w.tenant, { role: Role.AGENT });
      const client = wsClient(t.url, w.agentToken);
      const queue = new Subscription<any>(
        client,
        'subscription { ticketChanged(filter: { assignedToMe: true }) { kind ticket { reference assigneeId } } }',
      );
      await settle();
      await createTicket(w, { assigneeId: colleague.id });
      const mine = await createTicket(w, { assigneeId: w.agent.id });
      const items = await queue.waitFor(1);
      await settle();
      expect(items).toEqual([
        { ticketChanged: { kind: 'ASSIGNED', ticket: { reference: mine.reference, assigneeId: w.agent.id } } },
      ]);
      await client.dispose();
    });
  });

  describe('listing', () => {
    it('filters, sorts and pages with cursors and a total count', async () => {
      const w = await world();
      for (const [i, priority] of ['LOW', 'URGENT', 'MEDIUM', 'HIGH', 'URGENT'].entries()) {
        await createTicket(w, { priority, subject: `Ticket ${i}` });
        t.clock.advance(1000);
      }
      const query = `query ($after: String) {
        tickets(first: 2, after: $after, orderBy: { field: PRIORITY, direction: DESC }, filter: { priorities: [URGENT, HIGH, MEDIUM] }) {
          totalCount pageInfo { hasNextPage endCursor } edges { node { subject priority } }
        }
      }`;
      const page1 = (await gqlOk(t.url, query, {}, w.agentToken)).tickets;
      const page2 = (await gqlOk(t.url, query, { after: page1.pageInfo.endCursor }, w.agentToken)).tickets;
      expect(page1.totalCount).toBe(4);
      expect(page1.pageInfo.hasNextPage).toBe(true);
      expect(page2.pageInfo.hasNextPage).toBe(false);
      const priorities = [...page1.edges, ...page2.edges].map((e: any) => e.node.priority);
      expect(priorities).toEqual(['URGENT', 'URGENT', 'HIGH', 'MEDIUM']);

      const text = await gqlOk(
        t.url,
        '{ tickets(filter: { text: "T-000004" }) { edges { node { subject } } } }',
        {},
        w.agentToken,
      );
      expect(text.tickets.edges).toEqual([{ node: { subject: 'Ticket 3' } }]);
      const bad = await gql(t.url, '{ tickets(after: "garbage") { totalCount } }', {}, w.agentToken);
      expect(errorCode(bad)).toBe('BAD_USER_INPUT');
    });

    it('selects and orders exactly the tickets each filter and sort describes, page by page, for staff and customers', async () => {
      const w = await world();
      const ds = t.app.dataSource;
      const north = await makeContact(ds, w.tenant, { name: 'Nora' });
      await ds.query(`UPDATE contact SET area = 'North' WHERE id = $1`, [north.id]);
      const specs = [
        { subject: 'Printer on fire', priority: 'URGENT', category: 'TECHNICAL', assigneeId: w.agent.id },
        { subject: 'Refund 50% please', priority: 'LOW', category: 'BILLING', requesterId: north.id },
        { subject: 'Login fails', priority: 'HIGH', category: 'ACCOUNT', description: 'smoke from the router' },
        { subject: 'Invoice twice', priority: 'MEDIUM', category: 'BILLING', assigneeId: w.agent.id, requesterId: north.id },
        { subject: 'Slow app', priority: 'URGENT', category: 'TECHNICAL' },
        { subject: 'Wrong address', priority: 'LOW', category: 'BOOKING', assigneeId: w.admin.id },
        { subject: 'Broken link', priority: 'HIGH', category: 'TECHNICAL', requesterId: north.id },
      ];
      const ids: string[] = [];
      for (const spec of specs) {
        ids.push((await createTicket(w, { assigneeId: null, ...spec })).id);
        t.clock.advance(60_000);
      }
      // States a list must tell apart, set directly: resolved and closed tickets, breaches, tags, a later update.
      const at = (minutes: number) => new Date(t.clock.now().getTime() + minutes * 60_000);
      await ds.query(`UPDATE ticket SET status = 'resolved', "resolvedAt" = $2 WHERE id = $1`, [ids[1], at(5)]);
      await ds.query(`UPDATE ticket SET status = 'closed', "resolvedAt" = $2, "closedAt" = $2 WHERE id = $1`, [ids[5], at(20)]);
      await ds.query(`UPDATE ticket SET "firstResponseBreachedAt" = $2 WHERE id = $1`, [ids[0], at(1)]);
      await ds.query(`UPDATE ticket SET "resolutionBreachedAt" = $2 WHERE id = $1`, [ids[3], at(2)]);
      await ds.query(`UPDATE ticket SET tags = '{outage,vip}' WHERE id = ANY($1)`, [[ids[0], ids[4]]]);
      await ds.query(`UPDATE ticket SET "updatedAt" = $2 WHERE id = $1`, [ids[2], at(30)]);

      const FIELDS = `id number status priority category assigneeId requester { id } tags subject description
        createdAt updatedAt resolvedAt resolutionDueAt firstResponseBreachedAt resolutionBreachedAt`;
      const all: any[] = [];
      for (const id of ids)
        all.push((await gqlOk(t.url, `query ($id: ID!) { ticket(id: $id) { ${FIELDS} } }`, { id }, w.adminToken)).ticket);
      const areaOf = (ticket: any) => (ticket.requester.id === north.id ? 'North' : null);
      const from = at(-3).toISOString();
      const to = at(3).toISOString();
      const cases: Array<[Record<string, unknown>, (ticket: any) => boolean]> = [
        [{}, () => true],
        [{ statuses: ['OPEN'] }, (x) => x.status === 'OPEN'],
        [{ statuses: ['RESOLVED', 'CLOSED'] }, (x) => ['RESOLVED', 'CLOSED'].includes(x.status)],
        [{ priorities: ['LOW', 'URGENT'] }, (x) => ['LOW', 'URGENT'].includes(x.priority)],
        [{ categories: ['BILLING'] }, (x) => x.category === 'BILLING'],
        [{ assigneeId: w.agent.id }, (x) => x.assigneeId === w.agent.id],
        [{ unassigned: true }, (x) => x.assigneeId === null],
        [{ requesterId: north.id }, (x) => x.requester.id === north.id],
        [{ createdFrom: from, createdTo: to }, (x) => x.createdAt >= from && x.createdAt < to],
        [{ resolvedFrom: at(0).toISOString(), resolvedTo: at(10).toISOString() }, (x) => x.resolvedAt === at(5).toISOString()],
        [{ tags: [' Outage '] }, (x) => x.tags.includes('outage')],
        [{ area: 'north' }, (x) => areaOf(x) === 'North'],
        [{ breached: true }, (x) => Boolean(x.firstResponseBreachedAt || x.resolutionBreachedAt)],
        [{ breached: false }, (x) => !x.firstResponseBreachedAt && !x.resolutionBreachedAt],
        [{ text: 'FIRE' }, (x) => x.subject === 'Printer on fire'],
        [{ text: 'smoke' }, (x) => x.description.includes('smoke')],
        [{ text: '50%' }, (x) => x.subject.includes('50%')],
        [{ text: '%' }, (x) => x.subject.includes('%')],
        [{ text: 'T-000004' }, (x) => x.number === 4],
        [
          {
            statuses: ['OPEN', 'ASSIGNED'],
            priorities: ['URGENT', 'MEDIUM'],
            categories: ['TECHNICAL', 'BILLING'],
            tags: ['vip'],
          },
          (x) => ['OPEN', 'ASSIGNED'].includes(x.status) && ['URGENT', 'MEDIUM'].includes(x.priority) && x.tags.includes('vip'),
        ],
      ];
      const RANK = ['LOW', 'MEDIUM', 'HIGH', 'URGENT'];
      const key: Record<string, (x: any) => string | number> = {
        CREATED_AT: (x) => x.createdAt,
        UPDATED_AT: (x) => x.updatedAt,
        PRIORITY: (x) => RANK.indexOf(x.priority),
        RESOLUTION_DUE_AT: (x) => x.resolutionDueAt,
        NUMBER: (x) => x.number,
      };
      const PAGE = `query ($filter: TicketFilter, $orderBy: TicketOrder, $after: String) {
        tickets(first: 2, filter: $filter, orderBy: $orderBy, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { id } } }
      }`;
      const walk = async (token: string, filter: Record<string, unknown>, orderBy: Record<string, string>) => {
        const seen: string[] = [];
        const totals = new Set<number>();
        for (let after: string | null = null; ;) {
          const page: any = (await gqlOk(t.url, PAGE, { filter, orderBy, after }, token)).tickets;
          seen.push(...page.edges.map((edge: any) => edge.node.id));
          totals.add(page.totalCount);
          if (!page.pageInfo.hasNextPage) {
            // Past the end: no rows, and still the total.
            if (page.pageInfo.endCursor) {
              const beyond: any = (await gqlOk(t.url, PAGE, { filter, orderBy, after: page.pageInfo.endCursor }, token)).tickets;
              seen.push(...beyond.edges.map((edge: any) => edge.node.id));
              totals.add(beyond.totalCount);
            }
            return { seen, totals: [...totals] };
          }
          after = page.pageInfo.endCursor;
        }
      };
      // Backwards from the end with last/before: the same list, a page at a time from its tail.
      const BACK = `query ($filter: TicketFilter, $orderBy: TicketOrder, $before: String) {
        tickets(last: 2, filter: $filter, orderBy: $orderBy, before: $before) { totalCount pageInfo { hasNextPage hasPreviousPage startCursor } edges { node { id } } }
      }`;
      const walkBack = async (token: string, filter: Record<string, unknown>, orderBy: Record<string, string>) => {
        const seen: string[] = [];
        const flags = new Set<string>();
        for (let before: string | null = null; ;) {
          const page: any = (await gqlOk(t.url, BACK, { filter, orderBy, before }, token)).tickets;
          seen.unshift(...page.edges.map((edge: any) => edge.node.id));
          // A page read backwards from a cursor has items after it; the first page (the tail) has none.
          flags.add(`next=${page.pageInfo.hasNextPage === (before !== null)}`);
          if (!page.pageInfo.hasPreviousPage) return { seen, flags: [...flags] };
          before = page.pageInfo.startCursor;
        }
      };
      const expected = (tickets: any[], match: (x: any) => boolean, field: string, direction: string) =>
        tickets
          .filter(match)
          .sort((a, b) => {
            const [ka, kb] = [key[field](a), key[field](b)];
            const order = ka < kb ? -1 : ka > kb ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
            return direction === 'ASC' ? order : -order;
          })
          .map((x) => x.id);
      for (const [filter, match] of cases) {
        for (const field of Object.keys(key)) {
          for (const direction of ['ASC', 'DESC']) {
            const want = expected(all, match, field, direction);
            const got = await walk(w.adminToken, filter, { field, direction });
            expect({ filter, field, direction, ...got }).toEqual({ filter, field, direction, seen: want, totals: [want.length] });
            const back = await walkBack(w.adminToken, filter, { field, direction });
            expect({ filter, field, direction, ...back }).toEqual({ filter, field, direction, seen: want, flags: ['next=true'] });
          }
        }
      }
      // A customer pages through their own tickets only, whatever the filter names.
      const nora = (
        await t.app.services.auth.issueCustomerToken(
          { kind: 'staff', tenantId: w.tenant.id, userId: w.admin.id, role: Role.ADMIN, name: w.admin.name },
          north.id,
        )
      ).token;
      for (const [filter, match] of cases) {
        const want = expected(all, (x) => x.requester.id === north.id && match(x), 'CREATED_AT', 'DESC');
        const got = await walk(nora, filter, { field: 'CREATED_AT', direction: 'DESC' });
        expect({ filter, ...got }).toEqual({ filter, seen: want, totals: [want.length] });
      }
    });

    it('answers a list exactly as the tickets one by one, whatever it asks for and however (fragments, inline fragments)', async () => {
      const w = await world();
      const manager = await makeUser(t.app.dataSource, w.tenant, { role: Role.MANAGER, name: 'Mira' });
      await t.app.dataSource.query(`UPDATE "user" SET "managerId" = $1 WHERE id = $2`, [manager.id, w.agent.id]);
      await t.app.dataSource.query(
        `UPDATE contact SET tags = '{vip}', area = 'Dago', attributes = '{"plan":"gold"}' WHERE id = $1`,
        [w.contact.id],
      );
      await createTicket(w, { subject: 'Unassigned', assigneeId: null });
      await createTicket(w, { subject: 'Assigned', assigneeId: w.agent.id, priority: 'HIGH' });
      const shapes = [
        `reference`,
        `id subject ...Who`,
        `... on Ticket { status priority firstResponseDueAt requester { name } } assignee { id }`,
        `reference messageCount requester { id name phone email tags attributes area consent { channel granted } }
         assignee { id name email role availability manager { id name } } ...Who`,
      ];
      for (const shape of shapes) {
        const fragment = shape.includes('...Who')
          ? ' fragment Who on Ticket { requester { externalId locale } assignee { name } }'
          : '';
        const list = (
          await gqlOk(t.url, `{ tickets(first: 10) { edges { node { id ${shape} } } } }${fragment}`, {}, w.adminToken)
        ).tickets.edges.map((edge: any) => edge.node);
        expect(list).toHaveLength(2);
        for (const node of list) {
          const one = await gqlOk(
            t.url,
            `query ($id: ID!) { ticket(id: $id) { id ${shape} } }${fragment}`,
            { id: node.id },
            w.adminToken,
          );
          expect([shape, node]).toEqual([shape, one.ticket]);
        }
      }
      // A customer's list never carries the assignee, however it is asked for.
      const mine = await gqlOk(
        t.url,
        `{ tickets { edges { node { subject assignee { id name } requester { name } } } } }`,
        {},
        w.customerToken,
      );
      expect(mine.tickets.edges.map((edge: any) => edge.node.assignee)).toEqual([null, null]);
    });

    it('refuses malformed filter values with BAD_USER_INPUT', async () => {
      const w = await world();
      await createTicket(w);
      const filters: Array<Record<string, unknown>> = [
        { assigneeId: 'not-a-uuid' },
        { requesterId: "1' OR '1'='1" },
        { createdFrom: 'yesterday' },
        { statuses: ['ALMOST_DONE'] },
      ];
      const answers = [];
      for (const filter of filters) {
        const answer = await gql(
          t.url,
          'query ($filter: TicketFilter) { tickets(filter: $filter) { totalCount } }',
          { filter },
          w.agentToken,
        );
        answers.push([filter, errorCode(answer)]);
      }
      expect(answers).toEqual(filters.map((filter) => [filter, 'BAD_USER_INPUT']));
      // The other lists' filters are checked the same way, with the field named.
      const others: Array<[string, Record<string, unknown>]> = [
        ['query ($filter: DeliveryFilter) { deliveries(filter: $filter) { totalCount } }', { tenantId: 'not-a-uuid' }],
        ['query ($filter: EscalationFilter) { escalations(filter: $filter) { totalCount } }', { ticketId: "1' OR '1'='1" }],
        ['query ($filter: OverdueFilter) { overdueItems(filter: $filter) { totalCount } }', { assigneeId: 'nobody' }],
      ];
      const refused = [];
      for (const [query, filter] of others) {
        const answer = await gql(t.url, query, { filter }, w.adminToken);
        refused.push([errorCode(answer), (answer.errors?.[0].extensions?.problems as any)?.[0]?.path?.[1]]);
      }
      expect(refused).toEqual(others.map(([, filter]) => ['BAD_USER_INPUT', Object.keys(filter)[0]]));
    });

    it('refuses forged cursors with BAD_USER_INPUT, whatever they hold', async () => {
      const w = await world();
      await createTicket(w);
      const forge = (...parts: unknown[]) => Buffer.from(JSON.stringify(parts)).toString('base64url');
      const id = randomUUID();
      const cases: Array<[string, string]> = [
        ['NUMBER', forge('number', '99999999999', id)],
        ['NUMBER', forge('number', '1e5', id)],
        ['PRIORITY', forge('priority', 'critical', id)],
        ['CREATED_AT', forge('createdAt', '99999-01-01T00:00:00.000Z', id)],
        ['CREATED_AT', forge('createdAt', '2026-02-31T00:00:00Z; DROP TABLE ticket', id)],
        ['UPDATED_AT', forge('updatedAt', new Date().toISOString(), 'not-a-uuid')],
        // A real cursor of one order used with another.
        ['NUMBER', forge('createdAt', new Date().toISOString(), id)],
      ];
      const answers = [];
      for (const [field, after] of cases) {
        const answer = await gql(
          t.url,
          'query ($after: String, $field: TicketOrderField!) { tickets(after: $after, orderBy: { field: $field, direction: ASC }) { totalCount } }',
          { after, field },
          w.agentToken,
        );
        answers.push([field, errorCode(answer), answer.errors?.[0].message.includes('cursor')]);
      }
      expect(answers).toEqual(cases.map(([field]) => [field, 'BAD_USER_INPUT', true]));
      // The same checks guard `before`, and a page goes one way only.
      const backwards = [];
      for (const [field, before] of cases) {
        const answer = await gql(
          t.url,
          'query ($before: String, $field: TicketOrderField!) { tickets(last: 5, before: $before, orderBy: { field: $field, direction: ASC }) { totalCount } }',
          { before, field },
          w.agentToken,
        );
        backwards.push([field, errorCode(answer), (answer.errors?.[0].extensions?.problems as any)?.[0]?.path]);
      }
      expect(backwards).toEqual(cases.map(([field]) => [field, 'BAD_USER_INPUT', ['before']]));
      const real = (await gqlOk(t.url, '{ tickets(first: 1) { pageInfo { endCursor } } }', {}, w.agentToken)).tickets.pageInfo
        .endCursor;
      const both = await gql(
        t.url,
        'query ($c: String) { tickets(after: $c, before: $c) { totalCount } }',
        { c: real },
        w.agentToken,
      );
      expect(errorCode(both)).toBe('BAD_USER_INPUT');
      expect(errorCode(await gql(t.url, '{ tickets(last: 101) { totalCount } }', {}, w.agentToken))).toBe('BAD_USER_INPUT');
      const deliveries = await gql(
        t.url,
        '{ deliveries(after: "WyJjcmVhdGVkQXQiLCIxIiwieCJd") { totalCount } }',
        {},
        w.adminToken,
      );
      expect(errorCode(deliveries)).toBe('BAD_USER_INPUT');
    });

    it('answers a body that is not JSON with a GraphQL-shaped 400, not an HTML page', async () => {
      const response = await fetch(`${t.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"query": "{ me { id } }"',
      });
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toMatch(/application\/json/);
      expect(await response.json()).toEqual({
        errors: [{ message: 'The request body is not valid JSON', extensions: { code: 'BAD_REQUEST' } }],
      });
    });
  });

  describe('rating and dashboard', () => {
    it('lets the requester rate once after resolution and reports it on the dashboard', async () => {
      const w = await world();
      const start = t.clock.now();
      const ticket = await createTicket(w, { assigneeId: w.agent.id, priority: 'HIGH' });
      const rate =
        'mutation ($id: ID!, $r: Int!) { rateTicket(ticketId: $id, rating: $r, comment: "quick") { rating ratingComment } }';
      expect(errorCode(await gql(t.url, rate, { id: ticket.id, r: 5 }, w.customerToken))).toBe('INVALID_TRANSITION');

      t.clock.advance(30 * 60_000);
      await gqlOk(t.url, MESSAGE, { input: { ticketId: ticket.id, body: 'Fixed it' } }, w.agentToken);
      await gqlOk(t.url, STATUS, { id: ticket.id, status: 'IN_PROGRESS' }, w.agentToken);
      t.clock.advance(30 * 60_000);
      await gqlOk(t.url, STATUS, { id: ticket.id, status: 'RESOLVED' }, w.agentToken);

      expect(errorCode(await gql(t.url, rate, { id: ticket.id, r: 6 }, w.customerToken))).toBe('BAD_USER_INPUT');
      expect(errorCode(await gql(t.url, rate, { id: ticket.id, r: 4 }, w.agentToken))).toBe('FORBIDDEN');
      expect((await gqlOk(t.url, rate, { id: ticket.id, r: 4 }, w.customerToken)).rateTicket).toEqual({
        rating: 4,
        ratingComment: 'quick',
      });
      expect(errorCode(await gql(t.url, rate, { id: ticket.id, r: 1 }, w.customerToken))).toBe('CONFLICT');

      await createTicket(w, { priority: 'URGENT' }); // unassigned, urgent, breaches first response below
      t.clock.advance(60 * 60_000);
      const { supportDashboard } = await gqlOk(
        t.url,
        `query ($from: DateTimeISO!, $to: DateTimeISO!) { supportDashboard(from: $from, to: $to) {
          total unassigned urgent mine averageFirstResponseMinutes averageResolutionMinutes slaCompliancePercent averageRating ratedCount
          byStatus { status count } } }`,
        { from: start.toISOString(), to: t.clock.now().toISOString() },
        w.agentToken,
      );
      expect(supportDashboard).toMatchObject({
        total: 2,
        unassigned: 1,
        urgent: 1,
        mine: 0,
        averageFirstResponseMinutes: 30,
        averageResolutionMinutes: 60,
        slaCompliancePercent: 50,
        averageRating: 4,
        ratedCount: 1,
      });
      expect(supportDashboard.byStatus).toEqual(
        expect.arrayContaining([
          { status: 'RESOLVED', count: 1 },
          { status: 'OPEN', count: 1 },
        ]),
      );
    });
  });
});
