import { CompletionRequest } from '../src/entities/completion-request.entity';
import { DomainEvent } from '../src/entities/domain-event.entity';
import { Role } from '../src/entities/user.entity';
import { ManualClock } from '../src/services/platform/clock';
import { PASSWORD, makeContact, makeTenant, makeUser } from './helpers/factories';
import { Subscription, type TestApp, errorCode, gql, gqlOk, settle, startTestApp, wsClient } from './helpers/test-app';

const REQUEST = `mutation ($jobId: ID!, $note: String) { requestCompletion(jobId: $jobId, note: $note) { id status deadlineAt } }`;
const HOUR = 3_600_000;

/** A technician's finished job, confirmed by the customer before anyone may review it. */
describe('job-completion requests', () => {
  let t: TestApp;
  const clock = new ManualClock(new Date('2026-11-23T02:00:00Z'));

  beforeAll(async () => {
    t = await startTestApp(clock);
  });
  afterAll(() => t.stop());

  async function tenant() {
    const tenant = await makeTenant(t.app.dataSource, { defaultCountry: 'ID', timezone: 'Asia/Jakarta' });
    const admin = await makeUser(t.app.dataSource, tenant, { role: Role.ADMIN });
    const technician = await makeUser(t.app.dataSource, tenant, { role: Role.TECHNICIAN, externalId: 'TECH-1', name: 'Tono' });
    const agent = await makeUser(t.app.dataSource, tenant, { role: Role.AGENT, phone: '+6281300000401' });
    const contact = await makeContact(t.app.dataSource, tenant, { name: 'Sari', phone: '+6281298760001', email: null });
    const token = async (email: string) => (await t.app.services.auth.login(email, PASSWORD)).token;
    const customerToken = async () =>
      (
        await t.app.services.auth.issueCustomerToken(
          { kind: 'staff', tenantId: tenant.id, userId: admin.id, role: Role.ADMIN, name: 'Admin' },
          contact.id,
        )
      ).token;
    const job = async (externalId: string) => {
      const report = await t.app.services.records.upsert(
        tenant.id,
        [
          {
            kind: 'service_job',
            externalId,
            status: 'done',
            title: 'AC service',
            subject: { type: 'contact', id: contact.id },
            owner: { externalId: 'TECH-1' },
          },
        ],
        null,
      );
      return report.records[0].id as string;
    };
    return { tenant, admin, technician, agent, contact, token, customerToken, job };
  }

  const sent = (tenantId: string) =>
    t.app.dataSource.query(
      `SELECT recipient, body, "notificationType" FROM delivery WHERE "tenantId" = $1 ORDER BY "createdAt", "notificationType"`,
      [tenantId],
    ) as Promise<Array<{ recipient: string; body: string; notificationType: string }>>;
  const status = async (id: string) => (await t.app.dataSource.getRepository(CompletionRequest).findOneByOrFail({ id })).status;

  it('asks the customer on WhatsApp with a single-use link that confirms the job, then takes one verified review', async () => {
    const w = await tenant();
    const jobId = await w.job('JOB-1');
    const technicianToken = await w.token(w.technician.email);
    const { requestCompletion } = await gqlOk(t.url, REQUEST, { jobId, note: 'Replaced the filter' }, technicianToken);
    expect(requestCompletion).toMatchObject({ status: 'PENDING', deadlineAt: '2026-11-25T02:00:00.000Z' });
    expect(errorCode(await gql(t.url, REQUEST, { jobId }, technicianToken))).toBe('CONFLICT');
    const [message] = await sent(w.tenant.id);
    expect(message).toMatchObject({ recipient: '+6281298760001', notificationType: 'completion_request' });
    expect(message.body).toContain('Tono has finished the job "AC service"');
    expect(message.body).toContain('Note: Replaced the filter');
    const link = /\/c\/([\w-]+)/.exec(message.body)![1];

    expect((await fetch(`${t.url}/c/${link.slice(0, -2)}xx`)).status).toBe(404);
    const page = await fetch(`${t.url}/c/${link}`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Hi Sari');
    const answer = (value: string) =>
      fetch(`${t.url}/c/${link}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `answer=${value}&comment=All+good`,
      });
    // A review before the confirmation is refused.
    const REVIEW = `mutation ($id: ID!, $rating: Int!) { leaveReview(completionRequestId: $id, rating: $rating, comment: "Fast and tidy") { rating technicianId } }`;
    const customer = await w.customerToken();
    expect(errorCode(await gql(t.url, REVIEW, { id: requestCompletion.id, rating: 5 }, customer))).toBe('INVALID_TRANSITION');
    expect((await answer('confirm')).status).toBe(200);
    expect((await answer('dispute')).status).toBe(409);
    expect(await status(requestCompletion.id)).toBe('customer_confirmed');
    const events = await t.app.dataSource
      .getRepository(DomainEvent)
      .findBy({ tenantId: w.tenant.id, subjectId: requestCompletion.id });
    expect(events.map((event) => event.type).sort()).toEqual(['completion.confirmed', 'completion.requested']);

    expect((await gqlOk(t.url, REVIEW, { id: requestCompletion.id, rating: 5 }, customer)).leaveReview).toEqual({
      rating: 5,
      technicianId: w.technician.id,
    });
    expect(errorCode(await gql(t.url, REVIEW, { id: requestCompletion.id, rating: 4 }, customer))).toBe('CONFLICT');
    expect(errorCode(await gql(t.url, REVIEW, { id: requestCompletion.id, rating: 4 }, technicianToken))).toBe('FORBIDDEN');
    const { completionRequest } = await gqlOk(
      t.url,
      `query ($id: ID!) { completionRequest(id: $id) { status respondedVia responseComment review { rating comment } job { externalId } deliveries { edges { node { notificationType } } } } }`,
      { id: requestCompletion.id },
      await w.token(w.admin.email),
    );
    expect(completionRequest).toEqual({
      status: 'CUSTOMER_CONFIRMED',
      respondedVia: 'LINK',
      responseComment: 'All good',
      review: { rating: 5, comment: 'Fast and tidy' },
      job: { externalId: 'JOB-1' },
      deliveries: { edges: [{ node: { notificationType: 'completion_request' } }] },
    });
  });

  it('takes TIDAK on WhatsApp as a dispute that opens a ticket with the customer’s words, once', async () => {
    const w = await tenant();
    const jobId = await w.job('JOB-2');
    const { requestCompletion } = await gqlOk(t.url, REQUEST, { jobId }, await w.token(w.admin.email));
    expect(await t.app.services.completions.handleReply(w.contact, 'hello there', 'wamid.A0')).toBe(false);
    expect(await t.app.services.completions.handleReply(w.contact, ' Tidak ', 'wamid.A1')).toBe(true);
    // The provider delivers the same message again: the same answer, not a second one.
    expect(await t.app.services.completions.handleReply(w.contact, 'TIDAK', 'wamid.A1')).toBe(true);
    const request = await t.app.dataSource.getRepository(CompletionRequest).findOneByOrFail({ id: requestCompletion.id });
    expect(request).toMatchObject({ status: 'disputed', respondedVia: 'whatsapp' });
    const tickets = await t.app.dataSource.query(`SELECT id, subject, description, priority FROM ticket WHERE "tenantId" = $1`, [
      w.tenant.id,
    ]);
    expect(tickets).toEqual([
      {
        id: request.supportTicketId,
        subject: 'Job disputed by the customer',
        description: 'The customer says the job is not finished.',
        priority: 'high',
      },
    ]);
    // After the outcome, YA is just a message again.
    expect(await t.app.services.completions.handleReply(w.contact, 'YA', 'wamid.A2')).toBe(false);
  });

  it('reminds every 12 hours, escalates to support at the deadline, and auto-completes after 7 days and 3 failed attempts', async () => {
    clock.set('2026-11-23T02:00:00Z');
    const w = await tenant();
    const jobId = await w.job('JOB-3');
    const { requestCompletion } = await gqlOk(t.url, REQUEST, { jobId }, await w.token(w.admin.email));
    const run = async (hours: number) => {
      clock.set(new Date(Date.parse('2026-11-23T02:00:00Z') + hours * HOUR));
      while ((await t.app.services.completions.runDue()) > 0);
    };
    await run(11);
    expect(await sent(w.tenant.id)).toHaveLength(1);
    await run(12);
    await run(24);
    await run(36);
    const reminders = (await sent(w.tenant.id)).filter((message) => message.notificationType === 'completion_reminder');
    expect(reminders.map((message) => message.recipient)).toEqual(['+6281298760001', '+6281298760001', '+6281298760001']);
    expect(await t.app.dataSource.query(`SELECT count(*)::int AS n FROM ticket WHERE "tenantId" = $1`, [w.tenant.id])).toEqual([
      { n: 0 },
    ]);

    await run(48);
    const request = await t.app.dataSource.getRepository(CompletionRequest).findOneByOrFail({ id: requestCompletion.id });
    expect(request.escalatedAt).toEqual(new Date('2026-11-25T02:00:00Z'));
    const [ticket] = await t.app.dataSource.query(`SELECT subject, "assigneeId" FROM ticket WHERE id = $1`, [
      request.supportTicketId,
    ]);
    expect(ticket).toEqual({ subject: 'Completion not confirmed: AC service', assigneeId: w.agent.id });
    expect((await sent(w.tenant.id)).filter((message) => message.notificationType === 'completion_reminder')).toHaveLength(3);

    // Support tries three times without reaching the customer.
    const agentToken = await w.token(w.agent.email);
    const ATTEMPT = `mutation ($id: ID!, $outcome: ContactAttemptOutcome!) { logContactAttempt(id: $id, channel: CALL, outcome: $outcome) { outcome } }`;
    for (const outcome of ['NO_ANSWER', 'NO_ANSWER', 'WRONG_NUMBER']) {
      await gqlOk(t.url, ATTEMPT, { id: requestCompletion.id, outcome }, agentToken);
    }
    await run(6 * 24);
    expect(await status(requestCompletion.id)).toBe('pending');
    await run(7 * 24);
    expect(await status(requestCompletion.id)).toBe('auto_completed');
    expect(
      errorCode(await gql(t.url, ATTEMPT, { id: requestCompletion.id, outcome: 'REACHED' }, await w.token(w.agent.email))),
    ).toBe('INVALID_TRANSITION');
    const { completionStats } = await gqlOk(
      t.url,
      `query { completionStats(from: "2026-11-01T00:00:00Z", to: "2026-12-01T00:00:00Z") { requested autoCompleted pending perTechnician { name requested } } }`,
      {},
      await w.token(w.admin.email),
    );
    expect(completionStats).toEqual({
      requested: 1,
      autoCompleted: 1,
      pending: 0,
      perTechnician: [{ name: 'Tono', requested: 1 }],
    });
  });

  it('keeps support’s closing note staff-only, and bounds it like every other note', async () => {
    const w = await tenant();
    const { requestCompletion } = await gqlOk(t.url, REQUEST, { jobId: await w.job('JOB-NOTE') }, await w.token(w.admin.email));
    const CLOSE = `mutation ($id: ID!, $note: String) { closeCompletionRequest(id: $id, outcome: UNREACHABLE, note: $note) { status } }`;
    const agent = await w.token(w.agent.email);
    for (const note of ['n'.repeat(2001), 'n'.repeat(50_000)]) {
      const refused = await gql(t.url, CLOSE, { id: requestCompletion.id, note }, agent);
      expect([errorCode(refused), refused.errors?.[0].extensions?.problems]).toEqual([
        'BAD_USER_INPUT',
        [{ path: ['note'], message: expect.stringContaining('2,000'), code: 'TOO_LONG' }],
      ]);
    }
    expect(await status(requestCompletion.id)).toBe('pending');
    await gqlOk(t.url, CLOSE, { id: requestCompletion.id, note: 'Called three times, number disconnected' }, agent);
    const READ = `query ($id: ID!) { completionRequest(id: $id) { status responseComment closingNote } }`;
    expect((await gqlOk(t.url, READ, { id: requestCompletion.id }, agent)).completionRequest).toEqual({
      status: 'UNREACHABLE',
      responseComment: null,
      closingNote: 'Called three times, number disconnected',
    });
    // The customer reads their own comment field empty, and cannot read support's note.
    const customer = await w.customerToken();
    const own = await gqlOk(
      t.url,
      `query ($id: ID!) { completionRequest(id: $id) { status responseComment } }`,
      {
        id: requestCompletion.id,
      },
      customer,
    );
    expect(own.completionRequest).toEqual({ status: 'UNREACHABLE', responseComment: null });
    expect(errorCode(await gql(t.url, READ, { id: requestCompletion.id }, customer))).toBe('FORBIDDEN');
  });

  it('keeps another tenant and the wrong roles out, changing nothing', async () => {
    const victim = await tenant();
    const attacker = await tenant();
    const jobId = await victim.job('JOB-4');
    const { requestCompletion } = await gqlOk(t.url, REQUEST, { jobId }, await victim.token(victim.admin.email));
    const admin = await attacker.token(attacker.admin.email);
    const customer = await attacker.customerToken();
    for (const [query, variables, token] of [
      [REQUEST, { jobId }, admin],
      [
        `mutation ($id: ID!) { logContactAttempt(id: $id, channel: CALL, outcome: NO_ANSWER) { outcome } }`,
        { id: requestCompletion.id },
        admin,
      ],
      [
        `mutation ($id: ID!) { closeCompletionRequest(id: $id, outcome: CANCELLED) { status } }`,
        { id: requestCompletion.id },
        admin,
      ],
      [`query ($id: ID!) { completionRequest(id: $id) { id } }`, { id: requestCompletion.id }, admin],
      [
        `mutation ($id: ID!) { respondToCompletion(id: $id, confirmed: true) { status } }`,
        { id: requestCompletion.id },
        customer,
      ],
      [`mutation ($id: ID!) { respondToCompletion(id: $id, confirmed: true) { status } }`, { id: 'not-an-id' }, customer],
    ] as const) {
      expect(errorCode(await gql(t.url, query, variables, token))).toBe('NOT_FOUND');
    }
    expect(errorCode(await gql(t.url, REQUEST, { jobId }, await victim.token(victim.agent.email)))).toBe('FORBIDDEN');
    expect(await status(requestCompletion.id)).toBe('pending');
    expect((await gqlOk(t.url, '{ completionRequests { totalCount } }', {}, admin)).completionRequests.totalCount).toBe(0);
  });

  it('streams a request’s changes live to the tenant’s staff and its customer, and to nobody else', async () => {
    const w = await tenant();
    const stranger = await tenant();
    const jobId = await w.job('JOB-5');
    const QUERY = `subscription { completionRequestChanged { status respondedVia } }`;
    const clients = [
      wsClient(t.url, await w.token(w.admin.email)),
      wsClient(t.url, await w.customerToken()),
      wsClient(t.url, await stranger.token(stranger.admin.email)),
    ];
    const [staff, customer, outsider] = clients.map((client) => new Subscription<any>(client, QUERY));
    try {
      await settle();
      const { requestCompletion } = await gqlOk(t.url, REQUEST, { jobId }, await w.token(w.technician.email));
      await gqlOk(
        t.url,
        `mutation ($id: ID!) { respondToCompletion(id: $id, confirmed: true, comment: "Great") { status } }`,
        { id: requestCompletion.id },
        await w.customerToken(),
      );
      const expected = [
        { completionRequestChanged: { status: 'PENDING', respondedVia: null } },
        { completionRequestChanged: { status: 'CUSTOMER_CONFIRMED', respondedVia: 'APP' } },
      ];
      expect(await staff.waitFor(2)).toEqual(expected);
      expect(await customer.waitFor(2)).toEqual(expected);
      await settle();
      expect(outsider.items).toEqual([]);
    } finally {
      for (const subscription of [staff, customer, outsider]) subscription.close();
      await Promise.all(clients.map((client) => client.dispose()));
    }
  });
});
