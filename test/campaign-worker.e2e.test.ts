import type { ChildProcess } from 'node:child_process';
import { Role } from '../src/entities/user.entity';
import { ProviderFake, metaError } from './fakes/provider-fake';
import { PASSWORD, addMetaProvider, makeTenant, makeUser } from './helpers/factories';
import { type TestApp, gqlOk, startTestApp } from './helpers/test-app';
import { killAndWait, until } from './helpers/wait';
import { startWorker, terminateConnections } from './helpers/worker-process';

const CONTACTS = 300;

/**
 * A campaign sent by a separate ROLE=worker process, as deployed, while the world misbehaves:
 * the provider answers bursts of 429 with Retry-After, and every database connection of
 * the worker is killed twice mid-campaign. Every customer still gets the message exactly
 * once, and a 429 never counts as an attempt.
 */
describe('a campaign in a worker process under 429s and lost connections', () => {
  let t: TestApp;
  let fake: ProviderFake;
  let worker: ChildProcess | undefined;

  beforeAll(async () => {
    fake = await new ProviderFake().start();
    t = await startTestApp();
  });
  afterAll(async () => {
    await killAndWait(worker);
    await t.stop();
    await fake.stop();
  });

  it('reaches every customer exactly once, at the provider’s pace', async () => {
    const ds = t.app.dataSource;
    const tenant = await makeTenant(ds);
    const admin = await makeUser(ds, tenant, { role: Role.ADMIN });
    const token = (await t.app.services.auth.login(admin.email, PASSWORD)).token;
    await addMetaProvider(t.app.services, tenant, fake.url);
    await ds.query(
      `INSERT INTO contact ("tenantId", name, phone) SELECT $1, 'Customer ' || n, '+62813' || lpad(n::text, 8, '0')
         FROM generate_series(1, $2) AS n`,
      [tenant.id, CONTACTS],
    );
    // Meta throttles twice: ten 429s with Retry-After 1 s at the start, ten more later on.
    const throttled = metaError(130429, 'Rate limit hit', 429, { 'retry-after': '1' });
    fake.script('meta', ...Array.from({ length: 10 }, () => throttled));

    const running = await startWorker(t, {
      OUTBOUND_ALLOWED_ADDRESSES: '127.0.0.1',
      CAMPAIGN_POLL_MS: '200',
      CAMPAIGN_BATCH_SIZE: '40',
      DISPATCHER_SWEEP_MS: '1000',
      // A send lost with its connection is taken back when its lease runs out: short here.
      PROVIDER_TIMEOUT_MS: '2000',
      DELIVERY_LEASE_MS: '5000',
    });
    worker = running.child;

    const { createCampaign: campaign } = await gqlOk(
      t.url,
      `mutation ($input: CampaignInput!) { createCampaign(input: $input) { id } }`,
      {
        input: {
          name: 'Everyone',
          category: 'OPERATIONAL',
          channels: ['WHATSAPP'],
          text: 'Hello {{contact.name}}, the water is off on Tuesday 9-12.',
          audience: { filter: { path: 'contact.phone', op: 'exists' } },
        },
      },
      token,
    );
    await gqlOk(t.url, `mutation ($id: ID!) { sendCampaignNow(id: $id) { status } }`, { id: campaign.id }, token);

    // Mid-campaign: connections killed (what a failover does), then a second burst of 429s, then killed again.
    await until('a first part to go out', async () => fake.received('meta').length >= 60, 30_000);
    expect(await terminateConnections(t)).toBeGreaterThan(0);
    fake.script('meta', ...Array.from({ length: 10 }, () => throttled));
    await until('more to go out', async () => fake.received('meta').length >= 180, 60_000);
    expect(await terminateConnections(t)).toBeGreaterThan(0);

    const stats = await until(
      'the campaign to complete',
      async () => {
        const { campaignStats } = await gqlOk(
          t.url,
          `query ($id: ID!) { campaignStats(id: $id) { status targeted queued sent failed } }`,
          { id: campaign.id },
          token,
        );
        return campaignStats.status === 'COMPLETED' && campaignStats.sent === CONTACTS ? campaignStats : undefined;
      },
      60_000,
    );
    if (running.exited() !== null) console.log('WORKER OUTPUT', running.output().slice(-3000));
    expect(running.exited()).toBeNull();
    expect(stats).toMatchObject({ targeted: CONTACTS, sent: CONTACTS, failed: 0 });

    // Each customer got it once: every phone reached the provider, and the only repeats are the 20 refused with 429.
    const recipients = fake.received('meta').map((request) => request.to);
    expect(new Set(recipients).size).toBe(CONTACTS);
    expect(recipients.length).toBe(CONTACTS + 20);
    // 429s are not attempts (deliveries test): one attempt each, two at most for a send whose lease
    // was taken back after a kill (whether the provider saw it is unknown, so it is charged).
    const [{ sent, most }] = await ds.query(
      `SELECT count(*) FILTER (WHERE status = 'sent')::int AS sent, max(attempts)::int AS most FROM delivery WHERE "campaignId" = $1`,
      [campaign.id],
    );
    expect(sent).toBe(CONTACTS);
    expect(most).toBeLessThanOrEqual(2);
    expect(running.output()).toContain('lost its database connection; reconnecting');
  }, 120_000);
});
