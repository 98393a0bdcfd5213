import { Delivery } from '../src/entities/delivery.entity';
import { Role } from '../src/entities/user.entity';
import { ManualClock } from '../src/services/platform/clock';
import { PASSWORD, makeContact, makeTenant, makeUser } from './helpers/factories';
import { type TestApp, errorCode, gql, gqlOk, relayAll, startTestApp } from './helpers/test-app';

const CREATE = `mutation ($input: AutomationRuleInput!) { createAutomationRule(input: $input) { id } }`;
const PUBLISH = `mutation ($event: PublishEventInput!) { publishEvent(event: $event) { events { id } } }`;
const EXECUTIONS = `query ($ruleId: ID) { ruleExecutions(ruleId: $ruleId, first: 5) { edges { node {
  id status attempts retriedAt actions { status error } } } } }`;
const RETRY = `mutation ($id: ID!) { retryRuleExecution(id: $id) { id status attempts actions { status error } } }`;
const RETRY_FAILED = `mutation ($ruleId: ID!, $from: DateTimeISO!, $to: DateTimeISO!) {
  retryFailedRuleExecutions(ruleId: $ruleId, from: $from, to: $to) { retried succeeded stillFailed } }`;

/** An admin fixes what made a rule fail and runs its failed actions again; what went out does not go twice. */
describe('retrying failed rule executions', () => {
  let t: TestApp;
  const clock = new ManualClock(new Date('2026-12-07T03:00:00Z'));
  beforeAll(async () => {
    t = await startTestApp(clock);
  });
  afterAll(() => t.stop());

  async function tenant() {
    const tenant = await makeTenant(t.app.dataSource, { defaultCountry: 'ID', timezone: 'Asia/Jakarta' });
    const admin = await makeUser(t.app.dataSource, tenant, { role: Role.ADMIN });
    const agent = await makeUser(t.app.dataSource, tenant, { role: Role.AGENT });
    await makeContact(t.app.dataSource, tenant, { name: 'Siti', phone: '+6281298765432' });
    const login = async (email: string) => (await t.app.services.auth.login(email, PASSWORD)).token;
    return { tenant, token: await login(admin.email), agentToken: await login(agent.email) };
  }

  it('re-runs only the failed actions, counts attempts, keeps other tenants and roles out, and refuses a second retry', async () => {
    const w = await tenant();
    const attacker = await tenant();
    const { createAutomationRule: rule } = await gqlOk(
      t.url,
      CREATE,
      {
        input: {
          name: 'Quote sent: tell the customer and the supervisors',
          triggerType: 'EVENT',
          eventTypes: ['quote.*'],
          actions: [
            { type: 'send_message', channels: ['whatsapp'], text: 'Halo {{contact.name}}', recipients: [{ type: 'contact' }] },
            {
              type: 'send_message',
              channels: ['whatsapp'],
              text: 'Penawaran untuk {{contact.name}}',
              recipients: [{ type: 'role', role: 'supervisor' }],
            },
          ],
        },
      },
      w.token,
    );
    await gqlOk(
      t.url,
      PUBLISH,
      {
        event: {
          type: 'quote.sent',
          idempotencyKey: 'q-1',
          subject: { type: 'CONTACT', phone: '081298765432' },
          payload: { amount: 1 },
        },
      },
      w.token,
    );
    await relayAll(t);
    const executions = async () =>
      (await gqlOk(t.url, EXECUTIONS, { ruleId: rule.id }, w.token)).ruleExecutions.edges.map((edge: any) => edge.node);
    const [first] = await executions();
    expect(first).toMatchObject({
      status: 'FAILED',
      attempts: 1,
      retriedAt: null,
      actions: [
        { status: 'SUCCEEDED', error: null },
        { status: 'FAILED', error: 'No recipient could be found for this message' },
      ],
    });
    const messages = () => t.app.dataSource.getRepository(Delivery).countBy({ tenantId: w.tenant.id });
    expect(await messages()).toBe(1);

    // Nothing fixed yet: it fails again, and the customer's message is not queued a second time.
    const again = (await gqlOk(t.url, RETRY, { id: first.id }, w.token)).retryRuleExecution;
    expect(again).toMatchObject({ status: 'FAILED', attempts: 2 });
    expect(await messages()).toBe(1);

    // Another tenant's admin, with the ids of the first: not found, and nothing changes.
    expect(errorCode(await gql(t.url, RETRY, { id: first.id }, attacker.token))).toBe('NOT_FOUND');
    const period = { from: '2026-12-01T00:00:00Z', to: '2026-12-31T00:00:00Z' };
    expect(errorCode(await gql(t.url, RETRY_FAILED, { ruleId: rule.id, ...period }, attacker.token))).toBe('NOT_FOUND');
    // Agents do not change rules; a malformed id is not found; a backwards period is refused.
    expect(errorCode(await gql(t.url, RETRY, { id: first.id }, w.agentToken))).toBe('FORBIDDEN');
    expect(errorCode(await gql(t.url, RETRY, { id: 'nope' }, w.token))).toBe('NOT_FOUND');
    expect(errorCode(await gql(t.url, RETRY_FAILED, { ruleId: rule.id, from: period.to, to: period.from }, w.token))).toBe(
      'BAD_USER_INPUT',
    );
    expect((await executions())[0]).toMatchObject({ status: 'FAILED', attempts: 2 });

    // The admin adds a supervisor and retries the rule's failures of the period.
    await makeUser(t.app.dataSource, w.tenant, { role: Role.SUPERVISOR, phone: '+6281300000009' });
    expect((await gqlOk(t.url, RETRY_FAILED, { ruleId: rule.id, ...period }, w.token)).retryFailedRuleExecutions).toEqual({
      retried: 1,
      succeeded: 1,
      stillFailed: 0,
    });
    const [fixed] = await executions();
    expect(fixed).toMatchObject({
      status: 'SUCCEEDED',
      attempts: 3,
      retriedAt: clock.now().toISOString(),
      actions: [
        { status: 'SUCCEEDED', error: null },
        { status: 'SUCCEEDED', error: null },
      ],
    });
    const sent = await t.app.dataSource.getRepository(Delivery).find({ where: { tenantId: w.tenant.id } });
    expect(sent.map((delivery) => delivery.recipient).sort()).toEqual(['+6281298765432', '+6281300000009']);
    const { automationRule } = await gqlOk(
      t.url,
      `query ($id: ID!) { automationRule(id: $id) { executionCount successCount failureCount } }`,
      { id: rule.id },
      w.token,
    );
    expect(automationRule).toEqual({ executionCount: 1, successCount: 1, failureCount: 0 });

    // A succeeded execution is not run again.
    const refused = await gql(t.url, RETRY, { id: first.id }, w.token);
    expect(errorCode(refused)).toBe('INVALID_TRANSITION');
    expect(await messages()).toBe(2);
  });
});
