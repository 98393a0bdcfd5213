/**
 * bench:imports — the bulk paths other systems use, over GraphQL with API keys against
 * an API process, each call at the 10,000-row limit:
 *
 * 1. importContacts: BENCH_ROWS (10,000) new contacts with local phone numbers, then the
 *    same file again (nothing changes), then with every row changed.
 * 2. importUsers: a staff hierarchy of BENCH_STAFF (2,000) users (clusters, stores,
 *    staff), sent reports-first so every manager is resolved inside the batch.
 * 3. upsertBusinessRecords: BENCH_ROWS invoices for those contacts, then all of them
 *    paid (one record.status_changed event each).
 * Prints seconds per call and rows/s; asserts nothing. DATABASE_URL: that server; otherwise embedded.
 */
import 'reflect-metadata';
import type { ChildProcess } from 'node:child_process';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { servicesFor } from '../src/app';
import { loadConfig } from '../src/config';
import { openDataSource } from '../src/database';
import { ApiScope } from '../src/entities/api-key.entity';
import { Role } from '../src/entities/user.entity';
import { silentLogger } from '../src/logger';
import type { StaffPrincipal } from '../src/services/directory/principal';
import { BENCH_ENV, freePort, prepareDatabase, runBench, startProcess } from './support';

const ROWS = Number(process.env.BENCH_ROWS ?? 10_000);
const STAFF = Number(process.env.BENCH_STAFF ?? 2_000);

const ENV = BENCH_ENV;

async function main(): Promise<void> {
  console.log(`bench:imports — ${os.cpus().length} CPUs, Node ${process.version}`);
  const database = await prepareDatabase();
  const children: ChildProcess[] = [];
  try {
    const config = loadConfig({ ...ENV, DATABASE_URL: database.url });
    const dataSource = await openDataSource(database.url, 2, silentLogger);
    const services = await servicesFor(config, dataSource);
    const { user } = await services.tenantSetup.createAdmin({ tenantSlug: 'bench-imports', email: 'bench@example.test' });
    const actor: StaffPrincipal = { kind: 'staff', tenantId: user.tenantId, userId: user.id, role: Role.ADMIN, name: user.name };
    await services.directory.updateTenantSettings(actor, { defaultCountry: 'ID' });
    const { secret } = await services.apiKeys.create(actor, 'Bench systems', [
      ApiScope.CONTACTS_WRITE,
      ApiScope.USERS_WRITE,
      ApiScope.RECORDS_WRITE,
    ]);
    const port = await freePort();
    const api = await startProcess(
      ['dist/src/main.js'],
      { ...ENV, DATABASE_URL: database.url, ROLE: 'api', PORT: String(port) },
      /ready at/,
    );
    children.push(api.child);

    const figures: Array<{ call: string; seconds: string; 'rows/s': number; result: string }> = [];
    const call = async (name: string, query: string, variables: Record<string, unknown>, rows: number) => {
      const start = performance.now();
      const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
        method: 'POST',
        headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await response.json()) as { data?: Record<string, Record<string, number>>; errors?: unknown[] };
      const seconds = (performance.now() - start) / 1000;
      if (body.errors || !body.data) throw new Error(`${name} failed: ${JSON.stringify(body.errors)}`);
      const result = Object.values(body.data)[0];
      figures.push({
        call: name,
        seconds: seconds.toFixed(2),
        'rows/s': Math.round(rows / seconds),
        result: `created ${result.created}, updated ${result.updated}, unchanged ${result.unchanged}, failed ${result.failed}`,
      });
    };

    const importContacts = `mutation ($rows: [ContactImportInput!]!) { importContacts(rows: $rows) { created updated unchanged failed } }`;
    const contacts = (plan: string) =>
      Array.from({ length: ROWS }, (_, i) => ({
        externalId: `CRM-${i}`,
        name: `Customer ${i}`,
        phone: `0812${String(10_000_000 + i).slice(1)}`,
        email: `customer${i}@example.test`,
        area: `Area ${i % 50}`,
        birthday: `19${50 + (i % 50)}-0${1 + (i % 9)}-1${i % 9}`,
        attributes: { plan },
        consent: [{ channel: 'WHATSAPP', granted: true }],
      }));
    await call(`importContacts, ${ROWS} new`, importContacts, { rows: contacts('silver') }, ROWS);
    await call(`importContacts, the same ${ROWS} again`, importContacts, { rows: contacts('silver') }, ROWS);
    await call(`importContacts, ${ROWS} changed`, importContacts, { rows: contacts('gold') }, ROWS);

    const clusters = Math.max(1, Math.round(STAFF / 200));
    const stores = Math.max(1, Math.round(STAFF / 20));
    const staff = Array.from({ length: STAFF }, (_, i) => {
      const manager = i < clusters ? null : i < clusters + stores ? `E-${i % clusters}` : `E-${clusters + (i % stores)}`;
      return {
        externalId: `E-${i}`,
        name: `Employee ${i}`,
        email: `employee${i}@corp.test`,
        role: i < clusters + stores ? 'MANAGER' : 'TECHNICIAN',
        managerExternalId: manager,
        attributes: { store: `Store ${i % stores}` },
      };
    }).reverse();
    await call(
      `importUsers, ${STAFF} staff in ${clusters} clusters and ${stores} stores`,
      `mutation ($rows: [UserImportInput!]!) { importUsers(rows: $rows) { created updated unchanged failed } }`,
      { rows: staff },
      STAFF,
    );

    const upsert = `mutation ($records: [BusinessRecordInput!]!) { upsertBusinessRecords(records: $records) { created updated unchanged failed } }`;
    const invoices = (status: string) =>
      Array.from({ length: ROWS }, (_, i) => ({
        kind: 'invoice',
        externalId: `INV-${i}`,
        status,
        subject: { type: 'CONTACT', externalId: `CRM-${i}` },
        owner: { externalId: `E-${clusters + stores + (i % (STAFF - clusters - stores))}` },
        dueAt: new Date(Date.UTC(2026, 11, 1 + (i % 28))).toISOString(),
        amount: `${150_000 + i}.00`,
        currency: 'IDR',
        ...(status === 'paid' ? { completedAt: '2026-11-25T03:00:00Z' } : {}),
      }));
    await call(`upsertBusinessRecords, ${ROWS} new invoices`, upsert, { records: invoices('sent') }, ROWS);
    await call(`upsertBusinessRecords, ${ROWS} paid (status changes)`, upsert, { records: invoices('paid') }, ROWS);
    const [{ n }] = await dataSource.query(`SELECT count(*)::int AS n FROM domain_event WHERE type = 'record.status_changed'`);
    console.table(figures);
    console.log(`record.status_changed events recorded: ${n}`);
    await dataSource.destroy();
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await database.cleanup();
  }
}

runBench(main);
