import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../ormconfig';
import { Role } from '../src/entities/user.entity';
import { ProviderFake } from './fakes/provider-fake';
import { PASSWORD, makeContact, makeTenant, makeUser, uniquePhoneNumberId } from './helpers/factories';
import { Subscription, createTestDatabase, gqlOk, settle, wsClient } from './helpers/test-app';
import { killAndWait, until } from './helpers/wait';

const MAIN = path.join(__dirname, '..', 'dist', 'src', 'main.js');
/** Set by .ci/run when a Redis answers (these machines run one): the REDIS_URL transport is then tested too. */
const REDIS_URL = process.env.TEST_REDIS_URL;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** One process of the service, as a deployment runs it. */
async function start(role: 'api' | 'worker', env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, [MAIN], {
    env: {
      ...process.env,
      NODE_ENV: 'test',
      ROLE: role,
      PORT: String(port),
      SEED_DEMO_DATA: 'false',
      JWT_SECRET: 'live-events-secret-that-is-long-enough',
      CREDENTIALS_KEY: Buffer.alloc(32, 6).toString('base64'),
      OUTBOUND_ALLOWED_ADDRESSES: '127.0.0.1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  await until(
    `the ${role} process to start`,
    async () => {
      if (child.exitCode !== null) throw new Error(`the ${role} process exited:\n${output}`);
      return /API ready at|worker running/.test(output);
    },
    30_000,
  );
  return { child, url: `http://127.0.0.1:${port}` };
}

const transports = [
  { name: 'PostgreSQL LISTEN/NOTIFY', env: {} as Record<string, string> },
  ...(REDIS_URL ? [{ name: 'Redis pub/sub', env: { REDIS_URL } }] : []),
];

describe.each(transports)('live events across processes over $name', ({ env }) => {
  let fake: ProviderFake;
  let database: { url: string; drop(): Promise<void> };
  let dataSource: DataSource;
  const processes: ChildProcess[] = [];
  let api1: string;
  let api2: string;

  beforeAll(async () => {
    fake = await new ProviderFake().start();
    database = await createTestDatabase();
    dataSource = new DataSource(dataSourceOptions(database.url, 2));
    await dataSource.initialize();
    const started = await Promise.all([
      start('api', { ...env, DATABASE_URL: database.url }),
      start('api', { ...env, DATABASE_URL: database.url }),
      start('worker', { ...env, DATABASE_URL: database.url }),
    ]);
    processes.push(...started.map((process) => process.child));
    [api1, api2] = started.map((process) => process.url);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(processes.map(killAndWait));
    await dataSource?.destroy();
    await database?.drop();
    await fake.stop();
  });

  async function world() {
    const tenant = await makeTenant(dataSource);
    const agent = await makeUser(dataSource, tenant, { role: Role.ADMIN });
    const contact = await makeContact(dataSource, tenant, { phone: '+6281234567890' });
    const login = async (url: string) =>
      (
        await gqlOk(url, 'mutation ($e: String!, $p: String!) { login(email: $e, password: $p) { token } }', {
          e: agent.email,
          p: PASSWORD,
        })
      ).login.token as string;
    const token1 = await login(api1);
    const token2 = await login(api2);
    const { createTicket } = await gqlOk(
      api1,
      'mutation ($input: CreateTicketInput!) { createTicket(input: $input) { id } }',
      { input: { subject: 'Across processes', requesterId: contact.id, assigneeId: agent.id } },
      token1,
    );
    return { tenant, agent, contact, token1, token2, ticketId: createTicket.id as string };
  }

  it('delivers a message posted through one API process to a subscriber on the other, once', async () => {
    const w = await world();
    const client = wsClient(api2, w.token2);
    const thread = new Subscription<any>(
      client,
      'subscription ($id: ID!) { ticketMessageAdded(ticketId: $id) { body authorKind createdAt } }',
      { id: w.ticketId },
    );
    await settle(500);
    const long = 'x'.repeat(9_000);
    for (const body of ['Posted on API 1', long]) {
      await gqlOk(
        api1,
        'mutation ($input: AddTicketMessageInput!) { addTicketMessage(input: $input) { id } }',
        { input: { ticketId: w.ticketId, body } },
        w.token1,
      );
    }
    const items = await thread.waitFor(2, 10_000);
    expect(items[0].ticketMessageAdded).toMatchObject({ body: 'Posted on API 1', authorKind: 'STAFF' });
    // Bigger than a NOTIFY payload: it travels by reference and arrives whole.
    expect(items[1].ticketMessageAdded.body).toBe(long);
    expect(new Date(items[0].ticketMessageAdded.createdAt).getTime()).not.toBeNaN();
    await settle(500);
    expect(thread.items).toHaveLength(2);
    expect(thread.errors).toEqual([]);
    await client.dispose();
  });

  it('shows a delivery the worker sent to subscribers on every API process', async () => {
    const w = await world();
    await gqlOk(
      api1,
      'mutation ($input: ProviderInput!) { createChannelProvider(input: $input) { id } }',
      {
        input: {
          kind: 'META_WHATSAPP',
          name: 'Meta',
          baseUrl: fake.url,
          settings: { phoneNumberId: uniquePhoneNumberId(), serviceWindow: false },
          credentials: { accessToken: 'meta-token' },
        },
      },
      w.token1,
    );
    const subscribe = (url: string, token: string) => {
      const client = wsClient(url, token);
      return {
        client,
        statuses: new Subscription<any>(client, 'subscription { deliveryStatusChanged { id status ticketId } }'),
      };
    };
    const on1 = subscribe(api1, w.token1);
    const on2 = subscribe(api2, w.token2);
    await settle(500);
    const { sendMessage } = await gqlOk(
      api2,
      'mutation ($input: SendMessageInput!) { sendMessage(input: $input) { id } }',
      { input: { channel: 'WHATSAPP', contactId: w.contact.id, text: 'Your technician is on the way', ticketId: w.ticketId } },
      w.token2,
    );
    for (const { statuses } of [on1, on2]) {
      await until(
        'the worker’s SENT to reach the subscriber',
        async () => statuses.items.some((item) => item.deliveryStatusChanged.status === 'SENT'),
        10_000,
      );
      expect(statuses.items.map((item) => item.deliveryStatusChanged)).toEqual([
        { id: sendMessage.id, status: 'QUEUED', ticketId: w.ticketId },
        { id: sendMessage.id, status: 'SENT', ticketId: w.ticketId },
      ]);
    }
    await Promise.all([on1.client.dispose(), on2.client.dispose()]);
  });
});
