import type { DataSource, EntityManager } from 'typeorm';
import { BusinessRecord } from '../../entities/business-record.entity';
import { Tenant } from '../../entities/tenant.entity';
import type { Principal } from '../directory/principal';
import { type PersonRef, personRefProblems, resolvePeople } from '../directory/people-lookup';
import type { Clock } from '../platform/clock';
import { assertBatchLimit, notFound } from '../platform/errors';
import { isUuid } from '../platform/ids';
import { type Page, type PageRequest, newestFirstPage } from '../platform/pagination';
import type { DomainEventInput, Transactor, UnitOfWork } from '../platform/unit-of-work';
import { UpsertOutcome, countOutcomes } from '../platform/upsert';

export const MAX_RECORDS_PER_CALL = 10_000;

/** quote, invoice, booking, service_job, training, or the tenant's own word. */
const KIND = /^[a-z][a-z0-9_]{0,49}$/;
const STATUS = /^[a-z0-9][a-z0-9_.-]{0,49}$/;
const CURRENCY = /^[A-Z]{3}$/;
const AMOUNT = /^-?\d{1,16}(\.\d{1,4})?$/;
const DATE_FIELDS = ['dueAt', 'expiresAt', 'sentAt', 'scheduledAt', 'completedAt'] as const;
type DateField = (typeof DATE_FIELDS)[number];
const MAX_ATTRIBUTES_BYTES = 32 * 1024;

/**
 * A record as another system sends it. Omitted fields keep their value, null clears
 * them; status is needed when the record is new.
 */
export interface RecordInput {
  kind: string;
  externalId: string;
  status?: string | null;
  title?: string | null;
  subject?: PersonRef | null;
  owner?: Omit<PersonRef, 'type' | 'phone'> | null;
  dueAt?: Date | string | null;
  expiresAt?: Date | string | null;
  sentAt?: Date | string | null;
  scheduledAt?: Date | string | null;
  completedAt?: Date | string | null;
  amount?: string | number | null;
  currency?: string | null;
  attributes?: Record<string, unknown> | null;
}

export interface RecordProblem {
  field: string;
  problem: string;
}

export interface RecordRowResult {
  index: number;
  id: string | null;
  outcome: UpsertOutcome;
  /** The status before this change, when it changed (null for a new record). */
  previousStatus: string | null;
  statusChanged: boolean;
  /** False when the subject or owner named was not found (events keep the record without them). */
  referencesFound: boolean;
  problems: RecordProblem[];
}

export interface RecordUpsertReport {
  created: number;
  updated: number;
  unchanged: number;
  failed: number;
  records: RecordRowResult[];
}

export interface RecordFilter {
  kinds?: string[] | null;
  statuses?: string[] | null;
  externalId?: string | null;
  contactId?: string | null;
  userId?: string | null;
  ownerId?: string | null;
  dueBefore?: Date | null;
  dueAfter?: Date | null;
  /** Only records not completed (completedAt null). */
  open?: boolean | null;
}

/** How a batch treats a subject or owner it cannot find. */
export type MissingReference = 'refuse_row' | 'keep_without';

/**
 * Business records: the quotes, invoices, bookings, service jobs and trainings other
 * systems own, kept here so rules, reminders and escalations can hang on them.
 */
export class RecordService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly transactor: Transactor,
    private readonly clock: Clock,
  ) {}

  /** Upserts up to 10,000 records in one transaction: bad rows are reported and skipped, the rest written. */
  async upsert(tenantId: string, inputs: unknown[], actorId: string | null, within?: UnitOfWork): Promise<RecordUpsertReport> {
    assertBatchLimit(inputs.length, MAX_RECORDS_PER_CALL, 'records', 'records');
    return this.transactor.run(async (uow) => {
      const { results, events } = await this.upsertIn(uow.manager, tenantId, inputs, { missing: 'refuse_row', actorId });
      await uow.recordAll(events);
      return summarize(results);
    }, within);
  }

  /**
   * The upsert inside a caller's transaction (the event ingestion writes its events in
   * the same one): returns each row's result and the status events to record.
   */
  async upsertIn(
    manager: EntityManager,
    tenantId: string,
    inputs: unknown[],
    options: { missing: MissingReference; actorId: string | null; defaultSubjects?: Array<PersonRef | null> },
  ): Promise<{ results: RecordRowResult[]; events: DomainEventInput[] }> {
    const now = this.clock.now();
    const checked = inputs.map((input) => checkRecord(input));
    const valid = checked.map((check) => (check.problems.length ? null : check.record));
    const defaultCountry = (await manager.findOneByOrFail(Tenant, { id: tenantId })).defaultCountry;
    const subjects = valid.map((record, index) => record?.subject ?? options.defaultSubjects?.[index] ?? null);
    const subjectIds = await resolvePeople(manager, tenantId, subjects, defaultCountry);
    const owners = valid.map((record) => (record?.owner ? { ...record.owner, type: 'user' as const } : null));
    const ownerIds = await resolvePeople(manager, tenantId, owners, defaultCountry);
    // Lock what exists, in one order, so two batches touching the same records queue rather than deadlock.
    const named = valid.filter((record) => record !== null);
    const existing: BusinessRecord[] = named.length
      ? await manager
          .createQueryBuilder(BusinessRecord, 'r')
          .setLock('pessimistic_write')
          .where('r."tenantId" = :tenantId', { tenantId })
          .andWhere(
            '(r.kind, r."externalId") IN (SELECT k, e FROM unnest(CAST(:kinds AS varchar[]), CAST(:externalIds AS varchar[])) AS t(k, e))',
            { kinds: named.map((record) => record.kind), externalIds: named.map((record) => record.externalId) },
          )
          .orderBy('r.id')
          .getMany()
      : [];
    const byKey = new Map(existing.map((record) => [`${record.kind}/${record.externalId}`, record]));
    const firstRow = new Map<string, number>();
    const results: RecordRowResult[] = [];
    const written: Array<{ row: BusinessRecord; before: BusinessRecord | undefined; index: number }> = [];
    checked.forEach((check, index) => {
      const problems = [...check.problems];
      const record = check.record;
      const key = record ? `${record.kind}/${record.externalId}` : '';
      if (record && firstRow.has(key)) {
        problems.push({
          field: 'externalId',
          problem: `is the same ${record.kind} as row ${firstRow.get(key)}'s; each record once per call`,
        });
      }
      let referencesFound = true;
      if (record && subjects[index] && !subjectIds[index]) {
        referencesFound = false;
        if (options.missing === 'refuse_row')
          problems.push({ field: 'subject', problem: `no ${subjects[index]!.type} of this tenant matches it` });
      }
      if (record?.owner && !ownerIds[index]) {
        referencesFound = false;
        if (options.missing === 'refuse_row')
          problems.push({ field: 'owner', problem: 'no staff user of this tenant matches it' });
      }
      const before = byKey.get(key);
      if (record && !before && !record.status) problems.push({ field: 'status', problem: 'is needed for a new record' });
      if (!record || problems.length) {
        results.push({
          index,
          id: before?.id ?? null,
          outcome: UpsertOutcome.FAILED,
          previousStatus: null,
          statusChanged: false,
          referencesFound,
          problems,
        });
        return;
      }
      firstRow.set(key, index);
      const row = Object.assign(
        new BusinessRecord(),
        before ?? { tenantId, kind: record.kind, externalId: record.externalId, attributes: {} },
      );
      if (record.title !== undefined) row.title = record.title;
      if (record.status) row.status = record.status;
      if (subjects[index] && subjectIds[index]) {
        row.contactId = subjects[index]!.type === 'contact' ? subjectIds[index] : null;
        row.userId = subjects[index]!.type === 'user' ? subjectIds[index] : null;
      }
      row.contactId ??= null;
      row.userId ??= null;
      if (record.owner === null) row.ownerId = null;
      else if (ownerIds[index]) row.ownerId = ownerIds[index];
      row.ownerId ??= null;
      for (const field of DATE_FIELDS) {
        if (record[field] !== undefined) row[field] = record[field];
        row[field] ??= null;
      }
      if (record.amount !== undefined) row.amount = record.amount;
      if (record.currency !== undefined) row.currency = record.currency;
      row.amount ??= null;
      row.currency ??= null;
      row.title ??= null;
      if (record.attributes !== undefined) row.attributes = { ...row.attributes, ...record.attributes };
      const statusChanged = !before || before.status !== row.status;
      row.statusChangedAt = statusChanged ? now : before.statusChangedAt;
      const outcome: UpsertOutcome = !before
        ? UpsertOutcome.CREATED
        : sameRecord(before, row)
          ? UpsertOutcome.UNCHANGED
          : UpsertOutcome.UPDATED;
      if (outcome !== UpsertOutcome.UNCHANGED) written.push({ row, before, index });
      results.push({
        index,
        id: before?.id ?? null,
        outcome,
        previousStatus: before && statusChanged ? before.status : null,
        statusChanged: !!before && statusChanged,
        referencesFound,
        problems: [],
      });
    });
    const ids = await writeRecords(
      manager,
      tenantId,
      written.map(({ row }) => row),
      now,
    );
    // A record marked completed (by an upsert or an event) closes its escalations at once.
    const completed = written.flatMap(({ row }, n) => (row.completedAt ? [ids[n]] : []));
    if (completed.length) {
      await manager.query(
        `UPDATE escalation SET status = 'resolved', "resolvedAt" = $2
          WHERE "tenantId" = $1 AND "recordId" = ANY($3::uuid[]) AND status <> 'resolved'`,
        [tenantId, now, completed],
      );
    }
    const events: DomainEventInput[] = [];
    written.forEach(({ row, before, index }, n) => {
      row.id = ids[n];
      results[index].id = ids[n];
      const result = results[index];
      if (result.outcome !== UpsertOutcome.CREATED && !result.statusChanged) return;
      events.push(recordEvent(row, result.outcome === UpsertOutcome.CREATED ? null : before!.status, options.actorId));
    });
    return { results, events };
  }

  list(actor: Principal, filter: RecordFilter, page: PageRequest): Promise<Page<BusinessRecord>> {
    const query = this.dataSource
      .getRepository(BusinessRecord)
      .createQueryBuilder('r')
      .where('r."tenantId" = :tenantId', { tenantId: actor.tenantId });
    // A customer sees only their own records.
    if (actor.kind === 'customer') query.andWhere('r."contactId" = :self', { self: actor.contactId });
    if (filter.kinds?.length) query.andWhere('r.kind IN (:...kinds)', { kinds: filter.kinds });
    if (filter.statuses?.length) query.andWhere('r.status IN (:...statuses)', { statuses: filter.statuses });
    if (filter.externalId) query.andWhere('r."externalId" = :externalId', { externalId: filter.externalId });
    for (const field of ['contactId', 'userId', 'ownerId'] as const) {
      const id = filter[field];
      if (id === undefined || id === null) continue;
      // A malformed id matches nothing rather than reaching SQL.
      query.andWhere(`r."${field}" = :${field}`, { [field]: isUuid(id) ? id : '00000000-0000-0000-0000-000000000000' });
    }
    if (filter.dueBefore) query.andWhere('r."dueAt" < :dueBefore', { dueBefore: filter.dueBefore });
    if (filter.dueAfter) query.andWhere('r."dueAt" >= :dueAfter', { dueAfter: filter.dueAfter });
    if (filter.open != null) query.andWhere(filter.open ? 'r."completedAt" IS NULL' : 'r."completedAt" IS NOT NULL');
    return newestFirstPage(query, 'r', page);
  }

  async get(actor: Principal, id: string): Promise<BusinessRecord> {
    const record = isUuid(id)
      ? await this.dataSource.getRepository(BusinessRecord).findOneBy({ id, tenantId: actor.tenantId })
      : null;
    if (!record || (actor.kind === 'customer' && record.contactId !== actor.contactId)) throw notFound('Business record', id);
    return record;
  }
}

interface CheckedRecord {
  kind: string;
  externalId: string;
  status?: string;
  title?: string | null;
  subject?: PersonRef;
  owner?: Omit<PersonRef, 'type' | 'phone'> | null;
  dueAt?: Date | null;
  expiresAt?: Date | null;
  sentAt?: Date | null;
  scheduledAt?: Date | null;
  completedAt?: Date | null;
  amount?: string | null;
  currency?: string | null;
  attributes?: Record<string, unknown>;
}

/** Checks one record as sent (GraphQL input or JSON); the problems name their field. */
export function checkRecord(raw: unknown): { record: CheckedRecord | null; problems: RecordProblem[] } {
  const problems: RecordProblem[] = [];
  const problem = (field: string, text: string) => problems.push({ field, problem: text });
  if (!raw || typeof raw !== 'object' || Array.isArray(raw))
    return { record: null, problems: [{ field: '', problem: 'must be an object' }] };
  const input = raw as Record<string, unknown>;
  const record: CheckedRecord = { kind: '', externalId: '' };
  if (typeof input.kind !== 'string' || !KIND.test(input.kind))
    problem('kind', 'must be a lower-case word such as invoice or service_job');
  else record.kind = input.kind;
  if (typeof input.externalId !== 'string' || !input.externalId.trim() || input.externalId.length > 200) {
    problem('externalId', 'must be 1-200 characters');
  } else record.externalId = input.externalId.trim();
  if (input.status != null) {
    const status = typeof input.status === 'string' ? input.status.trim().toLowerCase() : '';
    if (!STATUS.test(status)) problem('status', 'must be a lower-case word of at most 50 characters, e.g. sent or paid');
    else record.status = status;
  }
  if (input.title !== undefined) {
    if (input.title !== null && (typeof input.title !== 'string' || input.title.length > 300))
      problem('title', 'must be at most 300 characters');
    else record.title = (input.title as string | null)?.trim() || null;
  }
  if (input.subject != null) {
    const refProblems = personRefProblems(input.subject, ['contact', 'user']);
    refProblems.forEach(([at, text]) => problem(`subject${at}`, text));
    if (!refProblems.length) record.subject = input.subject as PersonRef;
  }
  if (input.owner !== undefined) {
    if (input.owner === null) record.owner = null;
    else {
      const refProblems = personRefProblems({ type: 'user', ...(input.owner as object) }, ['user']).filter(
        ([at]) => at !== '.phone',
      );
      refProblems.forEach(([at, text]) => problem(`owner${at}`, text));
      if (!refProblems.length) record.owner = input.owner as CheckedRecord['owner'];
    }
  }
  for (const field of DATE_FIELDS) {
    const value = input[field];
    if (value === undefined) continue;
    if (value === null) {
      record[field as DateField] = null;
      continue;
    }
    const date = value instanceof Date ? value : typeof value === 'string' ? new Date(value) : new Date(NaN);
    if (Number.isNaN(date.getTime()) || date.getUTCFullYear() < 1900 || date.getUTCFullYear() > 9999) {
      problem(field, 'must be an ISO 8601 date and time, e.g. 2026-12-01T09:00:00+07:00');
    } else record[field as DateField] = date;
  }
  if (input.amount !== undefined) {
    const amount = input.amount === null ? null : typeof input.amount === 'number' ? String(input.amount) : input.amount;
    if (amount !== null && (typeof amount !== 'string' || !AMOUNT.test(amount.trim()))) {
      problem('amount', 'must be a decimal number with at most 4 decimals, e.g. "1250000.50"');
    } else record.amount = amount === null ? null : fourDecimals((amount as string).trim());
  }
  if (input.currency !== undefined) {
    const currency = typeof input.currency === 'string' ? input.currency.trim().toUpperCase() : input.currency;
    if (currency !== null && (typeof currency !== 'string' || !CURRENCY.test(currency)))
      problem('currency', 'must be an ISO 4217 code such as IDR');
    else record.currency = currency as string | null;
  }
  if (input.attributes != null) {
    if (typeof input.attributes !== 'object' || Array.isArray(input.attributes)) problem('attributes', 'must be a JSON object');
    else if (Buffer.byteLength(JSON.stringify(input.attributes)) > MAX_ATTRIBUTES_BYTES)
      problem('attributes', 'must be at most 32 KB');
    else record.attributes = input.attributes as Record<string, unknown>;
  }
  return { record: problems.length ? null : record, problems };
}

/** "1250000.5" -> "1250000.5000": the stored form, so an unchanged amount compares equal. */
function fourDecimals(amount: string): string {
  const [whole, fraction = ''] = amount.split('.');
  return `${whole}.${fraction.padEnd(4, '0')}`;
}

/**
 * The DomainEvent of a record that was created (previousStatus null: record.created) or
 * changed status (record.status_changed), whoever changed it: an upsert or a rule.
 */
export function recordEvent(record: BusinessRecord, previousStatus: string | null, actorId: string | null): DomainEventInput {
  return {
    tenantId: record.tenantId,
    type: previousStatus === null ? 'record.created' : 'record.status_changed',
    subjectType: 'business_record',
    subjectId: record.id,
    payload: { record: recordPayload(record), previousStatus, status: record.status },
    actorId,
  };
}

/** What events carry of a record, so consumers need not read it back. */
export function recordPayload(record: BusinessRecord): Record<string, unknown> {
  return {
    id: record.id,
    kind: record.kind,
    externalId: record.externalId,
    title: record.title,
    status: record.status,
    contactId: record.contactId,
    userId: record.userId,
    ownerId: record.ownerId,
    dueAt: record.dueAt?.toISOString() ?? null,
    expiresAt: record.expiresAt?.toISOString() ?? null,
    sentAt: record.sentAt?.toISOString() ?? null,
    scheduledAt: record.scheduledAt?.toISOString() ?? null,
    completedAt: record.completedAt?.toISOString() ?? null,
    amount: record.amount,
    currency: record.currency,
    attributes: record.attributes,
  };
}

const COLUMNS = [
  ['kind', 'varchar'],
  ['externalId', 'varchar'],
  ['title', 'varchar'],
  ['status', 'varchar'],
  ['contactId', 'uuid'],
  ['userId', 'uuid'],
  ['ownerId', 'uuid'],
  ['dueAt', 'timestamptz'],
  ['expiresAt', 'timestamptz'],
  ['sentAt', 'timestamptz'],
  ['scheduledAt', 'timestamptz'],
  ['completedAt', 'timestamptz'],
  ['amount', 'numeric'],
  ['currency', 'varchar'],
  ['attributes', 'jsonb'],
  ['statusChangedAt', 'timestamptz'],
] as const;

/** One INSERT ... ON CONFLICT for the whole batch; answers the ids in the batch's order. */
async function writeRecords(manager: EntityManager, tenantId: string, rows: BusinessRecord[], now: Date): Promise<string[]> {
  if (!rows.length) return [];
  const names = COLUMNS.map(([name]) => `"${name}"`).join(', ');
  const json = rows.map((row, n) => ({ n, ...Object.fromEntries(COLUMNS.map(([name]) => [name, row[name]])) }));
  const returned: Array<{ id: string; n: number }> = await manager.query(
    `WITH input AS (
       SELECT * FROM jsonb_to_recordset($2::jsonb) AS r(n integer, ${COLUMNS.map(([name, type]) => `"${name}" ${type}`).join(', ')})
     ), written AS (
       INSERT INTO business_record ("tenantId", ${names}, "createdAt", "updatedAt")
       SELECT $1, ${names}, $3, $3 FROM input ORDER BY n
       ON CONFLICT ("tenantId", kind, "externalId") DO UPDATE SET
         ${COLUMNS.filter(([name]) => name !== 'kind' && name !== 'externalId')
           .map(([name]) => `"${name}" = EXCLUDED."${name}"`)
           .join(', ')}, "updatedAt" = EXCLUDED."updatedAt"
       RETURNING id, kind, "externalId"
     )
     SELECT written.id, input.n FROM written JOIN input USING (kind, "externalId") ORDER BY input.n`,
    [tenantId, JSON.stringify(json), now],
  );
  return returned.map((row) => row.id);
}

function sameRecord(before: BusinessRecord, after: BusinessRecord): boolean {
  return JSON.stringify(recordPayload(before)) === JSON.stringify(recordPayload(after));
}

function summarize(results: RecordRowResult[]): RecordUpsertReport {
  return { ...countOutcomes(results), records: results };
}
