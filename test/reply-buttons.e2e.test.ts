import { Tenant } from '../src/entities/tenant.entity';
import { ProviderKind } from '../src/entities/channel';
import { Role } from '../src/entities/user.entity';
import type { StaffPrincipal } from '../src/services/directory/principal';
import { ProviderFake } from './fakes/provider-fake';
import { addMetaProvider, makeContact, makeUser, makeServiceJob } from './helpers/factories';
import { postMetaChange } from './helpers/meta-inbound';
import { type TestApp, cancelOutstandingDeliveries, relayAll, startTestApp, dispatchAll } from './helpers/test-app';

const APP_SECRET = 'meta-app-secret';

/** Issue 23.3: completion requests and surveys offer reply buttons on WhatsApp; a tapped button is the typed answer. */
describe('reply buttons on WhatsApp', () => {
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

  /** A tenant as set up by its first admin (with the notification pack), one Meta number, a technician and a customer. */
  async function world(phone: string) {
    const slug = `buttons-${Math.random().toString(36).slice(2, 10)}`;
    const { user } = await t.app.services.tenantSetup.createAdmin({ tenantSlug: slug, email: `admin@${slug}.test` });
    const tenant = await t.app.dataSource.getRepository(Tenant).findOneByOrFail({ id: user.tenantId });
    const admin: StaffPrincipal = { kind: 'staff', tenantId: tenant.id, userId: user.id, role: Role.ADMIN, name: user.name };
    const technician = await makeUser(t.app.dataSource, tenant, { role: Role.TECHNICIAN, externalId: 'TECH-7', name: 'Tono' });
    await makeUser(t.app.dataSource, tenant, { role: Role.AGENT, phone: '+6281300000701' });
    const customer = await makeContact(t.app.dataSource, tenant, { name: 'Sari', phone });
    const provider = await addMetaProvider(t.app.services, tenant, fake.url);
    const phoneNumberId = String(provider.settings.phoneNumberId);
    /** The customer taps an answer of an interactive message, as Meta's webhook reports it. */
    const tap = (kind: 'button_reply' | 'list_reply', id: string, messageId: string) =>
      postMetaChange(t.url, APP_SECRET, phoneNumberId, {
        contacts: [{ profile: { name: 'Sari' }, wa_id: phone.slice(1) }],
        messages: [
          {
            from: phone.slice(1),
            id: messageId,
            timestamp: String(Math.floor(Date.now() / 1000)),
            type: 'interactive',
            interactive: { type: kind, [kind]: { id, title: id } },
          },
        ],
      });
    return { tenant, admin, technician, customer, provider, tap };
  }

  it('asks for the completion with YA / TIDAK buttons, and a tapped TIDAK disputes the job like the typed word', async () => {
    const w = await world('+6281298760701');
    const jobId = await makeServiceJob(t.app.services, w.tenant, w.customer.id, 'TECH-7', 'JOB-7');
    const request = await t.app.services.completions.request(
      { kind: 'staff', tenantId: w.tenant.id, userId: w.technician.id, role: Role.TECHNICIAN, name: 'Tono' },
      { jobId },
    );
    await dispatchAll(t);
    const [sent] = fake.received('meta');
    expect(sent.body).toMatchObject({
      to: '6281298760701',
      type: 'interactive',
      interactive: {
        type: 'button',
        action: {
          buttons: [
            { type: 'reply', reply: { id: 'YA', title: 'YA' } },
            { type: 'reply', reply: { id: 'TIDAK', title: 'TIDAK' } },
          ],
        },
      },
    });
    // The words stay in the body, for anyone who types instead.
    expect(sent.body.interactive.body.text).toContain('Reply YA if it is done, or TIDAK if something is wrong.');

    expect(await w.tap('button_reply', 'TIDAK', 'wamid.TAP701')).toBe(200);
    const [after] = await t.app.dataSource.query(
      `SELECT status, "respondedVia", "supportTicketId" FROM completion_request WHERE id = $1`,
      [request.id],
    );
    expect(after).toMatchObject({ status: 'disputed', respondedVia: 'whatsapp' });
    expect(after.supportTicketId).toBeTruthy();
  });

  it('sends the satisfaction survey as a 1-5 list, and a tapped 4 rates the ticket without reopening it', async () => {
    const w = await world('+6281298760702');
    const first = await t.app.services.tickets.receiveInbound(w.customer, 'No internet', 'wamid.HBgM701');
    await t.app.services.tickets.changeStatus(w.admin, first.ticketId, 'in_progress' as never);
    await t.app.services.tickets.changeStatus(w.admin, first.ticketId, 'resolved' as never);
    await relayAll(t);
    await dispatchAll(t);
    const survey = fake.received('meta').find((request) => request.body.type === 'interactive');
    expect(survey?.body.interactive).toMatchObject({
      type: 'list',
      action: { button: '1-5', sections: [{ rows: ['1', '2', '3', '4', '5'].map((id) => ({ id, title: id })) }] },
    });
    expect(survey?.body.interactive.body.text).toContain('Reply with a number from 1');

    expect(await w.tap('list_reply', '4', 'wamid.TAP702')).toBe(200);
    expect(await t.app.dataSource.query(`SELECT status, rating FROM ticket WHERE id = $1`, [first.ticketId])).toEqual([
      { status: 'resolved', rating: 4 },
    ]);
  });

  it('sends plain text through a gateway, which has no buttons; the body says how to answer', async () => {
    const w = await world('+6281298760703');
    await t.app.services.providers.update(w.admin, w.provider.id, { enabled: false });
    await t.app.services.providers.create(w.admin, {
      kind: ProviderKind.FONNTE,
      name: 'Fonnte',
      baseUrl: fake.url,
      settings: {},
      credentials: { token: 'fonnte-token' },
    });
    await t.app.services.deliveries.enqueue(w.tenant.id, {
      channel: 'whatsapp' as never,
      contactId: w.customer.id,
      text: 'Please confirm the job: reply YA or TIDAK.',
      notificationType: 'completion_request',
      idempotencyKey: 'gateway-buttons',
    });
    await dispatchAll(t);
    expect(fake.received('meta')).toEqual([]);
    expect(fake.received('fonnte').map((request) => request.body.message)).toEqual([
      'Please confirm the job: reply YA or TIDAK.',
    ]);
  });
});
