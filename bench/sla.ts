/**
 * bench:sla — one SLA monitor run and one escalation run over a tenant with many
 * open tickets (1% breached), at BENCH_SIZES (10,000, 30,000 and 100,000 tickets).
 *
 * For each size: the time of the first run (marks 1% breached, warns 0.5%, escalates
 * the breached straight to level 2) and of a second, steady-state run (nothing new,
 * the every-15-minutes case), then the plan of every ticket or escalation query the
 * runs sent: the real statements, captured from TypeORM and EXPLAINed with their
 * parameters. Prints figures; asserts nothing. DATABASE_URL: use that server; otherwise embedded.
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import type { DataSource, Logger as OrmLogger } from 'typeorm';
import { servicesFor } from '../src/app';
import { loadConfig } from '../src/config';
import { openDataSource } from '../src/database';
import { Role } from '../src/entities/user.entity';
import { silentLogger } from '../src/logger';
import { ManualClock } from '../src/services/platform/clock';
import type { Services } from '../src/services';
import { prepareDatabase, runBench } from './support';

const SIZES = (process.env.BENCH_SIZES ?? '10000,30000,100000').split(',').map(Number);
const NOW = new Date('2026-06-01T10:00:00Z');

/** Keeps the statements TypeORM sends while `recording` is on. */
class Recorder implements OrmLogger {
  recording = false;
  statements: Array<{ query: string; parameters: unknown[] }> = [];
  logQuery(query: string, parameters?: unknown[]): void {
    if (this.recording) this.statements.push({ query, parameters: parameters ?? [] });
  }
  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
}

async function seed(dataSource: DataSource, services: Services, size: number): Promise<string> {
  const { user } = await services.tenantSetup.createAdmin({
    tenantSlug: `bench-${size}-${Date.now()}`,
    email: `admin${size}@example.test`,
  });
  const tenantId = user.tenantId;
  await dataSource.query(`UPDATE "user" SET phone = '+628100000000' WHERE id = $1`, [user.id]);
  const insertUser = async (name: string, role: Role, managerId: string | null): Promise<string> => {
    const [row] = await dataSource.query(
      `INSERT INTO "user" ("tenantId", name, email, "passwordHash", role, phone, "managerId")
       VALUES ($1, $2, $3, 'x', $4, '+628100000001', $5) RETURNING id`,
      [tenantId, name, `${name.toLowerCase().replace(/\W/g, '.')}.${size}@example.test`, role, managerId],
    );
    return row.id;
  };
  const director = await insertUser('Director', Role.MANAGER, null);
  for (const name of ['Supervisor 1', 'Supervisor 2']) await insertUser(name, Role.SUPERVISOR, null);
  const agents: string[] = [];
  for (let lead = 0; lead < 5; lead++) {
    const leadId = await insertUser(`Lead ${lead}`, Role.MANAGER, director);
    for (let agent = 0; agent < 10; agent++) agents.push(await insertUser(`Agent ${lead}-${agent}`, Role.AGENT, leadId));
  }
  const [contact] = await dataSource.query(
    `INSERT INTO contact ("tenantId", name, phone, attributes, tags) VALUES ($1, 'Customer', '+628199999999', '{}', '{}') RETURNING id`,
    [tenantId],
  );
  // 1% breached 130 min ago (past level 2), 0.5% due within the warning lead, the rest due in 1-30 days.
  await dataSource.query(
    `INSERT INTO ticket ("tenantId", number, subject, category, priority, status, "requesterId", "assigneeId",
                         "firstResponseDueAt", "resolutionDueAt", "firstRespondedAt", "createdAt", "updatedAt")
     SELECT $1, g, 'Bench ticket ' || g, 'technical', 'medium', 'in_progress', $2, ($3::uuid[])[1 + g % 50],
            $4::timestamptz - interval '20 hours', due, $4::timestamptz - interval '20 hours',
            $4::timestamptz - interval '1 day', $4::timestamptz - interval '1 day'
       FROM generate_series(1, $5) AS g,
            LATERAL (SELECT CASE WHEN g % 100 = 0 THEN $4::timestamptz - interval '130 minutes'
                                 WHEN g % 200 = 1 THEN $4::timestamptz + interval '60 minutes'
                                 ELSE $4::timestamptz + (1 + g % 30) * interval '1 day' END AS due) AS d`,
    [tenantId, contact.id, agents, NOW, size],
  );
  await dataSource.query(`UPDATE tenant SET "ticketSequence" = $2 WHERE id = $1`, [tenantId, size]);
  await dataSource.query('ANALYZE');
  return tenantId;
}

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const started = performance.now();
  const result = await work();
  return { ms: performance.now() - started, result };
}

/** The scans of a plan: "Index Scan using ticket_open_resolution_due_idx", "Seq Scan on ticket", … */
function scans(plan: Record<string, any>, found: string[] = []): string[] {
  const type: string = plan['Node Type'];
  if (/Scan/.test(type) && plan['Relation Name'] !== undefined) {
    found.push(plan['Index Name'] ? `${type} using ${plan['Index Name']}` : `${type} on ${plan['Relation Name']}`);
  } else if (type === 'Bitmap Index Scan') {
    found.push(`Bitmap Index Scan using ${plan['Index Name']}`);
  }
  for (const child of plan.Plans ?? []) scans(child, found);
  return found;
}

async function plans(dataSource: DataSource, statements: Recorder['statements']): Promise<Array<Record<string, string>>> {
  const seen = new Set<string>();
  const rows: Array<Record<string, string>> = [];
  for (const { query, parameters } of statements) {
    if (!/\b(FROM|UPDATE|INTO)\s+"?(ticket|escalation)"?\b/i.test(query) || seen.has(query)) continue;
    seen.add(query);
    const runner = dataSource.createQueryRunner();
    try {
      await runner.startTransaction();
      const [{ 'QUERY PLAN': plan }] = await runner.query(`EXPLAIN (FORMAT JSON) ${query}`, parameters);
      rows.push({ statement: query.replace(/\s+/g, ' ').slice(0, 70), scans: [...new Set(scans(plan[0].Plan))].join('; ') });
    } finally {
      await runner.rollbackTransaction();
      await runner.release();
    }
  }
  return rows;
}

async function main(): Promise<void> {
  console.log(`bench:sla — ${os.cpus().length} CPUs, Node ${process.version}, sizes ${SIZES.join(', ')}`);
  const database = await prepareDatabase();
  try {
    const config = loadConfig({
      DATABASE_URL: database.url,
      JWT_SECRET: 'bench-secret-bench-secret-bench-secret',
      CREDENTIALS_KEY: Buffer.alloc(32, 3).toString('base64'),
    });
    const dataSource = await openDataSource(database.url, 10, silentLogger);
    const recorder = new Recorder();
    (dataSource as unknown as { logger: OrmLogger }).logger = recorder;
    const clock = new ManualClock(NOW);
    const services = await servicesFor(config, dataSource, clock);
    const figures: Array<Record<string, string | number>> = [];
    let planRows: Array<Record<string, string>> = [];
    for (const size of SIZES) {
      clock.set(NOW);
      const seedStarted = performance.now();
      const tenantId = await seed(dataSource, services, size);
      const seedSeconds = (performance.now() - seedStarted) / 1000;
      recorder.statements = [];
      recorder.recording = true;
      const monitor = await timed(() => services.sla.monitor(tenantId, randomUUID()));
      const escalations = await timed(() => services.escalations.run(tenantId, randomUUID()));
      recorder.recording = false;
      clock.set(new Date(NOW.getTime() + 15 * 60_000));
      const monitorAgain = await timed(() => services.sla.monitor(tenantId, randomUUID()));
      const escalationsAgain = await timed(() => services.escalations.run(tenantId, randomUUID()));
      figures.push({
        tickets: size,
        'seed (s)': seedSeconds.toFixed(1),
        'monitor 1st (ms)': Math.round(monitor.ms),
        breached: monitor.result.resolutionBreached,
        warned: monitor.result.warnedTickets,
        'escalations 1st (ms)': Math.round(escalations.ms),
        escalated: escalations.result.escalatedTickets,
        messages: escalations.result.messages,
        'monitor again (ms)': Math.round(monitorAgain.ms),
        'escalations again (ms)': Math.round(escalationsAgain.ms),
      });
      if (size === SIZES[SIZES.length - 1]) planRows = await plans(dataSource, recorder.statements);
    }
    console.table(figures);
    const first = figures[0];
    const last = figures[figures.length - 1];
    const growth = (key: string) => (Number(last[key]) / Number(first[key])).toFixed(2);
    console.log(
      `growth ${first.tickets} → ${last.tickets} tickets (${Number(last.tickets) / Number(first.tickets)}x): ` +
        `monitor 1st ${growth('monitor 1st (ms)')}x, escalations 1st ${growth('escalations 1st (ms)')}x, ` +
        `monitor again ${growth('monitor again (ms)')}x, escalations again ${growth('escalations again (ms)')}x`,
    );
    console.log(`plans at ${last.tickets} tickets:`);
    console.table(planRows);
    await dataSource.destroy();
  } finally {
    await database.cleanup();
  }
}

runBench(main);
