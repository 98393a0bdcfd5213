import { Role } from '../src/entities/user.entity';
import { ProviderFake, metaError } from './fakes/provider-fake';
import { PASSWORD, addMetaProvider, makeContact, makeTenant, makeUser, makeServiceJob } from './helpers/factories';
import { postMetaStatus } from './helpers/meta-inbound';
import { type TestApp, cancelOutstandingDeliveries, errorCode, gql, gqlOk, startTestApp, dispatchAll } from './helpers/test-app';

const APP_SECRET = 'meta-app-secret';
const SEND = `mutation ($input: SendMessageInput!) { sendMessage(input: $input) { id } }`;
const NOTICES = `query ($id: ID!) { ticket(id: $id) { notifications { channel text state stateText } } }`;

/** Issue 23.6: a customer sees that their notification left, in words, and nothing of anyone else's. */
describe('customer-safe delivery status', () => {
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
  beforeEach(() => fake.reset());
  afterEach(() => cancelOutstandingDeliveries(t));

  async function world(locale: string) {
    const ds = t.app.dataSource;
    const tenant = await makeTenant(ds);
    const admin = await makeUser(ds, tenant, { role: Role.ADMIN });
    const agent = await makeUser(ds, tenant, { role: Role.AGENT, phone: '+6281300000901' });
    const technician = await makeUser(ds, tenant, { role: Role.TECHNICIAN, externalId: 'TECH-9', name: 'Tono' });
    const sari = await makeContact(ds, tenant, { name: 'Sari', phone: '+6281298760101', locale });
    const budi = await makeContact(ds, tenant, { name: 'Budi', phone: '+6281298760102', locale });
    const provider = await addMetaProvider(t.app.services, tenant, fake.url);
    const adminPrincipal = {
      kind: 'staff' as const,
      tenantId: tenant.id,
      userId: admin.id,
      role: Role.ADMIN as const,
      name: 'Admin',
    };
    const login = async (email: string) => (await t.app.services.auth.login(email, PASSWORD)).token;
    const customer = async (contactId: string) => (await t.app.services.auth.issueCustomerToken(adminPrincipal, contactId)).token;
    const agentToken = await login(agent.email);
    const ticket = async (requesterId: string) =>
      (
        await gqlOk(
          t.url,
          `mutation ($input: CreateTicketInput!) { createTicket(input: $input) { id } }`,
          { input: { subject: 'AC leaking', requesterId } },
          agentToken,
        )
      ).createTicket.id as string;
    return {
      tenant,
      admin,
      agent,
      technician,
      sari,
      budi,
      provider,
      login,
      customer,
      agentToken,
      adminToken: await login(admin.email),
      ticket,
    };
  }

  // A second passes between messages, as it would (the test clock stands still otherwise).
  const send = async (token: string, input: Record<string, unknown>) => {
    t.clock.advance(1000);
    return (await gqlOk(t.url, SEND, { input }, token)).sendMessage.id as string;
  };
  const wamidOf = async (deliveryId: string) =>
    (await t.app.dataSource.query(`SELECT "providerMessageId" FROM delivery WHERE id = $1`, [deliveryId]))[0]
      .providerMessageId as string;

  it("shows the customer their ticket's notifications as sent, delivered, read or not delivered, in their language, and nobody else's", async () => {
    const w = await world('id');
    const ticketId = await w.ticket(w.sari.id);
    const otherTicket = await w.ticket(w.budi.id);

    const onTheWay = await send(w.agentToken, {
      channel: 'WHATSAPP',
      contactId: w.sari.id,
      ticketId,
      text: 'Teknisi kami berangkat',
    });
    const sariToken = await w.customer(w.sari.id);
    expect((await gqlOk(t.url, NOTICES, { id: ticketId }, sariToken)).ticket.notifications).toEqual([
      { channel: 'WHATSAPP', text: 'Teknisi kami berangkat', state: 'SENDING', stateText: 'Sedang dikirim lewat WhatsApp' },
    ]);
    await dispatchAll(t);
    const report = (deliveryId: string, status: string, timestamp: number) =>
      wamidOf(deliveryId).then((wamid) =>
        postMetaStatus(t.url, APP_SECRET, {
          phoneNumberId: String(w.provider.settings.phoneNumberId),
          wamid,
          status,
          recipient: w.sari.phone!,
          timestamp,
        }),
      );
    expect(await report(onTheWay, 'delivered', 1_800_000_100)).toBe(200);

    // Meta refuses the second (131026, undeliverable); an operator sends it again.
    fake.script('meta', metaError(131026, 'Message undeliverable'));
    const refused = await send(w.agentToken, {
      channel: 'WHATSAPP',
      contactId: w.sari.id,
      ticketId,
      text: 'Jadwal kunjungan: Senin',
    });
    await dispatchAll(t);
    t.clock.advance(1000);
    const { retryDelivery } = await gqlOk(
      t.url,
      'mutation ($id: ID!) { retryDelivery(id: $id) { id } }',
      { id: refused },
      w.adminToken,
    );
    await dispatchAll(t);
    expect(await report(retryDelivery.id, 'read', 1_800_000_200)).toBe(200);

    // Not the customer's: a staff message about the ticket, a message to another contact, another ticket's.
    await send(w.agentToken, { channel: 'WHATSAPP', userId: w.agent.id, ticketId, text: 'Internal: bring a ladder' });
    await send(w.agentToken, { channel: 'WHATSAPP', contactId: w.budi.id, ticketId: otherTicket, text: 'Untuk Budi' });
    await dispatchAll(t);

    const { ticket } = await gqlOk(t.url, NOTICES, { id: ticketId }, sariToken);
    expect(ticket.notifications).toEqual([
      { channel: 'WHATSAPP', text: 'Jadwal kunjungan: Senin', state: 'READ', stateText: 'Sudah dibaca (WhatsApp)' },
      {
        channel: 'WHATSAPP',
        text: 'Jadwal kunjungan: Senin',
        state: 'NOT_DELIVERED',
        stateText: 'Tidak dapat dikirim lewat WhatsApp; dikirim ulang lewat WhatsApp',
      },
      { channel: 'WHATSAPP', text: 'Teknisi kami berangkat', state: 'DELIVERED', stateText: 'Sampai lewat WhatsApp' },
    ]);
    // Staff see what the customer saw, in the same words.
    expect((await gqlOk(t.url, NOTICES, { id: ticketId }, w.agentToken)).ticket.notifications).toEqual(ticket.notifications);

    // Nothing of the provider, the error or the address can be asked for.
    const staffFields = await gql(
      t.url,
      `query ($id: ID!) { ticket(id: $id) { notifications { recipient errorCode providerId } } }`,
      {
        id: ticketId,
      },
      sariToken,
    );
    expect(errorCode(staffFields)).toBe('GRAPHQL_VALIDATION_FAILED');
    // Another customer of the tenant, and an attacker tenant's customer and admin, see nothing of Sari's ticket.
    expect(errorCode(await gql(t.url, NOTICES, { id: ticketId }, await w.customer(w.budi.id)))).toBe('NOT_FOUND');
    const attacker = await world('en');
    expect(errorCode(await gql(t.url, NOTICES, { id: ticketId }, await attacker.customer(attacker.sari.id)))).toBe('NOT_FOUND');
    expect(errorCode(await gql(t.url, NOTICES, { id: ticketId }, attacker.adminToken))).toBe('NOT_FOUND');
    // Budi's own ticket shows only his.
    expect((await gqlOk(t.url, NOTICES, { id: otherTicket }, await w.customer(w.budi.id))).ticket.notifications).toEqual([
      { channel: 'WHATSAPP', text: 'Untuk Budi', state: 'SENT', stateText: 'Terkirim lewat WhatsApp' },
    ]);
    // A ticket list shows each ticket's own notifications.
    const { tickets } = await gqlOk(t.url, `{ tickets { edges { node { id notifications { state } } } } }`, {}, w.agentToken);
    expect(
      Object.fromEntries(tickets.edges.map((edge: any) => [edge.node.id, edge.node.notifications.map((n: any) => n.state)])),
    ).toEqual({
      [ticketId]: ['READ', 'NOT_DELIVERED', 'DELIVERED'],
      [otherTicket]: ['SENT'],
    });
  });

  it('shows the customer the completion request as it went, in English for an English contact', async () => {
    const w = await world('en');
    const jobId = await makeServiceJob(t.app.services, w.tenant, w.sari.id, 'TECH-9', 'JOB-9');
    const technicianToken = await w.login(w.technician.email);
    const { requestCompletion } = await gqlOk(
      t.url,
      `mutation ($jobId: ID!) { requestCompletion(jobId: $jobId) { id } }`,
      { jobId },
      technicianToken,
    );
    const QUERY = `query ($id: ID!) { completionRequest(id: $id) { notifications { channel state stateText } } }`;
    const sariToken = await w.customer(w.sari.id);
    expect((await gqlOk(t.url, QUERY, { id: requestCompletion.id }, sariToken)).completionRequest.notifications).toEqual([
      { channel: 'WHATSAPP', state: 'SENDING', stateText: 'Being sent by WhatsApp' },
    ]);
    await dispatchAll(t);
    expect((await gqlOk(t.url, QUERY, { id: requestCompletion.id }, sariToken)).completionRequest.notifications).toEqual([
      { channel: 'WHATSAPP', state: 'SENT', stateText: 'Sent by WhatsApp' },
    ]);
    // Another customer of the tenant cannot read the request at all.
    expect(errorCode(await gql(t.url, QUERY, { id: requestCompletion.id }, await w.customer(w.budi.id)))).toBe('NOT_FOUND');
  });
});
