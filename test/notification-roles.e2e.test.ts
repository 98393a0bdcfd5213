import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Role, STAFF_ROLES, type StaffRole } from '../src/entities/user.entity';
import { PASSWORD, makeContact, makeServiceJob, makeTenant, makeUser } from './helpers/factories';
import { type TestApp, errorCode, gql, gqlOk, startTestApp } from './helpers/test-app';

const SEND = `mutation ($input: SendMessageInput!) { sendMessage(input: $input) { id notificationType sentById } }`;
const ALERT = `mutation ($message: String!) { broadcastEmergencyAlert(message: $message, channels: [EMAIL]) { queued } }`;
const STATS = `query ($from: DateTimeISO!, $to: DateTimeISO!) {
  deliveryStats(from: $from, to: $to) { total byNotificationType { key count } }
}`;
const REQUEST = `mutation ($jobId: ID!) { requestCompletion(jobId: $jobId) { id } }`;

/** The README's table of who may send what: each row's types, and the roles marked yes. */
function readmeTable(): Array<{ types: string[]; roles: StaffRole[] }> {
  const readme = readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
  const lines = readme.split('\n');
  const header = lines.findIndex((line) => /^\| Notification type +\| ADMIN/.test(line));
  expect(header).toBeGreaterThan(0);
  const columns = lines[header]!.split('|').map((cell) => cell.trim());
  const rows: Array<{ types: string[]; roles: StaffRole[] }> = [];
  for (const line of lines.slice(header + 2)) {
    if (!line.startsWith('|')) break;
    const cells = line.split('|').map((cell) => cell.trim());
    const types = [...cells[1]!.matchAll(/`([a-z_]+)`/g)].map((match) => match[1]!);
    const roles = STAFF_ROLES.filter((role) => cells[columns.indexOf(role.toUpperCase())] === 'yes');
    rows.push({ types, roles });
  }
  return rows;
}

describe('who may send what (README table, role by role)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.stop());

  async function world() {
    const ds = t.app.dataSource;
    const tenant = await makeTenant(ds, { defaultCountry: 'ID' });
    const tokens = {} as Record<StaffRole, string>;
    const users = {} as Record<StaffRole, string>;
    for (const role of STAFF_ROLES) {
      const user = await makeUser(ds, tenant, { role, externalId: `${role}-1` });
      users[role] = user.id;
      tokens[role] = (await t.app.services.auth.login(user.email, PASSWORD)).token;
    }
    const contact = await makeContact(ds, tenant, { phone: '+6281298760111', email: 'sari@example.test' });
    return { tenant, tokens, users, contact };
  }

  const count = async (tenantId: string) =>
    Number((await t.app.dataSource.query(`SELECT count(*) FROM delivery WHERE "tenantId" = $1`, [tenantId]))[0].count);

  it('lets each role send exactly the types the table gives it; any other answers FORBIDDEN and queues nothing', async () => {
    const w = await world();
    const table = readmeTable();
    expect(table.length).toBeGreaterThanOrEqual(6);
    const walked: string[] = [];
    for (const { types, roles } of table) {
      for (const type of types) {
        for (const role of STAFF_ROLES) {
          const before = await count(w.tenant.id);
          const input = { channel: 'EMAIL', contactId: w.contact.id, text: `A ${type} message`, subject: 'Hello' };
          // `ad_hoc` is the type of a message that names none.
          const result = await gql(
            t.url,
            SEND,
            { input: type === 'ad_hoc' ? input : { ...input, notificationType: type } },
            w.tokens[role],
          );
          if (roles.includes(role)) {
            expect([type, role, result.errors]).toEqual([type, role, undefined]);
            expect(result.data!.sendMessage).toMatchObject({ notificationType: type, sentById: w.users[role] });
            expect(await count(w.tenant.id)).toBe(before + 1);
          } else {
            expect([type, role, errorCode(result)]).toEqual([type, role, 'FORBIDDEN']);
            expect(await count(w.tenant.id)).toBe(before);
          }
          walked.push(`${type}:${role}`);
        }
      }
    }
    // Every row was walked for every role, the product's own types included.
    expect(walked).toEqual(expect.arrayContaining(['promotion:agent', 'satisfaction_survey:admin', 'job_update:technician']));
  });

  it('tells a refused sender which types their role may send', async () => {
    const w = await world();
    const result = await gql(
      t.url,
      SEND,
      { input: { channel: 'EMAIL', contactId: w.contact.id, text: 'Big sale', subject: 'Sale', notificationType: 'promotion' } },
      w.tokens[Role.TECHNICIAN],
    );
    expect(errorCode(result)).toBe('FORBIDDEN');
    expect(result.errors![0]!.message).toContain('may send job_update, technician_on_the_way');
  });

  it('holds the emergency row for broadcastEmergencyAlert too', async () => {
    const w = await world();
    const emergency = readmeTable().find((row) => row.types.includes('emergency'))!;
    for (const role of STAFF_ROLES) {
      const result = await gql(t.url, ALERT, { message: 'Gas leak on floor 2' }, w.tokens[role]);
      if (emergency.roles.includes(role)) expect([role, result.errors]).toEqual([role, undefined]);
      else expect([role, errorCode(result)]).toEqual([role, 'FORBIDDEN']);
    }
  });

  it("gives a technician the figures of their own messages and completion requests, nobody else's", async () => {
    const w = await world();
    const other = await makeUser(t.app.dataSource, w.tenant, { role: Role.TECHNICIAN, externalId: 'TECH-2' });
    const otherToken = (await t.app.services.auth.login(other.email, PASSWORD)).token;
    const send = (token: string, notificationType: string) =>
      gqlOk(
        t.url,
        SEND,
        { input: { channel: 'EMAIL', contactId: w.contact.id, text: 'On my way', subject: 'Visit', notificationType } },
        token,
      );
    await send(w.tokens[Role.TECHNICIAN], 'technician_on_the_way');
    await send(w.tokens[Role.TECHNICIAN], 'job_update');
    await send(otherToken, 'job_update');
    await send(w.tokens[Role.AGENT], 'payment_reminder');
    // The technician's job (owned by their external id) and its completion request to the customer.
    const jobId = await makeServiceJob(t.app.services, w.tenant, w.contact.id, `${Role.TECHNICIAN}-1`);
    await gqlOk(t.url, REQUEST, { jobId }, w.tokens[Role.TECHNICIAN]);
    const period = {
      from: new Date(t.clock.now().getTime() - 3_600_000).toISOString(),
      to: new Date(t.clock.now().getTime() + 3_600_000).toISOString(),
    };
    const stats = async (token: string) => (await gqlOk(t.url, STATS, period, token)).deliveryStats;
    const byType = (figures: { byNotificationType: Array<{ key: string; count: number }> }) =>
      Object.fromEntries(figures.byNotificationType.map((row) => [row.key, row.count]));

    const own = await stats(w.tokens[Role.TECHNICIAN]);
    expect(byType(own)).toEqual({ technician_on_the_way: 1, job_update: 1, completion_request: expect.any(Number) });
    expect(own.total).toBe(2 + byType(own).completion_request);
    expect(byType(await stats(otherToken))).toEqual({ job_update: 1 });
    // The business's staff see everything; a technician cannot widen their view.
    const all = await stats(w.tokens[Role.ADMIN]);
    expect(all.total).toBe(own.total + 2);
    const wider = await gql(
      t.url,
      `query ($from: DateTimeISO!, $to: DateTimeISO!) { deliveryStats(from: $from, to: $to, allTenants: true) { total } }`,
      period,
      w.tokens[Role.TECHNICIAN],
    );
    expect(errorCode(wider)).toBe('FORBIDDEN');
    // A technician of another business sees none of these.
    const stranger = await world();
    expect((await stats(stranger.tokens[Role.TECHNICIAN])).total).toBe(0);
  });
});
