import { createHmac, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Channel, DeliveryStatus } from '../src/entities/channel';
import { ChannelProvider } from '../src/entities/channel-provider.entity';
import { Contact } from '../src/entities/contact.entity';
import { Delivery } from '../src/entities/delivery.entity';
import { TicketMessage } from '../src/entities/ticket-message.entity';
import { Ticket } from '../src/entities/ticket.entity';
import { Role, type User } from '../src/entities/user.entity';
import { PASSWORD, makeContact, makeTenant, makeUser, uniquePhoneNumberId } from './helpers/factories';
import { type TestApp, cancelOutstandingDeliveries, errorCode, gql, gqlOk, startTestApp } from './helpers/test-app';

const APP_SECRET = 'meta-app-secret-for-security-tests';
const CREATE_PROVIDER = `mutation ($input: ProviderInput!) { createChannelProvider(input: $input) { id name } }`;

/**
 * The product as an attacker meets it: an admin of tenant B who knows the ids, phone
 * numbers and e-mail addresses of tenant A. Outbound requests get no allow-list here,
 * as in production: loopback and private addresses are refused.
 */
describe('a second tenant acting as an attacker', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp(undefined, { META_APP_SECRET: APP_SECRET, OUTBOUND_ALLOWED_ADDRESSES: '' });
  });
  afterAll(() => t.stop());
  afterEach(() => cancelOutstandingDeliveries(t));

  const login = async (user: User, tenant?: string) => (await t.app.services.auth.login(user.email, PASSWORD, tenant)).token;

  /** Tenant A, the victim, with one of everything; tenant B, the attacker, with an admin. */
  async function tenants() {
    const ds = t.app.dataSource;
    const a = await makeTenant(ds);
    const aAdmin = await makeUser(ds, a, { role: Role.ADMIN });
    const aAgent = await makeUser(ds, a, { role: Role.AGENT, phone: '+15550000101' });
    const aContact = await makeContact(ds, a, { phone: '+6281200000001' });
    const aAdminToken = await login(aAdmin);
    const { createTicket: aTicket } = await gqlOk(
      t.url,
      `mutation ($input: CreateTicketInput!) { createTicket(input: $input) { id } }`,
      { input: { subject: 'Leaking tap', requesterId: aContact.id, assigneeId: aAgent.id } },
      aAdminToken,
    );
    const phoneNumberId = uniquePhoneNumberId();
    const { createChannelProvider: aProvider } = await gqlOk(
      t.url,
      CREATE_PROVIDER,
      {
        input: {
          kind: 'META_WHATSAPP',
          name: 'A primary',
          settings: { phoneNumberId },
          credentials: { accessToken: 'a-token' },
        },
      },
      aAdminToken,
    );
    const { saveMessageTemplate: aTemplate } = await gqlOk(
      t.url,
      `mutation { saveMessageTemplate(input: { channel: WHATSAPP, name: "visit", body: "See you soon" }) { id } }`,
      {},
      aAdminToken,
    );
    const b = await makeTenant(ds);
    const bAdmin = await makeUser(ds, b, { role: Role.ADMIN });
    return {
      a: { tenant: a, admin: aAdmin, agent: aAgent, contact: aContact, token: aAdminToken, ticket: aTicket, provider: aProvider },
      aTemplate,
      phoneNumberId,
      b: { tenant: b, admin: bAdmin, token: await login(bAdmin) },
    };
  }

  it('cannot become a platform super-admin by giving a user the e-mail address of one', async () => {
    const { a, b } = await tenants();
    // The platform's operator was made a platform admin by `create-admin --platform-admin`.
    const platform = await t.app.services.tenantSetup.createAdmin({
      tenantSlug: `platform-${randomUUID().slice(0, 8)}`,
      email: `root-${randomUUID().slice(0, 8)}@platform.test`,
      platformAdmin: true,
    });
    const created = await gqlOk(
      t.url,
      `mutation ($input: CreateUserInput!) { createUser(input: $input) { oneTimePassword } }`,
      { input: { name: 'Impostor', email: platform.user.email, role: 'ADMIN' } },
      b.token,
    );
    const { login: impostor } = await gqlOk(
      t.url,
      `mutation ($e: String!, $p: String!, $t: String) { login(email: $e, password: $p, tenant: $t) { token } }`,
      { e: platform.user.email, p: created.createUser.oneTimePassword, t: b.tenant.slug },
    );
    const across = `{ deliveries(first: 5, allTenants: true) { edges { node { id body recipient } } } }`;
    expect(errorCode(await gql(t.url, across, {}, impostor.token))).toBe('FORBIDDEN');

    const { login: real } = await gqlOk(
      t.url,
      `mutation ($e: String!, $p: String!, $t: String) { login(email: $e, password: $p, tenant: $t) { token } }`,
      { e: platform.user.email, p: platform.password, t: (await platformTenantSlug(platform.user)) ?? '' },
    );
    expect((await gql(t.url, across, {}, real.token)).errors).toBeUndefined();
    expect(a.tenant.id).not.toBe(b.tenant.id);
  });

  async function platformTenantSlug(user: User): Promise<string | undefined> {
    const rows: Array<{ slug: string }> = await t.app.dataSource.query(`SELECT slug FROM tenant WHERE id = $1`, [user.tenantId]);
    return rows[0]?.slug;
  }

  it("cannot claim another tenant's WhatsApp number, so that tenant's customers never reach it", async () => {
    const { a, b, phoneNumberId } = await tenants();
    const claim = (token: string, kind: string, settings: Record<string, unknown>) =>
      gql(t.url, CREATE_PROVIDER, { input: { kind, name: 'Mine now', settings, credentials: { token: 'x' } } }, token);
    const stolen = await claim(b.token, 'META_WHATSAPP', { phoneNumberId });
    expect(errorCode(stolen)).toBe('CONFLICT');
    expect(stolen.errors?.[0].message).toContain('another organisation');
    // Gateways route by their device's number, written in any format.
    expect((await claim(a.token, 'FONNTE', { device: '+62 812-0000-0999' })).errors).toBeUndefined();
    expect(errorCode(await claim(b.token, 'WABLAS', { device: '6281200000999' }))).toBe('CONFLICT');
    // A second provider of the owner with the same number is refused too, pointing at the first.
    const twice = await claim(a.token, 'META_WHATSAPP', { phoneNumberId });
    expect(errorCode(twice)).toBe('CONFLICT');
    expect(twice.errors?.[0].message).toContain('"A primary"');
    expect(await t.app.dataSource.getRepository(ChannelProvider).countBy({ tenantId: b.tenant.id })).toBe(0);

    // A rotates its token: the number stays A's, and its customers' messages land in A.
    await gqlOk(
      t.url,
      `mutation ($id: ID!) { updateChannelProvider(id: $id, input: { kind: META_WHATSAPP, name: "A primary", credentials: { accessToken: "rotated" } }) { id } }`,
      { id: a.provider.id },
      a.token,
    );
    const raw = JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [
        {
          id: 'WABA',
          changes: [
            {
              field: 'messages',
              value: {
                messaging_product: 'whatsapp',
                metadata: { display_phone_number: '15550001111', phone_number_id: phoneNumberId },
                contacts: [{ profile: { name: 'Customer of A' }, wa_id: '6281299999999' }],
                messages: [
                  {
                    from: '6281299999999',
                    id: `wamid.${randomUUID()}`,
                    timestamp: '1700000000',
                    type: 'text',
                    text: { body: 'Hi' },
                  },
                ],
              },
            },
          ],
        },
      ],
    });
    const response = await fetch(`${t.url}/webhooks/whatsapp/meta`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-hub-signature-256': 'sha256=' + createHmac('sha256', APP_SECRET).update(raw).digest('hex'),
      },
      body: raw,
    });
    expect(response.status).toBe(200);
    const contacts = await t.app.dataSource.getRepository(Contact).findBy({ phone: '+6281299999999' });
    expect(contacts.map((contact) => contact.tenantId)).toEqual([a.tenant.id]);
  });

  it("answers NOT_FOUND for another tenant's id anywhere in an input, and changes nothing", async () => {
    const { a, aTemplate, b } = await tenants();
    const ticketsBefore = await t.app.dataSource.getRepository(Ticket).countBy({ tenantId: a.tenant.id });
    const attempts: Array<[string, string, Record<string, unknown>]> = [
      [
        'sendMessage with a foreign ticket',
        `mutation ($input: SendMessageInput!) { sendMessage(input: $input) { id } }`,
        { input: { channel: 'WHATSAPP', to: '+6281200000002', text: 'hi', ticketId: a.ticket.id } },
      ],
      [
        'sendMessage with an unknown ticket',
        `mutation ($input: SendMessageInput!) { sendMessage(input: $input) { id } }`,
        { input: { channel: 'WHATSAPP', to: '+6281200000002', text: 'hi', ticketId: randomUUID() } },
      ],
      [
        'sendMessage to a foreign contact',
        `mutation ($input: SendMessageInput!) { sendMessage(input: $input) { id } }`,
        { input: { channel: 'WHATSAPP', contactId: a.contact.id, text: 'hi' } },
      ],
      [
        'sendMessage to a foreign user',
        `mutation ($input: SendMessageInput!) { sendMessage(input: $input) { id } }`,
        { input: { channel: 'WHATSAPP', userId: a.agent.id, text: 'hi' } },
      ],
      [
        'createTicket for a foreign requester',
        `mutation ($input: CreateTicketInput!) { createTicket(input: $input) { id } }`,
        { input: { subject: 'x', requesterId: a.contact.id } },
      ],
      [
        'addTicketMessage to a foreign ticket',
        `mutation ($input: AddTicketMessageInput!) { addTicketMessage(input: $input) { id } }`,
        { input: { ticketId: a.ticket.id, body: 'x' } },
      ],
      ['assignTicket of a foreign ticket', `mutation ($id: ID!) { assignTicket(ticketId: $id) { id } }`, { id: a.ticket.id }],
      [
        'escalateTicket to a foreign user',
        `mutation ($t: ID!, $u: ID!) { escalateTicket(ticketId: $t, toUserId: $u, reason: "x") { id } }`,
        { t: a.ticket.id, u: a.agent.id },
      ],
      [
        'createUser reporting to a foreign manager',
        `mutation ($input: CreateUserInput!) { createUser(input: $input) { user { id } } }`,
        { input: { name: 'New', email: `new-${randomUUID().slice(0, 6)}@b.test`, role: 'AGENT', managerId: a.admin.id } },
      ],
      [
        'updateUser of a foreign user',
        `mutation ($id: ID!) { updateUser(id: $id, input: { name: "Owned" }) { id } }`,
        { id: a.agent.id },
      ],
      [
        'updateContact of a foreign contact',
        `mutation ($id: ID!) { updateContact(id: $id, input: { name: "Owned" }) { id } }`,
        { id: a.contact.id },
      ],
      [
        'setContactOptOut of a foreign contact',
        `mutation ($id: ID!) { setContactOptOut(contactId: $id, channel: WHATSAPP, optedOut: true) { id } }`,
        { id: a.contact.id },
      ],
      [
        'issueCustomerToken for a foreign contact',
        `mutation ($id: ID!) { issueCustomerToken(contactId: $id) { token } }`,
        { id: a.contact.id },
      ],
      [
        'updateChannelProvider of a foreign provider',
        `mutation ($id: ID!) { updateChannelProvider(id: $id, input: { kind: META_WHATSAPP, name: "Owned" }) { id } }`,
        { id: a.provider.id },
      ],
      [
        'deleteChannelProvider of a foreign provider',
        `mutation ($id: ID!) { deleteChannelProvider(id: $id) }`,
        { id: a.provider.id },
      ],
      [
        'testChannelProvider of a foreign provider',
        `mutation ($id: ID!) { testChannelProvider(id: $id, to: "+6281200000002") { ok } }`,
        { id: a.provider.id },
      ],
      [
        'saveMessageTemplate over a foreign template',
        `mutation ($id: ID) { saveMessageTemplate(id: $id, input: { channel: WHATSAPP, name: "visit", body: "Owned" }) { id } }`,
        { id: aTemplate.id },
      ],
      [
        'deleteMessageTemplate of a foreign template',
        `mutation ($id: ID!) { deleteMessageTemplate(id: $id) }`,
        { id: aTemplate.id },
      ],
      [
        'an escalation policy naming a foreign user',
        `mutation ($u: ID!) { updateEscalationPolicy(input: { name: "x", levels: [{ afterMinutes: 5, target: { kind: USER, userId: $u } }] }) { id } }`,
        { u: a.agent.id },
      ],
    ];
    const answers = [];
    for (const [what, query, variables] of attempts) answers.push([what, errorCode(await gql(t.url, query, variables, b.token))]);
    expect(answers).toEqual(attempts.map(([what]) => [what, 'NOT_FOUND']));

    // Nothing of A changed, and B queued nothing.
    expect(await t.app.dataSource.getRepository(Ticket).countBy({ tenantId: a.tenant.id })).toBe(ticketsBefore);
    expect(await t.app.dataSource.getRepository(TicketMessage).countBy({ tenantId: a.tenant.id })).toBe(0);
    expect(await t.app.dataSource.getRepository(Contact).findOneByOrFail({ id: a.contact.id })).toMatchObject({
      name: a.contact.name,
      optedOutChannels: [],
    });
    expect(await t.app.dataSource.getRepository(ChannelProvider).findOneByOrFail({ id: a.provider.id })).toMatchObject({
      name: 'A primary',
    });
    expect(await t.app.dataSource.getRepository(Delivery).countBy({ tenantId: b.tenant.id })).toBe(0);
  });

  it('shows a customer their ticket without staff data', async () => {
    const { a } = await tenants();
    const customer = await t.app.services.auth.issueCustomerToken(
      { kind: 'staff', tenantId: a.tenant.id, userId: a.admin.id, role: Role.ADMIN, name: a.admin.name },
      a.contact.id,
    );
    await gqlOk(
      t.url,
      `mutation ($id: ID!) { addTicketMessage(input: { ticketId: $id, body: "On my way" }) { id } }`,
      { id: a.ticket.id },
      await login(a.agent),
    );
    await t.app.dataSource
      .getRepository(Ticket)
      .update({ id: a.ticket.id }, { escalationLevel: 2, firstResponseBreachedAt: new Date(), slaWarnedAt: new Date() });
    const query = `query ($id: ID!) { ticket(id: $id) {
      subject status assigneeId assignee { id } escalationLevel firstResponseDueAt resolutionDueAt
      firstResponseBreachedAt resolutionBreachedAt slaWarnedAt messages { edges { node { body authorName authorUserId } } } } }`;
    const { ticket } = await gqlOk(t.url, query, { id: a.ticket.id }, customer.token);
    expect(ticket).toEqual({
      subject: 'Leaking tap',
      status: 'ASSIGNED',
      assigneeId: null,
      assignee: null,
      escalationLevel: null,
      firstResponseDueAt: null,
      resolutionDueAt: null,
      firstResponseBreachedAt: null,
      resolutionBreachedAt: null,
      slaWarnedAt: null,
      messages: { edges: [{ node: { body: 'On my way', authorName: a.agent.name, authorUserId: null } }] },
    });
    // Staff still see all of it.
    const staff = (await gqlOk(t.url, query, { id: a.ticket.id }, a.token)).ticket;
    expect(staff).toMatchObject({
      assigneeId: a.agent.id,
      escalationLevel: 2,
      messages: { edges: [{ node: { authorUserId: a.agent.id } }] },
    });
    expect(staff.firstResponseBreachedAt).not.toBeNull();
  });

  describe('outbound requests to internal addresses', () => {
    let internal: Server;
    let hits = 0;
    let internalUrl = '';

    beforeAll(async () => {
      internal = createServer((_req, res) => {
        hits++;
        res.end('{"secret":"instance credentials"}');
      });
      await new Promise<void>((resolve) => internal.listen(0, '127.0.0.1', resolve));
      internalUrl = `http://127.0.0.1:${(internal.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise((resolve) => internal.close(resolve)));

    it('refuses a provider or webhook pointed at loopback, private or link-local addresses', async () => {
      const { b } = await tenants();
      const provider = (baseUrl: string) =>
        gql(
          t.url,
          CREATE_PROVIDER,
          { input: { kind: 'TWILIO_SMS', name: 'Internal', baseUrl, settings: { from: '+15550001111' } } },
          b.token,
        );
      for (const url of [
        internalUrl,
        'http://localhost:8080',
        'http://169.254.169.254',
        'http://10.0.0.7',
        'http://[::1]:9000',
        'http://0x7f000001',
        'http://[::ffff:127.0.0.1]',
      ]) {
        const answer = await provider(url);
        expect([url, errorCode(answer)]).toEqual([url, 'BAD_USER_INPUT']);
      }
      const hook = await gql(
        t.url,
        `mutation ($input: SendMessageInput!) { sendMessage(input: $input) { id } }`,
        { input: { channel: 'WEBHOOK', to: 'http://169.254.169.254/latest/meta-data/', text: 'x' } },
        b.token,
      );
      expect(errorCode(hook)).toBe('BAD_USER_INPUT');
      expect(hook.errors?.[0].message).toContain('public addresses only');
      expect(await t.app.dataSource.getRepository(Delivery).countBy({ tenantId: b.tenant.id })).toBe(0);
    });

    it('refuses the connection at send time too, whatever the address was when it was saved', async () => {
      const { b } = await tenants();
      await gqlOk(
        t.url,
        CREATE_PROVIDER,
        { input: { kind: 'WEBHOOK', name: 'Hooks', credentials: { signingSecret: 's' } } },
        b.token,
      );
      // As if a public name had resolved to loopback after the check (DNS rebinding).
      const delivery = await t.app.services.deliveries.enqueue(b.tenant.id, {
        channel: Channel.WEBHOOK,
        to: 'https://hooks.example.com/in',
        text: 'x',
        idempotencyKey: 'rebinding',
      });
      await t.app.dataSource.getRepository(Delivery).update({ id: delivery.id }, { recipient: `${internalUrl}/in` });
      while ((await t.app.services.dispatch.dispatchBatch()).claimed > 0);
      expect(hits).toBe(0);
      expect(await t.app.dataSource.getRepository(Delivery).findOneByOrFail({ id: delivery.id })).toMatchObject({
        status: DeliveryStatus.FAILED,
        lastErrorCode: 'ADDRESS_NOT_ALLOWED',
      });
    });
  });
});
