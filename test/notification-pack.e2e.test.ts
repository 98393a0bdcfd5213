import { AutomationRule } from '../src/entities/automation-rule.entity';
import { MessageTemplate } from '../src/entities/message-template.entity';
import { Tenant } from '../src/entities/tenant.entity';
import { Role } from '../src/entities/user.entity';
import { NotificationPackV11795468462526 } from '../src/migrations/1795468462526-NotificationPackV1';
import type { StaffPrincipal } from '../src/services/directory/principal';
import { ManualClock } from '../src/services/platform/clock';
import { PACK_RULES, PACK_TEMPLATES } from '../src/services/rules/notification-pack.v1';
import { CURRENT_PACK } from '../src/services/rules/notification-pack';
import { NotificationPackV21795490000002 } from '../src/migrations/1795490000002-NotificationPackV2';
import { Channel } from '../src/entities/channel';
import { makeContact, makeTenant, makeUser } from './helpers/factories';
import { type TestApp, startTestApp, relayAll } from './helpers/test-app';

/** Every tenant starts with the notifications a service business needs, as rules it owns. */
describe('built-in notification pack', () => {
  let t: TestApp;
  const clock = new ManualClock(new Date('2026-11-24T01:00:00Z'));

  beforeAll(async () => {
    t = await startTestApp(clock);
  });
  afterAll(() => t.stop());

  const relay = () => relayAll(t);

  async function newTenant(locale: string) {
    const slug = `pack-${Math.random().toString(36).slice(2, 10)}`;
    const { user } = await t.app.services.tenantSetup.createAdmin({ tenantSlug: slug, email: `admin@${slug}.test` });
    await t.app.dataSource
      .getRepository(Tenant)
      .update({ id: user.tenantId }, { locale, timezone: 'Asia/Jakarta', defaultCountry: 'ID' });
    const tenant = await t.app.dataSource.getRepository(Tenant).findOneByOrFail({ id: user.tenantId });
    const actor: StaffPrincipal = { kind: 'staff', tenantId: tenant.id, userId: user.id, role: Role.ADMIN, name: user.name };
    return { tenant, admin: user, actor };
  }

  const messages = (tenantId: string) =>
    t.app.dataSource.query(
      `SELECT recipient, body, "notificationType" FROM delivery WHERE "tenantId" = $1 ORDER BY "createdAt", body`,
      [tenantId],
    ) as Promise<Array<{ recipient: string; body: string; notificationType: string }>>;

  it('is installed with a new tenant, every rule active and valid as saved by an admin', async () => {
    const w = await newTenant('id');
    const rules = await t.app.dataSource.getRepository(AutomationRule).findBy({ tenantId: w.tenant.id });
    expect(rules.map((rule) => rule.builtIn).sort()).toEqual(PACK_RULES.map((rule) => rule.key).sort());
    expect(rules.every((rule) => rule.active)).toBe(true);
    expect(await t.app.dataSource.getRepository(MessageTemplate).countBy({ tenantId: w.tenant.id })).toBe(
      CURRENT_PACK.templates.length,
    );
    // Saved again through the API's checks: each one is a rule an admin could have written.
    for (const { key, rule } of PACK_RULES) {
      const stored = rules.find((candidate) => candidate.builtIn === key)!;
      await expect(t.app.services.rules.update(w.actor, stored.id, rule)).resolves.toMatchObject({ builtIn: key });
    }
  });

  it('is installed for tenants that existed before, once', async () => {
    const old = await makeTenant(t.app.dataSource);
    const runner = t.app.dataSource.createQueryRunner();
    try {
      await new NotificationPackV11795468462526().up(runner);
      await new NotificationPackV11795468462526().up(runner);
      expect(await t.app.dataSource.getRepository(MessageTemplate).countBy({ tenantId: old.id })).toBe(PACK_TEMPLATES.length);
      await new NotificationPackV21795490000002().up(runner);
      await new NotificationPackV21795490000002().up(runner);
    } finally {
      await runner.release();
    }
    expect(await t.app.dataSource.getRepository(AutomationRule).countBy({ tenantId: old.id })).toBe(PACK_RULES.length);
    expect(await t.app.dataSource.getRepository(MessageTemplate).countBy({ tenantId: old.id })).toBe(
      CURRENT_PACK.templates.length,
    );
  });

  it('ships every pack template for WhatsApp, SMS and e-mail, in English and Indonesian, e-mail with a subject', async () => {
    const w = await newTenant('en');
    const templates = await t.app.dataSource.getRepository(MessageTemplate).findBy({ tenantId: w.tenant.id });
    const names = new Set(PACK_TEMPLATES.map((template) => template.name.replace(/\.(en|id)$/, '')));
    for (const name of names) {
      for (const channel of [Channel.WHATSAPP, Channel.SMS, Channel.EMAIL]) {
        for (const language of ['en', 'id']) {
          const template = templates.find(
            (candidate) => candidate.channel === channel && candidate.name === `${name}.${language}`,
          );
          expect([name, channel, language, Boolean(template)]).toEqual([name, channel, language, true]);
          if (channel === Channel.EMAIL) expect(template!.subject).toBeTruthy();
        }
      }
    }
  });

  it('reaches a contact who opted out of WhatsApp by SMS, and the execution succeeds', async () => {
    const w = await newTenant('en');
    const customer = await makeContact(t.app.dataSource, w.tenant, { name: 'Sari', phone: '+6281298765077' });
    await t.app.services.messaging.setOptOut(w.actor, customer.id, Channel.WHATSAPP, true);
    await t.app.services.records.upsert(
      w.tenant.id,
      [
        {
          kind: 'invoice',
          externalId: 'INV-77',
          status: 'sent',
          amount: '50000',
          currency: 'IDR',
          subject: { type: 'contact', id: customer.id },
        },
      ],
      null,
    );
    await t.app.services.ingestion.ingest(
      w.tenant.id,
      [{ type: 'payment.received', subject: { type: 'record', kind: 'invoice', externalId: 'INV-77' } }],
      'api',
    );
    await relay();
    const sent = await t.app.dataSource.query(
      `SELECT channel, recipient, body FROM delivery WHERE "tenantId" = $1 AND "notificationType" = 'payment_receipt'`,
      [w.tenant.id],
    );
    expect(sent).toEqual([
      { channel: 'sms', recipient: '+6281298765077', body: 'Thank you Sari, we received your payment for INV-77 (IDR 50000).' },
    ]);
    const [execution] = await t.app.dataSource.query(
      `SELECT e.status FROM rule_execution e JOIN automation_rule r ON r.id = e."ruleId" WHERE r."tenantId" = $1 AND r."builtIn" = 'payment_receipt'`,
      [w.tenant.id],
    );
    expect(execution.status).toBe('succeeded');
  });

  it('tells the assignee and the customer in their language, reminds before a due date, and stays quiet when switched off', async () => {
    const w = await newTenant('id');
    const technician = await makeUser(t.app.dataSource, w.tenant, {
      role: Role.TECHNICIAN,
      phone: '+6281300000009',
      name: 'Tono',
    });
    const customer = await makeContact(t.app.dataSource, w.tenant, {
      name: 'Ayu',
      phone: '+6281298765001',
      area: 'Dago',
      locale: 'en',
    });
    const ticket = await t.app.services.tickets.create(w.actor, {
      subject: 'AC leaking',
      category: 'technical' as never,
      priority: 'high' as never,
      requesterId: customer.id,
      assigneeId: technician.id,
    });
    await t.app.services.tickets.changeStatus(w.actor, ticket.id, 'in_progress' as never);
    await relay();
    // The technician reads the tenant's language; the customer chose English. (Same instant: ordered by text.)
    expect(await messages(w.tenant.id)).toEqual([
      {
        recipient: '+6281298765001',
        body: `Hi Ayu, we are working on your ticket ${ticket.reference} (AC leaking). We will let you know when it is done.`,
        notificationType: 'ticket_status',
      },
      {
        recipient: '+6281300000009',
        body: `Tiket baru untuk Anda: ${ticket.reference} (high) AC leaking. Pelanggan: Ayu, +6281298765001, area Dago.`,
        notificationType: 'ticket_assigned',
      },
    ]);

    // An invoice due on 1 December: the reminder goes out on 24 November at 09:00 Jakarta time.
    const indonesian = await makeContact(t.app.dataSource, w.tenant, { name: 'Budi', phone: '+6281298765002' });
    await t.app.services.records.upsert(
      w.tenant.id,
      [
        {
          kind: 'invoice',
          externalId: 'INV-9',
          status: 'sent',
          dueAt: '2026-12-01T05:00:00Z',
          amount: '150000',
          currency: 'IDR',
          subject: { type: 'contact', id: indonesian.id },
        },
      ],
      null,
    );
    clock.set('2026-11-24T02:05:00Z');
    await t.app.services.ruleRuns.scanDates();
    const reminders = (await messages(w.tenant.id)).filter((message) => message.notificationType === 'payment_reminder');
    expect(reminders).toEqual([
      {
        recipient: '+6281298765002',
        body: 'Halo Budi, mengingatkan tagihan INV-9 sebesar IDR 150000 jatuh tempo pada 1 Des 2026.',
        notificationType: 'payment_reminder',
      },
    ]);

    // Switched off, the waiting-on-customer notice is not sent.
    const rule = await t.app.dataSource
      .getRepository(AutomationRule)
      .findOneByOrFail({ tenantId: w.tenant.id, builtIn: 'ticket_waiting_on_customer' });
    await t.app.services.rules.setActive(w.actor, rule.id, false);
    await t.app.services.tickets.changeStatus(w.actor, ticket.id, 'waiting_on_customer' as never);
    await relay();
    expect(
      (await messages(w.tenant.id)).filter((message) => message.body.includes('balasan') || message.body.includes('reply')),
    ).toEqual([]);
  });

  it('sends an agent’s public reply back on WhatsApp when the customer wrote there, and nothing else', async () => {
    const w = await newTenant('en');
    const customer = await makeContact(t.app.dataSource, w.tenant, { name: 'Rina', phone: '+6281298765003' });
    const inbound = await t.app.services.tickets.receiveInbound(customer, 'My router is down', 'wamid.HBgM001');
    await t.app.services.tickets.addMessage(w.actor, inbound.ticketId, { body: 'A technician is on the way.' });
    await t.app.services.tickets.addMessage(w.actor, inbound.ticketId, { body: 'Check the modem first', internal: true });
    // A ticket staff opened by phone: replies stay in the thread.
    const other = await t.app.services.tickets.create(w.actor, {
      subject: 'Phone call',
      category: 'other' as never,
      priority: 'low' as never,
      requesterId: customer.id,
    });
    await t.app.services.tickets.addMessage(w.actor, other.id, { body: 'Noted your call.' });
    await relay();
    const replies = (await messages(w.tenant.id)).filter((message) => message.notificationType === 'ticket_reply');
    expect(replies).toEqual([
      { recipient: '+6281298765003', body: 'A technician is on the way.', notificationType: 'ticket_reply' },
    ]);
  });

  it('sends the satisfaction survey on resolution, and a reply of 1-5 rates the ticket without reopening it', async () => {
    const w = await newTenant('en');
    const customer = await makeContact(t.app.dataSource, w.tenant, { name: 'Dewi', phone: '+6281298765004' });
    await makeUser(t.app.dataSource, w.tenant, { role: Role.AGENT, phone: '+6281300000201' });
    const first = await t.app.services.tickets.receiveInbound(customer, 'No internet', 'wamid.HBgM101');
    await t.app.services.tickets.changeStatus(w.actor, first.ticketId, 'in_progress' as never);
    await t.app.services.tickets.changeStatus(w.actor, first.ticketId, 'resolved' as never);
    await relay();
    const survey = (await messages(w.tenant.id)).filter((message) => message.notificationType === 'satisfaction_survey');
    expect(survey).toEqual([
      {
        recipient: '+6281298765004',
        body: expect.stringContaining('Reply with a number from 1'),
        notificationType: 'satisfaction_survey',
      },
    ]);
    await t.app.services.tickets.receiveInbound(customer, ' 4 ', 'wamid.HBgM102');
    const ticket = await t.app.dataSource.query(`SELECT status, rating FROM ticket WHERE id = $1`, [first.ticketId]);
    expect(ticket).toEqual([{ status: 'resolved', rating: 4 }]);
    // Any other answer is a message like any other: it reopens the conversation.
    await t.app.services.tickets.receiveInbound(customer, 'It broke again', 'wamid.HBgM103');
    expect(await t.app.dataSource.query(`SELECT status, rating FROM ticket WHERE id = $1`, [first.ticketId])).toEqual([
      { status: 'in_progress', rating: 4 },
    ]);
  });
});
