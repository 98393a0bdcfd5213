/**
 * bench:overdue — overdue work of another kind up the hierarchy: BENCH_TRAININGS (100,000)
 * overdue staff trainings of 10,000 employees in 1,000 stores and 20 clusters, under a
 * three-level policy in days (store manager at 1, cluster manager at 3, HR at 5).
 *
 * Times one escalation run at 1, 3 and 5 days overdue (each raises every training one
 * level and sends one consolidated message per manager), then a steady-state run (nothing
 * new) and a run after 10% were completed by an HR upsert. Prints figures; asserts nothing.
 * DATABASE_URL: use that server; otherwise embedded.
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { servicesFor } from '../src/app';
import { loadConfig } from '../src/config';
import { openDataSource } from '../src/database';
import { Channel } from '../src/entities/channel';
import { EscalationTargetKind } from '../src/entities/escalation-policy.entity';
import { Role } from '../src/entities/user.entity';
import { silentLogger } from '../src/logger';
import type { StaffPrincipal } from '../src/services/directory/principal';
import { ManualClock } from '../src/services/platform/clock';
import { BENCH_ENV, prepareDatabase, runBench } from './support';

const TRAININGS = Number(process.env.BENCH_TRAININGS ?? 100_000);
const EMPLOYEES = Math.max(10, Math.round(TRAININGS / 10));
const STORES = Math.max(1, Math.round(EMPLOYEES / 10));
const CLUSTERS = Math.max(1, Math.round(STORES / 50));
const DUE = new Date('2026-06-01T02:00:00Z');
const DAY = 86_400_000;

async function main(): Promise<void> {
  console.log(
    `bench:overdue — ${os.cpus().length} CPUs, Node ${process.version}: ${TRAININGS} trainings, ${EMPLOYEES} employees, ${STORES} stores, ${CLUSTERS} clusters`,
  );
  const database = await prepareDatabase();
  const clock = new ManualClock(DUE);
  const dataSource = await openDataSource(database.url, 4, silentLogger);
  try {
    const services = await servicesFor(loadConfig({ ...BENCH_ENV, DATABASE_URL: database.url }), dataSource, clock);
    const { user } = await services.tenantSetup.createAdmin({ tenantSlug: 'bench-overdue', email: 'admin@bench.test' });
    const tenantId = user.tenantId;
    const actor: StaffPrincipal = { kind: 'staff', tenantId, userId: user.id, role: Role.ADMIN, name: user.name };
    const people = async (prefix: string, count: number, role: Role, manager: string | null, store: string | null) =>
      dataSource.query(
        `INSERT INTO "user" ("tenantId", "externalId", name, email, "passwordHash", role, phone, "managerId", attributes)
         SELECT $1, $2 || g, $2 || ' ' || g, lower($2) || g || '@bench.test', 'x', $3, '+62811' || lpad(g::text, 7, '0'),
                (SELECT id FROM "user" WHERE "tenantId" = $1 AND "externalId" = $4 || (1 + (g - 1) / $6)),
                CASE WHEN $5::text IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('store', $5 || (1 + (g - 1) / $6)) END
           FROM generate_series(1, $7) AS g`,
        [tenantId, prefix, role, manager, store, manager ? Math.ceil(count / (manager === 'C-' ? CLUSTERS : STORES)) : 1, count],
      );
    await people('HR-', 1, Role.MANAGER, null, null);
    await people('C-', CLUSTERS, Role.MANAGER, null, null);
    await people('S-', STORES, Role.MANAGER, 'C-', null);
    await people('E-', EMPLOYEES, Role.AGENT, 'S-', 'Store ');
    await dataSource.query(
      `INSERT INTO business_record ("tenantId", kind, "externalId", title, status, "userId", "dueAt", "statusChangedAt")
       SELECT $1, 'training', 'TR-' || g, 'Module ' || (1 + g % 10), 'assigned', u.id, $2, $2
         FROM generate_series(0, $3 - 1) AS g
         JOIN "user" u ON u."tenantId" = $1 AND u."externalId" = 'E-' || (1 + g / 10)`,
      [tenantId, DUE, TRAININGS],
    );
    const [hr] = await dataSource.query(`SELECT id FROM "user" WHERE "tenantId" = $1 AND "externalId" = 'HR-1'`, [tenantId]);
    await services.escalations.updatePolicy(actor, {
      name: 'Training compliance',
      recordKind: 'training',
      criticalAfterMinutes: 14 * 1440,
      levels: [
        { afterDays: 1, target: { kind: EscalationTargetKind.MANAGER_CHAIN, depth: 1 }, channels: [Channel.WHATSAPP] },
        { afterDays: 3, target: { kind: EscalationTargetKind.MANAGER_CHAIN, depth: 2 }, channels: [Channel.WHATSAPP] },
        { afterDays: 5, target: { kind: EscalationTargetKind.USER, userId: hr.id }, channels: [Channel.WHATSAPP] },
      ],
    });
    await dataSource.query('ANALYZE');

    const rows: Array<Record<string, string | number>> = [];
    const run = async (label: string, days: number) => {
      clock.set(new Date(DUE.getTime() + days * DAY));
      const started = performance.now();
      const summary = await services.escalations.run(tenantId, randomUUID());
      const ms = performance.now() - started;
      const [{ longest }] = await dataSource.query(
        `SELECT coalesce(max(length(body)), 0)::int AS longest FROM delivery WHERE "tenantId" = $1 AND "notificationType" = 'escalation'`,
        [tenantId],
      );
      rows.push({
        run: label,
        'time (s)': (ms / 1000).toFixed(2),
        raised: summary.escalatedRecords,
        escalations: summary.escalations,
        messages: summary.messages,
        closed: summary.closedEscalations,
        'longest message (chars)': longest,
      });
    };
    await run('day 1: level 1, store managers', 1);
    await run('day 3: level 2, cluster managers', 3);
    await run('day 5: level 3, HR', 5);
    await run('day 5, again: nothing new', 5.01);
    // The HR system marks 10% completed through the upsert API (10,000 per call), then a run.
    const completed = Array.from({ length: Math.round(TRAININGS / 10) }, (_, n) => ({
      kind: 'training',
      externalId: `TR-${n * 10}`,
      status: 'completed',
      completedAt: new Date(DUE.getTime() + 6 * DAY).toISOString(),
    }));
    clock.set(new Date(DUE.getTime() + 6 * DAY));
    const upsertStarted = performance.now();
    for (let n = 0; n < completed.length; n += 10_000) {
      await services.records.upsert(tenantId, completed.slice(n, n + 10_000), user.id);
    }
    const upsertMs = performance.now() - upsertStarted;
    await run('day 6, after 10% completed', 6);
    console.table(rows);
    console.log(
      `completing ${completed.length} trainings (upsert, their escalations closed in the same transaction): ${(upsertMs / 1000).toFixed(2)} s`,
    );
  } finally {
    await dataSource.destroy();
    await database.cleanup();
  }
}

runBench(main);
