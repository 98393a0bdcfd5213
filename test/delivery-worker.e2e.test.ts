import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import { Channel, DeliveryStatus, ProviderKind } from '../src/entities/channel';
import { Delivery } from '../src/entities/delivery.entity';
import { Role } from '../src/entities/user.entity';
import type { Principal } from '../src/services/principal';
import { ProviderFake } from './fakes/provider-fake';
import { makeTenant, uniquePhoneNumberId } from './helpers/factories';
import { type TestApp, startTestApp } from './helpers/test-app';

const MAIN = path.join(__dirname, '..', 'dist', 'src', 'main.js');
const CREDENTIALS_KEY = Buffer.alloc(32, 9).toString('base64');

describe('delivery worker', () => {
  let fake: ProviderFake;
  beforeAll(async () => {
    fake = await new ProviderFake().start();
  });
  afterAll(() => fake.stop());
  beforeEach(() => fake.reset());

  async function tenantWithMeta(t: TestApp) {
    const tenant = await makeTenant(t.app.dataSource);
    const admin: Principal = { kind: 'staff', tenantId: tenant.id, userId: tenant.id, role: Role.ADMIN, name: 'Admin' };
    await t.app.services.providers.create(admin, {
      kind: ProviderKind.META_WHATSAPP,
      name: 'Meta',
      baseUrl: fake.url,
      settings: { phoneNumberId: uniquePhoneNumberId() },
      credentials: { accessToken: 'meta-token' },
    });
    return { tenant, admin };
  }

  const enqueue = (t: TestApp, tenantId: string, n: number) =>
    t.app.services.deliveries.enqueue(tenantId, {
      channel: Channel.WHATSAPP,
      to: '+6281234567890',
      text: `message ${n}`,
      idempotencyKey: `worker:${n}`,
    });

  it('sends within moments of an enqueue, woken by the commit rather than a poll', async () => {
    // A sweep far in the future: only the NOTIFY sent at commit can wake the dispatcher.
    const t = await startTestApp(undefined, { ROLE: 'all', DISPATCHER_SWEEP_MS: '600000' });
    try {
      const { tenant } = await tenantWithMeta(t);
      const delivery = await enqueue(t, tenant.id, 1);
      await fake.waitForRequests(1, 2000);
      expect(fake.received('meta')[0].body.text.body).toBe('message 1');
      for (
        let i = 0;
        i < 50 &&
        (await t.app.dataSource.getRepository(Delivery).findOneByOrFail({ id: delivery.id })).status !== DeliveryStatus.SENT;
        i++
      ) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect((await t.app.dataSource.getRepository(Delivery).findOneByOrFail({ id: delivery.id })).status).toBe(
        DeliveryStatus.SENT,
      );
    } finally {
      await t.stop();
    }
  });

  it('loses nothing when a worker is killed mid-batch: its claims are reclaimed after the lease', async () => {
    const t = await startTestApp();
    let worker: ChildProcess | undefined;
    try {
      const { tenant } = await tenantWithMeta(t);
      for (let n = 0; n < 20; n++) await enqueue(t, tenant.id, n);
      // Slow provider: the worker has messages in flight when it dies.
      fake.always('meta', { kind: 'delay', ms: 3000 });
      worker = spawn(process.execPath, [MAIN], {
        env: {
          ...process.env,
          ROLE: 'worker',
          DATABASE_URL: t.databaseUrl,
          JWT_SECRET: 'x'.repeat(40),
          CREDENTIALS_KEY,
          NODE_ENV: 'test',
          SEED_DEMO_DATA: 'false',
          DISPATCHER_BATCH_SIZE: '10',
          OUTBOUND_ALLOWED_ADDRESSES: '127.0.0.1',
        },
        stdio: 'ignore',
      });
      await fake.waitForRequests(3, 15000);
      worker.kill('SIGKILL');
      await new Promise((resolve) => worker!.once('exit', resolve));
      const inFlight = fake.requests.length;

      const stuck = await t.app.dataSource
        .getRepository(Delivery)
        .countBy({ tenantId: tenant.id, status: DeliveryStatus.SENDING });
      expect(stuck).toBeGreaterThan(0);

      fake.reset();
      // The worker leased its claims for DELIVERY_LEASE_MS (60 s) on its own clock; move well past that.
      t.clock.advance(5 * 60_000);
      while ((await t.app.services.dispatch.dispatchBatch()).claimed > 0);
      const deliveries = await t.app.dataSource.getRepository(Delivery).findBy({ tenantId: tenant.id });
      expect(deliveries.map((d) => d.status)).toEqual(Array(20).fill(DeliveryStatus.SENT));
      // Every message went out once more after the crash; the only duplicates are the
      // ones the dead worker had in flight, at most its batch.
      expect(fake.requests.length).toBe(20);
      expect(inFlight).toBeLessThanOrEqual(stuck);
      expect(stuck).toBeLessThanOrEqual(10);
    } finally {
      worker?.kill('SIGKILL');
      await t.stop();
    }
  });

  it('sends e-mail over SMTP, and fails for good on a 5xx refusal', async () => {
    const received: Array<{ to: string[]; data: string }> = [];
    const smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      onRcptTo(address, _session, callback) {
        if (address.address.startsWith('nobody@')) {
          const error = Object.assign(new Error('Mailbox unavailable'), { responseCode: 550 });
          return callback(error);
        }
        callback();
      },
      onData(stream, session, callback) {
        let data = '';
        stream.on('data', (chunk) => (data += chunk));
        stream.on('end', () => {
          received.push({ to: session.envelope.rcptTo.map((r) => r.address), data });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    const port = (smtp.server.address() as AddressInfo).port;
    const t = await startTestApp();
    try {
      const tenant = await makeTenant(t.app.dataSource);
      const admin: Principal = { kind: 'staff', tenantId: tenant.id, userId: tenant.id, role: Role.ADMIN, name: 'Admin' };
      await t.app.services.providers.create(admin, {
        kind: ProviderKind.SMTP,
        name: 'Mail',
        settings: { host: '127.0.0.1', port, from: 'support@acme.example', ignoreTLS: true },
        credentials: {},
      });
      const ok = await t.app.services.deliveries.enqueue(tenant.id, {
        channel: Channel.EMAIL,
        to: 'ana@example.com',
        subject: 'Your ticket',
        text: 'It is solved.',
        idempotencyKey: 'mail:1',
      });
      const refused = await t.app.services.deliveries.enqueue(tenant.id, {
        channel: Channel.EMAIL,
        to: 'nobody@example.com',
        subject: 'Hi',
        text: 'x',
        idempotencyKey: 'mail:2',
      });
      while ((await t.app.services.dispatch.dispatchBatch()).claimed > 0);
      const repo = t.app.dataSource.getRepository(Delivery);
      expect(await repo.findOneByOrFail({ id: ok.id })).toMatchObject({ status: DeliveryStatus.SENT });
      expect(await repo.findOneByOrFail({ id: refused.id })).toMatchObject({
        status: DeliveryStatus.FAILED,
        lastErrorCode: 'SMTP_550',
      });
      expect(received).toHaveLength(1);
      expect(received[0].to).toEqual(['ana@example.com']);
      expect(received[0].data).toContain('Subject: Your ticket');
      expect(received[0].data).toContain('It is solved.');
    } finally {
      await t.stop();
      await new Promise<void>((resolve) => smtp.close(() => resolve()));
    }
  });
});
