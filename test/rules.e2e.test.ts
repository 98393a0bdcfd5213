import { AutomationRule } from '../src/entities/automation-rule.entity';
import { Channel } from '../src/entities/channel';
import { Delivery } from '../src/entities/delivery.entity';
import { MessageTemplate } from '../src/entities/message-template.entity';
import { RuleExecution } from '../src/entities/rule-execution.entity';
import { Ticket } from '../src/entities/ticket.entity';
import { Role } from '../src/entities/user.entity';
import { ManualClock } from '../src/services/platform/clock';
import { PASSWORD, makeContact, makeTenant, makeUser } from './helpers/factories';
import {
  Subscription,
  type TestApp,
  errorCode,
  gql,
  gqlOk,
  problemPath,
  relayAll,
  settle,
  startTestApp,
  wsClient,
} from './helpers/test-app';

const CREATE = `mutation ($input: AutomationRuleInput!) { createAutomationRule(input: $input) { id name active } }`;
const PUBLISH = `mutation ($event: PublishEventInput!) { publishEvent(event: $event) { events { id recordId } } }`;
const EXECUTIONS = `query ($ruleId: ID) { ruleExecutions(ruleId: $ruleId, first: 50) { totalCount edges { node {
  id status reason trigger eventType depth runAt actions { type status error detail } deliveries { edges { node { channel recipient body notificationType } } }
} } } }`;

/** Automation rules: when this happens, if these hold, after this delay, do these things. */
describe('automation rules', () => {
  let t: TestApp;
  const clock = new ManualClock(new Date('2026-11-23T02:00:00Z'));

  beforeAll(async () => {
    t = await startTestApp(clock);
  });
  afterAll(() => t.stop());

  const relay = () => relayAll(t);

  async function tenant() {
    const tenant = await makeTenant(t.app.dataSource, { defaultCountry: 'ID', timezone: 'Asia/Jakarta' });
    const admin = await makeUser(t.app.dataSource, tenant, { role: Role.ADMIN });
    const agent = await makeUser(t.app.dataSource, tenant, { role: Role.AGENT, phone: '+6281300000001' });
    const token = (await t.app.services.auth.login(admin.email, PASSWORD)).token;
    const contact = await makeContact(t.app.dataSource, tenant, { name: 'Siti', phone: '+6281298765432' });
    await t.app.dataSource.getRepository(MessageTemplate).save({
      tenantId: tenant.id,
      channel: Channel.WHATSAPP,
      name: 'quote_followup',
      body: 'Halo {{contact.name}}, penawaran {{record.externalId}} masih berlaku sampai {{record.expiresAt}}.',
    });
    return { tenant, admin, agent, token, contact };
  }

  const quoteRule = (overrides: Record<string, unknown> = {}) => ({
    name: 'Quote follow-up',
    triggerType: 'EVENT',
    eventTypes: ['quote.*'],
    conditions: {
      all: [
        { path: 'record.kind', op: 'eq', value: 'quote' },
        { path: 'record.amount', op: 'gte', value: 1000000 },
      ],
    },
    actions: [
      {
        type: 'send_message',
        channels: ['whatsapp', 'sms'],
        template: 'quote_followup',
        recipients: [{ type: 'contact' }],
        notificationType: 'quote_followup',
      },
    ],
    ...overrides,
  });

  const quoteEvent = (externalId: string, amount: string, status = 'sent') => ({
    type: 'quote.sent',
    idempotencyKey: `${externalId}:${status}`,
    subject: { type: 'CONTACT', phone: '081298765432' },
    payload: { record: { kind: 'quote', externalId, status, amount, expiresAt: '2026-12-20T00:00:00Z' } },
  });

  const executions = async (token: string, ruleId: string) =>
    (await gqlOk(t.url, EXECUTIONS, { ruleId }, token)).ruleExecutions.edges.map((edge: any) => edge.node);

  it('refuses a rule that could not run, naming each problem’s place, and writes nothing', async () => {
    const w = await tenant();
    const other = await tenant();
    const bad = await gql(
      t.url,
      CREATE,
      {
        input: quoteRule({
          conditions: {
            all: [
              { path: 'record.colour', op: 'eq', value: 'red' },
              { path: 'record.dueAt', op: 'contains', value: 'x' },
            ],
          },
          actions: [
            {
              type: 'send_message',
              channels: ['whatsapp'],
              text: 'Hi {{contact.nickname}}',
              recipients: [{ type: 'user', userId: other.agent.id }],
            },
            { type: 'send_message', channels: ['email'], template: 'quote_followup', recipients: [{ type: 'contact' }] },
            { type: 'launch_rocket' },
          ],
        }),
      },
      w.token,
    );
    expect(errorCode(bad)).toBe('BAD_USER_INPUT');
    expect((bad.errors![0].extensions as any).problems).toEqual([
      { path: ['input', 'conditions', 'all', 0, 'path'], message: 'unknown path "record.colour"', code: 'INVALID' },
      { path: ['input', 'conditions', 'all', 1, 'op'], message: '"contains" needs text or a list', code: 'INVALID' },
      {
        path: ['input', 'actions', 0, 'text'],
        message: 'uses {{contact.nickname}}, which is not a field the rule knows',
        code: 'INVALID',
      },
      { path: ['input', 'actions', 1, 'template'], message: 'no template "quote_followup" for email', code: 'INVALID' },
      { path: ['input', 'actions', 2, 'type'], message: expect.stringContaining('must be one of send_message'), code: 'INVALID' },
      {
        path: ['input', 'actions', 0, 'recipients', 0, 'userId'],
        message: 'no user of this tenant has this id',
        code: 'INVALID',
      },
    ]);
    // A template variable the rule cannot fill is refused too.
    await t.app.dataSource
      .getRepository(MessageTemplate)
      .save({ tenantId: w.tenant.id, channel: Channel.WHATSAPP, name: 'needs_coupon', body: 'Kode kupon {{coupon}}' });
    const template = await gql(
      t.url,
      CREATE,
      { input: quoteRule({ actions: [{ ...quoteRule().actions[0], template: 'needs_coupon' }] }) },
      w.token,
    );
    expect((template.errors![0].extensions as any).problems).toEqual([
      {
        path: ['input', 'actions', 0, 'template'],
        message: 'uses {{coupon}}, which the rule cannot fill; give it in variables',
        code: 'INVALID',
      },
    ]);
    expect(await t.app.dataSource.getRepository(AutomationRule).countBy({ tenantId: w.tenant.id })).toBe(0);

    const supervisor = await makeUser(t.app.dataSource, w.tenant, { role: Role.SUPERVISOR });
    const supervisorToken = (await t.app.services.auth.login(supervisor.email, PASSWORD)).token;
    expect(errorCode(await gql(t.url, CREATE, { input: quoteRule() }, supervisorToken))).toBe('FORBIDDEN');
    const agentToken = (await t.app.services.auth.login(w.agent.email, PASSWORD)).token;
    expect(errorCode(await gql(t.url, '{ automationRules { totalCount } }', {}, agentToken))).toBe('FORBIDDEN');
  });

  it('acts on a matching business event with a rendered WhatsApp message, once, and says why it skipped the others', async () => {
    const w = await tenant();
    const { createAutomationRule: rule } = await gqlOk(t.url, CREATE, { input: quoteRule() }, w.token);
    await gqlOk(
      t.url,
      CREATE,
      {
        input: {
          name: 'Tag new quotes',
          triggerType: 'EVENT',
          eventTypes: ['record.created'],
          actions: [{ type: 'add_tag', target: 'record', tag: 'Follow-Up' }],
        },
      },
      w.token,
    );
    await gqlOk(t.url, PUBLISH, { event: quoteEvent('Q-1', '2500000') }, w.token);
    await gqlOk(t.url, PUBLISH, { event: quoteEvent('Q-2', '500000') }, w.token);
    await relay();

    const ran = await executions(w.token, rule.id);
    // record.created does not match quote.*; each quote.sent does, once.
    expect(ran).toHaveLength(2);
    const big = ran.find((execution: any) => execution.status === 'SUCCEEDED');
    const small = ran.find((execution: any) => execution.status === 'SKIPPED');
    expect(big).toMatchObject({ trigger: 'EVENT', eventType: 'quote.sent', depth: 0 });
    expect(big.actions).toEqual([{ type: 'send_message', status: 'SUCCEEDED', error: null, detail: '1 message(s) queued' }]);
    expect(big.deliveries.edges.map((edge: any) => edge.node)).toEqual([
      {
        channel: 'WHATSAPP',
        recipient: '+6281298765432',
        body: 'Halo Siti, penawaran Q-1 masih berlaku sampai 2026-12-20T00:00:00.000Z.',
        notificationType: 'quote_followup',
      },
    ]);
    expect(small).toMatchObject({ status: 'SKIPPED', reason: 'record.amount gte 1000000 (was 500000)' });
    const tagged = await t.app.dataSource.query(
      `SELECT "externalId", attributes->'tags' AS tags FROM business_record WHERE "tenantId" = $1 ORDER BY "externalId"`,
      [w.tenant.id],
    );
    expect(tagged).toEqual([
      { externalId: 'Q-1', tags: ['follow-up'] },
      { externalId: 'Q-2', tags: ['follow-up'] },
    ]);

    // quote.sent (the business event itself) matched quote.* too, but the same record's message key differs by execution:
    // each execution is its own, and replaying the relay changes nothing.
    const before = await t.app.dataSource.getRepository(Delivery).countBy({ tenantId: w.tenant.id });
    await t.app.dataSource.query(`UPDATE event_handling SET status = 'pending' WHERE "tenantId" = $1 AND consumer = 'rules'`, [
      w.tenant.id,
    ]);
    await relay();
    expect(await t.app.dataSource.getRepository(Delivery).countBy({ tenantId: w.tenant.id })).toBe(before);
    const { automationRule } = await gqlOk(
      t.url,
      `query ($id: ID!) { automationRule(id: $id) { executionCount successCount failureCount lastExecutedAt } }`,
      { id: rule.id },
      w.token,
    );
    expect(automationRule).toMatchObject({ executionCount: before, successCount: before, failureCount: 0 });
  });

  it('acts on every change to its rules at the next event, however the rule was changed, and keeps maxExecutions exact', async () => {
    const w = await tenant();
    const { createAutomationRule: rule } = await gqlOk(t.url, CREATE, { input: quoteRule({ maxExecutions: 2 }) }, w.token);
    const statuses = async () => (await executions(w.token, rule.id)).map((execution: any) => execution.status);
    const version = async () =>
      (await t.app.dataSource.query(`SELECT "rulesVersion" FROM tenant WHERE id = $1`, [w.tenant.id]))[0].rulesVersion;

    await gqlOk(t.url, PUBLISH, { event: quoteEvent('C-1', '2000000') }, w.token);
    await relay();
    expect(await statuses()).toEqual(['SUCCEEDED']);
    // Acting moves the counters, not the version the rules are cached at.
    const afterRun = await version();
    await gqlOk(t.url, PUBLISH, { event: quoteEvent('C-2', '2000000') }, w.token);
    await relay();
    expect(await version()).toBe(afterRun);
    // The third matching event is over the limit of 2.
    await gqlOk(t.url, PUBLISH, { event: quoteEvent('C-3', '2000000') }, w.token);
    await relay();
    expect((await executions(w.token, rule.id)).map((execution: any) => [execution.status, execution.reason]).sort()).toEqual([
      ['SKIPPED', 'Reached its limit of 2 executions'],
      ['SUCCEEDED', null],
      ['SUCCEEDED', null],
    ]);

    // Raised through the API: the very next event sees the new limit and the new condition.
    const raised = quoteRule({
      maxExecutions: 10,
      conditions: { all: [{ path: 'record.amount', op: 'gte', value: 5000000 }] },
    });
    await gqlOk(
      t.url,
      `mutation ($id: ID!, $input: AutomationRuleInput!) { updateAutomationRule(id: $id, input: $input) { id } }`,
      {
        id: rule.id,
        input: raised,
      },
      w.token,
    );
    const started = clock.now();
    clock.advance(60_000); // executions list newest first
    await gqlOk(t.url, PUBLISH, { event: quoteEvent('C-4', '2000000') }, w.token);
    await gqlOk(t.url, PUBLISH, { event: quoteEvent('C-5', '6000000') }, w.token);
    await relay();
    const latest = (await executions(w.token, rule.id)).slice(0, 2);
    expect(latest.map((execution: any) => [execution.status, execution.reason]).sort()).toEqual([
      ['SKIPPED', 'record.amount gte 5000000 (was 2000000)'],
      ['SUCCEEDED', null],
    ]);

    // Switched off behind the service's back (plain SQL): not a single event more.
    await t.app.dataSource.query(`UPDATE automation_rule SET active = false WHERE id = $1`, [rule.id]);
    await gqlOk(t.url, PUBLISH, { event: quoteEvent('C-6', '6000000') }, w.token);
    await relay();
    expect(await statuses()).toHaveLength(5);
    await t.app.dataSource.query(`UPDATE automation_rule SET active = true WHERE id = $1`, [rule.id]);
    await gqlOk(t.url, PUBLISH, { event: quoteEvent('C-7', '6000000') }, w.token);
    await relay();
    expect(await statuses()).toHaveLength(6);
    // Deleted: gone at once.
    await gqlOk(t.url, `mutation ($id: ID!) { deleteAutomationRule(id: $id) }`, { id: rule.id }, w.token);
    await gqlOk(t.url, PUBLISH, { event: quoteEvent('C-8', '6000000') }, w.token);
    await relay();
    expect(await t.app.dataSource.getRepository(RuleExecution).countBy({ ruleId: rule.id, eventType: 'quote.sent' })).toBe(0);
    clock.set(started);
  });

  it('waits out a delay, checks its conditions again, and never acts for a rule switched off meanwhile', async () => {
    const w = await tenant();
    const { createAutomationRule: rule } = await gqlOk(
      t.url,
      CREATE,
      {
        input: quoteRule({
          name: 'Day-3 follow-up',
          eventTypes: ['quote.sent'],
          conditions: {
            all: [
              { path: 'record.kind', op: 'eq', value: 'quote' },
              { not: { path: 'record.status', op: 'in', value: ['accepted', 'paid'] } },
            ],
          },
          delay: { days: 3, untilLocalTime: '09:00' },
        }),
      },
      w.token,
    );
    await gqlOk(t.url, PUBLISH, { event: quoteEvent('Q-10', '100') }, w.token);
    await gqlOk(t.url, PUBLISH, { event: quoteEvent('Q-11', '100') }, w.token);
    await relay();
    const waiting = await executions(w.token, rule.id);
    expect(waiting.map((execution: any) => execution.status)).toEqual(['DELAYED', 'DELAYED']);
    // 3 days after 09:00 in Jakarta (02:00Z) is 09:00 local on the 26th.
    expect(waiting[0].runAt).toBe('2026-11-26T02:00:00.000Z');
    // Each waits as a one-off scheduler job at its time (the worker's poll is the fallback).
    await settle(100);
    const oneOff = await t.app.dataSource.query(
      `SELECT next_run_at AS "nextRunAt", data->>'executionId' AS "executionId" FROM agenda_jobs WHERE name = 'rule-delay'
        AND data->>'executionId' = ANY($1::text[])`,
      [waiting.map((execution: any) => execution.id)],
    );
    expect(oneOff.map((job: any) => new Date(job.nextRunAt).toISOString())).toEqual([
      '2026-11-26T02:00:00.000Z',
      '2026-11-26T02:00:00.000Z',
    ]);

    // Q-10 is accepted before day 3: no follow-up for it.
    await gqlOk(t.url, PUBLISH, { event: { ...quoteEvent('Q-10', '100', 'accepted'), type: 'quote.accepted' } }, w.token);
    await relay();
    expect(await t.app.services.ruleRuns.runDue()).toBe(0);
    clock.advance(3 * 86_400_000);
    expect(await t.app.services.ruleRuns.runDue()).toBe(2);
    w.token = (await t.app.services.auth.login(w.admin.email, PASSWORD)).token;
    const done = await executions(w.token, rule.id);
    expect(done.map((execution: any) => execution.status).sort()).toEqual(['SKIPPED', 'SUCCEEDED']);
    const sent = done.find((execution: any) => execution.status === 'SUCCEEDED');
    expect(sent.deliveries.edges.map((edge: any) => edge.node.body)).toEqual([expect.stringContaining('penawaran Q-11')]);
    expect(done.find((execution: any) => execution.status === 'SKIPPED').reason).toContain(
      'No longer holds after the delay: not expected: record.status in',
    );

    // Switched off while waiting: the delay ends without acting.
    await gqlOk(t.url, PUBLISH, { event: quoteEvent('Q-12', '100') }, w.token);
    await relay();
    await gqlOk(
      t.url,
      `mutation ($id: ID!) { setAutomationRuleActive(id: $id, active: false) { active } }`,
      { id: rule.id },
      w.token,
    );
    clock.advance(4 * 86_400_000);
    expect(await t.app.services.ruleRuns.runDue()).toBe(1);
    w.token = (await t.app.services.auth.login(w.admin.email, PASSWORD)).token;
    const [latest] = await executions(w.token, rule.id);
    expect(latest).toMatchObject({
      status: 'SKIPPED',
      reason: 'The rule was deleted or switched off before its delay ended',
      deliveries: { edges: [] },
    });
  });

  it('changes tickets, records each action’s outcome, goes on past a failure, and stops a rule that loops', async () => {
    const w = await tenant();
    await t.app.dataSource.query(`UPDATE contact SET email = NULL WHERE id = $1`, [w.contact.id]);
    const actions = [
      { type: 'set_ticket_priority', priority: 'urgent' },
      { type: 'send_message', channels: ['email'], text: 'Ticket {{ticket.reference}}', recipients: [{ type: 'contact' }] },
      { type: 'add_ticket_note', text: 'VIP customer {{contact.name}}: handle first' },
      { type: 'add_tag', tag: 'Escalated' },
    ];
    const { createAutomationRule: vip } = await gqlOk(
      t.url,
      CREATE,
      { input: { name: 'VIP first', triggerType: 'EVENT', eventTypes: ['ticket.created'], actions } },
      w.token,
    );
    // A rule that answers every ticket message with a note: each note is a message, so it would run for ever.
    const { createAutomationRule: echo } = await gqlOk(
      t.url,
      CREATE,
      {
        input: {
          name: 'Echo',
          triggerType: 'EVENT',
          eventTypes: ['ticket.message_added'],
          actions: [{ type: 'add_ticket_note', text: 'echo' }],
        },
      },
      w.token,
    );
    const { createTicket } = await gqlOk(
      t.url,
      `mutation ($input: CreateTicketInput!) { createTicket(input: $input) { id } }`,
      { input: { subject: 'Router down', category: 'TECHNICAL', priority: 'LOW', requesterId: w.contact.id } },
      w.token,
    );
    for (let round = 0; round < 6; round++) await relay();

    const [execution] = await executions(w.token, vip.id);
    // The contact has no e-mail address: that action fails alone, the others run.
    expect(execution.status).toBe('FAILED');
    expect(execution.actions.map((a: any) => [a.type, a.status])).toEqual([
      ['set_ticket_priority', 'SUCCEEDED'],
      ['send_message', 'FAILED'],
      ['add_ticket_note', 'SUCCEEDED'],
      ['add_tag', 'SUCCEEDED'],
    ]);
    expect(execution.actions[1].error).toContain('cannot be reached on email');
    const ticket = await t.app.dataSource.getRepository(Ticket).findOneByOrFail({ id: createTicket.id });
    expect(ticket.priority).toBe('urgent');
    expect(
      (await t.app.services.directory.contact({ kind: 'staff', tenantId: w.tenant.id } as never, w.contact.id)).tags,
    ).toContain('escalated');

    const echoes = (await executions(w.token, echo.id)).sort((a: any, b: any) => b.depth - a.depth);
    expect(echoes.map((e: any) => [e.status, e.depth])).toEqual([
      ['SKIPPED', 3],
      ['SUCCEEDED', 2],
      ['SUCCEEDED', 1],
    ]);
    expect(echoes[0].reason).toContain('the rules loop');
    const notes = await t.app.dataSource.query(
      `SELECT body FROM ticket_message WHERE "ticketId" = $1 AND internal ORDER BY "createdAt"`,
      [createTicket.id],
    );
    expect(notes.map((note: any) => note.body)).toEqual(['VIP customer Siti: handle first', 'echo', 'echo']);
  });

  it('dry-runs a draft or a saved rule with the messages it would send, writing and sending nothing', async () => {
    const w = await tenant();
    const record = (
      await gqlOk(
        t.url,
        `mutation { upsertBusinessRecords(records: [{ kind: "quote", externalId: "Q-50", status: "sent", amount: "3000000", expiresAt: "2026-12-01T00:00:00Z", subject: { type: CONTACT, phone: "081298765432" } }]) { records { id } } }`,
        {},
        w.token,
      )
    ).upsertBusinessRecords.records[0];
    await relay();
    const counts = async () => ({
      deliveries: await t.app.dataSource.getRepository(Delivery).countBy({ tenantId: w.tenant.id }),
      executions: await t.app.dataSource.getRepository(RuleExecution).countBy({ tenantId: w.tenant.id }),
      rules: await t.app.dataSource.getRepository(AutomationRule).countBy({ tenantId: w.tenant.id }),
    });
    const before = await counts();
    const TEST = `mutation ($rule: AutomationRuleInput, $id: ID, $event: SampleEventInput!) {
      testAutomationRule(rule: $rule, id: $id, event: $event) { matched reason wouldRunAt actions { type status messages { channel to body } } }
    }`;
    const event = { type: 'quote.reminder', subject: { type: 'BUSINESS_RECORD', id: record.id } };
    const { testAutomationRule: draft } = await gqlOk(t.url, TEST, { rule: quoteRule(), event }, w.token);
    expect(draft).toEqual({
      matched: true,
      reason: null,
      wouldRunAt: null,
      actions: [
        {
          type: 'send_message',
          status: 'SUCCEEDED',
          messages: [
            {
              channel: 'WHATSAPP',
              to: '+6281298765432',
              body: 'Halo Siti, penawaran Q-50 masih berlaku sampai 2026-12-01T00:00:00.000Z.',
            },
          ],
        },
      ],
    });
    const { testAutomationRule: other } = await gqlOk(
      t.url,
      TEST,
      { rule: quoteRule(), event: { ...event, type: 'invoice.created' } },
      w.token,
    );
    expect(other).toMatchObject({ matched: false, reason: 'It listens to quote.*, not invoice.created' });
    const { createAutomationRule: saved } = await gqlOk(
      t.url,
      CREATE,
      { input: quoteRule({ active: false, conditions: { path: 'record.amount', op: 'gt', value: 5000000 } }) },
      w.token,
    );
    const { testAutomationRule: unmatched } = await gqlOk(t.url, TEST, { id: saved.id, event }, w.token);
    expect(unmatched).toMatchObject({ matched: false, reason: 'record.amount gt 5000000 (was 3000000)' });
    expect(await counts()).toEqual({ ...before, rules: before.rules + 1 });
  });

  it('keeps a second tenant out of the first one’s rules and subjects', async () => {
    const victim = await tenant();
    const attacker = await tenant();
    const { createAutomationRule: rule } = await gqlOk(t.url, CREATE, { input: quoteRule() }, victim.token);
    const { createAutomationRule: own } = await gqlOk(t.url, CREATE, { input: quoteRule() }, attacker.token);
    for (const [query, variables] of [
      [`query ($id: ID!) { automationRule(id: $id) { id } }`, { id: rule.id }],
      [`mutation ($id: ID!) { setAutomationRuleActive(id: $id, active: false) { id } }`, { id: rule.id }],
      [`mutation ($id: ID!) { deleteAutomationRule(id: $id) }`, { id: rule.id }],
      [`mutation ($id: ID!) { duplicateAutomationRule(id: $id) { id } }`, { id: rule.id }],
      [
        `mutation ($id: ID!, $s: RuleSubjectInput!) { runAutomationRule(id: $id, subject: $s) { id } }`,
        { id: rule.id, s: { type: 'CONTACT', id: attacker.contact.id } },
      ],
      [
        `mutation ($id: ID!, $s: RuleSubjectInput!) { runAutomationRule(id: $id, subject: $s) { id } }`,
        { id: own.id, s: { type: 'CONTACT', id: victim.contact.id } },
      ],
      [
        `mutation ($id: ID!, $s: RuleSubjectInput!) { runAutomationRule(id: $id, subject: $s) { id } }`,
        { id: own.id, s: { type: 'CONTACT', id: 'not-an-id' } },
      ],
    ] as const) {
      expect(errorCode(await gql(t.url, query, variables, attacker.token))).toBe('NOT_FOUND');
    }
    expect((await gqlOk(t.url, EXECUTIONS, { ruleId: rule.id }, attacker.token)).ruleExecutions.totalCount).toBe(0);
    const { automationRule } = await gqlOk(
      t.url,
      `query ($id: ID!) { automationRule(id: $id) { active } }`,
      { id: rule.id },
      victim.token,
    );
    expect(automationRule.active).toBe(true);
  });

  it('runs a rule by hand for a subject, duplicates and deletes rules, and reports per-rule figures', async () => {
    const w = await tenant();
    const { createAutomationRule: rule } = await gqlOk(
      t.url,
      CREATE,
      {
        input: {
          name: 'Tag by hand',
          triggerType: 'MANUAL',
          actions: [{ type: 'add_tag', tag: 'checked' }],
          maxExecutionsPerSubject: 1,
        },
      },
      w.token,
    );
    const RUN = `mutation ($id: ID!, $s: RuleSubjectInput!) { runAutomationRule(id: $id, subject: $s) { status reason } }`;
    const subject = { type: 'CONTACT', id: w.contact.id };
    // The subject type is an enum: the REST spelling is refused, naming the field, and runs nothing.
    const lowerCase = await gql(t.url, RUN, { id: rule.id, s: { ...subject, type: 'contact' } }, w.token);
    expect([errorCode(lowerCase), problemPath(lowerCase)]).toEqual(['BAD_USER_INPUT', ['s', 'type']]);
    expect((await gqlOk(t.url, RUN, { id: rule.id, s: subject }, w.token)).runAutomationRule).toEqual({
      status: 'SUCCEEDED',
      reason: null,
    });
    expect((await gqlOk(t.url, RUN, { id: rule.id, s: subject }, w.token)).runAutomationRule).toEqual({
      status: 'SKIPPED',
      reason: 'Reached its limit of 1 executions for this contact',
    });
    const { duplicateAutomationRule: copy } = await gqlOk(
      t.url,
      `mutation ($id: ID!) { duplicateAutomationRule(id: $id) { name active } }`,
      { id: rule.id },
      w.token,
    );
    expect(copy).toEqual({ name: 'Tag by hand (copy)', active: false });
    const { automationRuleStats } = await gqlOk(
      t.url,
      `query { automationRuleStats(from: "2026-01-01T00:00:00Z", to: "2030-01-01T00:00:00Z") { name succeeded skipped failed } }`,
      {},
      w.token,
    );
    expect(automationRuleStats).toEqual([
      { name: 'Tag by hand', succeeded: 1, skipped: 1, failed: 0 },
      { name: 'Tag by hand (copy)', succeeded: 0, skipped: 0, failed: 0 },
    ]);
    await gqlOk(t.url, `mutation ($id: ID!) { deleteAutomationRule(id: $id) }`, { id: rule.id }, w.token);
    const history = await t.app.dataSource.getRepository(RuleExecution).findBy({ tenantId: w.tenant.id });
    expect(history.map((execution) => [execution.ruleId, execution.ruleName])).toEqual([
      [null, 'Tag by hand'],
      [null, 'Tag by hand'],
    ]);
  });

  it('sends date reminders at the local time of day, once per record and offset, and birthday greetings every year', async () => {
    clock.set('2026-11-24T01:00:00Z'); // 08:00 in Jakarta
    const w = await tenant();
    const reminder = {
      name: 'Invoice due reminders',
      triggerType: 'RELATIVE_DATE',
      dateTrigger: { field: 'record.dueAt', kinds: ['invoice'], offsetsDays: [-7, -3, -1], atLocalTime: '09:00' },
      conditions: { not: { path: 'record.status', op: 'in', value: ['paid', 'void'] } },
      actions: [
        {
          type: 'send_message',
          channels: ['whatsapp'],
          text: 'Tagihan {{record.externalId}} jatuh tempo {{record.dueAt}}',
          recipients: [{ type: 'contact' }],
          notificationType: 'payment_reminder',
        },
      ],
    };
    await gqlOk(t.url, CREATE, { input: reminder }, w.token);
    const bad = await gql(
      t.url,
      CREATE,
      { input: { ...reminder, name: 'Bad', dateTrigger: { field: 'record.colour', offsetsDays: [] } } },
      w.token,
    );
    expect((bad.errors![0].extensions as any).problems.map((p: any) => p.path)).toEqual([
      ['input', 'dateTrigger', 'field'],
      ['input', 'dateTrigger', 'offsetsDays'],
    ]);
    const invoice = (externalId: string, status: string) => ({
      kind: 'invoice',
      externalId,
      status,
      dueAt: '2026-12-01T05:00:00Z',
      subject: { type: 'CONTACT', id: w.contact.id },
    });
    await gqlOk(
      t.url,
      `mutation ($records: [BusinessRecordInput!]!) { upsertBusinessRecords(records: $records) { failed } }`,
      { records: [invoice('INV-7', 'sent'), invoice('INV-8', 'paid'), { ...invoice('Q-7', 'sent'), kind: 'quote' }] },
      w.token,
    );
    const reminders = () =>
      t.app.dataSource.query(
        `SELECT d.body FROM delivery d JOIN rule_execution e ON e.id = d."ruleExecutionId" WHERE d."tenantId" = $1 ORDER BY d."createdAt"`,
        [w.tenant.id],
      );
    // Seven days before, but not yet 09:00 local: nothing.
    await t.app.services.ruleRuns.scanDates();
    expect(await reminders()).toEqual([]);
    clock.set('2026-11-24T02:30:00Z');
    await t.app.services.ruleRuns.scanDates();
    await t.app.services.ruleRuns.scanDates();
    expect(await reminders()).toEqual([{ body: 'Tagihan INV-7 jatuh tempo 2026-12-01T05:00:00.000Z' }]);
    // The paid invoice was considered and skipped, with the reason.
    const skipped = await t.app.dataSource.query(
      `SELECT reason FROM rule_execution WHERE "tenantId" = $1 AND status = 'skipped'`,
      [w.tenant.id],
    );
    expect(skipped).toEqual([{ reason: expect.stringContaining('not expected: record.status in') }]);
    // Nothing on the days between; the 3-day reminder on the 28th.
    clock.set('2026-11-26T03:00:00Z');
    await t.app.services.ruleRuns.scanDates();
    clock.set('2026-11-28T03:00:00Z');
    await t.app.services.ruleRuns.scanDates();
    expect(await reminders()).toHaveLength(2);

    // A birthday at 09:00 in the contact's own time zone (Makassar, UTC+8).
    await t.app.dataSource.query(`UPDATE contact SET birthday = '1990-11-29', timezone = 'Asia/Makassar' WHERE id = $1`, [
      w.contact.id,
    ]);
    await gqlOk(
      t.url,
      CREATE,
      {
        input: {
          name: 'Birthday',
          triggerType: 'RELATIVE_DATE',
          dateTrigger: { field: 'contact.birthday', offsetsDays: [0], atLocalTime: '09:00', timezone: 'recipient' },
          actions: [
            {
              type: 'send_message',
              channels: ['whatsapp'],
              text: 'Selamat ulang tahun, {{contact.name}}!',
              recipients: [{ type: 'contact' }],
            },
          ],
        },
      },
      (await t.app.services.auth.login(w.admin.email, PASSWORD)).token,
    );
    clock.set('2026-11-29T00:30:00Z'); // 08:30 in Makassar
    await t.app.services.ruleRuns.scanDates();
    expect(await reminders()).toHaveLength(2);
    clock.set('2026-11-29T01:30:00Z'); // 09:30 in Makassar, 08:30 in Jakarta
    await t.app.services.ruleRuns.scanDates();
    expect((await reminders()).map((row: any) => row.body)).toContain('Selamat ulang tahun, Siti!');
  });

  it('sends scheduled reports: a daily summary to leads and each technician their own week, once per occurrence', async () => {
    clock.set('2026-11-27T03:00:00Z'); // Friday 10:00 in Jakarta
    const w = await tenant();
    const manager = await makeUser(t.app.dataSource, w.tenant, { role: Role.MANAGER, phone: '+6281300000101', name: 'Maya' });
    const supervisor = await makeUser(t.app.dataSource, w.tenant, { role: Role.SUPERVISOR, phone: '+6281300000102' });
    const ana = await makeUser(t.app.dataSource, w.tenant, { role: Role.TECHNICIAN, phone: '+6281300000103', name: 'Ana' });
    const ben = await makeUser(t.app.dataSource, w.tenant, { role: Role.TECHNICIAN, phone: '+6281300000104', name: 'Ben' });
    const actor = { kind: 'staff' as const, tenantId: w.tenant.id, userId: w.admin.id, role: Role.ADMIN as const, name: 'Admin' };
    for (const [assignee, rating] of [
      [ana, 5],
      [ana, 4],
      [ben, 3],
    ] as const) {
      const ticket = await t.app.services.tickets.create(actor, {
        subject: 'Fix',
        category: 'technical' as never,
        priority: 'medium' as never,
        requesterId: w.contact.id,
      });
      await t.app.dataSource.query(
        `UPDATE ticket SET status = 'resolved', "assigneeId" = $2, "resolvedAt" = $3, rating = $4, "ratedAt" = $3 WHERE id = $1`,
        [ticket.id, assignee.id, new Date('2026-11-27T04:00:00Z'), rating],
      );
    }
    const bad = await gql(
      t.url,
      CREATE,
      { input: { name: 'Bad cron', triggerType: 'SCHEDULE', cron: 'every day', actions: [{ type: 'add_tag', tag: 'x' }] } },
      w.token,
    );
    expect((bad.errors![0].extensions as any).problems).toEqual([
      { path: ['input', 'cron'], message: expect.stringContaining('cron expression'), code: 'INVALID' },
    ]);
    const badReport = await gql(
      t.url,
      CREATE,
      {
        input: {
          name: 'Bad report',
          triggerType: 'SCHEDULE',
          cron: '0 8 * * *',
          actions: [
            {
              type: 'send_report',
              report: 'weather',
              period: 'someday',
              channels: ['whatsapp'],
              recipients: [{ type: 'each_technician' }],
            },
          ],
        },
      },
      w.token,
    );
    expect((badReport.errors![0].extensions as any).problems.map((p: any) => p.path)).toEqual([
      ['input', 'actions', 0, 'report'],
      ['input', 'actions', 0, 'period'],
    ]);
    const report = (name: string, cron: string, kind: string, period: string, recipients: unknown[]) => ({
      name,
      triggerType: 'SCHEDULE',
      cron,
      actions: [{ type: 'send_report', report: kind, period, channels: ['whatsapp'], recipients }],
    });
    await gqlOk(
      t.url,
      CREATE,
      {
        input: report('Daily summary', '0 18 * * *', 'daily_summary', 'today', [
          { type: 'role', role: 'manager' },
          { type: 'role', role: 'supervisor' },
        ]),
      },
      w.token,
    );
    await gqlOk(
      t.url,
      CREATE,
      { input: report('Weekly', '0 8 * * 1', 'technician_performance', 'last_week', [{ type: 'each_technician' }]) },
      w.token,
    );
    const reports = () =>
      t.app.dataSource.query(
        `SELECT recipient, body FROM delivery WHERE "tenantId" = $1 AND "notificationType" = 'report' ORDER BY recipient`,
        [w.tenant.id],
      ) as Promise<Array<{ recipient: string; body: string }>>;

    clock.set('2026-11-27T10:59:00Z'); // 17:59: not yet
    await t.app.services.ruleRuns.scanSchedules();
    clock.set('2026-11-27T11:00:30Z'); // 18:00:30
    await t.app.services.ruleRuns.scanSchedules();
    await t.app.services.ruleRuns.scanSchedules();
    const daily = await reports();
    expect(daily.map((row) => row.recipient)).toEqual([manager.phone, supervisor.phone]);
    expect(daily[0].body).toContain('Daily summary, 27 Nov 2026');
    expect(daily[0].body).toContain('Tickets opened: 3, resolved: 3');
    expect(daily[0].body).toContain('1. Ana: 2, 1 h, 4.5');

    // A customer's verified review of Ana's job counts in her week.
    await t.app.dataSource.query(
      `INSERT INTO review ("tenantId", "completionRequestId", "jobId", "technicianId", "contactId", rating, "createdAt")
       VALUES ($1, gen_random_uuid(), gen_random_uuid(), $2, $3, 5, '2026-11-27T05:00:00Z')`,
      [w.tenant.id, ana.id, w.contact.id],
    );
    clock.set('2026-11-30T01:00:30Z'); // Monday 08:00:30
    await t.app.services.ruleRuns.scanSchedules();
    const weekly = (await reports()).filter((row) => row.body.startsWith('Your performance'));
    expect(weekly).toEqual([
      { recipient: ana.phone, body: expect.stringMatching(/Tickets resolved: 2 \(rank 1 of 2\)[\s\S]*Job reviews: 5 \(1\)/) },
      { recipient: ben.phone, body: expect.stringContaining('Tickets resolved: 1 (rank 2 of 2)') },
    ]);
    expect(weekly[1].body).toContain('Your performance, 23 Nov 2026 - 29 Nov 2026');
    // Sunday's 18:00 summary, missed while time jumped, ran late for its own day.
    expect((await reports()).filter((row) => row.body.startsWith('Daily summary, 29 Nov 2026'))).toHaveLength(2);

    // On demand: who may send which report follows the role table.
    const SEND = `mutation ($kind: ReportKind!, $to: [ID!]!) { sendReport(kind: $kind, period: LAST_WEEK, to: $to) { recipient body } }`;
    const login = async (email: string) => (await t.app.services.auth.login(email, PASSWORD)).token;
    const supervisorToken = await login(supervisor.email);
    expect(errorCode(await gql(t.url, SEND, { kind: 'DAILY_SUMMARY', to: [manager.id] }, supervisorToken))).toBe('FORBIDDEN');
    const { sendReport } = await gqlOk(t.url, SEND, { kind: 'TECHNICIAN_PERFORMANCE', to: [ana.id] }, supervisorToken);
    expect(sendReport).toEqual([{ recipient: ana.phone, body: expect.stringContaining('rank 1 of 2') }]);
    expect(errorCode(await gql(t.url, SEND, { kind: 'TECHNICIAN_PERFORMANCE', to: [ana.id] }, await login(ana.email)))).toBe(
      'FORBIDDEN',
    );
    const stranger = await tenant();
    expect(
      errorCode(await gql(t.url, SEND, { kind: 'DAILY_SUMMARY', to: [stranger.agent.id] }, await login(w.admin.email))),
    ).toBe('NOT_FOUND');
  });

  it('escalates a ticket up the assignee’s management chain, with the reason rendered', async () => {
    const w = await tenant();
    const lead = await makeUser(t.app.dataSource, w.tenant, { role: Role.MANAGER, phone: '+6281300000301', name: 'Lead' });
    await t.app.dataSource.query(`UPDATE "user" SET "managerId" = $2 WHERE id = $1`, [w.agent.id, lead.id]);
    await gqlOk(
      t.url,
      CREATE,
      {
        input: {
          name: 'Urgent tickets to the lead',
          triggerType: 'EVENT',
          eventTypes: ['ticket.assigned'],
          conditions: { path: 'ticket.priority', op: 'eq', value: 'urgent' },
          actions: [{ type: 'escalate', reason: 'Urgent ticket {{ticket.reference}} for {{contact.name}}' }],
        },
      },
      w.token,
    );
    const actor = { kind: 'staff' as const, tenantId: w.tenant.id, userId: w.admin.id, role: Role.ADMIN as const, name: 'Admin' };
    const ticket = await t.app.services.tickets.create(actor, {
      subject: 'Fire alarm',
      category: 'technical' as never,
      priority: 'urgent' as never,
      requesterId: w.contact.id,
      assigneeId: w.agent.id,
    });
    await relay();
    const escalations = await t.app.dataSource.query(
      `SELECT "recipientId", reason, manual FROM escalation WHERE "ticketId" = $1`,
      [ticket.id],
    );
    expect(escalations).toEqual([{ recipientId: lead.id, reason: `Urgent ticket ${ticket.reference} for Siti`, manual: true }]);
    const told = await t.app.dataSource.query(
      `SELECT recipient FROM delivery WHERE "ticketId" = $1 AND "notificationType" = 'escalation'`,
      [ticket.id],
    );
    expect(told).toEqual([{ recipient: lead.phone }]);
  });

  it('notifies staff in the app, live, each once, and only the people it names', async () => {
    const w = await tenant();
    const bad = await gql(
      t.url,
      CREATE,
      {
        input: {
          name: 'Bad',
          triggerType: 'EVENT',
          eventTypes: ['ticket.created'],
          actions: [{ type: 'notify_staff', title: 'x', text: 'y', recipients: [{ type: 'contact' }] }],
        },
      },
      w.token,
    );
    expect((bad.errors![0].extensions as any).problems).toEqual([
      {
        path: ['input', 'actions', 0, 'recipients', 0, 'type'],
        message: expect.stringContaining('staff notification goes to'),
        code: 'INVALID',
      },
    ]);
    await gqlOk(
      t.url,
      CREATE,
      {
        input: {
          name: 'New ticket bell',
          triggerType: 'EVENT',
          eventTypes: ['ticket.created'],
          actions: [
            {
              type: 'notify_staff',
              title: 'New ticket {{ticket.reference}}',
              text: '{{contact.name}}: {{ticket.subject}}',
              recipients: [{ type: 'assignee' }],
            },
          ],
        },
      },
      w.token,
    );
    const agentToken = (await t.app.services.auth.login(w.agent.email, PASSWORD)).token;
    const client = wsClient(t.url, agentToken);
    const live = new Subscription<any>(client, `subscription { staffNotificationAdded { title body readAt } }`);
    try {
      await settle();
      const actor = {
        kind: 'staff' as const,
        tenantId: w.tenant.id,
        userId: w.admin.id,
        role: Role.ADMIN as const,
        name: 'Admin',
      };
      const ticket = await t.app.services.tickets.create(actor, {
        subject: 'Leaking pipe',
        category: 'technical' as never,
        priority: 'low' as never,
        requesterId: w.contact.id,
        assigneeId: w.agent.id,
      });
      await relay();
      await t.app.dataSource.query(`UPDATE event_handling SET status = 'pending' WHERE "tenantId" = $1 AND consumer = 'rules'`, [
        w.tenant.id,
      ]);
      await relay();
      const expected = { title: `New ticket ${ticket.reference}`, body: 'Siti: Leaking pipe', readAt: null };
      expect(await live.waitFor(1)).toEqual([{ staffNotificationAdded: expected }]);
      const MINE = `{ myNotifications(unreadOnly: true) { totalCount edges { node { title ticketId } } } }`;
      expect((await gqlOk(t.url, MINE, {}, agentToken)).myNotifications).toEqual({
        totalCount: 1,
        edges: [{ node: { title: expected.title, ticketId: ticket.id } }],
      });
      expect((await gqlOk(t.url, MINE, {}, w.token)).myNotifications.totalCount).toBe(0);
      expect((await gqlOk(t.url, `mutation { markNotificationsRead }`, {}, agentToken)).markNotificationsRead).toBe(1);
      expect((await gqlOk(t.url, MINE, {}, agentToken)).myNotifications.totalCount).toBe(0);
      await settle();
      expect(live.items).toHaveLength(1);
    } finally {
      live.close();
      await client.dispose();
    }
  });

  it('forgets skipped executions after the retention period and keeps the ones that acted', async () => {
    const w = await tenant();
    const { createAutomationRule: rule } = await gqlOk(t.url, CREATE, { input: quoteRule({ name: 'Prune me' }) }, w.token);
    await gqlOk(t.url, PUBLISH, { event: quoteEvent('P-1', '2000000') }, w.token);
    await gqlOk(t.url, PUBLISH, { event: quoteEvent('P-2', '10') }, w.token);
    await relay();
    const statuses = async () =>
      (await t.app.dataSource.query(`SELECT status FROM rule_execution WHERE "ruleId" = $1 ORDER BY status`, [rule.id])).map(
        (row: { status: string }) => row.status,
      );
    expect(await statuses()).toEqual(['skipped', 'succeeded']);
    const started = clock.now();
    clock.advance(29 * 86_400_000);
    await t.app.services.ruleRuns.pruneSkipped(30);
    expect(await statuses()).toEqual(['skipped', 'succeeded']);
    clock.advance(2 * 86_400_000);
    expect(await t.app.services.ruleRuns.pruneSkipped(30)).toBeGreaterThanOrEqual(1);
    expect(await statuses()).toEqual(['succeeded']);
    clock.set(started);
  });
});
