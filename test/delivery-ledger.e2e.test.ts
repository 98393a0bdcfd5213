import { createHmac } from 'node:crypto';
import { Channel, DeliveryStatus, ProviderKind } from '../src/entities/channel';
import { ChannelProvider } from '../src/entities/channel-provider.entity';
import { Delivery } from '../src/entities/delivery.entity';
import { Tenant } from '../src/entities/tenant.entity';
import { Role } from '../src/entities/user.entity';
import type { StaffPrincipal } from '../src/services/directory/principal';
import { ManualClock } from '../src/services/platform/clock';
import { ProviderFake, metaError } from './fakes/provider-fake';
import { PASSWORD, addMetaProvider, makeContact, makeTenant, makeUser } from './helpers/factories';
import {
  Subscription,
  type TestApp,
  cancelOutstandingDeliveries,
  errorCode,
  gql,
  gqlOk,
  relayAll,
  startTestApp,
  wsClient,
} from './helpers/test-app';

const APP_SECRET = 'meta-app-secret';
const HOUR = 3_600_000;

/**
 * The delivery ledger as operators and customers meet it: every message is worth sending
 * only so long (then EXPIRED, never late), every change of every message is in its
 * history and reaches subscribers whoever makes it (the dispatcher, a campaign, an
 * opt-out), and a message that dies on one channel goes again on the next.
 */
describe('delivery ledger', () => {
  let t: TestApp;
  let fake: ProviderFake;
  const clock = new ManualClock(new Date('2026-12-05T08:00:00Z'));

  beforeAll(async () => {
    fake = await new ProviderFake().start();
    // A long cool-down: a broken provider stays skipped, as it would for the hours of an outage.
    t = await startTestApp(clock, {
      CIRCUIT_COOLDOWN_MS: String(HOUR),
      DELIVERY_DEFAULT_VALIDITY: '48h',
      META_APP_SECRET: APP_SECRET,
      CAMPAIGN_BATCH_SIZE: '50',
    });
  });
  afterAll(async () => {
    await t.stop();
    await fake.stop();
  });
  beforeEach(() => fake.reset());
  afterEach(() => cancelOutstandingDeliveries(t));

  async function world() {
    const tenant = await makeTenant(t.app.dataSource, { defaultCountry: 'ID', timezone: 'Asia/Jakarta' });
    const admin = await makeUser(t.app.dataSource, tenant, { role: Role.ADMIN });
    const token = (await t.app.services.auth.login(admin.email, PASSWORD)).token;
    const actor: StaffPrincipal = { kind: 'staff', tenantId: tenant.id, userId: admin.id, role: Role.ADMIN, name: admin.name };
    const meta = await addMetaProvider(t.app.services, tenant, fake.url);
    return { tenant, admin, token, actor, meta };
  }

  const drain = async () => {
    while ((await t.app.services.dispatch.dispatchBatch()).claimed > 0);
  };
  const reload = (id: string) => t.app.dataSource.getRepository(Delivery).findOneByOrFail({ id });
  const steps = async (id: string) => (await t.app.services.deliveries.events(id)).map((event) => event.type);
  const minutesValid = (delivery: Delivery) => (delivery.validUntil.getTime() - delivery.nextAttemptAt.getTime()) / 60_000;

  const SEND = `mutation ($input: SendMessageInput!) { sendMessage(input: $input) { id validUntil createdAt } }`;

  it('gives every message a validity: the sender’s, else its template’s, its type’s, else DELIVERY_DEFAULT_VALIDITY', async () => {
    const w = await world();
    const send = async (input: Record<string, unknown>) => {
      const { sendMessage } = await gqlOk(
        t.url,
        SEND,
        { input: { channel: 'WHATSAPP', to: '+6281234500001', ...input } },
        w.token,
      );
      return (new Date(sendMessage.validUntil).getTime() - new Date(sendMessage.createdAt).getTime()) / 60_000;
    };
    expect(await send({ text: 'Your code', validForMinutes: 10 })).toBe(10);
    expect(await send({ text: 'On the way', notificationType: 'technician_on_the_way' })).toBe(60);
    expect(await send({ text: 'Receipt', notificationType: 'payment_receipt' })).toBe(7 * 24 * 60);
    expect(await send({ text: 'Anything else' })).toBe(48 * 60);
    await gqlOk(
      t.url,
      `mutation ($input: TemplateInput!) { saveMessageTemplate(input: $input) { id validForMinutes } }`,
      { input: { channel: 'WHATSAPP', name: 'on_the_way', body: 'Your technician is on the way', validForMinutes: 45 } },
      w.token,
    );
    expect(await send({ templateName: 'on_the_way', notificationType: 'payment_receipt' })).toBe(45);
    expect(await send({ templateName: 'on_the_way', validForMinutes: 20 })).toBe(20);
    // Out of bounds: refused, and nothing queued.
    const before = await t.app.dataSource.getRepository(Delivery).countBy({ tenantId: w.tenant.id });
    for (const validForMinutes of [0, 43_201]) {
      expect(
        errorCode(
          await gql(t.url, SEND, { input: { channel: 'WHATSAPP', to: '+6281234500001', text: 'x', validForMinutes } }, w.token),
        ),
      ).toBe('BAD_USER_INPUT');
    }
    expect(await t.app.dataSource.getRepository(Delivery).countBy({ tenantId: w.tenant.id })).toBe(before);
  });

  it('expires what its only, broken provider cannot carry once its validity ends, and never sends it late', async () => {
    const w = await world();
    // Meta answers a broken body: its failures open its circuit for an hour.
    fake.always('meta', { kind: 'garbage', status: 200, body: '<html><body>Bad gateway' });
    const live = new Subscription<{ deliveryStatusChanged: { id: string; status: string } }>(
      wsClient(t.url, w.token),
      `subscription { deliveryStatusChanged { id status } }`,
    );
    const queued: Delivery[] = [];
    for (let n = 0; n < 12; n++) {
      queued.push(
        await t.app.services.deliveries.enqueue(w.tenant.id, {
          channel: Channel.WHATSAPP,
          to: `+62812345010${String(n).padStart(2, '0')}`,
          text: `SLA warning ${n}: ticket overdue`,
          notificationType: 'sla_warning',
          idempotencyKey: `expiry:${n}`,
        }),
      );
    }
    for (let minute = 0; minute <= 61; minute++) {
      await drain();
      clock.advance(60_000);
    }
    await drain();
    const after = await Promise.all(queued.map((delivery) => reload(delivery.id)));
    expect(after.map((delivery) => [delivery.status, delivery.lastErrorCode])).toEqual(
      queued.map(() => [DeliveryStatus.EXPIRED, 'EXPIRED']),
    );
    // The sends in flight when the circuit opened, at most the provider's in-flight limit; none after.
    const tried = fake.received('meta').length;
    expect(tried).toBeGreaterThanOrEqual(3);
    expect(tried).toBeLessThanOrEqual(8);
    const history = await steps(queued[11].id);
    expect(history[0]).toBe('queued');
    expect(history[history.length - 1]).toBe('expired');
    // The provider recovers: nothing expired goes out late.
    fake.always('meta', { kind: 'ok' });
    clock.advance(3 * HOUR);
    await drain();
    expect(fake.received('meta')).toHaveLength(tried);

    const { deliveryStats } = await gqlOk(
      t.url,
      `query ($from: DateTimeISO!, $to: DateTimeISO!) { deliveryStats(from: $from, to: $to) { byStatus { key count } failuresByReason { key count } } }`,
      { from: new Date(clock.now().getTime() - 24 * HOUR).toISOString(), to: clock.now().toISOString() },
      w.token,
    );
    expect(deliveryStats.byStatus).toEqual([{ key: 'expired', count: 12 }]);
    expect(deliveryStats.failuresByReason).toEqual([{ key: 'EXPIRED', count: 12 }]);
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(/deliveries_total\{channel="whatsapp",status="expired",provider="meta_whatsapp"\} \d+/);
    await live.waitFor(12 * 2);
    expect(live.items.filter((item) => item.deliveryStatusChanged.status === 'EXPIRED')).toHaveLength(12);
    live.close();
    // An operator may still send it on purpose.
    const resent = await t.app.services.deliveries.retry(w.actor, queued[0].id);
    expect(resent).toMatchObject({ status: DeliveryStatus.QUEUED, parentDeliveryId: queued[0].id });
    await drain();
    expect(await reload(resent.id)).toMatchObject({ status: DeliveryStatus.SENT });
  });

  const CAMPAIGN = `mutation ($input: CampaignInput!) { createCampaign(input: $input) { id } }`;
  const HISTORY = `query ($id: ID!) { delivery(id: $id) { status lastErrorCode events { type } } }`;

  async function campaignOf(w: Awaited<ReturnType<typeof world>>, people: number, input: Record<string, unknown> = {}) {
    for (let n = 0; n < people; n++) {
      await makeContact(t.app.dataSource, w.tenant, {
        name: `Customer ${n}`,
        phone: `+62813000${String(n).padStart(5, '0')}`,
        tags: ['promo'],
      });
    }
    const { createCampaign } = await gqlOk(
      t.url,
      CAMPAIGN,
      {
        input: {
          name: 'December offer',
          category: 'TRANSACTIONAL',
          channels: ['WHATSAPP'],
          text: 'Our December offer: 20% off servicing',
          audience: { filter: { path: 'contact.tags', op: 'contains', value: 'promo' } },
          ...input,
        },
      },
      w.token,
    );
    await gqlOk(t.url, `mutation ($id: ID!) { sendCampaignNow(id: $id) { status } }`, { id: createCampaign.id }, w.token);
    while (await t.app.services.campaignSender.enqueueNext());
    const deliveries = await t.app.dataSource.getRepository(Delivery).findBy({ campaignId: createCampaign.id });
    return { id: createCampaign.id as string, deliveries };
  }

  it('writes every step of a campaign’s messages: queued, held on pause, released on resume, cancelled, for operators and subscribers', async () => {
    const w = await world();
    const { id, deliveries } = await campaignOf(w, 3, { validForMinutes: 90 });
    expect(deliveries).toHaveLength(3);
    expect(deliveries.map(minutesValid)).toEqual([90, 90, 90]);
    const live = new Subscription<{ deliveryStatusChanged: { id: string; status: string } }>(
      wsClient(t.url, w.token),
      `subscription ($id: ID!) { deliveryStatusChanged(filter: { campaignId: $id }) { id status } }`,
      { id },
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    await gqlOk(t.url, `mutation ($id: ID!) { pauseCampaign(id: $id) { status } }`, { id }, w.token);
    await drain();
    expect(fake.received('meta')).toHaveLength(0);
    await gqlOk(t.url, `mutation ($id: ID!) { resumeCampaign(id: $id) { status } }`, { id }, w.token);
    await gqlOk(t.url, `mutation ($id: ID!) { cancelCampaign(id: $id) { status } }`, { id }, w.token);
    for (const delivery of deliveries) {
      const { delivery: seen } = await gqlOk(t.url, HISTORY, { id: delivery.id }, w.token);
      expect(seen).toEqual({
        status: 'CANCELLED',
        lastErrorCode: 'CAMPAIGN_CANCELLED',
        events: [{ type: 'QUEUED' }, { type: 'HELD' }, { type: 'RELEASED' }, { type: 'CANCELLED' }],
      });
    }
    // Held, released (queued again) and cancelled reached the campaign's subscribers.
    await live.waitFor(9);
    expect(
      live.items
        .filter((item) => item.deliveryStatusChanged.status === 'CANCELLED')
        .map((item) => item.deliveryStatusChanged.id)
        .sort(),
    ).toEqual(deliveries.map((delivery) => delivery.id).sort());
    live.close();
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(/deliveries_total\{channel="whatsapp",status="cancelled",provider="none"\} \d+/);
  });

  it('expires a paused campaign’s messages whose validity passed, and sends none of them after it resumes', async () => {
    const w = await world();
    const { id, deliveries } = await campaignOf(w, 2, { validForMinutes: 30 });
    await gqlOk(t.url, `mutation ($id: ID!) { pauseCampaign(id: $id) { status } }`, { id }, w.token);
    clock.advance(31 * 60_000);
    await gqlOk(t.url, `mutation ($id: ID!) { resumeCampaign(id: $id) { status } }`, { id }, w.token);
    await drain();
    expect(fake.received('meta')).toHaveLength(0);
    for (const delivery of deliveries) {
      expect(await reload(delivery.id)).toMatchObject({ status: DeliveryStatus.EXPIRED });
      expect(await steps(delivery.id)).toEqual(['queued', 'held', 'released', 'expired']);
    }
  });

  it('cancels a contact’s queued marketing messages on opt-out, with the reason in their history', async () => {
    const w = await world();
    const { deliveries } = await campaignOf(w, 1, { category: 'MARKETING' });
    const [delivery] = deliveries;
    const contact = await t.app.dataSource.query(`SELECT id FROM contact WHERE id = $1`, [delivery.contactId]);
    await t.app.services.consent.handleKeyword(
      { ...(await t.app.services.directory.contact(w.actor, contact[0].id)) },
      'STOP',
      Channel.WHATSAPP,
      'inbound-1',
    );
    const { delivery: seen } = await gqlOk(t.url, HISTORY, { id: delivery.id }, w.token);
    expect(seen).toEqual({
      status: 'CANCELLED',
      lastErrorCode: 'OPTED_OUT',
      events: [{ type: 'QUEUED' }, { type: 'CANCELLED' }],
    });
  });

  /** A tenant with WhatsApp through Meta and SMS through Twilio, and a rule that prefers WhatsApp, then SMS. */
  async function withFallbackRule() {
    const w = await world();
    const admin = w.actor;
    const twilio = await t.app.services.providers.create(admin, {
      kind: ProviderKind.TWILIO_SMS,
      name: 'Twilio',
      baseUrl: fake.url,
      settings: { from: '+15550001111' },
      credentials: { accountSid: 'AC123', authToken: 'twilio-secret' },
    });
    for (const channel of [Channel.WHATSAPP, Channel.SMS]) {
      await t.app.services.messaging.saveTemplate(admin, {
        channel,
        name: 'visit_reminder',
        body: `${channel === Channel.SMS ? 'SMS: ' : ''}Hi {{contact.name}}, your visit is tomorrow.`,
      });
    }
    await t.app.services.rules.create(admin, {
      name: 'Visit reminder',
      triggerType: 'event' as never,
      eventTypes: ['visit.scheduled'],
      actions: [
        { type: 'send_message', channels: ['whatsapp', 'sms'], template: 'visit_reminder', recipients: [{ type: 'contact' }] },
      ],
    });
    const contact = await makeContact(t.app.dataSource, w.tenant, { name: 'Wati', phone: '+6281277700001' });
    // The WhatsApp message the event's rule queued: the one that was not there before (the
    // manual clock gives messages queued between two advances the same createdAt).
    const whatsappIds = async () =>
      (
        await t.app.dataSource.getRepository(Delivery).find({
          select: { id: true },
          where: { tenantId: w.tenant.id, channel: Channel.WHATSAPP },
        })
      ).map((row) => row.id);
    const trigger = async (key: string) => {
      const before = new Set(await whatsappIds());
      await t.app.services.ingestion.ingest(
        w.tenant.id,
        [{ type: 'visit.scheduled', subject: { type: 'contact', id: contact.id }, idempotencyKey: key }],
        'api',
      );
      await relayAll(t);
      const added = (await whatsappIds()).filter((id) => !before.has(id));
      expect(added).toHaveLength(1);
      return t.app.dataSource.getRepository(Delivery).findOneByOrFail({ id: added[0] });
    };
    return { ...w, twilio, contact, trigger };
  }

  const childrenOf = (id: string) => t.app.dataSource.getRepository(Delivery).findBy({ parentDeliveryId: id });

  it('sends a message WhatsApp refuses (not on WhatsApp) again by SMS, once, linked to the first', async () => {
    const w = await withFallbackRule();
    fake.forRecipient('meta', '6281277700001', metaError(131026, 'Message undeliverable'));
    const whatsapp = await w.trigger('visit-1');
    expect(whatsapp.fallbackChannels).toEqual([Channel.SMS]);
    await drain();
    expect(await reload(whatsapp.id)).toMatchObject({ status: DeliveryStatus.FAILED, lastErrorCode: '131026' });
    const [sms] = await childrenOf(whatsapp.id);
    expect(sms).toMatchObject({
      channel: Channel.SMS,
      recipient: '+6281277700001',
      body: 'SMS: Hi Wati, your visit is tomorrow.',
      status: DeliveryStatus.SENT,
      providerId: w.twilio.id,
      validUntil: whatsapp.validUntil,
      ruleExecutionId: whatsapp.ruleExecutionId,
    });
    expect(fake.received('twilio').map((request) => request.body.To)).toEqual(['+6281277700001']);
    expect(await steps(whatsapp.id)).toEqual(['queued', 'attempt_failed', 'failed', 'fallback']);
    expect(await steps(sms.id)).toEqual(['queued', 'sent']);
  });

  it('falls back when Meta reports a failure after accepting, once however often the webhook comes, and after dead-lettering', async () => {
    const w = await withFallbackRule();
    const accepted = await w.trigger('visit-2');
    await drain();
    const sent = await reload(accepted.id);
    expect(sent.status).toBe(DeliveryStatus.SENT);
    const body = JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [
        {
          id: 'waba',
          changes: [
            {
              field: 'messages',
              value: {
                messaging_product: 'whatsapp',
                metadata: { phone_number_id: w.meta.settings.phoneNumberId },
                statuses: [
                  {
                    id: sent.providerMessageId,
                    status: 'failed',
                    timestamp: String(Math.floor(clock.now().getTime() / 1000)),
                    recipient_id: '6281277700001',
                    errors: [{ code: 131026, title: 'Message undeliverable' }],
                  },
                ],
              },
            },
          ],
        },
      ],
    });
    for (let copy = 0; copy < 3; copy++) {
      const response = await fetch(`${t.url}/webhooks/whatsapp/meta`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-hub-signature-256': `sha256=${createHmac('sha256', APP_SECRET).update(body).digest('hex')}`,
        },
        body,
      });
      expect(response.status).toBe(200);
    }
    expect(await reload(accepted.id)).toMatchObject({ status: DeliveryStatus.FAILED });
    expect(await childrenOf(accepted.id)).toHaveLength(1);
    await drain();
    expect(fake.received('twilio')).toHaveLength(1);

    // Every WhatsApp attempt fails (Meta down): dead after its retries, then SMS.
    fake.reset();
    fake.always('meta', metaError(131000, 'Something went wrong', 500));
    await t.app.dataSource
      .getRepository(ChannelProvider)
      .update({ id: w.meta.id }, { consecutiveFailures: 0, circuitOpenUntil: null });
    const doomed = await w.trigger('visit-3');
    // Rounds until it is dead, each moved to the retry time the dispatcher set (backoff grows
    // with each attempt; a round where the provider had no room defers without charging an
    // attempt): what is asserted is where it ends and that every attempt was charged.
    for (let round = 0; round < 50; round++) {
      await drain();
      const current = await reload(doomed.id);
      if (current.status === DeliveryStatus.DEAD) break;
      await t.app.dataSource
        .getRepository(ChannelProvider)
        .update({ id: w.meta.id }, { consecutiveFailures: 0, circuitOpenUntil: null });
      clock.advance(Math.max(0, current.nextAttemptAt.getTime() - clock.now().getTime()) + 1000);
    }
    const dead = await reload(doomed.id);
    expect(dead).toMatchObject({ status: DeliveryStatus.DEAD });
    expect(dead.attempts).toBe(dead.maxAttempts);
    const [child] = await childrenOf(doomed.id);
    expect(child).toMatchObject({ channel: Channel.SMS, status: DeliveryStatus.SENT });
  });

  it('never falls back for another tenant’s or an unknown message, and keeps tenants’ ledgers apart', async () => {
    const victim = await world();
    const attacker = await world();
    const message = await t.app.services.deliveries.enqueue(victim.tenant.id, {
      channel: Channel.WHATSAPP,
      to: '+6281234599999',
      text: 'Private',
      idempotencyKey: 'private-1',
    });
    expect(errorCode(await gql(t.url, HISTORY, { id: message.id }, attacker.token))).toBe('NOT_FOUND');
    const retried = await gql(t.url, `mutation ($id: ID!) { retryDelivery(id: $id) { id } }`, { id: message.id }, attacker.token);
    expect(errorCode(retried)).toBe('NOT_FOUND');
    // The attacker's campaign actions touch only its own rows.
    const { id } = await campaignOf(attacker, 1);
    await gqlOk(t.url, `mutation ($id: ID!) { cancelCampaign(id: $id) { status } }`, { id }, attacker.token);
    expect((await reload(message.id)).status).toBe(DeliveryStatus.QUEUED);
    await t.app.dataSource.getRepository(Tenant).findOneByOrFail({ id: victim.tenant.id });
  });
});
