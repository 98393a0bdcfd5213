/**
 * bench:rules — the rules engine behind the outbox relay, as a worker runs it.
 *
 * A tenant with BENCH_RULES (200) active rules over 40 event types (5 per type, one of
 * which matches each event's conditions and queues a WhatsApp message) and 1,000 contacts.
 * 1. BENCH_EVENTS (50,000) business events ingested, then the relay started: events/s
 *    from backlog to every event handled by the rules consumer, and the consumer's time
 *    per event p50/p99 (find the rules, load the facts, evaluate, record the executions,
 *    queue the message), plus condition evaluation alone per event.
 * 2. With the relay running and idle, BENCH_SINGLES (300) single events at 20/s:
 *    event-to-Delivery latency p50/p99 (commit, NOTIFY, relay, rules, enqueue).
 * Prints figures; asserts nothing. DATABASE_URL: use that server; otherwise embedded.
 */
import 'reflect-metadata';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { servicesFor } from '../src/app';
import { loadConfig } from '../src/config';
import { openDataSource } from '../src/database';
import { EventRelay } from '../src/jobs/event-relay';
import type { DomainEvent } from '../src/entities/domain-event.entity';
import { Role } from '../src/entities/user.entity';
import { silentLogger } from '../src/logger';
import type { StaffPrincipal } from '../src/services/directory/principal';
import { type Condition, evaluate } from '../src/services/rules/conditions';
import { RuleCache } from '../src/services/rules/rule-cache';
import { BENCH_ENV, prepareDatabase, runBench } from './support';

const RULES = Number(process.env.BENCH_RULES ?? 200);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 50_000);
const SINGLES = Number(process.env.BENCH_SINGLES ?? 300);
const TYPES = 40;
const CONTACTS = 1000;

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const sortedCopy = (values: number[]) => [...values].sort((a, b) => a - b);

async function main(): Promise<void> {
  console.log(`bench:rules — ${os.cpus().length} CPUs, Node ${process.version}`);
  const database = await prepareDatabase();
  try {
    const config = loadConfig({ ...BENCH_ENV, DATABASE_URL: database.url });
    const dataSource = await openDataSource(database.url, 8, silentLogger);
    const services = await servicesFor(config, dataSource);
    const { user } = await services.tenantSetup.createAdmin({ tenantSlug: 'bench-rules', email: 'bench@example.test' });
    const actor: StaffPrincipal = { kind: 'staff', tenantId: user.tenantId, userId: user.id, role: Role.ADMIN, name: user.name };
    // Only the bench's rules: the built-in pack listens to other types anyway, but keep the count exact.
    await dataSource.query(`DELETE FROM automation_rule WHERE "tenantId" = $1`, [actor.tenantId]);
    await dataSource.query(
      `INSERT INTO contact ("tenantId", name, phone, tags)
       SELECT $1, 'Customer ' || n, '+62812' || lpad(n::text, 7, '0'), CASE WHEN n % 3 = 0 THEN '{vip}'::text[] ELSE '{}' END
         FROM generate_series(1, $2) AS n`,
      [actor.tenantId, CONTACTS],
    );
    const conditions: Condition[] = [];
    for (let n = 0; n < RULES; n++) {
      const condition = {
        all: [
          { path: 'event.payload.bucket', op: 'eq', value: n % 5 },
          { path: 'event.payload.amount', op: 'gte', value: 0 },
          {
            any: [
              { path: 'contact.tags', op: 'contains', value: 'vip' },
              { path: 'contact.phone', op: 'starts_with', value: '+62' },
            ],
          },
        ],
      };
      conditions.push(condition as Condition);
      await services.rules.create(actor, {
        name: `Bench rule ${n}`,
        triggerType: 'event' as never,
        eventTypes: [`bench.t${Math.floor(n / 5) % TYPES}`],
        conditions: condition,
        actions: [
          {
            type: 'send_message',
            channels: ['whatsapp'],
            text: 'Hi {{contact.name}}, your order {{event.payload.order}} is on its way.',
            recipients: [{ type: 'contact' }],
          },
        ],
      });
    }
    const contacts = (await dataSource.query(`SELECT phone FROM contact WHERE "tenantId" = $1`, [actor.tenantId])) as Array<{
      phone: string;
    }>;
    const event = (n: number) => ({
      type: `bench.t${n % TYPES}`,
      subject: { type: 'contact', phone: contacts[n % contacts.length].phone },
      payload: { bucket: Math.floor(n / TYPES) % 5, amount: 1000 + n, order: `O-${n}` },
    });

    // Condition evaluation alone, on the facts one event carries.
    const facts = { event: { payload: { bucket: 2, amount: 5000 } }, contact: { tags: ['vip'], phone: '+6281200000001' } };
    const evaluations: number[] = [];
    for (let n = 0; n < 20_000; n++) {
      const start = performance.now();
      for (let r = 0; r < 5; r++) evaluate(conditions[(n * 5 + r) % conditions.length], facts, new Date());
      evaluations.push(performance.now() - start);
    }

    // 1. A backlog through the relay.
    for (let start = 0; start < EVENTS; start += 1000) {
      await services.ingestion.ingest(
        actor.tenantId,
        Array.from({ length: Math.min(1000, EVENTS - start) }, (_, i) => event(start + i)),
        'api',
      );
    }
    const perEvent: number[] = [];
    const consumer = services.ruleRuns.consumer;
    const handle = consumer.handle.bind(consumer);
    consumer.handle = async (domainEvent, uow) => {
      const start = performance.now();
      await handle(domainEvent, uow);
      perEvent.push(performance.now() - start);
    };
    const handled = async () =>
      Number(
        (await dataSource.query(`SELECT count(*)::int AS n FROM event_handling WHERE consumer = 'rules' AND status = 'done'`))[0]
          .n,
      );
    const relayStart = performance.now();
    const relay = new EventRelay(services.events, database.url, 1000, silentLogger);
    await relay.start();
    while ((await handled()) < EVENTS) await new Promise((resolve) => setTimeout(resolve, 200));
    const relaySeconds = (performance.now() - relayStart) / 1000;
    const queued = Number((await dataSource.query(`SELECT count(*)::int AS n FROM delivery`))[0].n);

    // 2. Latency of single events with the relay idle and listening.
    const before = await handled();
    for (let n = 0; n < SINGLES; n++) {
      await services.ingestion.ingest(actor.tenantId, [event(EVENTS + n)], 'api');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    while ((await handled()) < before + SINGLES) await new Promise((resolve) => setTimeout(resolve, 100));
    const latencies = (
      (await dataSource.query(
        `SELECT extract(epoch FROM d."createdAt" - e."occurredAt") * 1000 AS ms
           FROM delivery d JOIN rule_execution x ON x.id = d."ruleExecutionId" JOIN domain_event e ON e.id = x."eventId"
          ORDER BY e.id DESC LIMIT $1`,
        [SINGLES],
      )) as Array<{ ms: string }>
    ).map((row) => Number(row.ms));
    await relay.stop();

    // 3. Matching alone (find the rules, load the facts, evaluate), on stored events.
    const sample = (await dataSource.query(`SELECT * FROM domain_event WHERE "tenantId" = $1 ORDER BY random() LIMIT 2000`, [
      actor.tenantId,
    ])) as DomainEvent[];
    const matching: number[] = [];
    const inMemory: number[] = [];
    let matchedRules = 0;
    // Matching proper: the cached rules for the type and their conditions on the facts, as the consumer runs it.
    const cache = new RuleCache();
    const [{ rulesVersion }] = await dataSource.query(`SELECT "rulesVersion" FROM tenant WHERE id = $1`, [actor.tenantId]);
    for (const stored of sample) {
      const start = performance.now();
      const found = await services.ruleRuns.match(dataSource.manager, stored);
      matching.push(performance.now() - start);
      matchedRules += found?.holds.filter(Boolean).length ?? 0;
      const facts = found!.facts as never;
      await cache.listening(dataSource.manager, actor.tenantId, rulesVersion, stored.type);
      const cached = performance.now();
      const rules = await cache.listening(dataSource.manager, actor.tenantId, rulesVersion, stored.type);
      for (const rule of rules) evaluate(rule.conditions as Condition | null, facts, new Date());
      inMemory.push(performance.now() - cached);
    }

    const handleTimes = sortedCopy(perEvent);
    const evaluationTimes = sortedCopy(evaluations);
    const latencyTimes = sortedCopy(latencies);
    const matchingTimes = sortedCopy(matching);
    const inMemoryTimes = sortedCopy(inMemory);
    console.table([
      {
        figure: `relay + rules, ${EVENTS} events backlog (${RULES} rules, 5 per event type)`,
        value: `${Math.round(EVENTS / relaySeconds)} events/s (${relaySeconds.toFixed(1)} s), ${queued} messages queued`,
      },
      {
        figure: 'rules consumer per event (find rules, load facts, evaluate 5, record, queue 1 message)',
        value: `p50 ${percentile(handleTimes, 50).toFixed(2)} ms, p99 ${percentile(handleTimes, 99).toFixed(2)} ms`,
      },
      {
        figure: 'rule matching: the cached rules listening to the type, their conditions evaluated on the facts',
        value: `p50 ${(percentile(inMemoryTimes, 50) * 1000).toFixed(1)} µs, p99 ${(percentile(inMemoryTimes, 99) * 1000).toFixed(1)} µs`,
      },
      {
        figure: `matching with fact loading, tenant + subject rows in 2 queries (${sample.length} stored events, ${(matchedRules / sample.length).toFixed(2)} matches each)`,
        value: `p50 ${percentile(matchingTimes, 50).toFixed(2)} ms, p99 ${percentile(matchingTimes, 99).toFixed(2)} ms`,
      },
      {
        figure: 'condition evaluation alone, 5 rules per event',
        value: `p50 ${(percentile(evaluationTimes, 50) * 1000).toFixed(1)} µs, p99 ${(percentile(evaluationTimes, 99) * 1000).toFixed(1)} µs`,
      },
      {
        figure: `event-to-Delivery latency, ${SINGLES} single events at 20/s`,
        value: `p50 ${percentile(latencyTimes, 50).toFixed(1)} ms, p99 ${percentile(latencyTimes, 99).toFixed(1)} ms`,
      },
    ]);
    await dataSource.destroy();
  } finally {
    await database.cleanup();
  }
}

runBench(main);
