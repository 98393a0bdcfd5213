import { createHmac } from 'node:crypto';
import { Channel, DeliveryStatus, ProviderKind } from '../src/entities/channel';
import type { ChannelProvider } from '../src/entities/channel-provider.entity';
import { Delivery } from '../src/entities/delivery.entity';
import { MessageTemplate } from '../src/entities/message-template.entity';
import { StaffNotification } from '../src/entities/staff-notification.entity';
import type { Tenant } from '../src/entities/tenant.entity';
import { Role, type User } from '../src/entities/user.entity';
import type { Principal } from '../src/services/directory/principal';
import { ProviderFake } from './fakes/provider-fake';
import { PASSWORD, makeContact, makeTenant, makeUser, uniquePhoneNumberId } from './helpers/factories';
import { type TestApp, cancelOutstandingDeliveries, gql, gqlOk, startTestApp } from './helpers/test-app';

const APP_SECRET = 'meta-app-secret';

describe('WhatsApp templates synced with Meta', () => {
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
    fake.metaNow = () => t.clock.now().getTime();
    fake.enforceMetaRules();
  });
  afterEach(() => cancelOutstandingDeliveries(t));

  let accounts = 0;
  /** A tenant with a Meta number of its own business account, as an admin adds it, and its admin's token. */
  async function world(businessAccountId = `waba-${++accounts}-${Date.now()}`) {
    const tenant: Tenant = await makeTenant(t.app.dataSource);
    const admin: User = await makeUser(t.app.dataSource, tenant, { role: Role.ADMIN });
    const principal: Principal = { kind: 'staff', tenantId: tenant.id, userId: admin.id, role: Role.ADMIN, name: admin.name };
    const provider: ChannelProvider = await t.app.services.providers.create(principal, {
      kind: ProviderKind.META_WHATSAPP,
      name: 'Meta',
      baseUrl: fake.url,
      settings: { phoneNumberId: uniquePhoneNumberId(), businessAccountId },
      credentials: { accessToken: 'meta-token' },
    });
    const { token } = await t.app.services.auth.login(admin.email, PASSWORD);
    const contact = await makeContact(t.app.dataSource, tenant, { name: 'Rina', phone: '+6281234567890' });
    return { tenant, admin, provider, token, contact, businessAccountId };
  }

  const sync = `mutation ($providerId: ID!) {
    syncMetaTemplates(providerId: $providerId) { added changed removed templates { name language category status reason } }
  }`;
  const submit = `mutation ($input: SubmitMetaTemplateInput!) { submitMetaTemplate(input: $input) { name language status category metaId } }`;

  async function statusWebhook(businessAccountId: string, name: string, language: string, event: string, reason = 'NONE') {
    const raw = JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [
        {
          id: businessAccountId,
          time: 1_800_000_000,
          changes: [
            {
              field: 'message_template_status_update',
              value: { event, message_template_id: 0, message_template_name: name, message_template_language: language, reason },
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
  }

  const template = (businessAccountId: string, name: string, status: string, text = 'Hi {{1}}, your visit is at {{2}}.') => ({
    businessAccountId,
    name,
    language: 'id',
    category: 'UTILITY',
    status,
    components: [{ type: 'BODY', text }],
  });

  const noticesOf = (user: User) => t.app.dataSource.getRepository(StaffNotification).findBy({ userId: user.id });

  it('reads every template of the business account, page after page, and tells admins of paused and rejected ones', async () => {
    const w = await world();
    fake.addAccountTemplate(template(w.businessAccountId, 'visit_reminder', 'APPROVED'));
    fake.addAccountTemplate(template(w.businessAccountId, 'weekly_promo', 'PAUSED'));
    fake.addAccountTemplate({ ...template(w.businessAccountId, 'old_offer', 'REJECTED'), rejected_reason: 'PROMOTIONAL' });
    for (let n = 0; n < 120; n++) fake.addAccountTemplate(template(w.businessAccountId, `filler_${n}`, 'APPROVED'));
    fake.addAccountTemplate(template('someone-else', 'not_ours', 'APPROVED'));

    const first = (await gqlOk(t.url, sync, { providerId: w.provider.id }, w.token)).syncMetaTemplates;
    expect(first).toMatchObject({ added: 123, changed: 0, removed: 0 });
    expect(first.templates).toHaveLength(123);
    expect(first.templates.find((row: any) => row.name === 'old_offer')).toEqual({
      name: 'old_offer',
      language: 'id',
      category: 'UTILITY',
      status: 'REJECTED',
      reason: 'PROMOTIONAL',
    });
    // Two pages: the second asked for by Meta's cursor, at the provider's own base URL.
    const pages = fake.received('metaTemplates');
    expect(pages).toHaveLength(2);
    expect(pages[1].path).toContain(`/${w.businessAccountId}/message_templates?`);
    expect(pages[1].path).toContain('after=');
    expect((await noticesOf(w.admin)).map((notice) => notice.title).sort()).toEqual([
      'WhatsApp template old_offer (id) is REJECTED',
      'WhatsApp template weekly_promo (id) is PAUSED',
    ]);

    // Meta deletes one and approves the paused one.
    fake.accountTemplates.splice(
      fake.accountTemplates.findIndex((row) => row.name === 'old_offer'),
      1,
    );
    fake.accountTemplates.find((row) => row.name === 'weekly_promo')!.status = 'APPROVED';
    const second = (await gqlOk(t.url, sync, { providerId: w.provider.id }, w.token)).syncMetaTemplates;
    expect(second).toMatchObject({ added: 0, changed: 1, removed: 1 });
    const listed = await gqlOk(t.url, `{ metaTemplates { name status } }`, {}, w.token);
    expect(listed.metaTemplates).toHaveLength(122);
    expect(listed.metaTemplates.find((row: any) => row.name === 'weekly_promo').status).toBe('APPROVED');
  });

  it('never sends a paused or pending template, and sends it again once Meta’s webhook says it is approved', async () => {
    const w = await world();
    fake.addAccountTemplate(template(w.businessAccountId, 'visit_reminder', 'PAUSED'));
    await gqlOk(t.url, sync, { providerId: w.provider.id }, w.token);
    await t.app.dataSource.getRepository(MessageTemplate).save({
      tenantId: w.tenant.id,
      channel: Channel.WHATSAPP,
      name: 'visit',
      body: 'Hi {{contact.name}}, your visit is at {{time}}.',
      metaTemplateName: 'visit_reminder',
      metaLanguage: 'id',
    });
    const send = (key: string) =>
      t.app.services.deliveries.enqueue(w.tenant.id, {
        channel: Channel.WHATSAPP,
        contactId: w.contact.id,
        templateName: 'visit',
        variables: { time: '10:00' },
        idempotencyKey: key,
      });
    const drain = async () => {
      while ((await t.app.services.dispatch.dispatchBatch()).claimed > 0);
    };
    const paused = await send('paused');
    await drain();
    // Outside the window, with its template paused: nothing can carry it, and Meta was not asked.
    expect(await t.app.dataSource.getRepository(Delivery).findOneByOrFail({ id: paused.id })).toMatchObject({
      status: DeliveryStatus.FAILED,
      lastErrorCode: 'OUTSIDE_SERVICE_WINDOW',
    });
    expect(fake.received('meta')).toHaveLength(0);

    fake.accountTemplates[0].status = 'APPROVED';
    await statusWebhook(w.businessAccountId, 'visit_reminder', 'id', 'APPROVED');
    const approved = await send('approved');
    await drain();
    expect(await t.app.dataSource.getRepository(Delivery).findOneByOrFail({ id: approved.id })).toMatchObject({
      status: DeliveryStatus.SENT,
    });
    expect(fake.received('meta')[0].body).toMatchObject({ type: 'template', template: { name: 'visit_reminder' } });

    // Meta pauses it for low quality: admins hear of it, and it is not used again.
    await statusWebhook(w.businessAccountId, 'visit_reminder', 'id', 'PAUSED', 'LOW_QUALITY');
    expect((await noticesOf(w.admin)).filter((notice) => notice.title.endsWith('is PAUSED'))).toHaveLength(2);
    const listed = await gqlOk(
      t.url,
      `query ($id: ID) { metaTemplates(providerId: $id) { status reason } }`,
      { id: w.provider.id },
      w.token,
    );
    expect(listed.metaTemplates).toEqual([{ status: 'PAUSED', reason: 'LOW_QUALITY' }]);
  });

  it('submits a product template for review with numbered parameters and examples, and maps it', async () => {
    const w = await world();
    const visit = await t.app.dataSource.getRepository(MessageTemplate).save({
      tenantId: w.tenant.id,
      channel: Channel.WHATSAPP,
      name: 'Visit Reminder',
      body: 'Hi {{contact.name}}, your visit is at {{time}}.',
      metaLanguage: 'id',
    });
    const input = { providerId: w.provider.id, templateId: visit.id, category: 'UTILITY', examples: ['Rina', '10:00'] };
    const submitted = (await gqlOk(t.url, submit, { input }, w.token)).submitMetaTemplate;
    expect(submitted).toMatchObject({ name: 'visit_reminder', language: 'id', status: 'PENDING', category: 'UTILITY' });
    expect(fake.received('metaTemplates')[0].body).toEqual({
      name: 'visit_reminder',
      language: 'id',
      category: 'UTILITY',
      components: [{ type: 'BODY', text: 'Hi {{1}}, your visit is at {{2}}.', example: { body_text: [['Rina', '10:00']] } }],
    });
    expect(await t.app.dataSource.getRepository(MessageTemplate).findOneByOrFail({ id: visit.id })).toMatchObject({
      metaTemplateName: 'visit_reminder',
      metaLanguage: 'id',
    });

    // While Meta reviews it, it is not sent: outside the window nothing can carry the message.
    const pending = await t.app.services.deliveries.enqueue(w.tenant.id, {
      channel: Channel.WHATSAPP,
      contactId: w.contact.id,
      templateName: 'Visit Reminder',
      variables: { time: '10:00' },
      idempotencyKey: 'while-pending',
    });
    while ((await t.app.services.dispatch.dispatchBatch()).claimed > 0);
    expect(await t.app.dataSource.getRepository(Delivery).findOneByOrFail({ id: pending.id })).toMatchObject({
      status: DeliveryStatus.FAILED,
      lastErrorCode: 'OUTSIDE_SERVICE_WINDOW',
      metaTemplate: { name: 'visit_reminder', language: 'id', parameters: ['Rina', '10:00'] },
    });
    expect(fake.received('meta')).toHaveLength(0);

    // Meta's own refusal (already exists) comes back with its code; nothing changes.
    const again = await gql(t.url, submit, { input }, w.token);
    expect(again.errors?.[0]).toMatchObject({
      extensions: { code: 'PROVIDER_REFUSED', providerCode: '100' },
      message: expect.stringContaining('already'),
    });
    const wrongCount = await gql(t.url, submit, { input: { ...input, examples: ['Rina'] } }, w.token);
    expect(wrongCount.errors?.[0].extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      problems: [expect.objectContaining({ path: ['input', 'examples'] })],
    });
    expect(fake.received('metaTemplates')).toHaveLength(2);
  });

  it('refuses what it cannot do with clear codes: agents, other tenants, non-Meta providers, Meta answering garbage', async () => {
    const a = await world();
    const b = await world();
    const agent = await makeUser(t.app.dataSource, a.tenant, { role: Role.AGENT });
    const { token: agentToken } = await t.app.services.auth.login(agent.email, PASSWORD);
    expect((await gql(t.url, sync, { providerId: a.provider.id }, agentToken)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    // B's admin with A's provider id: as if it did not exist.
    expect((await gql(t.url, sync, { providerId: a.provider.id }, b.token)).errors?.[0].extensions?.code).toBe('NOT_FOUND');
    expect((await gql(t.url, sync, { providerId: 'not-an-id' }, a.token)).errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    const fonnte = await t.app.services.providers.create(
      { kind: 'staff', tenantId: a.tenant.id, userId: a.admin.id, role: Role.ADMIN, name: 'Admin' },
      { kind: ProviderKind.FONNTE, name: 'Fonnte', baseUrl: fake.url, settings: {}, credentials: { token: 'fonnte-token' } },
    );
    expect((await gql(t.url, sync, { providerId: fonnte.id }, a.token)).errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    fake.script('metaTemplates', { kind: 'garbage', status: 200, body: '<html>Service Unavailable</html>' });
    expect((await gql(t.url, sync, { providerId: a.provider.id }, a.token)).errors?.[0].extensions).toMatchObject({
      code: 'PROVIDER_REFUSED',
      providerCode: 'META_BAD_ANSWER',
    });
    expect((await gql(t.url, sync, { providerId: a.provider.id }, undefined)).errors?.[0].extensions?.code).toBe(
      'UNAUTHENTICATED',
    );
  });

  it('learns nothing of another business’s templates by naming its account id', async () => {
    const victim = await world();
    fake.addAccountTemplate(template(victim.businessAccountId, 'secret_offer', 'APPROVED'));
    await gqlOk(t.url, sync, { providerId: victim.provider.id }, victim.token);
    // The attacker's provider claims the victim's business account id but never synced it.
    const attacker = await world(victim.businessAccountId);
    await statusWebhook(victim.businessAccountId, 'secret_offer', 'id', 'PAUSED');
    expect((await gqlOk(t.url, `{ metaTemplates { name } }`, {}, attacker.token)).metaTemplates).toEqual([]);
    expect((await gqlOk(t.url, `{ metaTemplates { name status } }`, {}, victim.token)).metaTemplates).toEqual([
      { name: 'secret_offer', status: 'PAUSED' },
    ]);
  });
});
