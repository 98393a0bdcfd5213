import { Writable } from 'node:stream';
import { Role } from '../src/entities/user.entity';
import { createLogger } from '../src/logger';
import { PASSWORD, makeContact, makeTenant, makeUser } from './helpers/factories';
import { type TestApp, gql, startTestApp } from './helpers/test-app';

const TOKEN = 'scrape-secret-0123456789';

/**
 * In production, each refusal is counted in `graphql_operations_total` and logged under the
 * code its client received: an alert on INTERNAL_SERVER_ERROR must not fire on users' typos.
 */
describe('operations are labelled by the code the client receives', () => {
  jest.setTimeout(60_000);
  let t: TestApp;
  const lines: Array<Record<string, any>> = [];

  beforeAll(async () => {
    const destination = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    const logger = createLogger({ level: 'info', format: 'json' }, destination);
    t = await startTestApp(undefined, { NODE_ENV: 'production', METRICS_TOKEN: TOKEN }, logger);
  });
  afterAll(() => t?.stop());

  const metrics = async () =>
    (await (await fetch(`${t.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text()).split('\n');
  const count = (text: string[], operation: string, outcome: string) => {
    const line = text.find(
      (candidate) =>
        candidate.startsWith(`graphql_operations_total{operation="${operation}",`) && candidate.includes(`outcome="${outcome}"`),
    );
    return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
  };

  it('NOT_FOUND, INVALID_TRANSITION, BAD_USER_INPUT, FORBIDDEN, UNAUTHENTICATED and a bad query each under their own code', async () => {
    const tenant = await makeTenant(t.app.dataSource);
    const admin = await makeUser(t.app.dataSource, tenant, { role: Role.ADMIN });
    const agent = await makeUser(t.app.dataSource, tenant, { role: Role.AGENT });
    const contact = await makeContact(t.app.dataSource, tenant);
    const adminToken = (await t.app.services.auth.login(admin.email, PASSWORD)).token;
    const agentToken = (await t.app.services.auth.login(agent.email, PASSWORD)).token;
    const created = await gql(
      t.url,
      'mutation Open($r: ID!) { createTicket(input: { requesterId: $r, subject: "Printer on fire" }) { id status } }',
      { r: contact.id },
      adminToken,
    );
    const ticket = (created.data as any).createTicket;
    expect(ticket.status).toBe('OPEN');

    const move = 'mutation Move($ticketId: ID!) { changeTicketStatus(ticketId: $ticketId, status: CLOSED) { id } }';
    const cases: Array<[operation: string, expected: string, run: () => Promise<any>]> = [
      ['Move', 'INVALID_TRANSITION', () => gql(t.url, move, { ticketId: ticket.id }, adminToken)],
      [
        'MoveMissing',
        'NOT_FOUND',
        () => gql(t.url, move.replace('Move', 'MoveMissing'), { ticketId: '00000000-0000-4000-8000-000000000000' }, adminToken),
      ],
      [
        'NewTicket',
        'BAD_USER_INPUT',
        () =>
          gql(
            t.url,
            'mutation NewTicket($r: ID!) { createTicket(input: { requesterId: $r, subject: "" }) { id } }',
            { r: contact.id },
            adminToken,
          ),
      ],
      ['Pause', 'FORBIDDEN', () => gql(t.url, 'mutation Pause { pauseJob(name: "sla-monitor") { name } }', {}, agentToken)],
      ['Anonymous', 'UNAUTHENTICATED', () => gql(t.url, 'query Anonymous { tickets { totalCount } }', {})],
      ['Typo', 'GRAPHQL_VALIDATION_FAILED', () => gql(t.url, 'query Typo { tickest { totalCount } }', {}, adminToken)],
    ];
    for (const [operation, expected, run] of cases) {
      const before = await metrics();
      const logged = lines.length;
      const answer = await run();
      const received = answer.errors?.[0]?.extensions?.code;
      expect([operation, received]).toEqual([operation, expected]);
      const after = await metrics();
      expect([operation, count(after, operation, received) - count(before, operation, received)]).toEqual([operation, 1]);
      expect([
        operation,
        count(after, operation, 'INTERNAL_SERVER_ERROR') - count(before, operation, 'INTERNAL_SERVER_ERROR'),
      ]).toEqual([operation, 0]);
      const line = lines.slice(logged).find((entry) => entry.message === 'graphql operation' && entry.operation === operation);
      expect([operation, line?.outcome]).toEqual([operation, received]);
    }
  });

  it('answers a lookup that finds nothing with null and its error, keeping the rest of the answer', async () => {
    const tenant = await makeTenant(t.app.dataSource);
    const admin = await makeUser(t.app.dataSource, tenant, { role: Role.ADMIN });
    const token = (await t.app.services.auth.login(admin.email, PASSWORD)).token;
    const missing = '00000000-0000-4000-8000-000000000000';
    const lookups = [
      'ticket',
      'contact',
      'user',
      'campaign',
      'segment',
      'automationRule',
      'delivery',
      'completionRequest',
      'businessRecord',
    ];
    const query = `query Several($id: ID!) { me { kind } ${lookups.map((field) => `${field}(id: $id) { id }`).join(' ')} }`;
    const answer = await gql(t.url, query, { id: missing }, token);
    expect(answer.data).toEqual({ me: { kind: 'STAFF' }, ...Object.fromEntries(lookups.map((field) => [field, null])) });
    expect(answer.errors?.map((error) => [(error as { path?: unknown }).path, error.extensions?.code])).toEqual(
      expect.arrayContaining(lookups.map((field) => [[field], 'NOT_FOUND'])),
    );
    expect(answer.errors).toHaveLength(lookups.length);
  });
});
