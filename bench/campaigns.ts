/**
 * bench:campaigns — one message to BENCH_CONTACTS (100,000) customers.
 *
 * 1. estimateAudience on a filter over contacts and their records (tags, consent, an
 *    invoice overdue more than 7 days): p50/max of 5 runs (count and a sample of 10).
 * 2. Enqueue: a marketing campaign to every contact with a phone, sent now; the time
 *    from sendCampaignNow to every recipient enqueued (batches of CAMPAIGN_BATCH_SIZE).
 * 3. Dispatch, unthrottled, against a local Meta Cloud API stand-in (its own process):
 *    msg/s with one ROLE=worker process, then with two, each on a fresh campaign of
 *    BENCH_DISPATCH (20,000) messages.
 * 4. A shared limit: the provider limited to BENCH_RATE (80/s), two worker processes,
 *    BENCH_LIMITED (1,600) messages: the achieved rate and the deviation per second.
 * Prints figures; asserts nothing. DATABASE_URL: use that server; otherwise embedded.
 */
import 'reflect-metadata';
import type { ChildProcess } from 'node:child_process';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { servicesFor } from '../src/app';
import { loadConfig } from '../src/config';
import { openDataSource } from '../src/database';
import { ProviderKind } from '../src/entities/channel';
import { Role } from '../src/entities/user.entity';
import { silentLogger } from '../src/logger';
import type { StaffPrincipal } from '../src/services/directory/principal';
import { BENCH_ENV, cpuSeconds, prepareDatabase, runBench, startProcess } from './support';

const CONTACTS = Number(process.env.BENCH_CONTACTS ?? 100_000);
const DISPATCH = Number(process.env.BENCH_DISPATCH ?? 20_000);
const LIMITED = Number(process.env.BENCH_LIMITED ?? 1_600);
const RATE = Number(process.env.BENCH_RATE ?? 80);

/** BENCH_PROFILE_DIR: each worker process writes a V8 CPU profile there when it stops. */
const profile = process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : [];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  console.log(`bench:campaigns — ${os.cpus().length} CPUs, Node ${process.version}, ${CONTACTS} contacts`);
  const database = await prepareDatabase();
  const children: ChildProcess[] = [];
  try {
    const fake = await startProcess(['dist/bench/fake-provider-server.js'], {}, /listening (\d+)/);
    children.push(fake.child);
    const providerUrl = `http://127.0.0.1:${fake.match[1]}`;
    const env = {
      ...BENCH_ENV,
      DATABASE_URL: database.url,
      OUTBOUND_ALLOWED_ADDRESSES: '127.0.0.1',
      PROVIDER_MAX_IN_FLIGHT: '64',
      DISPATCHER_CONCURRENCY: '64',
      DISPATCHER_BATCH_SIZE: '500',
      CAMPAIGN_BATCH_SIZE: process.env.CAMPAIGN_BATCH_SIZE ?? '5000',
    };
    const config = loadConfig(env);
    const dataSource = await openDataSource(database.url, 8, silentLogger);
    const services = await servicesFor(config, dataSource);
    const { user } = await services.tenantSetup.createAdmin({ tenantSlug: 'bench-campaigns', email: 'bench@example.test' });
    const actor: StaffPrincipal = { kind: 'staff', tenantId: user.tenantId, userId: user.id, role: Role.ADMIN, name: user.name };
    const provider = await services.providers.create(actor, {
      kind: ProviderKind.META_WHATSAPP,
      name: 'Meta (fake)',
      baseUrl: `http://127.0.0.1:${fake.match[1]}`,
      rateLimitPerSecond: 1_000_000,
      settings: { phoneNumberId: '1055' },
      credentials: { accessToken: 'bench' },
    });

    // 100k contacts in 20 areas, a tenth VIP, 1% opted out of WhatsApp marketing; an invoice for every fifth, some overdue.
    await dataSource.query(
      `INSERT INTO contact ("tenantId", name, phone, area, tags, consent, attributes)
       SELECT $1, 'Customer ' || n, '+62812' || lpad(n::text, 8, '0'), 'area-' || (n % 20),
              CASE WHEN n % 10 = 0 THEN '{vip}'::text[] ELSE '{}' END,
              CASE WHEN n % 100 = 0 THEN '{"whatsapp": {"granted": false, "at": "2026-01-01T00:00:00Z", "source": "bench"}}'::jsonb ELSE '{}' END,
              jsonb_build_object('plan', CASE WHEN n % 3 = 0 THEN 'gold' ELSE 'basic' END)
         FROM generate_series(1, $2) AS n`,
      [actor.tenantId, CONTACTS],
    );
    await dataSource.query(
      `INSERT INTO business_record ("tenantId", kind, "externalId", status, "contactId", amount, "dueAt", "statusChangedAt")
       SELECT $1, 'invoice', 'INV-' || row_number() OVER (), CASE WHEN random() < 0.5 THEN 'paid' ELSE 'open' END, c.id, 100000,
              now() - random() * interval '30 days', now()
         FROM contact c WHERE c."tenantId" = $1 AND (c.phone LIKE '%0' OR c.phone LIKE '%5')`,
      [actor.tenantId],
    );
    await dataSource.query('ANALYZE');

    // 1. Estimate.
    const filter = {
      all: [
        { path: 'contact.consent.whatsapp', op: 'neq', value: false },
        {
          any: [
            { path: 'contact.tags', op: 'contains', value: 'vip' },
            {
              someRecord: {
                all: [
                  { path: 'record.kind', op: 'eq', value: 'invoice' },
                  { path: 'record.status', op: 'neq', value: 'paid' },
                  { path: 'record.dueAt', op: 'older_than', value: '7d' },
                ],
              },
            },
          ],
        },
      ],
    };
    const estimates: number[] = [];
    let estimated = 0;
    for (let n = 0; n < 5; n++) {
      const start = performance.now();
      estimated = (await services.audiences.estimate(actor, { filter }, 10)).count;
      estimates.push(performance.now() - start);
    }
    const everyoneStart = performance.now();
    const everyone = (await services.audiences.estimate(actor, { filter: { path: 'contact.phone', op: 'exists' } }, 10)).count;
    const everyoneMs = performance.now() - everyoneStart;

    // 2. Enqueue every contact. A marketing message to customers who have not written in
    // goes as an approved Meta template (outside their 24-hour window free text is refused).
    await services.messaging.saveTemplate(actor, {
      channel: 'whatsapp' as never,
      name: 'weekly_promo',
      body: 'Hi {{contact.name}}, our {{contact.attributes.plan}} plan is 20% off this week: https://shop.example.com/promo',
      metaTemplateName: 'weekly_promo',
      metaLanguage: 'id',
    });
    const campaign = async (name: string, audience: Record<string, unknown>) =>
      services.campaigns.create(actor, {
        name,
        category: 'marketing' as never,
        channels: ['whatsapp' as never],
        template: 'weekly_promo',
        audience,
      });
    const all = await campaign('Everyone', { filter: { path: 'contact.phone', op: 'exists' } });
    const enqueueStart = performance.now();
    await services.campaigns.sendNow(actor, all.id);
    await services.campaignSender.startDue();
    let batches = 0;
    while (await services.campaignSender.enqueueNext()) batches++;
    const enqueueSeconds = (performance.now() - enqueueStart) / 1000;
    const enqueued = await services.campaigns.stats(actor, all.id);
    // The bench measures dispatch on campaigns of its own size: this one is cancelled, its queue emptied.
    await services.campaigns.cancel(actor, all.id);

    // 3. Dispatch with one worker, then two.
    // workersFirst: the workers are up and idle before the campaign is queued, so start-up
    // (a second of CPU per process on a 2-CPU box) does not disturb what is measured.
    const runWorkers = async (count: number, name: string, audience: Record<string, unknown>, workersFirst = false) => {
      await fetch(`${providerUrl}/reset`, { method: 'POST' });
      const workers: ChildProcess[] = [];
      const startWorkers = async () => {
        for (let n = 0; n < count; n++) {
          const worker = await startProcess([...profile, 'dist/src/main.js'], { ...env, ROLE: 'worker' }, /worker running/);
          workers.push(worker.child);
          children.push(worker.child);
        }
      };
      if (workersFirst) await startWorkers();
      const created = await campaign(name, audience);
      await services.campaigns.sendNow(actor, created.id);
      await services.campaignSender.startDue();
      while (await services.campaignSender.enqueueNext());
      // Workers already up may have taken the run to enqueue themselves: wait until it is.
      while (
        (await dataSource.query(`SELECT 1 FROM campaign_run WHERE "campaignId" = $1 AND "enqueuedAt" IS NULL`, [created.id]))
          .length
      ) {
        await sleep(20);
      }
      const total = (await services.campaigns.stats(actor, created.id)).queued;
      const start = performance.now();
      if (!workersFirst) await startWorkers();
      let left = total;
      // CPU use as the run goes, to tell how busy the machine was while the provider received.
      const samples: Array<{ at: number; machine: number; workers: number }> = [];
      while (left > 0) {
        await sleep(100);
        const cpu = cpuSeconds(workers.map((worker) => worker.pid!));
        if (cpu) samples.push({ at: Date.now(), machine: cpu.machine, workers: cpu.processes });
        left = Number(
          (
            await dataSource.query(
              `SELECT count(*)::int AS n FROM delivery WHERE "campaignId" = $1 AND status IN ('queued', 'sending')`,
              [created.id],
            )
          )[0].n,
        );
      }
      const seconds = (performance.now() - start) / 1000;
      for (const worker of workers) worker.kill('SIGTERM');
      await Promise.all(workers.map((worker) => new Promise((resolve) => worker.once('exit', resolve))));
      // What the provider saw: steady state from its first arrival to its last, start-up excluded.
      const arrivals = ((await (await fetch(`${providerUrl}/arrivals`)).json()) as number[]).sort((a, b) => a - b);
      const steady = (arrivals.length - 1) / ((arrivals[arrivals.length - 1] - arrivals[0]) / 1000);
      // Over the steady part (from half a second after the first arrival): the machine's busy
      // share of all its CPUs, and the workers' CPU in CPUs.
      const window = samples.filter((sample) => sample.at >= arrivals[0] + 500 && sample.at <= arrivals[arrivals.length - 1]);
      const [from, to] = [window[0], window[window.length - 1]];
      const cpu =
        window.length >= 2
          ? ` — CPU: machine ${Math.round(((to.machine - from.machine) / ((to.at - from.at) / 1000) / os.cpus().length) * 100)}% busy of ${os.cpus().length}, workers ${((to.workers - from.workers) / ((to.at - from.at) / 1000)).toFixed(2)} CPUs`
          : '';
      return { id: created.id, total, seconds, arrivals, steady, cpu };
    };
    const ids = (await dataSource.query(`SELECT id FROM contact WHERE "tenantId" = $1 ORDER BY id`, [actor.tenantId])) as Array<{
      id: string;
    }>;
    // Audiences of DISPATCH contacts each: contacts by area (20 areas of CONTACTS/20).
    const areas = (first: number) => ({
      filter: {
        path: 'contact.area',
        op: 'in',
        value: Array.from({ length: Math.ceil(DISPATCH / (CONTACTS / 20)) }, (_, n) => `area-${first + n}`),
      },
    });
    const one = await runWorkers(1, 'One worker', areas(0));
    const two = await runWorkers(2, 'Two workers', areas(10));

    // 4. Two workers under a shared 80/s limit.
    await services.providers.update(actor, provider.id, { rateLimitPerSecond: RATE });
    const limitedAudience = { contactIds: ids.slice(0, LIMITED).map((row) => row.id) };
    const limited = await runWorkers(2, 'Limited', limitedAudience, true);
    // Deviation per second as the provider saw the arrivals: every full second from the first.
    const arrived = limited.arrivals;
    const first = arrived[0];
    const last = arrived[arrived.length - 1];
    const achieved = (arrived.length - 1) / ((last - first) / 1000);
    const perSecond = new Map<number, number>();
    for (const ms of arrived)
      perSecond.set(Math.floor((ms - first) / 1000), (perSecond.get(Math.floor((ms - first) / 1000)) ?? 0) + 1);
    const full = [...perSecond.entries()].filter(([second]) => second < Math.floor((last - first) / 1000)).map(([, n]) => n);
    const worst = Math.max(...full.map((n) => Math.abs(n - RATE) / RATE)) * 100;

    const sorted = [...estimates].sort((a, b) => a - b);
    console.table([
      {
        figure: `estimateAudience: tags, consent and "invoice overdue > 7 days" over ${CONTACTS} contacts (${estimated} match)`,
        value: `p50 ${sorted[2].toFixed(1)} ms, max ${sorted[4].toFixed(1)} ms (count + sample of 10)`,
      },
      { figure: `estimateAudience: everyone with a phone (${everyone})`, value: `${everyoneMs.toFixed(1)} ms` },
      {
        figure: `enqueue ${enqueued.targeted} recipients (${enqueued.queued} queued, ${enqueued.skipped} skipped)`,
        value: `${enqueueSeconds.toFixed(2)} s in ${batches} batches (${Math.round(enqueued.targeted / enqueueSeconds)} recipients/s)`,
      },
      {
        figure: `dispatch ${one.total}, one worker process, unthrottled`,
        value: `${Math.round(one.steady)} msg/s at the provider, first to last (${Math.round(one.total / one.seconds)} msg/s over ${one.seconds.toFixed(1)} s with start-up)${one.cpu}`,
      },
      {
        figure: `dispatch ${two.total}, two worker processes, unthrottled`,
        value: `${Math.round(two.steady)} msg/s at the provider, first to last (${Math.round(two.total / two.seconds)} msg/s over ${two.seconds.toFixed(1)} s with start-up)${two.cpu}`,
      },
      {
        figure: `two workers, shared limit ${RATE}/s, ${limited.total} messages, arrivals at the provider`,
        value: `${achieved.toFixed(2)} msg/s (${(((achieved - RATE) / RATE) * 100).toFixed(2)}%), worst full second ${worst.toFixed(1)}% off over ${full.length} s`,
      },
    ]);
    await dataSource.destroy();
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await database.cleanup();
  }
}

runBench(main);
