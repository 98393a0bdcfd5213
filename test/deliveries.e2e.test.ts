import { Client as PgClient } from 'pg';
import { In } from 'typeorm';
import { createHmac } from 'node:crypto';
import { Channel, DeliveryStatus, ProviderKind } from '../src/entities/channel';
import { ChannelProvider } from '../src/entities/channel-provider.entity';
import { Contact } from '../src/entities/contact.entity';
import { Delivery } from '../src/entities/delivery.entity';
import { MessageTemplate } from '../src/entities/message-template.entity';
import { Tenant } from '../src/entities/tenant.entity';
import { SecretBox } from '../src/services/platform/secret-box';
import { Role } from '../src/entities/user.entity';
import type { EnqueueInput } from '../src/services/delivery/delivery.service';
import type { Principal } from '../src/services/directory/principal';
import { ProviderFake, down, fonnteRefusal, metaError, ok, twilioError } from './fakes/provider-fake';
import { makeContact, makeTenant, uniquePhoneNumberId } from './helpers/factories';
import { type TestApp, cancelOutstandingDeliveries, startTestApp } from './helpers/test-app';

describe('delivery pipeline', () => {
  let t: TestApp;
  let fake: ProviderFake;

  beforeAll(async () => {
    fake = await new ProviderFake().start();
    t = await startTestApp(undefined, { CIRCUIT_COOLDOWN_MS: '60000' });
  });
  afterAll(async () => {
    await t.stop();
    await fake.stop();
  });
  beforeEach(() => fake.reset());
  afterEach(() => cancelOutstandingDeliveries(t));

  const services = () => t.app.services;
  const admin = (tenant: Tenant): Principal => ({
    kind: 'staff',
    tenantId: tenant.id,
    userId: tenant.id,
    role: Role.ADMIN,
    name: 'Admin',
  });

  async function tenantWith(
    ...kinds: ProviderKind[]
  ): Promise<{ tenant: Tenant; providers: ChannelProvider[]; contact: Contact }> {
    const tenant = await makeTenant(t.app.dataSource);
    const providers: ChannelProvider[] = [];
    for (const [index, kind] of kinds.entries()) {
      providers.push(
        await services().providers.create(admin(tenant), {
          kind,
          name: `${kind} ${index + 1}`,
          priority: (index + 1) * 10,
          baseUrl: fake.url,
          // Sending tests: the Meta number's service window is not held (window tests turn it on).
          settings: {
            phoneNumberId: uniquePhoneNumberId(),
            serviceWindow: false,
            from: '+15550001111',
            url: `${fake.url}/hooks/in`,
          },
          credentials: {
            [ProviderKind.META_WHATSAPP]: { accessToken: 'meta-token' },
            [ProviderKind.FONNTE]: { token: 'fonnte-token' },
            [ProviderKind.WABLAS]: { token: 'wablas-token', secretKey: 'wablas-secret' },
            [ProviderKind.TWILIO_SMS]: { accountSid: 'AC123', authToken: 'twilio-secret' },
            [ProviderKind.SMTP]: {},
            [ProviderKind.WEBHOOK]: { signingSecret: 'hook-secret' },
          }[kind],
        }),
      );
    }
    const contact = await makeContact(t.app.dataSource, tenant, { phone: '+6281234567890' });
    return { tenant, providers, contact };
  }

  let keys = 0;
  function enqueue(tenant: Tenant, input: Partial<EnqueueInput> = {}): Promise<Delivery> {
    return services().deliveries.enqueue(tenant.id, {
      channel: Channel.WHATSAPP,
      to: '+6281234567890',
      text: 'Your technician arrives at 10:00',
      idempotencyKey: `test:${++keys}`,
      ...input,
    });
  }

  const reload = (delivery: Delivery) => t.app.dataSource.getRepository(Delivery).findOneByOrFail({ id: delivery.id });
  const eventTypes = async (delivery: Delivery) => (await services().deliveries.events(delivery.id)).map((event) => event.type);

  /** Runs dispatcher batches until nothing is due. */
  async function drain(): Promise<void> {
    while ((await services().dispatch.dispatchBatch()).claimed > 0);
  }

  it('sends through the first provider and records the wamid', async () => {
    const { tenant, providers } = await tenantWith(ProviderKind.META_WHATSAPP, ProviderKind.FONNTE);
    const delivery = await enqueue(tenant);
    await drain();
    const sent = await reload(delivery);
    expect(sent).toMatchObject({ status: DeliveryStatus.SENT, providerId: providers[0].id, failedOver: false, attempts: 1 });
    expect(sent.providerMessageId).toMatch(/^wamid\./);
    const [request] = fake.received('meta');
    expect(request.path).toBe(`/v21.0/${providers[0].settings.phoneNumberId}/messages`);
    expect(request.body).toMatchObject({
      messaging_product: 'whatsapp',
      to: '6281234567890',
      type: 'text',
      text: { body: 'Your technician arrives at 10:00' },
    });
    expect(await eventTypes(delivery)).toEqual(['queued', 'sent']);
  });

  it('fails over from the primary to the backup on a retryable error, in the same attempt', async () => {
    const { tenant, providers } = await tenantWith(ProviderKind.META_WHATSAPP, ProviderKind.FONNTE);
    fake.script('meta', metaError(131000, 'Something went wrong', 500));
    const delivery = await enqueue(tenant);
    await drain();
    const sent = await reload(delivery);
    expect(sent).toMatchObject({ status: DeliveryStatus.SENT, providerId: providers[1].id, failedOver: true, attempts: 1 });
    expect(fake.received('fonnte')[0].body).toMatchObject({
      target: '6281234567890',
      message: 'Your technician arrives at 10:00',
    });
    const events = await services().deliveries.events(delivery.id);
    expect(events.map((e) => [e.type, e.providerCode])).toEqual([
      ['queued', null],
      ['failover', '131000'],
      ['sent', null],
    ]);
  });

  it('fails over past a revoked token or an exhausted quota: the backup has credentials of its own', async () => {
    const { tenant, providers } = await tenantWith(ProviderKind.META_WHATSAPP, ProviderKind.FONNTE, ProviderKind.WABLAS);
    fake.script('meta', metaError(190, 'Error validating access token: Session has expired', 401));
    fake.script('fonnte', fonnteRefusal('insufficient quota'));
    const delivery = await enqueue(tenant);
    await drain();
    expect(await reload(delivery)).toMatchObject({ status: DeliveryStatus.SENT, providerId: providers[2].id, attempts: 1 });
    expect((await services().deliveries.events(delivery.id)).map((e) => [e.type, e.providerCode])).toEqual([
      ['queued', null],
      ['failover', '190'],
      ['failover', 'FONNTE_ACCOUNT'],
      ['sent', null],
    ]);
  });

  it("treats credentials the key cannot read as the provider's problem, not a network error", async () => {
    const { tenant, providers } = await tenantWith(ProviderKind.META_WHATSAPP, ProviderKind.FONNTE);
    // Saved under another CREDENTIALS_KEY (a key that was changed without re-entering credentials).
    const foreign = new SecretBox(Buffer.alloc(32, 5).toString('base64')).seal({ accessToken: 'meta-token' });
    await t.app.dataSource.getRepository(ChannelProvider).update({ id: providers[0].id }, { credentials: foreign });
    const delivery = await enqueue(tenant);
    await drain();
    expect(await reload(delivery)).toMatchObject({ status: DeliveryStatus.SENT, providerId: providers[1].id });
    expect((await services().deliveries.events(delivery.id)).map((e) => [e.type, e.providerCode])).toEqual([
      ['queued', null],
      ['failover', 'CREDENTIALS_UNREADABLE'],
      ['sent', null],
    ]);
    await expect(services().providers.assertCredentialsReadable()).rejects.toThrow(
      /CREDENTIALS_KEY is not the key they were saved with/,
    );
    await t.app.dataSource.getRepository(ChannelProvider).delete({ id: providers[0].id });
  });

  it('does not charge an attempt for a 429 burst: the provider is paused until its Retry-After', async () => {
    const { tenant, providers } = await tenantWith(ProviderKind.META_WHATSAPP);
    fake.always('meta', metaError(130429, 'Rate limit hit', 429, { 'retry-after': '30' }));
    const deliveries = await Promise.all(Array.from({ length: 6 }, () => enqueue(tenant)));
    for (let round = 0; round < 10; round++) {
      await drain();
      t.clock.advance(30_001);
    }
    // Ten rounds of refusals: none of them dead-lettered, none charged an attempt, and after
    // the first round's six the gateway saw exactly one request per pause (the probe), not a
    // storm, and not fewer: each pause lasts its Retry-After, not a whole circuit cool-down.
    const waiting = await Promise.all(deliveries.map(reload));
    expect(waiting.map(({ status, attempts }) => [status, attempts])).toEqual(deliveries.map(() => [DeliveryStatus.QUEUED, 0]));
    expect(waiting.map((delivery) => delivery.lastErrorCode)).toContain('130429');
    expect(fake.received('meta').length).toBe(6 + 9);
    const provider = await t.app.dataSource.getRepository(ChannelProvider).findOneByOrFail({ id: providers[0].id });
    expect(provider.consecutiveFailures).toBe(0);
    fake.always('meta', ok);
    t.clock.advance(30_001);
    await drain();
    // The probe went through; the others were held while it was out and follow a moment later.
    t.clock.advance(1_001);
    await drain();
    for (const delivery of deliveries) expect(await reload(delivery)).toMatchObject({ status: DeliveryStatus.SENT, attempts: 1 });
  });

  it('retries only the one recipient Meta limits (131056, 131048): the circuit stays closed and everyone else is sent', async () => {
    const { tenant, providers } = await tenantWith(ProviderKind.META_WHATSAPP, ProviderKind.FONNTE);
    fake.forRecipient('meta', '6281200000001', metaError(131056, 'Pair rate limit hit', 400, { 'retry-after': '120' }));
    fake.forRecipient('meta', '6281200000002', metaError(131048, 'Spam rate limit hit'));
    // Six messages to the two limited numbers first (twice the circuit's threshold), then seven to others.
    const limited = [];
    for (let n = 0; n < 3; n++) {
      limited.push(await enqueue(tenant, { to: '+6281200000001' }), await enqueue(tenant, { to: '+6281200000002' }));
    }
    const others = [];
    for (let n = 0; n < 7; n++) others.push(await enqueue(tenant, { to: `+628130000000${n}` }));
    await drain();

    for (const delivery of others) {
      expect(await reload(delivery)).toMatchObject({ status: DeliveryStatus.SENT, providerId: providers[0].id, attempts: 1 });
    }
    const provider = await t.app.dataSource.getRepository(ChannelProvider).findOneByOrFail({ id: providers[0].id });
    expect(provider).toMatchObject({ consecutiveFailures: 0, circuitOpenUntil: null });
    // The limited messages wait on their own (no failover to the gateway for a limit on one recipient).
    expect(fake.received('fonnte')).toHaveLength(0);
    const waiting = await Promise.all(limited.map(reload));
    expect(waiting.map((delivery) => [delivery.recipient, delivery.status, delivery.attempts, delivery.lastErrorCode])).toEqual(
      limited.map((delivery) => [
        delivery.recipient,
        DeliveryStatus.QUEUED,
        1,
        delivery.recipient === '+6281200000001' ? '131056' : '131048',
      ]),
    );
    // The pair rate limit's Retry-After holds that message back; the other follows its backoff.
    const pair = waiting.find((delivery) => delivery.recipient === '+6281200000001')!;
    expect(pair.nextAttemptAt.getTime() - t.clock.now().getTime()).toBeGreaterThanOrEqual(120_000);
    expect(await eventTypes(pair)).toEqual(['queued', 'attempt_failed', 'retry_scheduled']);
  });

  it('does not charge an attempt while every provider is skipped for an open circuit', async () => {
    const { tenant, providers } = await tenantWith(ProviderKind.META_WHATSAPP);
    const opened = new Date(t.clock.now().getTime() + 60_000);
    await t.app.dataSource
      .getRepository(ChannelProvider)
      .update({ id: providers[0].id }, { consecutiveFailures: 3, circuitOpenUntil: opened });
    const delivery = await enqueue(tenant);
    for (let round = 0; round < 6; round++) await drain();
    expect(await reload(delivery)).toMatchObject({ status: DeliveryStatus.QUEUED, attempts: 0, nextAttemptAt: opened });
    expect(fake.received('meta')).toHaveLength(0);
  });

  it('does not fail over or retry a permanent error, keeping the provider code', async () => {
    const { tenant } = await tenantWith(ProviderKind.META_WHATSAPP, ProviderKind.FONNTE);
    fake.script('meta', metaError(131026, 'Message undeliverable'));
    const delivery = await enqueue(tenant);
    await drain();
    expect(await reload(delivery)).toMatchObject({ status: DeliveryStatus.FAILED, lastErrorCode: '131026', attempts: 1 });
    expect(fake.received('fonnte')).toHaveLength(0);
  });

  it('classifies Meta, Fonnte and Twilio errors as the providers document them', async () => {
    const cases: Array<[ProviderKind, () => void, DeliveryStatus, string]> = [
      [
        ProviderKind.META_WHATSAPP,
        // Outside the 24-hour window, with no template and no gateway: nothing can carry it.
        () => fake.script('meta', metaError(131047, 'Re-engagement message')),
        DeliveryStatus.FAILED,
        'OUTSIDE_SERVICE_WINDOW',
      ],
      [
        ProviderKind.META_WHATSAPP,
        () => fake.script('meta', metaError(131056, 'Pair rate limit hit')),
        DeliveryStatus.QUEUED,
        '131056',
      ],
      [
        ProviderKind.META_WHATSAPP,
        () => fake.script('meta', metaError(190, 'Access token expired', 401)),
        DeliveryStatus.QUEUED,
        '190',
      ],
      [ProviderKind.FONNTE, () => fake.script('fonnte', fonnteRefusal('invalid token')), DeliveryStatus.QUEUED, 'FONNTE_AUTH'],
      [
        ProviderKind.FONNTE,
        () => fake.script('fonnte', fonnteRefusal('device disconnected')),
        DeliveryStatus.QUEUED,
        'FONNTE_REFUSED',
      ],
      [
        ProviderKind.TWILIO_SMS,
        () => fake.script('twilio', twilioError(21211, "The 'To' number is not a valid phone number.")),
        DeliveryStatus.FAILED,
        '21211',
      ],
      [
        ProviderKind.TWILIO_SMS,
        () => fake.script('twilio', twilioError(20429, 'Too Many Requests', 429)),
        DeliveryStatus.QUEUED,
        '20429',
      ],
      [
        ProviderKind.TWILIO_SMS,
        () => fake.script('twilio', { kind: 'error', status: 503, body: 'Service Unavailable' }),
        DeliveryStatus.QUEUED,
        'HTTP_503',
      ],
    ];
    for (const [kind, arrange, status, code] of cases) {
      const { tenant } = await tenantWith(kind);
      arrange();
      const delivery = await enqueue(tenant, { channel: kind === ProviderKind.TWILIO_SMS ? Channel.SMS : Channel.WHATSAPP });
      await services().dispatch.dispatchBatch();
      expect([kind, await reload(delivery)]).toEqual([kind, expect.objectContaining({ status, lastErrorCode: code })]);
    }
  });

  it('retries with backoff (5 s, 10 s, 20 s), then dead-letters; an operator resend then goes out', async () => {
    const { tenant, providers } = await tenantWith(ProviderKind.TWILIO_SMS);
    fake.always('twilio', { kind: 'error', status: 500, body: { code: 20500, message: 'Internal Server Error', status: 500 } });
    // This test is about the retry schedule: keep the circuit breaker (tested below) from opening.
    const closeCircuit = () =>
      t.app.dataSource.getRepository(ChannelProvider).update({ id: providers[0].id }, { consecutiveFailures: 0 });
    const delivery = await enqueue(tenant, { channel: Channel.SMS });
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 4; attempt++) {
      await drain();
      await closeCircuit();
      const current = await reload(delivery);
      expect(current.attempts).toBe(attempt);
      if (attempt < 4) {
        expect(current.status).toBe(DeliveryStatus.QUEUED);
        delays.push(current.nextAttemptAt.getTime() - t.clock.now().getTime());
        // Not due yet: nothing is sent before the backoff has passed.
        t.clock.advance(delays[delays.length - 1] - 100);
        await drain();
        expect((await reload(delivery)).attempts).toBe(attempt);
        t.clock.advance(100);
      }
    }
    delays.forEach((ms, i) => {
      expect(ms).toBeGreaterThanOrEqual(5000 * 2 ** i * 0.9);
      expect(ms).toBeLessThanOrEqual(5000 * 2 ** i * 1.1);
    });
    const dead = await reload(delivery);
    expect(dead).toMatchObject({ status: DeliveryStatus.DEAD, lastErrorCode: '20500' });
    expect(fake.received('twilio')).toHaveLength(4);

    fake.reset();
    const resent = await services().deliveries.retry(admin(tenant), delivery.id);
    expect(resent).toMatchObject({ parentDeliveryId: delivery.id, status: DeliveryStatus.QUEUED, attempts: 0 });
    await drain();
    expect(await reload(resent)).toMatchObject({ status: DeliveryStatus.SENT });
    expect(await eventTypes(delivery)).toEqual([
      'queued',
      ...Array(3).fill(['attempt_failed', 'retry_scheduled']).flat(),
      'attempt_failed',
      'dead',
      'resent',
    ]);
  });

  it('opens a circuit after 3 failures in a row, skips the provider while open, then lets one probe through', async () => {
    const { tenant, providers } = await tenantWith(ProviderKind.META_WHATSAPP, ProviderKind.WABLAS);
    fake.always('meta', down);
    for (let i = 0; i < 3; i++) {
      await enqueue(tenant);
      await drain();
    }
    const meta = await t.app.dataSource.getRepository(ChannelProvider).findOneByOrFail({ id: providers[0].id });
    expect(meta.consecutiveFailures).toBe(3);
    expect(meta.circuitOpenUntil!.getTime()).toBe(t.clock.now().getTime() + 60_000);
    expect(fake.received('wablas')).toHaveLength(3);

    fake.reset();
    const whileOpen = await enqueue(tenant);
    await drain();
    expect(fake.received('meta')).toHaveLength(0);
    expect(await reload(whileOpen)).toMatchObject({ status: DeliveryStatus.SENT, providerId: providers[1].id, failedOver: true });
    expect(await eventTypes(whileOpen)).toEqual(['queued', 'circuit_open', 'sent']);

    t.clock.advance(60_000);
    fake.always('meta', ok);
    const probe = await enqueue(tenant);
    await drain();
    expect(await reload(probe)).toMatchObject({ status: DeliveryStatus.SENT, providerId: providers[0].id, failedOver: false });
    const recovered = await t.app.dataSource.getRepository(ChannelProvider).findOneByOrFail({ id: providers[0].id });
    expect(recovered).toMatchObject({ consecutiveFailures: 0, circuitOpenUntil: null });
  });

  it('holds a provider to its rate limit: one send slot each, 50 ms apart by the database’s clock', async () => {
    const { tenant, providers } = await tenantWith(ProviderKind.FONNTE);
    await services().providers.update(admin(tenant), providers[0].id, { rateLimitPerSecond: 20 });
    const slots: number[] = [];
    const unwatch = services().pacer.watch((slot) => slot.key === providers[0].id && slots.push(slot.at));
    for (let i = 0; i < 30; i++) await enqueue(tenant);
    await drain();
    unwatch();
    expect(fake.received('fonnte')).toHaveLength(30);
    // 20/s with no burst: each send had a slot of its own, none closer than 50 ms to the next,
    // so the first second held 20 of them (what the machine's timers did after is not the pacing).
    expect(slots).toHaveLength(30);
    const gaps = slots.slice(1).map((at, n) => at - slots[n]);
    expect(Math.min(...gaps)).toBeGreaterThan(50 - 0.01);
    expect(slots.filter((at) => at < slots[0] + 1000).length).toBeLessThanOrEqual(20);
  });

  it('sends everything to the test recipient in test mode, keeping the intended one on record', async () => {
    const { tenant } = await tenantWith(ProviderKind.META_WHATSAPP);
    await t.app.dataSource
      .getRepository(Tenant)
      .update({ id: tenant.id }, { testMode: true, testRecipients: { whatsapp: '+15559990000' } });
    const delivery = await enqueue(tenant, { to: '+6281111111111' });
    await drain();
    expect(fake.received('meta').map((r) => r.body.to)).toEqual(['15559990000']);
    expect(await reload(delivery)).toMatchObject({
      status: DeliveryStatus.SENT,
      recipient: '+15559990000',
      originalRecipient: '+6281111111111',
    });

    const sms = await enqueue(tenant, { channel: Channel.SMS, to: '+6281111111111' });
    await drain();
    expect(await reload(sms)).toMatchObject({ status: DeliveryStatus.CANCELLED, lastErrorCode: 'TEST_MODE_NO_RECIPIENT' });
  });

  it('never sends to a contact who opted out of the channel, recording why', async () => {
    const { tenant, contact } = await tenantWith(ProviderKind.META_WHATSAPP);
    await t.app.dataSource.getRepository(Contact).update({ id: contact.id }, { optedOutChannels: [Channel.WHATSAPP] });
    const delivery = await enqueue(tenant, { to: null, contactId: contact.id });
    await drain();
    expect(delivery).toMatchObject({ status: DeliveryStatus.CANCELLED, lastErrorCode: 'OPTED_OUT' });
    expect(fake.requests).toHaveLength(0);
    expect(await eventTypes(delivery)).toEqual(['cancelled']);
  });

  it('returns the existing delivery when the same idempotency key is enqueued again, even concurrently', async () => {
    const { tenant } = await tenantWith(ProviderKind.META_WHATSAPP);
    const deliveries = await Promise.all(
      Array.from({ length: 5 }, () => enqueue(tenant, { idempotencyKey: 'escalation:1:level:2:user:9' })),
    );
    expect(new Set(deliveries.map((d) => d.id)).size).toBe(1);
    expect(await t.app.dataSource.getRepository(Delivery).countBy({ tenantId: tenant.id })).toBe(1);
  });

  it('renders templates and refuses a missing variable before anything is queued', async () => {
    const { tenant, contact } = await tenantWith(ProviderKind.META_WHATSAPP);
    await t.app.dataSource.getRepository(MessageTemplate).save({
      tenantId: tenant.id,
      channel: Channel.WHATSAPP,
      name: 'visit',
      body: 'Hi {{contact.name}}, {{technician}} comes at {{time}}.',
    });
    const delivery = await enqueue(tenant, {
      to: null,
      contactId: contact.id,
      text: null,
      templateName: 'visit',
      variables: { technician: 'Tara', time: '10:00' },
    });
    expect(delivery.body).toBe(`Hi ${contact.name}, Tara comes at 10:00.`);
    await expect(
      enqueue(tenant, { to: null, contactId: contact.id, templateName: 'visit', text: null, variables: { technician: 'Tara' } }),
    ).rejects.toThrow('The template needs values for: time');
    expect(await t.app.dataSource.getRepository(Delivery).countBy({ tenantId: tenant.id })).toBe(1);
  });

  it('sends a WhatsApp template through Meta as a template message with its parameters', async () => {
    const { tenant, contact } = await tenantWith(ProviderKind.META_WHATSAPP);
    await t.app.dataSource.getRepository(MessageTemplate).save({
      tenantId: tenant.id,
      channel: Channel.WHATSAPP,
      name: 'visit-reminder',
      body: 'Hi {{contact.name}}, your visit is at {{time}}.',
      metaTemplateName: 'visit_reminder',
      metaLanguage: 'id',
    });
    await enqueue(tenant, {
      to: null,
      contactId: contact.id,
      text: null,
      templateName: 'visit-reminder',
      variables: { time: '10:00' },
    });
    await drain();
    expect(fake.received('meta')[0].body).toMatchObject({
      type: 'template',
      template: {
        name: 'visit_reminder',
        language: { code: 'id' },
        components: [
          {
            type: 'body',
            parameters: [
              { type: 'text', text: contact.name },
              { type: 'text', text: '10:00' },
            ],
          },
        ],
      },
    });
  });

  it('sends through Wablas with its token and secret key', async () => {
    const { tenant, providers } = await tenantWith(ProviderKind.WABLAS);
    const delivery = await enqueue(tenant);
    await drain();
    expect(await reload(delivery)).toMatchObject({ status: DeliveryStatus.SENT, providerId: providers[0].id });
    expect((await reload(delivery)).providerMessageId).toMatch(/^wablas-/);
    expect(fake.received('wablas')[0].headers.authorization).toBe('wablas-token.wablas-secret');
  });

  it('reclaims a delivery whose worker died mid-send once its lease runs out', async () => {
    const { tenant } = await tenantWith(ProviderKind.META_WHATSAPP);
    const delivery = await enqueue(tenant);
    // A worker claimed it and died before recording anything.
    await t.app.dataSource
      .getRepository(Delivery)
      .update(
        { id: delivery.id },
        { status: DeliveryStatus.SENDING, attempts: 0, leaseUntil: new Date(t.clock.now().getTime() + 60_000) },
      );
    await drain();
    expect(fake.requests).toHaveLength(0);
    t.clock.advance(60_001);
    await drain();
    expect(await reload(delivery)).toMatchObject({ status: DeliveryStatus.SENT, attempts: 2 });
    expect(fake.received('meta')).toHaveLength(1);
  });

  it('claims at most its limit: rows whose lease ran out first, then due rows oldest first', async () => {
    const { tenant } = await tenantWith(ProviderKind.META_WHATSAPP);
    const rows: Delivery[] = [];
    for (let n = 0; n < 5; n++) {
      rows.push(await enqueue(tenant));
      t.clock.advance(1000);
    }
    // The two newest were claimed by a worker that died; their leases have run out.
    await t.app.dataSource
      .getRepository(Delivery)
      .update(
        { id: In([rows[3].id, rows[4].id]) },
        { status: DeliveryStatus.SENDING, leaseUntil: new Date(t.clock.now().getTime() - 1) },
      );
    const claims = [];
    for (let n = 0; n < 3; n++) claims.push((await services().dispatch.claim(3)).map((row) => row.id).sort());
    expect(claims).toEqual([[rows[0].id, rows[3].id, rows[4].id].sort(), [rows[1].id, rows[2].id].sort(), []]);
    const after = await t.app.dataSource.getRepository(Delivery).findBy({ id: In(rows.map((row) => row.id)) });
    expect(after.map((row) => [row.id, row.status, row.attempts]).sort()).toEqual(
      rows.map((row, n) => [row.id, DeliveryStatus.SENDING, n >= 3 ? 1 : 0]).sort(),
    );
    // Nothing of this test is sent by a later one.
    await t.app.dataSource
      .getRepository(Delivery)
      .update({ id: In(rows.map((row) => row.id)) }, { status: DeliveryStatus.CANCELLED });
  });

  /**
   * Runs `work` while `lock` (statements of another connection, in a transaction) holds what
   * it needs, kills the one connection waiting on that lock, then lets go: a database
   * connection lost at that exact step of the work.
   */
  async function killedWhileWaiting<T>(lock: string[], work: () => Promise<T>): Promise<T> {
    const blocker = new PgClient({ connectionString: t.databaseUrl });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      for (const statement of lock) await blocker.query(statement);
      const running = work();
      let killed = 0;
      for (let tries = 0; !killed && tries < 200; tries++) {
        const { rows } = await blocker.query(
          `SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'`,
        );
        killed = rows.filter((row: { killed: boolean }) => row.killed).length;
        if (!killed) await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(killed).toBe(1);
      await blocker.query('ROLLBACK');
      return await running;
    } finally {
      await blocker.end();
    }
  }

  it('puts a delivery straight back, not charged, when its database connection is lost before any provider saw it', async () => {
    const { tenant } = await tenantWith(ProviderKind.META_WHATSAPP);
    const delivery = await enqueue(tenant);
    // The dispatcher's look-up of the tenant waits behind the lock, and its connection is killed.
    const batch = await killedWhileWaiting(['LOCK TABLE tenant IN ACCESS EXCLUSIVE MODE'], () =>
      services().dispatch.dispatchBatch(),
    );
    expect(batch).toMatchObject({ claimed: 1, deferred: 1, sent: 0 });
    expect(fake.requests).toHaveLength(0);
    expect(await reload(delivery)).toMatchObject({
      status: DeliveryStatus.QUEUED,
      attempts: 0,
      leaseUntil: null,
      lastErrorCode: 'DATABASE_UNAVAILABLE',
    });
    t.clock.advance(60_000);
    await drain();
    expect(await reload(delivery)).toMatchObject({ status: DeliveryStatus.SENT, attempts: 1 });
    expect(fake.received('meta')).toHaveLength(1);
  });

  it('records a send the provider accepted even when the circuit bookkeeping after it loses its connection: never sent twice', async () => {
    const { tenant, providers } = await tenantWith(ProviderKind.META_WHATSAPP);
    // One recent failure: a success then resets the provider's count, a write after the send.
    await t.app.dataSource.getRepository(ChannelProvider).update({ id: providers[0].id }, { consecutiveFailures: 1 });
    const delivery = await enqueue(tenant);
    const batch = await killedWhileWaiting([`SELECT 1 FROM channel_provider WHERE id = '${providers[0].id}' FOR UPDATE`], () =>
      services().dispatch.dispatchBatch(),
    );
    expect(batch).toMatchObject({ claimed: 1, sent: 1 });
    expect(await reload(delivery)).toMatchObject({ status: DeliveryStatus.SENT, attempts: 1, leaseUntil: null });
    // Well past the lease: nothing is taken back and sent again.
    t.clock.advance(120_000);
    await drain();
    expect(fake.received('meta')).toHaveLength(1);
  });

  it('signs outbound webhooks with HMAC-SHA256 over the timestamp and raw body', async () => {
    const { tenant } = await tenantWith(ProviderKind.WEBHOOK);
    await enqueue(tenant, { channel: Channel.WEBHOOK, to: `${fake.url}/hooks/crm`, text: 'ticket resolved' });
    await drain();
    const [request] = fake.received('webhook');
    const timestamp = request.headers['x-notify-timestamp'] as string;
    const expected = 'sha256=' + createHmac('sha256', 'hook-secret').update(`${timestamp}.${request.rawBody}`).digest('hex');
    expect(request.headers['x-notify-signature']).toBe(expected);
    expect(request.body).toMatchObject({ to: `${fake.url}/hooks/crm`, body: 'ticket resolved' });
  });

  it('keeps credentials encrypted at rest', async () => {
    const { providers } = await tenantWith(ProviderKind.META_WHATSAPP);
    const [row] = await t.app.dataSource.query('SELECT credentials FROM channel_provider WHERE id = $1', [providers[0].id]);
    expect(row.credentials).toMatch(/^v1:/);
    expect(row.credentials).not.toContain('meta-token');
  });
});
