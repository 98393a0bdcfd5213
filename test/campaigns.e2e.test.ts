import { Campaign } from '../src/entities/campaign.entity';
import { Client } from 'pg';
import { Delivery } from '../src/entities/delivery.entity';
import { Role } from '../src/entities/user.entity';
import type { Principal } from '../src/services/directory/principal';
import { ProviderFake } from './fakes/provider-fake';
import { postMetaInbound } from './helpers/meta-inbound';
import { PASSWORD, addMetaProvider, makeContact, makeTenant, makeUser } from './helpers/factories';
import {
  Subscription,
  type TestApp,
  errorCode,
  problemPath,
  gql,
  gqlOk,
  settle,
  startTestApp,
  wsClient,
} from './helpers/test-app';

const APP_SECRET = 'meta-app-secret';

const CREATE = `mutation ($input: CampaignInput!) { createCampaign(input: $input) { id status category text audience } }`;
const STATS = `query ($id: ID!) { campaignStats(id: $id) {
  status runs targeted skipped skippedOptedOut skippedNoAddress skippedDuplicate queued sent delivered read failed cancelled
  replied clicked unsubscribed converted } }`;
const move = (name: string) => `mutation ($id: ID!) { ${name}(id: $id) { id status } }`;

/** Campaigns: one message to many, watched live, paused, never twice, never to who said STOP. */
describe('campaigns', () => {
  let t: TestApp;
  let fake: ProviderFake;
  let phoneNumbers = 7000;

  beforeAll(async () => {
    fake = await new ProviderFake().start();
    t = await startTestApp(undefined, { META_APP_SECRET: APP_SECRET, CAMPAIGN_BATCH_SIZE: '3' });
  });
  afterAll(async () => {
    await t.stop();
    await fake.stop();
  });

  async function world() {
    const tenant = await makeTenant(t.app.dataSource, { defaultCountry: 'ID', timezone: 'Asia/Jakarta' });
    const admin = await makeUser(t.app.dataSource, tenant, { role: Role.ADMIN });
    const token = (await t.app.services.auth.login(admin.email, PASSWORD)).token;
    const principal: Principal = { kind: 'staff', tenantId: tenant.id, userId: admin.id, role: Role.ADMIN, name: 'Admin' };
    const phoneNumberId = String(++phoneNumbers);
    await addMetaProvider(t.app.services, tenant, fake.url, { settings: { phoneNumberId, serviceWindow: false } });
    const people = {
      ana: await makeContact(t.app.dataSource, tenant, { name: 'Ana', phone: '+6281200000001', area: 'Bandung', tags: ['vip'] }),
      budi: await makeContact(t.app.dataSource, tenant, { name: 'Budi', phone: '+6281200000002', area: 'bandung' }),
      citra: await makeContact(t.app.dataSource, tenant, {
        name: 'Citra',
        phone: '+6281200000003',
        area: 'Bandung',
        consent: { whatsapp: { granted: false, at: '2026-11-01T00:00:00Z', source: 'import' } },
      }),
      // Shares Ana's phone: must not get the message twice.
      anaTwin: await makeContact(t.app.dataSource, tenant, {
        name: 'Ana (old record)',
        phone: '+6281200000001',
        area: 'Bandung',
      }),
      dewi: await makeContact(t.app.dataSource, tenant, { name: 'Dewi', phone: null, email: null, area: 'Bandung' }),
      eko: await makeContact(t.app.dataSource, tenant, { name: 'Eko', phone: '+6281200000005', area: 'Jakarta' }),
    };
    return { tenant, admin, token, principal, people, phoneNumberId };
  }

  const tick = async () => {
    while ((await t.app.services.campaignSender.tick()).batches > 0);
  };
  const dispatchAll = async () => {
    while ((await t.app.services.dispatch.dispatchBatch()).claimed > 0);
  };

  it('refuses unsound audiences and filters at the exact place, and estimates with one query', async () => {
    const w = await world();
    const bad = await gql(
      t.url,
      `mutation ($input: SegmentInput!) { createSegment(input: $input) { id } }`,
      {
        input: {
          name: 'Broken',
          filter: {
            all: [
              { path: 'contact.area', op: 'eq', value: 'x' },
              { path: 'contact.shoe', op: 'eq', value: 1 },
            ],
          },
        },
      },
      w.token,
    );
    expect(errorCode(bad)).toBe('BAD_USER_INPUT');
    expect(bad.errors![0].message).toBe('filter.all[1].path: unknown path "contact.shoe"');
    const { createSegment: segment } = await gqlOk(
      t.url,
      `mutation ($input: SegmentInput!) { createSegment(input: $input) { id name } }`,
      {
        input: {
          name: 'Bandung VIPs',
          filter: {
            all: [
              { path: 'contact.area', op: 'eq', value: 'BANDUNG' },
              { path: 'contact.tags', op: 'contains', value: 'VIP' },
            ],
          },
        },
      },
      w.token,
    );
    const { estimateAudience } = await gqlOk(
      t.url,
      `query ($audience: AudienceInput!) { estimateAudience(audience: $audience, sampleSize: 5) { count sample { name } } }`,
      { audience: { segmentId: segment.id } },
      w.token,
    );
    expect(estimateAudience).toEqual({ count: 1, sample: [{ name: 'Ana' }] });
    const everyoneInBandung = await gqlOk(
      t.url,
      `query ($audience: AudienceInput!) { estimateAudience(audience: $audience) { count } }`,
      { audience: { filter: { path: 'contact.area', op: 'eq', value: 'bandung' } } },
      w.token,
    );
    expect(everyoneInBandung.estimateAudience.count).toBe(5);

    // A second tenant: the first one's segment does not exist for it, and its contacts are not reachable by id.
    const attacker = await world();
    const foreign = await gql(
      t.url,
      `query ($audience: AudienceInput!) { estimateAudience(audience: $audience) { count } }`,
      { audience: { segmentId: segment.id } },
      attacker.token,
    );
    expect(errorCode(foreign)).toBe('NOT_FOUND');
    const stolen = await gqlOk(
      t.url,
      `query ($audience: AudienceInput!) { estimateAudience(audience: $audience) { count } }`,
      { audience: { contactIds: Object.values(w.people).map((contact) => contact.id) } },
      attacker.token,
    );
    expect(stolen.estimateAudience.count).toBe(0);
    const badId = await gql(
      t.url,
      `query ($audience: AudienceInput!) { estimateAudience(audience: $audience) { count } }`,
      { audience: { contactIds: ['not-an-id'] } },
      attacker.token,
    );
    expect([errorCode(badId), problemPath(badId)]).toEqual(['BAD_USER_INPUT', ['audience', 'contactIds', 0]]);
  });

  it('sends once per address, skips opt-outs and the unreachable, pauses and resumes, and completes with figures', async () => {
    const w = await world();
    const agent = await makeUser(t.app.dataSource, w.tenant, { role: Role.AGENT });
    const agentToken = (await t.app.services.auth.login(agent.email, PASSWORD)).token;
    const input = {
      name: 'November promo',
      category: 'MARKETING',
      channels: ['WHATSAPP'],
      text: 'Hi {{contact.name}}, 20% off this week: https://shop.example.com/promo?c=nov',
      audience: { filter: { path: 'contact.area', op: 'eq', value: 'Bandung' } },
    };
    expect(errorCode(await gql(t.url, CREATE, { input }, agentToken))).toBe('FORBIDDEN');
    const { createCampaign: campaign } = await gqlOk(t.url, CREATE, { input }, w.token);
    expect(campaign.status).toBe('DRAFT');

    const wrong = await gql(t.url, move('resumeCampaign'), { id: campaign.id }, w.token);
    expect(errorCode(wrong)).toBe('INVALID_TRANSITION');
    expect(wrong.errors![0].extensions!.allowed).toEqual([
      'scheduleCampaign',
      'sendCampaignNow',
      'cancelCampaign',
      'updateCampaign',
    ]);

    const client = wsClient(t.url, w.token);
    const progress = new Subscription<any>(
      client,
      `subscription ($id: ID!) { campaignProgress(id: $id) { status targeted queued sent } }`,
      {
        id: campaign.id,
      },
    );
    await progress.waitFor(1);

    await gqlOk(t.url, move('sendCampaignNow'), { id: campaign.id }, w.token);
    await tick();
    const figures = async () => (await gqlOk(t.url, STATS, { id: campaign.id }, w.token)).campaignStats;
    expect(await figures()).toMatchObject({
      status: 'RUNNING',
      runs: 1,
      targeted: 5,
      skipped: 3,
      skippedOptedOut: 1,
      skippedNoAddress: 1,
      skippedDuplicate: 1,
      queued: 2,
      sent: 0,
    });
    // Run again from scratch (a crash that lost the cursor): nobody is enqueued twice.
    await t.app.dataSource.query(`UPDATE campaign_run SET cursor = NULL, "enqueuedAt" = NULL WHERE "campaignId" = $1`, [
      campaign.id,
    ]);
    await tick();
    expect(await t.app.dataSource.getRepository(Delivery).countBy({ campaignId: campaign.id })).toBe(2);

    // Paused: the dispatcher finds nothing of it; resumed: both go out.
    await gqlOk(t.url, move('pauseCampaign'), { id: campaign.id }, w.token);
    fake.reset();
    await dispatchAll();
    expect(fake.requests).toHaveLength(0);
    const paused = await gql(t.url, move('pauseCampaign'), { id: campaign.id }, w.token);
    expect(errorCode(paused)).toBe('INVALID_TRANSITION');
    await gqlOk(t.url, move('resumeCampaign'), { id: campaign.id }, w.token);
    await dispatchAll();
    const bodies = fake.requests.map((request) => JSON.stringify(request.body));
    expect(bodies).toHaveLength(2);
    expect(bodies.filter((body) => body.includes('Hi Ana'))).toHaveLength(1);
    expect(bodies.filter((body) => body.includes('Hi Budi'))).toHaveLength(1);
    await tick();
    const done = await figures();
    expect(done).toMatchObject({ status: 'COMPLETED', queued: 0, sent: 2, failed: 0 });
    // The subscription reads fresh figures at most twice a second: the completion arrives within a moment.
    const completed = () => progress.items.find((item) => item.campaignProgress.status === 'COMPLETED');
    for (let waited = 0; !completed() && waited < 5000; waited += 100) await settle(100);
    expect(completed()?.campaignProgress).toMatchObject({ status: 'COMPLETED', sent: 2 });
    await client.dispose();

    // The tracked link: the first click is counted and leads where the message said.
    const [recipient] = await t.app.dataSource.query(
      `SELECT d.body FROM campaign_recipient r JOIN delivery d ON d.id = r."deliveryId" WHERE r."contactId" = $1`,
      [w.people.budi.id],
    );
    const tracked = /\/r\/([A-Za-z0-9_-]+)\/0/.exec(recipient.body)!;
    expect(recipient.body).not.toContain('shop.example.com');
    const click = await fetch(`${t.url}/r/${tracked[1]}/0`, { redirect: 'manual' });
    expect([click.status, click.headers.get('location')]).toEqual([302, 'https://shop.example.com/promo?c=nov']);
    expect((await fetch(`${t.url}/r/${tracked[1]}/1`, { redirect: 'manual' })).status).toBe(404);
    expect((await fetch(`${t.url}/r/${'A'.repeat(22)}/0`, { redirect: 'manual' })).status).toBe(404);
    await fetch(`${t.url}/r/${tracked[1]}/0`, { redirect: 'manual' });
    expect((await figures()).clicked).toBe(1);

    const after = await gql(t.url, move('cancelCampaign'), { id: campaign.id }, w.token);
    expect(errorCode(after)).toBe('INVALID_TRANSITION');
    expect(after.errors![0].extensions!.allowed).toEqual([]);
  });

  it('honours STOP on WhatsApp at once: confirmed, recorded with its source, and the rest of a campaign withheld', async () => {
    const w = await world();
    const { createCampaign: campaign } = await gqlOk(
      t.url,
      CREATE,
      {
        input: {
          name: 'Slow promo',
          category: 'MARKETING',
          channels: ['WHATSAPP'],
          text: 'Hello {{contact.name}}',
          throttlePerMinute: 1,
          audience: { contactIds: [w.people.budi.id, w.people.eko.id] },
        },
      },
      w.token,
    );
    await gqlOk(t.url, move('sendCampaignNow'), { id: campaign.id }, w.token);
    await tick();
    // At 1 per minute, the second message waits a minute; Eko says STOP meanwhile.
    expect(
      await postMetaInbound(t.url, APP_SECRET, {
        phoneNumberId: w.phoneNumberId,
        from: '6281200000005',
        name: 'Eko',
        id: 'wamid.STOP1',
        text: ' stop ',
      }),
    ).toBe(200);
    const messages = await t.app.dataSource.query(
      `SELECT "contactId", status, "notificationType", "lastErrorCode" FROM delivery WHERE "tenantId" = $1 ORDER BY "createdAt"`,
      [w.tenant.id],
    );
    const ekos = messages.filter((message: any) => message.contactId === w.people.eko.id);
    expect(ekos.map((message: any) => [message.notificationType, message.status, message.lastErrorCode]).sort()).toEqual([
      ['campaign', 'cancelled', 'OPTED_OUT'],
      ['opt_out_confirmation', 'queued', null],
    ]);
    const history = await t.app.dataSource.query(`SELECT channel, granted, source FROM consent_change WHERE "contactId" = $1`, [
      w.people.eko.id,
    ]);
    expect(history).toEqual([{ channel: 'whatsapp', granted: false, source: 'keyword:STOP' }]);
    // STOP did not open a support ticket.
    expect(await t.app.dataSource.query(`SELECT id FROM ticket WHERE "requesterId" = $1`, [w.people.eko.id])).toEqual([]);
    // Each tenant words its own keywords; one word cannot both stop and start.
    const SETTINGS = `mutation ($input: TenantSettingsInput!) { updateTenantSettings(input: $input) { stopKeywords startKeywords } }`;
    const overlap = await gql(t.url, SETTINGS, { input: { stopKeywords: ['STOP', 'start'] } }, w.token);
    expect([errorCode(overlap), problemPath(overlap)]).toEqual(['BAD_USER_INPUT', ['input', 'startKeywords']]);
    const spaced = await gql(t.url, SETTINGS, { input: { stopKeywords: ['no more'] } }, w.token);
    expect(errorCode(spaced)).toBe('BAD_USER_INPUT');
    expect(
      (await gqlOk(t.url, SETTINGS, { input: { stopKeywords: ['stop', 'Hentikan'] } }, w.token)).updateTenantSettings,
    ).toEqual({
      stopKeywords: ['STOP', 'HENTIKAN'],
      startKeywords: ['START', 'MULAI'],
    });
    // The next marketing campaign skips Eko at enqueue.
    const { createCampaign: next } = await gqlOk(
      t.url,
      CREATE,
      {
        input: {
          name: 'Next promo',
          category: 'MARKETING',
          channels: ['WHATSAPP'],
          text: 'Hi',
          audience: { contactIds: [w.people.eko.id] },
        },
      },
      w.token,
    );
    await gqlOk(t.url, move('sendCampaignNow'), { id: next.id }, w.token);
    await tick();
    expect((await gqlOk(t.url, STATS, { id: next.id }, w.token)).campaignStats).toMatchObject({
      targeted: 1,
      skippedOptedOut: 1,
    });
  });

  it('counts a STOP as an opt-out, not a reply, and confirms it once however often it is said', async () => {
    const w = await world();
    const { createCampaign: campaign } = await gqlOk(
      t.url,
      CREATE,
      {
        input: {
          name: 'Promo',
          category: 'MARKETING',
          channels: ['WHATSAPP'],
          text: 'Hi',
          audience: { contactIds: [w.people.budi.id] },
        },
      },
      w.token,
    );
    await gqlOk(t.url, move('sendCampaignNow'), { id: campaign.id }, w.token);
    await tick();
    await dispatchAll();
    const say = async (id: string, text: string) =>
      expect(
        await postMetaInbound(t.url, APP_SECRET, {
          phoneNumberId: w.phoneNumberId,
          from: '6281200000002',
          name: 'Budi',
          id,
          text,
        }),
      ).toBe(200);
    await say('wamid.BUDI-STOP-1', 'STOP');
    await say('wamid.BUDI-STOP-2', 'stop');
    const confirmations = await t.app.dataSource.query(
      `SELECT id FROM delivery WHERE "contactId" = $1 AND "notificationType" = 'opt_out_confirmation'`,
      [w.people.budi.id],
    );
    expect(confirmations).toHaveLength(1);
    expect((await gqlOk(t.url, STATS, { id: campaign.id }, w.token)).campaignStats).toMatchObject({
      sent: 1,
      replied: 0,
      unsubscribed: 1,
    });
    // A real answer still counts as a reply.
    await say('wamid.BUDI-TEXT', 'How much is it?');
    expect((await gqlOk(t.url, STATS, { id: campaign.id }, w.token)).campaignStats).toMatchObject({ replied: 1 });
    expect(await t.app.dataSource.query(`SELECT source FROM consent_change WHERE "contactId" = $1`, [w.people.budi.id])).toEqual([
      { source: 'keyword:STOP' },
    ]);
  });

  it('keeps a scheduled campaign’s time through updates, and refuses a past sendAt and a malformed segment id everywhere', async () => {
    const w = await world();
    const input = {
      name: 'Later',
      category: 'MARKETING',
      channels: ['WHATSAPP'],
      text: 'Hi',
      audience: { contactIds: [w.people.ana.id] },
    };
    const UPDATE = `mutation ($id: ID!, $input: CampaignInput!) { updateCampaign(id: $id, input: $input) { id status sendAt } }`;
    const SCHEDULE = `mutation ($id: ID!, $sendAt: DateTimeISO) { scheduleCampaign(id: $id, sendAt: $sendAt) { id status sendAt } }`;
    const past = new Date(Date.now() - 60_000).toISOString();
    const soon = new Date(Date.now() + 3_600_000).toISOString();
    expect(errorCode(await gql(t.url, CREATE, { input: { ...input, sendAt: past } }, w.token))).toBe('BAD_USER_INPUT');
    const { createCampaign: campaign } = await gqlOk(t.url, CREATE, { input }, w.token);
    const pastSchedule = await gql(t.url, SCHEDULE, { id: campaign.id, sendAt: past }, w.token);
    const pastUpdate = await gql(t.url, UPDATE, { id: campaign.id, input: { ...input, sendAt: past } }, w.token);
    expect([pastUpdate.errors?.[0].message, problemPath(pastUpdate), problemPath(pastSchedule)]).toEqual([
      pastSchedule.errors?.[0].message,
      ['input', 'sendAt'],
      ['sendAt'],
    ]);
    expect(errorCode(pastUpdate)).toBe('BAD_USER_INPUT');
    const scheduled = (await gqlOk(t.url, SCHEDULE, { id: campaign.id, sendAt: soon }, w.token)).scheduleCampaign;
    expect(scheduled).toMatchObject({ status: 'SCHEDULED', sendAt: soon });
    // An update that does not name sendAt keeps it: the campaign does not go out at once.
    const renamed = (await gqlOk(t.url, UPDATE, { id: campaign.id, input: { ...input, name: 'Later, renamed' } }, w.token))
      .updateCampaign;
    expect(renamed).toMatchObject({ status: 'SCHEDULED', sendAt: soon });
    await tick();
    expect(await t.app.dataSource.query(`SELECT id FROM delivery WHERE "campaignId" = $1`, [campaign.id])).toEqual([]);
    const [{ nextRunAt }] = await t.app.dataSource.query(`SELECT "nextRunAt" FROM campaign WHERE id = $1`, [campaign.id]);
    expect(new Date(nextRunAt).toISOString()).toBe(soon);
    // Clearing the time of a scheduled campaign is refused, and changes nothing.
    const cleared = await gql(t.url, UPDATE, { id: campaign.id, input: { ...input, sendAt: null } }, w.token);
    expect([errorCode(cleared), problemPath(cleared)]).toEqual(['BAD_USER_INPUT', ['input', 'sendAt']]);
    // An empty or malformed segment id is not "every contact".
    for (const segmentId of ['', 'not-a-uuid']) {
      const estimate = await gql(
        t.url,
        `query ($audience: AudienceInput!) { estimateAudience(audience: $audience) { count } }`,
        { audience: { segmentId } },
        w.token,
      );
      expect([errorCode(estimate), problemPath(estimate)]).toEqual(['BAD_USER_INPUT', ['audience', 'segmentId']]);
      const created = await gql(t.url, CREATE, { input: { ...input, audience: { segmentId } } }, w.token);
      expect(errorCode(created)).toBe('BAD_USER_INPUT');
    }
    // A conversion event type longer than its column is the caller's mistake, not ours.
    const long = await gql(t.url, CREATE, { input: { ...input, conversionEventType: `payment.${'x'.repeat(150)}` } }, w.token);
    expect(errorCode(long)).toBe('BAD_USER_INPUT');
    const [{ count }] = await t.app.dataSource.query(`SELECT count(*)::int AS count FROM campaign WHERE "tenantId" = $1`, [
      w.tenant.id,
    ]);
    expect(count).toBe(1);
  });

  it('runs a recurring campaign once per occurrence, each recipient at 10:00 in their own zone', async () => {
    const w = await world();
    await t.app.dataSource.query(`UPDATE contact SET timezone = 'Asia/Makassar' WHERE id = $1`, [w.people.budi.id]);
    const { createCampaign: campaign } = await gqlOk(
      t.url,
      CREATE,
      {
        input: {
          name: 'Monthly tips',
          type: 'RECURRING',
          category: 'OPERATIONAL',
          channels: ['WHATSAPP'],
          text: 'Tip of the month for {{contact.name}}',
          cron: '0 8 1 * *',
          timezone: 'Asia/Jakarta',
          localSendTime: '10:00',
          quietFrom: '21:00',
          quietUntil: '08:00',
          audience: { contactIds: [w.people.ana.id, w.people.budi.id] },
        },
      },
      w.token,
    );
    t.clock.set('2026-11-20T00:00:00Z');
    w.token = (await t.app.services.auth.login(w.admin.email, PASSWORD)).token;
    const { scheduleCampaign } = await gqlOk(
      t.url,
      `mutation ($id: ID!) { scheduleCampaign(id: $id) { status nextRunAt } }`,
      { id: campaign.id },
      w.token,
    );
    // The next cron occurrence, read in the campaign's time zone: 1 December 08:00 in Jakarta.
    expect(scheduleCampaign).toEqual({ status: 'SCHEDULED', nextRunAt: '2026-12-01T01:00:00.000Z' });
    await tick();
    expect((await gqlOk(t.url, STATS, { id: campaign.id }, w.token)).campaignStats.runs).toBe(0);
    // 1 December 08:00 in Jakarta is 01:00Z: the run starts; messages wait for 10:00 local.
    t.clock.set('2026-12-01T01:00:05Z');
    w.token = (await t.app.services.auth.login(w.admin.email, PASSWORD)).token;
    await tick();
    await tick();
    // Once this run started, the next one is a month on.
    const nextMonth = (await gqlOk(t.url, `query ($id: ID!) { campaign(id: $id) { nextRunAt } }`, { id: campaign.id }, w.token))
      .campaign;
    expect(nextMonth.nextRunAt).toBe('2027-01-01T01:00:00.000Z');
    const planned = await t.app.dataSource.query(
      `SELECT "contactId", "nextAttemptAt" FROM delivery WHERE "campaignId" = $1 ORDER BY "nextAttemptAt"`,
      [campaign.id],
    );
    expect(planned).toEqual([
      // Budi in Makassar (UTC+8): 10:00 local is 02:00Z; Ana in the tenant's Jakarta (UTC+7): 03:00Z.
      { contactId: w.people.budi.id, nextAttemptAt: new Date('2026-12-01T02:00:00Z') },
      { contactId: w.people.ana.id, nextAttemptAt: new Date('2026-12-01T03:00:00Z') },
    ]);
    const { campaign: after } = await gqlOk(
      t.url,
      `query ($id: ID!) { campaign(id: $id) { status } }`,
      { id: campaign.id },
      w.token,
    );
    expect(after.status).toBe('SCHEDULED');
    // The next month is a run of its own: everyone gets it again, once.
    t.clock.set('2027-01-01T01:00:05Z');
    w.token = (await t.app.services.auth.login(w.admin.email, PASSWORD)).token;
    await tick();
    await tick();
    expect((await gqlOk(t.url, STATS, { id: campaign.id }, w.token)).campaignStats).toMatchObject({ runs: 2, targeted: 4 });
    expect(await t.app.dataSource.getRepository(Delivery).countBy({ campaignId: campaign.id })).toBe(4);
    // Over time: each run, and each day in the campaign's zone (Jakarta), by when its messages go out.
    const overTime = (
      await gqlOk(
        t.url,
        `query ($id: ID!) { campaignStats(id: $id) {
           perRun { occurrence finishedAt targeted queued sent failed converted }
           perDay { day targeted queued sent } } }`,
        { id: campaign.id },
        w.token,
      )
    ).campaignStats;
    const waiting = { targeted: 2, queued: 2, sent: 0 };
    expect(overTime.perRun).toEqual([
      { occurrence: '2026-12-01T01:00:00.000Z', finishedAt: null, ...waiting, failed: 0, converted: 0 },
      { occurrence: '2027-01-01T01:00:00.000Z', finishedAt: null, ...waiting, failed: 0, converted: 0 },
    ]);
    expect(overTime.perDay).toEqual([
      { day: '2026-12-01', ...waiting },
      { day: '2027-01-01', ...waiting },
    ]);
    // Another business's admin reads none of it.
    const stranger = await world();
    expect(
      errorCode(
        await gql(t.url, `query ($id: ID!) { campaignStats(id: $id) { perRun { runId } } }`, { id: campaign.id }, stranger.token),
      ),
    ).toBe('NOT_FOUND');
    // A scheduled campaign cannot be deleted; once cancelled it can, and what it sent stays in the log.
    const DELETE = `mutation ($id: ID!) { deleteCampaign(id: $id) }`;
    const refused = await gql(t.url, DELETE, { id: campaign.id }, w.token);
    expect([errorCode(refused), refused.errors?.[0].message]).toEqual([
      'INVALID_TRANSITION',
      'A SCHEDULED campaign cannot be deleted; only drafts and cancelled campaigns can',
    ]);
    await gqlOk(t.url, move('cancelCampaign'), { id: campaign.id }, w.token);
    expect(errorCode(await gql(t.url, DELETE, { id: campaign.id }, stranger.token))).toBe('NOT_FOUND');
    expect((await gqlOk(t.url, DELETE, { id: campaign.id }, w.token)).deleteCampaign).toBe(campaign.id);
    expect(errorCode(await gql(t.url, `query ($id: ID!) { campaign(id: $id) { id } }`, { id: campaign.id }, w.token))).toBe(
      'NOT_FOUND',
    );
    const left = await t.app.dataSource.query(
      `SELECT (SELECT count(*)::int FROM campaign_run WHERE "campaignId" = $1) AS runs,
              (SELECT count(*)::int FROM campaign_recipient WHERE "campaignId" = $1) AS recipients,
              (SELECT count(*)::int FROM delivery WHERE "campaignId" = $1) AS deliveries`,
      [campaign.id],
    );
    expect(left).toEqual([{ runs: 0, recipients: 0, deliveries: 4 }]);
    t.clock.set(new Date());
  });

  it('ends a recurring campaign after its number of runs or at its end date, completing it after the last run', async () => {
    t.clock.set('2026-11-20T00:00:00Z');
    const w = await world();
    const recurring = (extra: Record<string, unknown>) => ({
      name: 'Monthly tips',
      type: 'RECURRING',
      category: 'OPERATIONAL',
      channels: ['WHATSAPP'],
      text: 'Tip of the month for {{contact.name}}',
      cron: '0 8 1 * *',
      timezone: 'Asia/Jakarta',
      audience: { contactIds: [w.people.ana.id] },
      ...extra,
    });
    // Refused, nothing created: a one-off with an end, a count out of bounds, an end in the past.
    const before = await t.app.dataSource.getRepository(Campaign).countBy({ tenantId: w.tenant.id });
    for (const [input, path] of [
      [{ ...recurring({}), type: 'ONE_OFF', cron: null, maxRuns: 2 }, ['input', 'maxRuns']],
      [recurring({ maxRuns: 0 }), ['input', 'maxRuns']],
      [recurring({ endsAt: '2026-11-19T00:00:00Z' }), ['input', 'endsAt']],
    ] as const) {
      const refused = await gql(t.url, CREATE, { input }, w.token);
      expect([errorCode(refused), problemPath(refused)]).toEqual(['BAD_USER_INPUT', path]);
    }
    expect(await t.app.dataSource.getRepository(Campaign).countBy({ tenantId: w.tenant.id })).toBe(before);

    const FIELDS = `query ($id: ID!) { campaign(id: $id) { status nextRunAt maxRuns endsAt } }`;
    const state = async (id: string) => (await gqlOk(t.url, FIELDS, { id }, w.token)).campaign;
    const byCount = (await gqlOk(t.url, CREATE, { input: recurring({ maxRuns: 2 }) }, w.token)).createCampaign;
    const byDate = (await gqlOk(t.url, CREATE, { input: recurring({ endsAt: '2026-12-15T00:00:00Z' }) }, w.token)).createCampaign;
    for (const { id } of [byCount, byDate]) await gqlOk(t.url, move('scheduleCampaign'), { id }, w.token);

    // 1 December 08:00 Jakarta: both run; the dated one has no occurrence left before its end.
    t.clock.set('2026-12-01T01:00:05Z');
    w.token = (await t.app.services.auth.login(w.admin.email, PASSWORD)).token;
    await tick();
    expect(await state(byCount.id)).toMatchObject({ status: 'SCHEDULED', nextRunAt: '2027-01-01T01:00:00.000Z', maxRuns: 2 });
    expect(await state(byDate.id)).toMatchObject({ status: 'RUNNING', nextRunAt: null, endsAt: '2026-12-15T00:00:00.000Z' });
    // 1 January: the counted one makes its second and last run.
    t.clock.set('2027-01-01T01:00:05Z');
    w.token = (await t.app.services.auth.login(w.admin.email, PASSWORD)).token;
    await tick();
    expect(await state(byCount.id)).toMatchObject({ status: 'RUNNING', nextRunAt: null });
    // Once their messages have left the queue (here: sent), both complete; no run starts again.
    await t.app.dataSource.query(`UPDATE delivery SET status = 'sent', "sentAt" = $2 WHERE "campaignId" = ANY($1)`, [
      [byCount.id, byDate.id],
      t.clock.now(),
    ]);
    await tick();
    for (const [id, runs] of [
      [byCount.id, 2],
      [byDate.id, 1],
    ] as const) {
      expect((await state(id)).status).toBe('COMPLETED');
      expect((await gqlOk(t.url, STATS, { id }, w.token)).campaignStats.runs).toBe(runs);
    }
    t.clock.set('2027-02-01T01:00:05Z');
    w.token = (await t.app.services.auth.login(w.admin.email, PASSWORD)).token;
    await tick();
    expect((await gqlOk(t.url, STATS, { id: byCount.id }, w.token)).campaignStats.runs).toBe(2);
    t.clock.set(new Date());
  });

  it('sends to WhatsApp groups along with contacts, once each, and refuses a malformed group id', async () => {
    const w = await world();
    const group = '120363025246125486@g.us';
    const input = {
      name: 'Outage notice',
      category: 'OPERATIONAL',
      channels: ['WHATSAPP'],
      text: 'Service is restored, {{contact.name | everyone}}.',
      audience: { whatsappGroups: [group], contactIds: [w.people.ana.id] },
    };
    const bad = await gql(t.url, CREATE, { input: { ...input, audience: { whatsappGroups: ['not-a-group'] } } }, w.token);
    expect([errorCode(bad), problemPath(bad)]).toEqual(['BAD_USER_INPUT', ['input', 'audience', 'whatsappGroups', 0]]);
    const { createCampaign: campaign } = await gqlOk(t.url, CREATE, { input }, w.token);
    await gqlOk(t.url, move('sendCampaignNow'), { id: campaign.id }, w.token);
    await tick();
    await tick();
    const sent = await t.app.dataSource.query(
      `SELECT recipient, "contactId", body FROM delivery WHERE "campaignId" = $1 ORDER BY recipient`,
      [campaign.id],
    );
    expect(sent).toEqual([
      { recipient: '+6281200000001', contactId: w.people.ana.id, body: 'Service is restored, Ana.' },
      { recipient: group, contactId: null, body: 'Service is restored, everyone.' },
    ]);
  });

  it('never writes a batch around a pause: the sender waits for it and then sends nothing of the campaign', async () => {
    const w = await world();
    const { createCampaign: campaign } = await gqlOk(
      t.url,
      CREATE,
      {
        input: {
          name: 'Racing',
          category: 'MARKETING',
          channels: ['WHATSAPP'],
          text: 'Hi',
          audience: { contactIds: [w.people.budi.id] },
        },
      },
      w.token,
    );
    await gqlOk(t.url, move('sendCampaignNow'), { id: campaign.id }, w.token);
    // A pause in flight: its transaction holds the campaign row.
    const pausing = new Client({ connectionString: t.databaseUrl });
    await pausing.connect();
    try {
      await pausing.query('BEGIN');
      await pausing.query(`SELECT id FROM campaign WHERE id = $1 FOR UPDATE`, [campaign.id]);
      let finished = false;
      const enqueuing = t.app.services.campaignSender.enqueueNext().then((wrote) => {
        finished = true;
        return wrote;
      });
      await settle(300);
      expect(finished).toBe(false);
      await pausing.query(`UPDATE campaign SET status = 'paused', "pausedFrom" = 'running' WHERE id = $1`, [campaign.id]);
      await pausing.query('COMMIT');
      expect(await enqueuing).toBe(false);
      expect(await t.app.dataSource.getRepository(Delivery).countBy({ campaignId: campaign.id })).toBe(0);
    } finally {
      await pausing.end();
    }
  });

  it('answers NOT_FOUND to a second tenant on every campaign operation by id, changing nothing', async () => {
    const w = await world();
    const attacker = await world();
    const { createCampaign: campaign } = await gqlOk(
      t.url,
      CREATE,
      {
        input: {
          name: 'Private',
          category: 'MARKETING',
          channels: ['WHATSAPP'],
          text: 'Hi',
          audience: { contactIds: [w.people.ana.id] },
        },
      },
      w.token,
    );
    const input = {
      name: 'Taken over',
      category: 'MARKETING',
      channels: ['WHATSAPP'],
      text: 'Pwned',
      audience: { contactIds: [] },
    };
    const attempts: Array<[string, Record<string, unknown>]> = [
      ['query ($id: ID!) { campaign(id: $id) { id } }', {}],
      ['query ($id: ID!) { campaignStats(id: $id) { targeted } }', {}],
      ['query ($id: ID!) { campaignRecipients(campaignId: $id) { totalCount } }', {}],
      ['mutation ($id: ID!, $input: CampaignInput!) { updateCampaign(id: $id, input: $input) { id } }', { input }],
      ['mutation ($id: ID!) { scheduleCampaign(id: $id, sendAt: "2030-01-01T00:00:00Z") { id } }', {}],
      ...['sendCampaignNow', 'pauseCampaign', 'resumeCampaign', 'cancelCampaign', 'duplicateCampaign'].map(
        (name): [string, Record<string, unknown>] => [move(name), {}],
      ),
      ['mutation ($id: ID!) { deleteCampaign(id: $id) }', {}],
      [
        'mutation ($id: ID!, $contact: ID!) { testCampaign(id: $id, contactId: $contact, to: "+6281299999999") { id } }',
        { contact: attacker.people.ana.id },
      ],
    ];
    for (const [query, variables] of attempts) {
      const answer = await gql(t.url, query, { id: campaign.id, ...variables }, attacker.token);
      expect([query, errorCode(answer)]).toEqual([query, 'NOT_FOUND']);
    }
    // Its own campaign cannot reach the first tenant's contact either.
    const { createCampaign: own } = await gqlOk(
      t.url,
      CREATE,
      { input: { ...input, name: 'Own', audience: { contactIds: [w.people.ana.id] } } },
      attacker.token,
    );
    await gqlOk(t.url, move('sendCampaignNow'), { id: own.id }, attacker.token);
    await tick();
    expect((await gqlOk(t.url, STATS, { id: own.id }, attacker.token)).campaignStats.targeted).toBe(0);
    const { campaign: untouched } = await gqlOk(
      t.url,
      'query ($id: ID!) { campaign(id: $id) { name status } }',
      { id: campaign.id },
      w.token,
    );
    expect(untouched).toEqual({ name: 'Private', status: 'DRAFT' });
    expect(await t.app.dataSource.getRepository(Delivery).countBy({ tenantId: attacker.tenant.id, body: 'Pwned' })).toBe(0);
  });

  it('gives e-mail a one-click unsubscribe link that cannot be made up', async () => {
    const w = await world();
    const mailer = await makeContact(t.app.dataSource, w.tenant, { name: 'Fajar', email: 'fajar@example.test', phone: null });
    const { createCampaign: campaign } = await gqlOk(
      t.url,
      CREATE,
      {
        input: {
          name: 'Newsletter',
          category: 'MARKETING',
          channels: ['EMAIL'],
          subject: 'News for {{contact.name}}',
          text: 'Dear {{contact.name}}, our news.',
          audience: { contactIds: [mailer.id] },
        },
      },
      w.token,
    );
    await gqlOk(t.url, move('sendCampaignNow'), { id: campaign.id }, w.token);
    await tick();
    const delivery = await t.app.dataSource.getRepository(Delivery).findOneByOrFail({ campaignId: campaign.id });
    expect(delivery.subject).toBe('News for Fajar');
    expect(delivery.body).toContain(delivery.unsubscribeUrl!);
    const forged = await fetch(`${t.url}/u/${'x'.repeat(22)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(forged.status).toBe(404);
    // The page is not shown for a made-up token either.
    expect((await fetch(`${t.url}/u/${'x'.repeat(22)}`)).status).toBe(404);
    const path = new URL(delivery.unsubscribeUrl!).pathname;
    // A GET (a link scanner) changes nothing; the one-click POST unsubscribes.
    expect((await fetch(`${t.url}${path}`)).status).toBe(200);
    expect((await t.app.dataSource.query(`SELECT consent FROM contact WHERE id = $1`, [mailer.id]))[0].consent).toEqual({});
    const oneClick = await fetch(`${t.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(oneClick.status).toBe(200);
    const [{ consent }] = await t.app.dataSource.query(`SELECT consent FROM contact WHERE id = $1`, [mailer.id]);
    expect(consent.email).toMatchObject({ granted: false, source: 'list_unsubscribe' });
  });

  it('sends a maintenance notice to everyone in the area, transactional opt-outs following the tenant', async () => {
    const w = await world();
    const { createCampaign: campaign } = await gqlOk(
      t.url,
      CREATE,
      {
        input: {
          name: 'Bandung maintenance',
          channels: ['WHATSAPP'],
          maintenance: {
            type: 'network maintenance',
            area: 'bandung',
            start: '2026-12-01T01:00:00Z',
            durationHours: 3,
            impact: 'no internet',
            reason: 'fibre upgrade',
          },
        },
      },
      w.token,
    );
    expect(campaign).toMatchObject({
      category: 'OPERATIONAL',
      audience: { filter: { path: 'contact.area', op: 'eq', value: 'bandung' } },
    });
    await gqlOk(t.url, move('sendCampaignNow'), { id: campaign.id }, w.token);
    await tick();
    // Operational: Citra (marketing opt-out) still gets it; Ana's twin and Dewi do not.
    expect((await gqlOk(t.url, STATS, { id: campaign.id }, w.token)).campaignStats).toMatchObject({
      targeted: 5,
      queued: 3,
      skippedDuplicate: 1,
      skippedNoAddress: 1,
    });
    const [body] = await t.app.dataSource.query(`SELECT body FROM delivery WHERE "campaignId" = $1 AND "contactId" = $2`, [
      campaign.id,
      w.people.citra.id,
    ]);
    expect(body.body).toBe(
      'Hello Citra, planned network maintenance in bandung from 2026-12-01 01:00 UTC for about 3 hours. Impact: no internet. Reason: fibre upgrade. We are sorry for the inconvenience.',
    );
    // A tenant whose opt-outs cover everything withholds it from Citra too.
    await t.app.dataSource.query(`UPDATE tenant SET "optOutCoversAll" = true WHERE id = $1`, [w.tenant.id]);
    const { duplicateCampaign: copy } = await gqlOk(
      t.url,
      `mutation ($id: ID!) { duplicateCampaign(id: $id) { id status } }`,
      { id: campaign.id },
      w.token,
    );
    await gqlOk(t.url, move('sendCampaignNow'), { id: copy.id }, w.token);
    await tick();
    expect((await gqlOk(t.url, STATS, { id: copy.id }, w.token)).campaignStats).toMatchObject({ queued: 2, skippedOptedOut: 1 });
    await settle();
  });
});
