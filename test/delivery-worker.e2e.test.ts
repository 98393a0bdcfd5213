import { type ChildProcess, spawn } from 'node:child_process';
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import { Channel, DeliveryStatus, ProviderKind } from '../src/entities/channel';
import { Delivery } from '../src/entities/delivery.entity';
import { Role } from '../src/entities/user.entity';
import type { Principal } from '../src/services/directory/principal';
import { ProviderFake } from './fakes/provider-fake';
import { addMetaProvider, makeTenant } from './helpers/factories';
import { type TestApp, startTestApp } from './helpers/test-app';
import { killAndWait, until } from './helpers/wait';
import { MAIN, startWorker, terminateConnections, workerEnv } from './helpers/worker-process';

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
    await addMetaProvider(t.app.services, tenant, fake.url);
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
          ...workerEnv(t),
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
      // ones the dead worker had in flight: at most its in-flight limit for one provider.
      expect(fake.requests.length).toBe(20);
      expect(inFlight).toBeLessThanOrEqual(stuck);
      expect(inFlight).toBeLessThanOrEqual(8);
    } finally {
      await killAndWait(worker);
      await t.stop();
    }
  });

  it('survives its database connections being killed, and listens again for new messages', async () => {
    const t = await startTestApp();
    let worker: ChildProcess | undefined;
    try {
      const { tenant } = await tenantWithMeta(t);
      const running = await startWorker(t, {
        OUTBOUND_ALLOWED_ADDRESSES: '127.0.0.1',
        // No sweep to fall back on: only a LISTEN connection that came back can wake it.
        DISPATCHER_SWEEP_MS: '600000',
        SCHEDULER_PROCESS_EVERY_MS: '500',
      });
      worker = running.child;
      for (let blip = 1; blip <= 2; blip++) {
        // What a database restart or failover does to every connection of the worker.
        const killed = await terminateConnections(t);
        expect(killed).toBeGreaterThan(0);
        await new Promise((resolve) => setTimeout(resolve, 1500));
        if (running.exited() !== null) console.log('WORKER OUTPUT', running.output().slice(-3000));
        expect([blip, running.exited()]).toEqual([blip, null]);
        await enqueue(t, tenant.id, 100 + blip);
        await fake.waitForRequests(blip, 10_000);
      }
      expect(fake.received('meta').map((request) => request.body.text.body)).toEqual(['message 101', 'message 102']);
      expect(running.output()).toContain('lost its database connection; reconnecting');
    } finally {
      await killAndWait(worker);
      await t.stop();
    }
  });

  it('lets a hanging provider hold back only its own messages', async () => {
    const t = await startTestApp(undefined, {
      ROLE: 'all',
      PROVIDER_TIMEOUT_MS: '3000',
      PROVIDER_MAX_IN_FLIGHT: '4',
      CIRCUIT_FAILURE_THRESHOLD: '3',
    });
    try {
      const hanging = await makeTenant(t.app.dataSource);
      const admin: Principal = { kind: 'staff', tenantId: hanging.id, userId: hanging.id, role: Role.ADMIN, name: 'Admin' };
      await t.app.services.providers.create(admin, {
        kind: ProviderKind.FONNTE,
        name: 'Fonnte (hangs)',
        baseUrl: fake.url,
        credentials: { token: 'fonnte-token' },
      });
      const { tenant: healthy } = await tenantWithMeta(t);
      fake.always('fonnte', { kind: 'delay', ms: 60_000 });
      for (let n = 0; n < 30; n++) await enqueue(t, hanging.id, n);
      await fake.waitForRequests(4, 5000);
      const started = performance.now();
      for (let n = 30; n < 35; n++) await enqueue(t, healthy.id, n);
      await until('the healthy tenant’s messages to go out', async () => fake.received('meta').length === 5, 2000);
      const healthyMs = performance.now() - started;
      // The other tenant's messages went out while every send to the hanging gateway was still open.
      expect(healthyMs).toBeLessThan(3000);
      expect(fake.received('fonnte')).toHaveLength(4);
      // Once those time out the circuit opens: the dead gateway saw the in-flight limit, not the queue.
      await new Promise((resolve) => setTimeout(resolve, 4000));
      expect(fake.received('fonnte').length).toBeLessThanOrEqual(4);
      const stuck = await t.app.dataSource.getRepository(Delivery).findBy({ tenantId: hanging.id });
      expect(stuck.filter((d) => d.status === DeliveryStatus.DEAD)).toHaveLength(0);
      expect(stuck.filter((d) => d.attempts > 0)).toHaveLength(4);
    } finally {
      fake.always('fonnte', { kind: 'ok' });
      await t.stop();
    }
  });

  it('passes over a primary that hangs at once: the backup carries the rest while the primary’s requests are still out', async () => {
    // A long timeout: a message that waited for the hung requests to time out would miss the deadline below.
    const t = await startTestApp(undefined, { ROLE: 'all', PROVIDER_TIMEOUT_MS: '60000', PROVIDER_MAX_IN_FLIGHT: '4' });
    try {
      const tenant = await makeTenant(t.app.dataSource);
      const admin: Principal = { kind: 'staff', tenantId: tenant.id, userId: tenant.id, role: Role.ADMIN, name: 'Admin' };
      const gateway = { baseUrl: fake.url, settings: { serverUrl: fake.url } };
      await t.app.services.providers.create(admin, {
        kind: ProviderKind.FONNTE,
        name: 'Fonnte (hangs)',
        priority: 10,
        ...gateway,
        credentials: { token: 'fonnte-token' },
      });
      const wablas = await t.app.services.providers.create(admin, {
        kind: ProviderKind.WABLAS,
        name: 'Wablas',
        priority: 20,
        ...gateway,
        credentials: { token: 'wablas-token', secretKey: 'wablas-secret' },
      });
      fake.always('fonnte', { kind: 'delay', ms: 120_000 });
      const queued = [];
      for (let n = 0; n < 40; n++) queued.push(await enqueue(t, tenant.id, n));
      const sentBy = async () =>
        (await t.app.dataSource.getRepository(Delivery).findBy({ tenantId: tenant.id, status: DeliveryStatus.SENT })).filter(
          (delivery) => delivery.providerId === wablas.id,
        );
      // Everything but what the primary holds goes out through the backup, long before any timeout.
      await until('all but the hung requests to go out through Wablas', async () => (await sentBy()).length === 36, 15_000);
      expect(fake.received('fonnte')).toHaveLength(4);
      const spilled = (await sentBy())[0];
      const skip = (await t.app.services.deliveries.events(spilled.id)).find((event) => event.type === 'circuit_open');
      expect(skip?.message).toMatch(/Fonnte \(hangs\) \((not answering|slow)\)/);
      expect(spilled.failedOver).toBe(true);
      // The gateway goes away: the four it held fail over too, in their attempt.
      fake.dropConnections();
      await until('the held four to go out through Wablas', async () => (await sentBy()).length === 40, 10_000);
      expect(fake.received('fonnte')).toHaveLength(4);
    } finally {
      fake.always('fonnte', { kind: 'ok' });
      await t.stop();
    }
  });

  it('refuses to start with a CREDENTIALS_KEY that cannot read the stored credentials', async () => {
    const t = await startTestApp();
    try {
      await tenantWithMeta(t);
      const wrongKey = Buffer.alloc(32, 1).toString('base64');
      const started = spawn(process.execPath, [MAIN], {
        env: { ...workerEnv(t), CREDENTIALS_KEY: wrongKey },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      started.stdout!.on('data', (chunk) => (output += chunk));
      started.stderr!.on('data', (chunk) => (output += chunk));
      const code = await new Promise((resolve) => started.once('exit', resolve));
      expect(code).toBe(1);
      expect(output).toContain('CREDENTIALS_KEY is not the key they were saved with');
      expect(output).not.toContain(wrongKey);
    } finally {
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
