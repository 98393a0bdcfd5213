import { AutomationRule } from '../src/entities/automation-rule.entity';
import { Role } from '../src/entities/user.entity';
import { ManualClock } from '../src/services/platform/clock';
import { PASSWORD, makeContact, makeTenant, makeUser } from './helpers/factories';
import { type TestApp, errorCode, gql, gqlOk, relayAll, startTestApp } from './helpers/test-app';

const CATALOG = `{ ruleCatalog {
  eventTypes { type origin subjectType description }
  fields { path subject type operators }
  operators { type operators }
  dateFields
  actions { type summary parameters }
} }`;
const CREATE = `mutation ($input: AutomationRuleInput!) { createAutomationRule(input: $input) { id } }`;
const PUBLISH = `mutation ($event: PublishEventInput!) { publishEvent(event: $event) { events { id } } }`;

/** The rule builder's catalogue, and the action schemas it serves doing the work when rules run. */
describe('rule catalogue', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(new ManualClock(new Date('2026-12-07T03:00:00Z')));
  });
  afterAll(() => t.stop());

  async function tenant() {
    const tenant = await makeTenant(t.app.dataSource, { defaultCountry: 'ID', timezone: 'Asia/Jakarta' });
    const admin = await makeUser(t.app.dataSource, tenant, { role: Role.ADMIN });
    const agent = await makeUser(t.app.dataSource, tenant, { role: Role.AGENT });
    const contact = await makeContact(t.app.dataSource, tenant, { name: 'Siti', phone: '+6281298765432' });
    const login = async (email: string) => (await t.app.services.auth.login(email, PASSWORD)).token;
    return { tenant, contact, token: await login(admin.email), agentToken: await login(agent.email) };
  }
  const invoiceEvent = (type: string, key: string) => ({
    type,
    idempotencyKey: key,
    subject: { type: 'CONTACT', phone: '081298765432' },
    payload: { amount: 10 },
  });

  it("lists internal event types and the tenant's own (never another tenant's), paths with operators, and action schemas", async () => {
    const w = await tenant();
    const other = await tenant();
    await gqlOk(t.url, PUBLISH, { event: invoiceEvent('invoice.overdue', 'i-1') }, w.token);
    await gqlOk(t.url, PUBLISH, { event: invoiceEvent('invoice.overdue', 'i-2') }, w.token);
    await gqlOk(t.url, PUBLISH, { event: invoiceEvent('booking.cancelled', 'b-1') }, w.token);
    await gqlOk(t.url, PUBLISH, { event: invoiceEvent('secret.merger_planned', 's-1') }, other.token);
    await relayAll(t);

    const { ruleCatalog } = await gqlOk(t.url, CATALOG, {}, w.token);
    const external = ruleCatalog.eventTypes.filter((entry: any) => entry.origin === 'EXTERNAL').map((e: any) => e.type);
    expect(external).toEqual(['booking.cancelled', 'invoice.overdue']);
    expect(ruleCatalog.eventTypes).toContainEqual({
      type: 'ticket.created',
      origin: 'INTERNAL',
      subjectType: 'ticket',
      description: expect.any(String),
    });
    const otherCatalog = (await gqlOk(t.url, CATALOG, {}, other.token)).ruleCatalog;
    expect(otherCatalog.eventTypes.map((entry: any) => entry.type)).not.toContain('invoice.overdue');
    expect(otherCatalog.eventTypes.map((entry: any) => entry.type)).toContain('secret.merger_planned');

    const field = (path: string) => ruleCatalog.fields.find((entry: any) => entry.path === path);
    expect(field('record.amount')).toEqual({
      path: 'record.amount',
      subject: 'record',
      type: 'NUMBER',
      operators: ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'in', 'not_in', 'exists', 'not_exists'],
    });
    expect(field('contact.tags')).toMatchObject({
      type: 'STRINGS',
      operators: ['contains', 'not_contains', 'exists', 'not_exists'],
    });
    expect(field('record.dueAt').operators).toContain('within_next');
    expect(ruleCatalog.operators.map((entry: any) => entry.type)).toEqual([
      'STRING',
      'NUMBER',
      'BOOLEAN',
      'DATE',
      'STRINGS',
      'ANY',
    ]);
    expect(ruleCatalog.dateFields).toContain('contact.birthday');
    const send = ruleCatalog.actions.find((entry: any) => entry.type === 'send_message');
    expect(send.parameters).toMatchObject({ type: 'object', additionalProperties: false, required: ['type', 'recipients'] });
    expect(ruleCatalog.actions).toHaveLength(12);

    // Agents do not write rules and do not read the catalogue; without a token nobody does.
    expect(errorCode(await gql(t.url, CATALOG, {}, w.agentToken))).toBe('FORBIDDEN');
    expect(errorCode(await gql(t.url, CATALOG, {}))).toBe('UNAUTHENTICATED');
  });

  it('runs each action through its schema: a saved action that no longer fits fails alone, with the reason', async () => {
    const w = await tenant();
    const { createAutomationRule: rule } = await gqlOk(
      t.url,
      CREATE,
      {
        input: {
          name: 'Chase overdue invoices',
          triggerType: 'EVENT',
          eventTypes: ['invoice.*'],
          actions: [
            { type: 'set_ticket_priority', priority: 'high' },
            { type: 'add_tag', tag: 'Overdue' },
          ],
        },
      },
      w.token,
    );
    // A rule written before a schema tightened (or by hand in the database): its first action no longer fits.
    await t.app.dataSource.getRepository(AutomationRule).update(rule.id, {
      actions: [
        { type: 'set_ticket_priority', priority: 'whenever' },
        { type: 'add_tag', tag: 'Overdue' },
      ],
    });
    await gqlOk(t.url, PUBLISH, { event: invoiceEvent('invoice.overdue', 'x-1') }, w.token);
    await relayAll(t);
    const { ruleExecutions } = await gqlOk(
      t.url,
      `query ($ruleId: ID) { ruleExecutions(ruleId: $ruleId, first: 5) { edges { node { status reason actions { type status error detail } } } } }`,
      { ruleId: rule.id },
      w.token,
    );
    const [execution] = ruleExecutions.edges.map((edge: any) => edge.node);
    expect(execution.status).toBe('FAILED');
    expect(execution.actions).toEqual([
      {
        type: 'set_ticket_priority',
        status: 'FAILED',
        error: expect.stringMatching(
          /does not fit its schema \(set_ticket_priority\.priority: must be one of .*\); edit and save the rule/,
        ),
        detail: null,
      },
      { type: 'add_tag', status: 'SUCCEEDED', error: null, detail: 'Tagged overdue' },
    ]);
    const [contact] = await t.app.dataSource.query(`SELECT tags FROM contact WHERE id = $1`, [w.contact.id]);
    expect(contact.tags).toEqual(['overdue']);
  });
});
