import { createHmac, randomUUID } from 'node:crypto';
import { twilioSignature } from '../src/channels/twilio-webhook';
import { Channel, DeliveryStatus, ProviderKind } from '../src/entities/channel';
import type { ChannelProvider } from '../src/entities/channel-provider.entity';
import { Contact } from '../src/entities/contact.entity';
import { Delivery } from '../src/entities/delivery.entity';
import { TicketMessage } from '../src/entities/ticket-message.entity';
import { Ticket } from '../src/entities/ticket.entity';
import { Role, type User } from '../src/entities/user.entity';
import type { Principal } from '../src/services/directory/principal';
import { ProviderFake } from './fakes/provider-fake';
import { PASSWORD, makeContact, makeTenant, makeUser } from './helpers/factories';
import { installNotificationPack } from '../src/services/rules/notification-pack';
import {
  type TestApp,
  Subscription,
  cancelOutstandingDeliveries,
  gqlOk,
  relayAll,
  settle,
  startTestApp,
  wsClient,
} from './helpers/test-app';

const APP_SECRET = 'meta-app-secret';
const VERIFY_TOKEN = 'verify-me';
/** Where Twilio believes it calls us: it signs this URL, not the test server's. */
const PUBLIC = 'https://desk.example.test';

/** A WhatsApp Business Account webhook as Meta sends it. */
function metaPayload(value: Record<string, unknown>, phoneNumberId = '1055') {
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: 'WABA_ID',
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '15550001111', phone_number_id: phoneNumberId },
              ...value,
            },
          },
        ],
      },
    ],
  };
}

function statusPayload(wamid: string, status: string, timestamp: number, errors?: unknown[]) {
  return metaPayload({
    statuses: [{ id: wamid, status, timestamp: String(timestamp), recipient_id: '6281234567890', ...(errors ? { errors } : {}) }],
  });
}

function messagePayload(phoneNumberId: string, id: string, from: string, text: string, name = 'Rina') {
  return metaPayload(
    {
      contacts: [{ profile: { name }, wa_id: from }],
      messages: [{ from, id, timestamp: String(Math.floor(Date.now() / 1000)), type: 'text', text: { body: text } }],
    },
    phoneNumberId,
  );
}

describe('provider webhooks', () => {
  let t: TestApp;
  let fake: ProviderFake;

  beforeAll(async () => {
    fake = await new ProviderFake().start();
    t = await startTestApp(undefined, { META_APP_SECRET: APP_SECRET, META_VERIFY_TOKEN: VERIFY_TOKEN, PUBLIC_URL: PUBLIC });
  });
  afterAll(async () => {
    await t.stop();
    await fake.stop();
  });
  afterEach(() => cancelOutstandingDeliveries(t));

  async function post(path: string, body: unknown, signature?: string) {
    const raw = JSON.stringify(body);
    const response = await fetch(`${t.url}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(signature !== undefined
          ? { 'x-hub-signature-256': signature }
          : { 'x-hub-signature-256': 'sha256=' + createHmac('sha256', APP_SECRET).update(raw).digest('hex') }),
      },
      body: raw,
    });
    return response.status;
  }

  let phoneNumbers = 1055;
  /** A tenant with one provider; a Meta number holds the service window only when `serviceWindow` (as an admin's new one does). */
  async function world(kind = ProviderKind.META_WHATSAPP, serviceWindow = false) {
    const tenant = await makeTenant(t.app.dataSource);
    const admin: Principal = { kind: 'staff', tenantId: tenant.id, userId: tenant.id, role: Role.ADMIN, name: 'Admin' };
    const provider: ChannelProvider = await t.app.services.providers.create(admin, {
      kind,
      name: kind,
      baseUrl: fake.url,
      // Meta phone number ids are unique: each tenant gets its own.
      settings:
        kind === ProviderKind.TWILIO_SMS ? { from: '+15550001111' } : { phoneNumberId: String(++phoneNumbers), serviceWindow },
      credentials:
        kind === ProviderKind.META_WHATSAPP
          ? { accessToken: 'meta-token' }
          : kind === ProviderKind.WABLAS
            ? { token: 'wablas-token', secretKey: 'wablas-secret', webhookToken: 'callback-secret' }
            : kind === ProviderKind.TWILIO_SMS
              ? { accountSid: 'AC123', authToken: 'twilio-secret' }
              : { token: 'fonnte-token', webhookToken: 'callback-secret' },
    });
    return { tenant, provider };
  }

  async function sentDelivery(tenantId: string, channel = Channel.WHATSAPP, to = '+6281234567890'): Promise<Delivery> {
    const delivery = await t.app.services.deliveries.enqueue(tenantId, {
      channel,
      to,
      text: 'hello',
      idempotencyKey: `wh:${Math.random()}`,
    });
    while ((await t.app.services.dispatch.dispatchBatch()).claimed > 0);
    return t.app.dataSource.getRepository(Delivery).findOneByOrFail({ id: delivery.id });
  }

  it('answers the verification handshake only with the right verify token', async () => {
    const ok = await fetch(
      `${t.url}/webhooks/whatsapp/meta?hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=1158201444`,
    );
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('1158201444');
    expect((await fetch(`${t.url}/webhooks/whatsapp/meta?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1`)).status).toBe(
      403,
    );
  });

  it('rejects a missing or wrong signature with 401 and changes nothing', async () => {
    const { tenant } = await world();
    const delivery = await sentDelivery(tenant.id);
    const body = statusPayload(delivery.providerMessageId!, 'delivered', 1_800_000_000);
    expect(await post('/webhooks/whatsapp/meta', body, '')).toBe(401);
    expect(
      await post(
        '/webhooks/whatsapp/meta',
        body,
        'sha256=' + createHmac('sha256', 'wrong').update(JSON.stringify(body)).digest('hex'),
      ),
    ).toBe(401);
    expect((await t.app.dataSource.getRepository(Delivery).findOneByOrFail({ id: delivery.id })).status).toBe(
      DeliveryStatus.SENT,
    );
  });

  it('applies statuses by precedence: out-of-order and duplicate webhooks never move a delivery backwards', async () => {
    const { tenant } = await world();
    const delivery = await sentDelivery(tenant.id);
    const wamid = delivery.providerMessageId!;
    expect(await post('/webhooks/whatsapp/meta', statusPayload(wamid, 'read', 1_800_000_020))).toBe(200);
    // Meta redelivers a status until it hears 200, sometimes several times.
    for (let i = 0; i < 3; i++) {
      expect(await post('/webhooks/whatsapp/meta', statusPayload(wamid, 'delivered', 1_800_000_010))).toBe(200);
    }
    expect(await post('/webhooks/whatsapp/meta', statusPayload(wamid, 'read', 1_800_000_020))).toBe(200);
    expect(await post('/webhooks/whatsapp/meta', statusPayload(wamid, 'sent', 1_800_000_000))).toBe(200);
    const current = await t.app.dataSource.getRepository(Delivery).findOneByOrFail({ id: delivery.id });
    expect(current.status).toBe(DeliveryStatus.READ);
    expect(current.readAt).toEqual(new Date(1_800_000_020_000));
    expect(current.deliveredAt).toEqual(new Date(1_800_000_020_000));
    const events = (await t.app.services.deliveries.events(delivery.id)).map((e) => e.type);
    // Each report once: the repeats and the late `sent` change nothing and add no step.
    expect(events).toEqual(['queued', 'sent', 'read', 'delivered']);
  });

  it('records a failed status with Meta’s error code', async () => {
    const { tenant } = await world();
    const delivery = await sentDelivery(tenant.id);
    const errors = [
      {
        code: 131026,
        title: 'Message undeliverable',
        error_data: { details: 'Receiver is incapable of receiving this message' },
      },
    ];
    expect(
      await post('/webhooks/whatsapp/meta', statusPayload(delivery.providerMessageId!, 'failed', 1_800_000_005, errors)),
    ).toBe(200);
    expect(await t.app.dataSource.getRepository(Delivery).findOneByOrFail({ id: delivery.id })).toMatchObject({
      status: DeliveryStatus.FAILED,
      lastErrorCode: '131026',
      lastErrorMessage: 'Message undeliverable: Receiver is incapable of receiving this message',
    });
  });

  it('puts an inbound WhatsApp message on the subscribed agent’s socket, once, and opens tickets for new senders', async () => {
    const { tenant, provider } = await world();
    const phoneNumberId = String(provider.settings.phoneNumberId);
    const agent: User = await makeUser(t.app.dataSource, tenant, { role: Role.AGENT });
    const contact = await makeContact(t.app.dataSource, tenant, { phone: '+6281234567890' });
    const ticket = await t.app.services.tickets.create(
      { kind: 'staff', tenantId: tenant.id, userId: agent.id, role: Role.AGENT, name: agent.name },
      {
        subject: 'Router',
        category: 'technical' as never,
        priority: 'high' as never,
        requesterId: contact.id,
        assigneeId: agent.id,
      },
    );
    const { token } = await t.app.services.auth.login(agent.email, PASSWORD);
    const client = wsClient(t.url, token);
    const thread = new Subscription<any>(
      client,
      'subscription ($id: ID!) { ticketMessageAdded(ticketId: $id) { body authorKind authorName } }',
      { id: ticket.id },
    );
    await settle();

    const inbound = messagePayload(phoneNumberId, 'wamid.INBOUND1', '6281234567890', 'The router is blinking red');
    expect(await post('/webhooks/whatsapp/meta', inbound)).toBe(200);
    expect(await post('/webhooks/whatsapp/meta', inbound)).toBe(200);
    const [item] = await thread.waitFor(1);
    expect(item.ticketMessageAdded).toEqual({
      body: 'The router is blinking red',
      authorKind: 'CUSTOMER',
      authorName: contact.name,
    });
    await settle();
    expect(thread.items).toHaveLength(1);
    expect(await t.app.dataSource.getRepository(TicketMessage).countBy({ ticketId: ticket.id })).toBe(1);

    expect(
      await post(
        '/webhooks/whatsapp/meta',
        messagePayload(phoneNumberId, 'wamid.INBOUND2', '6289876543210', 'Hello, new here', 'Budi'),
      ),
    ).toBe(200);
    const stranger = await t.app.dataSource
      .getRepository(Contact)
      .findOneByOrFail({ tenantId: tenant.id, phone: '+6289876543210' });
    expect(stranger.name).toBe('Budi');
    const opened = await t.app.dataSource
      .getRepository(Ticket)
      .findOneByOrFail({ tenantId: tenant.id, requesterId: stranger.id });
    expect(opened).toMatchObject({ subject: 'Hello, new here', assigneeId: agent.id });
    await client.dispose();
  });

  it('carries an agent’s reply back on WhatsApp and shows its delivery status in the thread, live', async () => {
    // The customer's message opened the service window, so the reply goes as free text.
    const { tenant, provider } = await world(ProviderKind.META_WHATSAPP, true);
    await installNotificationPack(t.app.dataSource.manager, tenant.id);
    const agent: User = await makeUser(t.app.dataSource, tenant, { role: Role.AGENT });
    const contact = await makeContact(t.app.dataSource, tenant, { phone: '+6281234567890' });
    const phoneNumberId = String(provider.settings.phoneNumberId);
    expect(
      await post('/webhooks/whatsapp/meta', messagePayload(phoneNumberId, 'wamid.IN-R1', '6281234567890', 'No signal')),
    ).toBe(200);
    const ticket = await t.app.dataSource.getRepository(Ticket).findOneByOrFail({ tenantId: tenant.id, requesterId: contact.id });
    const { token } = await t.app.services.auth.login(agent.email, PASSWORD);
    const reply = (
      await gqlOk(
        t.url,
        `mutation ($input: AddTicketMessageInput!) { addTicketMessage(input: $input) { id } }`,
        { input: { ticketId: ticket.id, body: 'A technician is on the way.' } },
        token,
      )
    ).addTicketMessage;
    await gqlOk(
      t.url,
      `mutation ($input: AddTicketMessageInput!) { addTicketMessage(input: $input) { id } }`,
      { input: { ticketId: ticket.id, body: 'Check the tower first', internal: true } },
      token,
    );
    await relayAll(t);
    while ((await t.app.services.dispatch.dispatchBatch()).claimed > 0);
    const carried = await t.app.dataSource.getRepository(Delivery).findOneByOrFail({ ticketMessageId: reply.id });
    expect(carried).toMatchObject({ channel: Channel.WHATSAPP, recipient: '+6281234567890', status: DeliveryStatus.SENT });
    expect(fake.requests.filter((request) => JSON.stringify(request.body).includes('A technician is on the way.'))).toHaveLength(
      1,
    );

    const client = wsClient(t.url, token);
    const statuses = new Subscription<any>(
      client,
      'subscription ($ticketId: ID!) { deliveryStatusChanged(filter: { ticketId: $ticketId }) { ticketMessageId status } }',
      { ticketId: ticket.id },
    );
    await settle();
    expect(await post('/webhooks/whatsapp/meta', statusPayload(carried.providerMessageId!, 'delivered', 1_800_000_010))).toBe(
      200,
    );
    expect(await post('/webhooks/whatsapp/meta', statusPayload(carried.providerMessageId!, 'read', 1_800_000_020))).toBe(200);
    // The SENT change was published before the subscription opened, but the live bus (PostgreSQL
    // NOTIFY) may hand it over late on a busy machine; what the agent must see is what follows it.
    const afterSent = (items: any[]) =>
      items.map((item) => item.deliveryStatusChanged).filter((change) => change.status !== 'SENT');
    const live = await statuses.waitUntil((items) => afterSent(items).length >= 2, 5000, 'DELIVERED and READ');
    expect(afterSent(live)).toEqual([
      { ticketMessageId: reply.id, status: 'DELIVERED' },
      { ticketMessageId: reply.id, status: 'READ' },
    ]);
    await client.dispose();

    const { ticket: thread } = await gqlOk(
      t.url,
      `query ($id: ID!) { ticket(id: $id) { messages { edges { node { body internal delivery { channel status readAt } } } } } }`,
      { id: ticket.id },
      token,
    );
    expect(thread.messages.edges.map((edge: any) => edge.node).sort((a: any, b: any) => a.body.localeCompare(b.body))).toEqual([
      {
        body: 'A technician is on the way.',
        internal: false,
        delivery: { channel: 'WHATSAPP', status: 'READ', readAt: new Date(1_800_000_020_000).toISOString() },
      },
      { body: 'Check the tower first', internal: true, delivery: null },
      { body: 'No signal', internal: false, delivery: null },
    ]);
  });

  it('accepts Fonnte status callbacks only with the provider’s callback token', async () => {
    const { tenant, provider } = await world(ProviderKind.FONNTE);
    const delivery = await sentDelivery(tenant.id);
    const callback = (token: string) =>
      fetch(`${t.url}/webhooks/whatsapp/fonnte/${provider.id}?token=${token}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          device: '6281200000000',
          id: delivery.providerMessageId!,
          stateid: 'abc',
          state: 'delivered',
        }),
      });
    expect((await callback('wrong')).status).toBe(401);
    // Malformed and unknown provider ids, and unknown paths, are 404 JSON, never a 500 page.
    for (const path of [
      '/webhooks/whatsapp/fonnte/not-a-uuid',
      `/webhooks/whatsapp/wablas/${'0'.repeat(8)}-0000-0000-0000-${'0'.repeat(12)}`,
      '/webhooks/whatsapp/unknown-gateway/1',
    ]) {
      const response = await fetch(`${t.url}${path}?token=callback-secret`, { method: 'POST' });
      expect([path, response.status, response.headers.get('content-type')]).toEqual([
        path,
        404,
        expect.stringMatching(/application\/json/),
      ]);
      expect(await response.json()).toEqual({ status: 'not_found' });
    }
    expect((await t.app.dataSource.getRepository(Delivery).findOneByOrFail({ id: delivery.id })).status).toBe(
      DeliveryStatus.SENT,
    );
    expect((await callback('callback-secret')).status).toBe(200);
    expect((await t.app.dataSource.getRepository(Delivery).findOneByOrFail({ id: delivery.id })).status).toBe(
      DeliveryStatus.DELIVERED,
    );
  });

  it('accepts Wablas tracking callbacks (JSON) with the callback token', async () => {
    const { tenant, provider } = await world(ProviderKind.WABLAS);
    const delivery = await sentDelivery(tenant.id);
    const response = await fetch(`${t.url}/webhooks/whatsapp/wablas/${provider.id}?token=callback-secret`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: delivery.providerMessageId, phone: '6281234567890', status: 'read', deviceId: 'DEV1' }),
    });
    expect(response.status).toBe(200);
    expect((await t.app.dataSource.getRepository(Delivery).findOneByOrFail({ id: delivery.id })).status).toBe(
      DeliveryStatus.READ,
    );
  });

  it('takes Twilio SMS webhooks signed by the account: STOP and START on SMS, replies into the thread, statuses', async () => {
    const { tenant, provider } = await world(ProviderKind.TWILIO_SMS);
    const contact = await makeContact(t.app.dataSource, tenant, { phone: '+6281311112222' });
    const twilio = async (params: Record<string, string>, authToken = 'twilio-secret', providerId = provider.id) => {
      const path = `/webhooks/sms/twilio/${providerId}`;
      const response = await fetch(`${t.url}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-twilio-signature': twilioSignature(authToken, `${PUBLIC}${path}`, params),
        },
        body: new URLSearchParams(params),
      });
      return { status: response.status, body: await response.text() };
    };
    const inbound = (sid: string, text: string) => ({
      MessageSid: sid,
      AccountSid: 'AC123',
      From: contact.phone!,
      To: '+15550001111',
      Body: text,
      NumMedia: '0',
    });
    const consent = async () => (await t.app.dataSource.getRepository(Contact).findOneByOrFail({ id: contact.id })).consent;

    // A forged or missing signature, or another account's token, changes nothing.
    expect((await twilio(inbound('SM1', 'STOP'), 'not-the-token')).status).toBe(401);
    const unsigned = await fetch(`${t.url}/webhooks/sms/twilio/${provider.id}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(inbound('SM1', 'STOP')),
    });
    expect(unsigned.status).toBe(401);
    expect((await consent()).sms).toBeUndefined();
    // Unknown or malformed provider ids are not found.
    expect((await twilio(inbound('SM0', 'STOP'), 'twilio-secret', randomUUID())).status).toBe(404);
    expect((await twilio(inbound('SM0', 'STOP'), 'twilio-secret', 'not-a-uuid')).status).toBe(404);

    // STOP opts the contact out of marketing on SMS and confirms once, by SMS; the same webhook again changes nothing.
    const stop = await twilio(inbound('SM1', 'stop'));
    expect(stop.status).toBe(200);
    expect(stop.body).toContain('<Response></Response>');
    expect((await consent()).sms).toMatchObject({ granted: false, source: 'keyword:STOP' });
    expect((await consent()).whatsapp).toBeUndefined();
    await twilio(inbound('SM1', 'stop'));
    const confirmations = await t.app.dataSource
      .getRepository(Delivery)
      .findBy({ tenantId: tenant.id, notificationType: 'opt_out_confirmation' });
    expect(confirmations.map((delivery) => [delivery.channel, delivery.recipient])).toEqual([[Channel.SMS, contact.phone]]);
    expect(await t.app.dataSource.getRepository(Ticket).countBy({ tenantId: tenant.id })).toBe(0);
    // START opts back in; anything else joins the contact's conversation.
    expect((await twilio(inbound('SM2', 'START'))).status).toBe(200);
    expect((await consent()).sms).toMatchObject({ granted: true, source: 'keyword:START' });
    expect((await twilio(inbound('SM3', 'My meter reads zero since Monday'))).status).toBe(200);
    const [ticket] = await t.app.dataSource.getRepository(Ticket).findBy({ tenantId: tenant.id, requesterId: contact.id });
    const thread = await t.app.dataSource.getRepository(TicketMessage).findBy({ ticketId: ticket.id });
    expect(thread.map((message) => [message.body, message.externalId])).toEqual([['My meter reads zero since Monday', 'SM3']]);

    // Status callbacks move our SMS along; a failure keeps Twilio's error code.
    const sent = await sentDelivery(tenant.id, Channel.SMS, '+6281311113333');
    expect(sent.status).toBe(DeliveryStatus.SENT);
    expect(
      (
        await twilio({
          MessageSid: sent.providerMessageId!,
          AccountSid: 'AC123',
          MessageStatus: 'delivered',
          To: '+6281311113333',
        })
      ).status,
    ).toBe(200);
    expect((await t.app.dataSource.getRepository(Delivery).findOneByOrFail({ id: sent.id })).status).toBe(
      DeliveryStatus.DELIVERED,
    );
    const second = await sentDelivery(tenant.id, Channel.SMS, '+6281311114444');
    const secondSid = second.providerMessageId!;
    expect(
      (await twilio({ MessageSid: secondSid, AccountSid: 'AC123', MessageStatus: 'undelivered', ErrorCode: '30003' })).status,
    ).toBe(200);
    expect((await t.app.dataSource.getRepository(Delivery).findOneByOrFail({ id: second.id })).status).toBe(
      DeliveryStatus.FAILED,
    );
    const events = await t.app.dataSource.query(
      `SELECT "providerCode" FROM delivery_event WHERE "deliveryId" = $1 AND type = 'failed'`,
      [second.id],
    );
    expect(events).toEqual([{ providerCode: '30003' }]);
    // Garbage says nothing and changes nothing.
    expect((await twilio({ Foo: 'bar' })).status).toBe(200);
  });
});
