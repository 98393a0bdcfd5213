import { Channel, DeliveryStatus, ProviderKind } from '../src/entities/channel';
import type { ChannelProvider } from '../src/entities/channel-provider.entity';
import { Delivery } from '../src/entities/delivery.entity';
import { MessageTemplate } from '../src/entities/message-template.entity';
import type { Tenant } from '../src/entities/tenant.entity';
import { TicketMessage } from '../src/entities/ticket-message.entity';
import { Ticket } from '../src/entities/ticket.entity';
import { Role } from '../src/entities/user.entity';
import type { EnqueueInput } from '../src/services/delivery/delivery.service';
import type { Principal } from '../src/services/directory/principal';
import { installNotificationPack } from '../src/services/rules/notification-pack';
import { ProviderFake, metaError } from './fakes/provider-fake';
import { PASSWORD, makeContact, makeTenant, makeUser, uniquePhoneNumberId } from './helpers/factories';
import { postMetaInbound } from './helpers/meta-inbound';
import { type TestApp, cancelOutstandingDeliveries, gql, gqlOk, relayAll, startTestApp } from './helpers/test-app';

const APP_SECRET = 'meta-app-secret';
const HOUR = 60 * 60 * 1000;

describe("Meta's 24-hour customer-service window", () => {
  let t: TestApp;
  let fake: ProviderFake;

  beforeAll(async () => {
    fake = await new ProviderFake().start();
    t = await startTestApp(undefined, { META_APP_SECRET: APP_SECRET });
  });
  afterAll(async () => {
    await t.stop();
    await fake.stop();
  });
  beforeEach(() => {
    fake.reset();
    // Meta keeps its windows by the same clock the product reads, so moving time closes both.
    fake.metaNow = () => t.clock.now().getTime();
    fake.enforceMetaRules();
    fake.metaTemplate('visit_reminder', 'id', 2);
  });
  afterEach(() => cancelOutstandingDeliveries(t));

  const admin = (tenant: Tenant): Principal => ({
    kind: 'staff',
    tenantId: tenant.id,
    userId: tenant.id,
    role: Role.ADMIN,
    name: 'Admin',
  });

  /** A tenant with its WhatsApp providers as an admin adds them (a Meta number holds the window by default). */
  async function tenantWith(...kinds: ProviderKind[]) {
    const tenant = await makeTenant(t.app.dataSource);
    const providers: ChannelProvider[] = [];
    for (const [index, kind] of kinds.entries()) {
      providers.push(
        await t.app.services.providers.create(admin(tenant), {
          kind,
          name: `${kind} ${index + 1}`,
          priority: (index + 1) * 10,
          baseUrl: fake.url,
          settings: kind === ProviderKind.META_WHATSAPP ? { phoneNumberId: uniquePhoneNumberId() } : {},
          credentials: kind === ProviderKind.META_WHATSAPP ? { accessToken: 'meta-token' } : { token: 'fonnte-token' },
        }),
      );
    }
    await t.app.dataSource.getRepository(MessageTemplate).save({
      tenantId: tenant.id,
      channel: Channel.WHATSAPP,
      name: 'visit',
      body: 'Hi {{contact.name}}, your visit is at {{time}}.',
      metaTemplateName: 'visit_reminder',
      metaLanguage: 'id',
    });
    const contact = await makeContact(t.app.dataSource, tenant, {
      name: 'Rina',
      phone: '+6281234567890',
      email: `rina-${tenant.id.slice(0, 8)}@example.test`,
    });
    return { tenant, providers, contact, meta: providers[0] };
  }

  /** The customer writes to the tenant's Meta number, through Meta's signed webhook (Meta notes it too). */
  async function customerWrites(meta: ChannelProvider, from = '6281234567890', text = 'Halo') {
    fake.customerWrote(from);
    expect(
      await postMetaInbound(t.url, APP_SECRET, {
        phoneNumberId: String(meta.settings.phoneNumberId),
        from,
        name: 'Rina',
        id: `wamid.in-${Math.random()}`,
        text,
        timestamp: Math.floor(t.clock.now().getTime() / 1000),
      }),
    ).toBe(200);
  }

  let keys = 0;
  const enqueue = (tenant: Tenant, input: Partial<EnqueueInput> = {}) =>
    t.app.services.deliveries.enqueue(tenant.id, {
      channel: Channel.WHATSAPP,
      to: '+6281234567890',
      text: 'Your technician is on the way',
      idempotencyKey: `window:${++keys}`,
      ...input,
    });
  const visit = (tenant: Tenant, contactId: string) =>
    enqueue(tenant, { to: null, contactId, text: null, templateName: 'visit', variables: { time: '10:00' } });
  const drain = async () => {
    while ((await t.app.services.dispatch.dispatchBatch()).claimed > 0);
  };
  const reload = (delivery: Delivery) => t.app.dataSource.getRepository(Delivery).findOneByOrFail({ id: delivery.id });

  it('sends free text inside the window and the approved template, with its parameters, once it has closed', async () => {
    const { tenant, contact, meta } = await tenantWith(ProviderKind.META_WHATSAPP);
    await customerWrites(meta);
    const inside = await visit(tenant, contact.id);
    await drain();
    expect(await reload(inside)).toMatchObject({ status: DeliveryStatus.SENT, providerId: meta.id });
    expect(fake.received('meta').map((request) => request.body)).toEqual([
      expect.objectContaining({ type: 'text', text: { preview_url: false, body: 'Hi Rina, your visit is at 10:00.' } }),
    ]);

    t.clock.advance(24 * HOUR + 60_000);
    const outside = await visit(tenant, contact.id);
    await drain();
    expect(await reload(outside)).toMatchObject({ status: DeliveryStatus.SENT, providerId: meta.id });
    expect(fake.received('meta')[1].body).toMatchObject({
      type: 'template',
      template: {
        name: 'visit_reminder',
        language: { code: 'id' },
        components: [
          {
            type: 'body',
            parameters: [
              { type: 'text', text: 'Rina' },
              { type: 'text', text: '10:00' },
            ],
          },
        ],
      },
    });
  });

  it('hands free text outside the window to a gateway, never asking Meta', async () => {
    const { tenant, providers } = await tenantWith(ProviderKind.META_WHATSAPP, ProviderKind.FONNTE);
    const delivery = await enqueue(tenant);
    await drain();
    expect(await reload(delivery)).toMatchObject({ status: DeliveryStatus.SENT, providerId: providers[1].id, attempts: 1 });
    expect(fake.received('meta')).toHaveLength(0);
    expect(fake.received('fonnte')[0].body).toMatchObject({ target: '6281234567890', message: 'Your technician is on the way' });
    const steps = await t.app.services.deliveries.events(delivery.id);
    expect(steps.map((step) => step.message)).toContain('1 provider(s) skipped: meta_whatsapp 1 (outside window)');
  });

  it('fails free text that nothing can carry with OUTSIDE_SERVICE_WINDOW, uncharged, and goes on by the next channel', async () => {
    const { tenant, contact } = await tenantWith(ProviderKind.META_WHATSAPP);
    const delivery = await enqueue(tenant, { to: null, contactId: contact.id, fallbackChannels: [Channel.EMAIL] });
    await drain();
    expect(await reload(delivery)).toMatchObject({
      status: DeliveryStatus.FAILED,
      lastErrorCode: 'OUTSIDE_SERVICE_WINDOW',
      attempts: 0,
    });
    expect(fake.received('meta')).toHaveLength(0);
    const child = await t.app.dataSource.getRepository(Delivery).findOneByOrFail({ parentDeliveryId: delivery.id });
    expect(child).toMatchObject({ channel: Channel.EMAIL, recipient: contact.email, body: 'Your technician is on the way' });
  });

  it('sends the template at once when Meta says the window has closed (131047) though the product saw it open', async () => {
    const { tenant, contact, meta } = await tenantWith(ProviderKind.META_WHATSAPP);
    await customerWrites(meta);
    // Meta's window closed earlier than the product's record says (e.g. a message it never delivered to us).
    fake.reset();
    fake.enforceMetaRules();
    fake.metaTemplate('visit_reminder', 'id', 2);
    const delivery = await visit(tenant, contact.id);
    await drain();
    expect(fake.received('meta').map((request) => request.body.type)).toEqual(['text', 'template']);
    expect(await reload(delivery)).toMatchObject({ status: DeliveryStatus.SENT, attempts: 1, lastErrorCode: null });
    expect((await t.app.services.deliveries.events(delivery.id)).map((step) => step.providerCode)).toContain('131047');
  });

  it('retries, not fails, when the template that followed 131047 met a passing error', async () => {
    const { tenant, contact, meta } = await tenantWith(ProviderKind.META_WHATSAPP);
    await customerWrites(meta);
    fake.script('meta', metaError(131047, 'Re-engagement message'), metaError(131000, 'Something went wrong', 500));
    const delivery = await visit(tenant, contact.id);
    await drain();
    expect(fake.received('meta').map((request) => request.body.type)).toEqual(['text', 'template']);
    expect(await reload(delivery)).toMatchObject({ status: DeliveryStatus.QUEUED, attempts: 1, lastErrorCode: '131000' });
  });

  it('fails a template whose parameters Meta does not accept, with Meta’s code', async () => {
    const { tenant, contact } = await tenantWith(ProviderKind.META_WHATSAPP);
    fake.metaTemplate('visit_reminder', 'id', 3);
    const delivery = await visit(tenant, contact.id);
    await drain();
    expect(await reload(delivery)).toMatchObject({ status: DeliveryStatus.FAILED, lastErrorCode: '132000' });
  });

  it('shows agents the window on the ticket and refuses free text outside it unless a template is chosen', async () => {
    const { tenant, contact, meta } = await tenantWith(ProviderKind.META_WHATSAPP);
    await installNotificationPack(t.app.dataSource.manager, tenant.id);
    const agent = await makeUser(t.app.dataSource, tenant, { role: Role.AGENT });
    let { token } = await t.app.services.auth.login(agent.email, PASSWORD);
    const wroteAt = t.clock.now();
    await customerWrites(meta, '6281234567890', 'My internet is down');
    const ticket = await t.app.dataSource.getRepository(Ticket).findOneByOrFail({ tenantId: tenant.id, requesterId: contact.id });
    const window = async () =>
      (
        await gqlOk(
          t.url,
          `query ($id: ID!) { ticket(id: $id) { whatsappWindowOpen whatsappWindowClosesAt } }`,
          { id: ticket.id },
          token,
        )
      ).ticket;
    const closesAt = new Date(Math.floor(wroteAt.getTime() / 1000) * 1000 + 24 * HOUR).toISOString();
    expect(await window()).toEqual({ whatsappWindowOpen: true, whatsappWindowClosesAt: closesAt });

    const reply = `mutation ($input: AddTicketMessageInput!) { addTicketMessage(input: $input) { id } }`;
    t.clock.advance(25 * HOUR);
    // A day later the agent signs in again (sessions last less than that).
    ({ token } = await t.app.services.auth.login(agent.email, PASSWORD));
    expect(await window()).toEqual({ whatsappWindowOpen: false, whatsappWindowClosesAt: closesAt });
    const messages = () => t.app.dataSource.getRepository(TicketMessage).countBy({ ticketId: ticket.id });
    const before = await messages();
    const refused = await gql(t.url, reply, { input: { ticketId: ticket.id, body: 'Is it working now?' } }, token);
    expect(refused.errors?.[0]).toMatchObject({
      extensions: { code: 'OUTSIDE_SERVICE_WINDOW', closedAt: closesAt },
      message: expect.stringContaining('choose one (whatsappTemplate)'),
    });
    expect(await messages()).toBe(before);
    // An internal note is not sent anywhere: always fine.
    await gqlOk(t.url, reply, { input: { ticketId: ticket.id, body: 'Customer silent for a day', internal: true } }, token);

    const unknown = await gql(
      t.url,
      reply,
      { input: { ticketId: ticket.id, body: 'Visit booked', whatsappTemplate: 'no_such_template' } },
      token,
    );
    expect(unknown.errors?.[0].extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      problems: [expect.objectContaining({ path: ['input', 'whatsappTemplate'] })],
    });
    // 'visit' needs a time a reply cannot give.
    const unfillable = await gql(
      t.url,
      reply,
      { input: { ticketId: ticket.id, body: 'Visit booked', whatsappTemplate: 'visit' } },
      token,
    );
    expect(unfillable.errors?.[0]).toMatchObject({
      extensions: { code: 'BAD_USER_INPUT' },
      message: expect.stringContaining('needs values a reply cannot give: time'),
    });
    expect(await messages()).toBe(before + 1);
    await t.app.dataSource.getRepository(MessageTemplate).save({
      tenantId: tenant.id,
      channel: Channel.WHATSAPP,
      name: 'ticket_update',
      body: 'Hi {{contact.name}}, there is news on ticket {{ticket.number}}: please reply to read it.',
      metaTemplateName: 'ticket_update',
      metaLanguage: 'id',
    });
    fake.metaTemplate('ticket_update', 'id', 2);
    const sent = (
      await gqlOk(
        t.url,
        reply,
        { input: { ticketId: ticket.id, body: 'Visit booked for 10:00', whatsappTemplate: 'ticket_update' } },
        token,
      )
    ).addTicketMessage;
    await relayAll(t);
    await drain();
    const carried = await t.app.dataSource.getRepository(Delivery).findOneByOrFail({ ticketMessageId: sent.id });
    expect(carried).toMatchObject({ status: DeliveryStatus.SENT, channel: Channel.WHATSAPP });
    expect(fake.received('meta').at(-1)!.body).toMatchObject({
      type: 'template',
      template: {
        name: 'ticket_update',
        components: [{ type: 'body', parameters: [{ text: 'Rina' }, { text: String(ticket.number) }] }],
      },
    });
  });

  it('keeps each tenant’s windows its own: a customer who wrote to one business has no window with another', async () => {
    const a = await tenantWith(ProviderKind.META_WHATSAPP);
    const b = await tenantWith(ProviderKind.META_WHATSAPP);
    await customerWrites(a.meta);
    // Tenant B has a contact with the same number and sends it free text: its own number's window is closed.
    const fromB = await enqueue(b.tenant, { to: null, contactId: b.contact.id });
    await drain();
    expect(await reload(fromB)).toMatchObject({ status: DeliveryStatus.FAILED, lastErrorCode: 'OUTSIDE_SERVICE_WINDOW' });
    expect(fake.received('meta')).toHaveLength(0);
    expect(await t.app.services.serviceWindows.closingTimes(b.tenant.id, ['+6281234567890'])).toEqual(
      new Map([['+6281234567890', null]]),
    );
    const fromA = await enqueue(a.tenant, { to: null, contactId: a.contact.id });
    await drain();
    expect(await reload(fromA)).toMatchObject({ status: DeliveryStatus.SENT });
  });
});
