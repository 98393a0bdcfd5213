import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { Tenant } from '../../entities/tenant.entity';
import { type PersonRef, personRefProblems, resolvePeople } from '../directory/people-lookup';
import type { Clock } from '../platform/clock';
import { DomainError, ErrorCode, assertBatchLimit } from '../platform/errors';
import { isUuid } from '../platform/ids';
import { returningRows } from '../platform/sql';
import { DOMAIN_EVENT_CHANNEL, type DomainEventInput, type Transactor, type UnitOfWork } from '../platform/unit-of-work';
import { type RecordRowResult, type RecordService, checkRecord } from '../records/record.service';

export const MAX_EVENTS_PER_BATCH = 1000;
const MAX_PAYLOAD_BYTES = 64 * 1024;
/** `namespace.name`, lower case: quote.sent, payment.received, training.assigned. */
const EVENT_TYPE = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;

/** How another system names who an event is about: a contact, a staff user, or a business record. */
export interface EventSubjectInput {
  /** contact (a customer), user (staff) or record (a business record). */
  type?: string | null;
  id?: string | null;
  externalId?: string | null;
  email?: string | null;
  phone?: string | null;
  /** For a record named by external id: its kind (invoice, quote...). */
  kind?: string | null;
}

/** A business event as another system sends it. */
export interface IncomingEvent {
  type: string;
  occurredAt?: string | Date | null;
  subject?: EventSubjectInput | null;
  /** `payload.record` (kind, externalId, status, dates...) upserts a business record with the event. */
  payload?: Record<string, unknown> | null;
  idempotencyKey?: string | null;
}

export interface IngestedEvent {
  /** Position in the batch. */
  index: number;
  /** The stored event's id; for a duplicate, null (the first one stands). */
  id: string | null;
  duplicate: boolean;
  /** False when the subject was named but not found: the event is stored without one. */
  subjectFound: boolean;
  /** The business record the event's `payload.record` created or updated. */
  recordId: string | null;
  /** False when the record names a subject or owner that was not found (kept without them). */
  recordReferencesFound: boolean;
}

export interface IngestResult {
  accepted: number;
  duplicates: number;
  events: IngestedEvent[];
}

/** Where in a batch a value is wrong, and why. */
export interface EventProblem {
  path: string;
  problem: string;
}

/**
 * Business events from other systems (billing, quoting, booking, HR) become DomainEvent
 * rows like internal changes, so the relay hands them to the same consumers. A batch is
 * checked whole before anything is written: one bad event refuses the batch, naming it.
 */
export class EventIngestionService {
  constructor(
    private readonly transactor: Transactor,
    private readonly records: RecordService,
    private readonly clock: Clock,
  ) {}

  /**
   * `requestKey`: the request's idempotency key. Events without a key of their own take it
   * (`<key>:<index>` in a batch of several), so the batch's events stay unique however the
   * request is retried, even after the request's own record is pruned.
   */
  async ingest(
    tenantId: string,
    events: unknown[],
    source: string,
    options: { requestKey?: string | null; within?: UnitOfWork } = {},
  ): Promise<IngestResult> {
    assertBatchLimit(events.length, MAX_EVENTS_PER_BATCH, 'events', 'events');
    const problems: EventProblem[] = [];
    const checked = events.map((event, index) => checkEvent(event, `events[${index}]`, problems, this.clock.now()));
    if (problems.length) {
      throw new DomainError(
        ErrorCode.BadUserInput,
        `Invalid events: ${problems
          .slice(0, 5)
          .map(({ path, problem }) => `${path} ${problem}`)
          .join('; ')}${problems.length > 5 ? ` (and ${problems.length - 5} more)` : ''}`,
        { problems: problems.slice(0, 100) },
      );
    }
    const valid = checked as CheckedEvent[];
    const { requestKey } = options;
    if (requestKey) {
      valid.forEach((event, index) => (event.idempotencyKey ??= valid.length === 1 ? requestKey : `${requestKey}:${index}`));
    }
    // Every event gets a key, the sender's or one of ours, so the answer maps back to the batch exactly.
    const keys = valid.map((event) => event.idempotencyKey ?? `auto:${randomUUID()}`);
    return this.transactor.run(async (uow) => {
      const { manager } = uow;
      const firstWithKey = new Map<string, number>();
      keys.forEach((key, index) => firstWithKey.has(key) || firstWithKey.set(key, index));
      const seen = new Set(
        returningRows<{ idempotencyKey: string }>(
          await manager.query(
            `SELECT "idempotencyKey" FROM domain_event WHERE "tenantId" = $1 AND "idempotencyKey" = ANY($2::varchar[])`,
            [tenantId, valid.flatMap((event) => (event.idempotencyKey ? [event.idempotencyKey] : []))],
          ),
        ).map((row) => row.idempotencyKey),
      );
      const fresh = valid.map((_, index) => firstWithKey.get(keys[index]) === index && !seen.has(keys[index]));
      const defaultCountry = (await manager.findOneByOrFail(Tenant, { id: tenantId })).defaultCountry;
      const people = await resolvePeople(
        manager,
        tenantId,
        valid.map((event) => (event.subject && event.subject.type !== 'record' ? (event.subject as PersonRef) : null)),
        defaultCountry,
      );
      const records = await this.applyRecords(uow, tenantId, valid, fresh);
      const namedRecords = await findRecords(
        manager,
        tenantId,
        valid.map((event) => (event.subject?.type === 'record' ? event.subject : null)),
      );
      const subjects = valid.map((event, index) => {
        if (!event.subject) {
          const recordId = records[index]?.id ?? null;
          return recordId ? { type: 'business_record', id: recordId, found: true } : { type: 'none', id: null, found: true };
        }
        const id = event.subject.type === 'record' ? namedRecords[index] : people[index];
        return { type: event.subject.type === 'record' ? 'business_record' : event.subject.type!, id, found: id !== null };
      });
      const payloads = valid.map((event, index) =>
        records[index]?.id
          ? { ...event.payload, record: { ...(event.payload.record as object), id: records[index]!.id } }
          : event.payload,
      );
      const stored = new Map(
        returningRows<{ id: string; idempotencyKey: string }>(
          await manager.query(
            `INSERT INTO domain_event ("tenantId", type, "subjectType", "subjectId", "subjectRef", payload, "idempotencyKey", "occurredAt", source)
             SELECT $1, v.type, v."subjectType", v."subjectId", v."subjectRef", v.payload, v."idempotencyKey", v."occurredAt", $9
               FROM unnest($2::varchar[], $3::varchar[], $4::uuid[], $5::jsonb[], $6::jsonb[], $7::varchar[], $8::timestamptz[])
                 WITH ORDINALITY AS v(type, "subjectType", "subjectId", "subjectRef", payload, "idempotencyKey", "occurredAt", n)
              ORDER BY v.n
             ON CONFLICT ("tenantId", "idempotencyKey") WHERE "idempotencyKey" IS NOT NULL DO NOTHING
             RETURNING id, "idempotencyKey"`,
            [
              tenantId,
              valid.map((event) => event.type),
              subjects.map((subject) => subject.type),
              subjects.map((subject) => subject.id),
              valid.map((event) => (event.subject ? JSON.stringify(event.subject) : null)),
              payloads.map((payload) => JSON.stringify(payload)),
              keys,
              valid.map((event) => event.occurredAt),
              source,
            ],
          ),
        ).map((row) => [row.idempotencyKey, row.id]),
      );
      if (stored.size) await manager.query(`SELECT pg_notify($1, '')`, [DOMAIN_EVENT_CHANNEL]);
      const results = valid.map((_, index): IngestedEvent => {
        // A key repeated inside the batch or seen before: the first event stands.
        const id = fresh[index] ? (stored.get(keys[index]) ?? null) : null;
        return {
          index,
          id,
          duplicate: id === null,
          subjectFound: subjects[index].found,
          recordId: records[index]?.id ?? null,
          recordReferencesFound: records[index]?.referencesFound ?? true,
        };
      });
      const duplicates = results.filter((result) => result.duplicate).length;
      return { accepted: results.length - duplicates, duplicates, events: results };
    }, options.within);
  }

  /**
   * Upserts the records the new events carry, after the events' own order: a batch may
   * move one record twice (quote.sent, then quote.accepted), so each record's n-th
   * appearance goes in the n-th pass. Their status events are recorded before the
   * business events, in the same transaction.
   */
  private async applyRecords(
    uow: UnitOfWork,
    tenantId: string,
    events: CheckedEvent[],
    fresh: boolean[],
  ): Promise<Array<RecordRowResult | null>> {
    const results: Array<RecordRowResult | null> = events.map(() => null);
    const passes: number[][] = [];
    const appearances = new Map<string, number>();
    events.forEach((event, index) => {
      const record = event.payload.record as { kind: string; externalId: string } | undefined;
      if (!record || !fresh[index]) return;
      const key = `${record.kind}/${String(record.externalId).trim()}`;
      const pass = appearances.get(key) ?? 0;
      appearances.set(key, pass + 1);
      (passes[pass] ??= []).push(index);
    });
    const statusEvents: DomainEventInput[] = [];
    for (const pass of passes) {
      const { results: passResults, events: changes } = await this.records.upsertIn(
        uow.manager,
        tenantId,
        pass.map((index) => events[index].payload.record),
        {
          missing: 'keep_without',
          actorId: null,
          defaultSubjects: pass.map((index) => {
            const subject = events[index].subject;
            return subject && subject.type !== 'record' ? (subject as PersonRef) : null;
          }),
        },
      );
      pass.forEach((index, n) => (results[index] = passResults[n]));
      statusEvents.push(...changes);
    }
    await uow.recordAll(statusEvents);
    return results;
  }
}

/** The record each subject of type record names (by id, or by kind and external id), or null. */
async function findRecords(
  manager: EntityManager,
  tenantId: string,
  refs: Array<EventSubjectInput | null>,
): Promise<Array<string | null>> {
  if (!refs.some(Boolean)) return refs.map(() => null);
  const rows = returningRows<{ id: string; kind: string; externalId: string }>(
    await manager.query(
      `SELECT id, kind, "externalId" FROM business_record
        WHERE "tenantId" = $1
          AND (id = ANY($2::uuid[]) OR (kind, "externalId") IN (SELECT * FROM unnest($3::varchar[], $4::varchar[])))`,
      [
        tenantId,
        refs.flatMap((ref) => (ref?.id ? [ref.id] : [])),
        refs.flatMap((ref) => (ref && !ref.id ? [ref.kind!] : [])),
        refs.flatMap((ref) => (ref && !ref.id ? [ref.externalId!] : [])),
      ],
    ),
  );
  const byKey = new Map(
    rows.flatMap((row) => [[`id:${row.id}`, row.id] as const, [`${row.kind}/${row.externalId}`, row.id] as const]),
  );
  return refs.map((ref) => (ref ? (byKey.get(ref.id ? `id:${ref.id}` : `${ref.kind}/${ref.externalId}`) ?? null) : null));
}

interface CheckedEvent {
  type: string;
  occurredAt: Date;
  subject: EventSubjectInput | null;
  payload: Record<string, unknown>;
  idempotencyKey: string | null;
}

/** The named fields that are set, as strings. */
function pick(from: Record<string, unknown>, fields: string[]): EventSubjectInput {
  return Object.fromEntries(fields.filter((field) => from[field] != null).map((field) => [field, String(from[field])]));
}

/** Checks one event, adding its problems with their paths; returns it in stored form. */
function checkEvent(raw: unknown, path: string, problems: EventProblem[], now: Date): CheckedEvent | undefined {
  const problem = (at: string, text: string) => problems.push({ path: `${path}${at}`, problem: text });
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    problem('', 'must be an object with type, subject, payload');
    return undefined;
  }
  const event = raw as Record<string, unknown>;
  const before = problems.length;
  if (typeof event.type !== 'string' || !EVENT_TYPE.test(event.type) || event.type.length > 100) {
    problem('.type', 'must be a lower-case namespace.name such as quote.sent (at most 100 characters)');
  }
  let occurredAt = now;
  if (event.occurredAt !== undefined && event.occurredAt !== null) {
    occurredAt = event.occurredAt instanceof Date ? event.occurredAt : new Date(String(event.occurredAt));
    if (Number.isNaN(occurredAt.getTime()) || occurredAt.getFullYear() < 1970 || occurredAt.getFullYear() > 9999) {
      problem('.occurredAt', 'must be an ISO 8601 date and time');
    }
  }
  const payload = event.payload ?? {};
  if (typeof payload !== 'object' || Array.isArray(payload)) problem('.payload', 'must be a JSON object');
  else if (Buffer.byteLength(JSON.stringify(payload)) > MAX_PAYLOAD_BYTES) problem('.payload', 'must be at most 64 KB');
  const key = event.idempotencyKey;
  if (key !== undefined && key !== null && (typeof key !== 'string' || !key.trim() || key.length > 200)) {
    problem('.idempotencyKey', 'must be a non-empty string of at most 200 characters');
  }
  let subject: EventSubjectInput | null = null;
  if (event.subject !== undefined && event.subject !== null) {
    const given = event.subject as Record<string, unknown>;
    if (given && typeof given === 'object' && !Array.isArray(given) && given.type === 'record') {
      if (given.id != null && !isUuid(given.id)) problem('.subject.id', 'must be a UUID');
      if (given.id == null && (typeof given.kind !== 'string' || typeof given.externalId !== 'string')) {
        problem('.subject', 'must name the record by id, or by kind and externalId');
      }
      subject = pick(given, ['type', 'id', 'kind', 'externalId']);
    } else {
      for (const [at, text] of personRefProblems(given, ['contact', 'user']))
        problem(`.subject${at}`, text.replace('must be contact or user', 'must be contact, user or record'));
      subject = given && typeof given === 'object' ? pick(given, ['type', 'id', 'externalId', 'email', 'phone']) : null;
    }
  }
  const record = (payload as Record<string, unknown> | null)?.record;
  if (record !== undefined && typeof payload === 'object' && payload !== null) {
    for (const { field, problem: text } of checkRecord(record).problems)
      problem(`.payload.record${field ? `.${field}` : ''}`, text);
  }
  if (problems.length > before) return undefined;
  return {
    type: event.type as string,
    occurredAt,
    subject,
    payload: payload as Record<string, unknown>,
    idempotencyKey: typeof key === 'string' ? key : null,
  };
}
