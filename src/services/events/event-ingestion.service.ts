import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { Contact } from '../../entities/contact.entity';
import { User } from '../../entities/user.entity';
import type { Clock } from '../platform/clock';
import { DomainError, ErrorCode } from '../platform/errors';
import { isUuid } from '../platform/ids';
import { returningRows } from '../platform/sql';
import { DOMAIN_EVENT_CHANNEL } from '../platform/unit-of-work';

export const MAX_EVENTS_PER_BATCH = 1000;
const MAX_PAYLOAD_BYTES = 64 * 1024;
/** `namespace.name`, lower case: quote.sent, payment.received, training.assigned. */
const EVENT_TYPE = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;

/** How another system names who an event is about. */
export interface EventSubjectInput {
  /** contact (a customer) or user (staff). */
  type?: string | null;
  id?: string | null;
  email?: string | null;
  phone?: string | null;
}

/** A business event as another system sends it. */
export interface IncomingEvent {
  type: string;
  occurredAt?: string | Date | null;
  subject?: EventSubjectInput | null;
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
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  async ingest(tenantId: string, events: unknown[], source: string): Promise<IngestResult> {
    if (events.length > MAX_EVENTS_PER_BATCH) {
      throw new DomainError(
        ErrorCode.BadUserInput,
        `A batch holds at most ${MAX_EVENTS_PER_BATCH} events (got ${events.length})`,
        {
          field: 'events',
          limit: MAX_EVENTS_PER_BATCH,
        },
      );
    }
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
    const subjects = await this.resolveSubjects(tenantId, valid);
    // Every event gets a key, the sender's or one of ours, so the answer maps back to the batch exactly.
    const keys = valid.map((event) => event.idempotencyKey ?? `auto:${randomUUID()}`);
    const rows = returningRows<{ id: string; idempotencyKey: string }>(
      await this.dataSource.query(
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
          valid.map((_, n) => subjects[n].type),
          valid.map((_, n) => subjects[n].id),
          valid.map((event) => (event.subject ? JSON.stringify(event.subject) : null)),
          valid.map((event) => JSON.stringify(event.payload)),
          keys,
          valid.map((event) => event.occurredAt),
          source,
        ],
      ),
    );
    if (rows.length) await this.dataSource.query(`SELECT pg_notify($1, '')`, [DOMAIN_EVENT_CHANNEL]);
    const stored = new Map(rows.map((row) => [row.idempotencyKey, row.id]));
    const firstWithKey = new Map<string, number>();
    keys.forEach((key, index) => firstWithKey.has(key) || firstWithKey.set(key, index));
    const results = valid.map((_, index): IngestedEvent => {
      // A key repeated inside the batch: its first event is the one stored.
      const id = firstWithKey.get(keys[index]) === index ? (stored.get(keys[index]) ?? null) : null;
      return { index, id, duplicate: id === null, subjectFound: subjects[index].found };
    });
    const duplicates = results.filter((result) => result.duplicate).length;
    return { accepted: results.length - duplicates, duplicates, events: results };
  }

  /** Finds each named subject in the tenant, in two queries for the whole batch. */
  private async resolveSubjects(
    tenantId: string,
    events: CheckedEvent[],
  ): Promise<Array<{ type: string; id: string | null; found: boolean }>> {
    if (!events.some((event) => event.subject)) return events.map(() => ({ type: 'none', id: null, found: true }));
    const wanted = (kind: string, field: 'id' | 'email' | 'phone') => [
      ...new Set(
        events.flatMap((event) => (event.subject?.type === kind && event.subject[field] ? [String(event.subject[field])] : [])),
      ),
    ];
    const contacts = await this.dataSource
      .getRepository(Contact)
      .createQueryBuilder('c')
      .select(['c.id', 'c.email', 'c.phone'])
      .where('c."tenantId" = :tenantId', { tenantId })
      .andWhere('(c.id = ANY(:ids) OR lower(c.email) = ANY(:emails) OR c.phone = ANY(:phones))', {
        ids: wanted('contact', 'id').filter(isUuid),
        emails: wanted('contact', 'email').map((email) => email.toLowerCase()),
        phones: wanted('contact', 'phone'),
      })
      .getMany();
    const users = await this.dataSource
      .getRepository(User)
      .createQueryBuilder('u')
      .select(['u.id', 'u.email'])
      .where('u."tenantId" = :tenantId', { tenantId })
      .andWhere('(u.id = ANY(:ids) OR u.email = ANY(:emails))', {
        ids: wanted('user', 'id').filter(isUuid),
        emails: wanted('user', 'email').map((email) => email.toLowerCase()),
      })
      .getMany();
    return events.map((event) => {
      const subject = event.subject;
      if (!subject) return { type: 'none', id: null, found: true };
      const found =
        subject.type === 'contact'
          ? contacts.find(
              (contact) =>
                contact.id === subject.id ||
                (subject.email && contact.email?.toLowerCase() === subject.email.toLowerCase()) ||
                (subject.phone && contact.phone === subject.phone),
            )
          : users.find((user) => user.id === subject.id || (subject.email && user.email === subject.email.toLowerCase()));
      return { type: subject.type ?? 'unknown', id: found?.id ?? null, found: !!found };
    });
  }
}

interface CheckedEvent {
  type: string;
  occurredAt: Date;
  subject: EventSubjectInput | null;
  payload: Record<string, unknown>;
  idempotencyKey: string | null;
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
    if (typeof given !== 'object' || Array.isArray(given)) problem('.subject', 'must be an object');
    else {
      if (given.type !== 'contact' && given.type !== 'user') problem('.subject.type', 'must be contact or user');
      if (given.id === undefined && given.email === undefined && given.phone === undefined) {
        problem('.subject', 'must name the subject by id, email or phone');
      }
      if (given.id !== undefined && !isUuid(given.id)) problem('.subject.id', 'must be a UUID');
      for (const field of ['email', 'phone'] as const) {
        if (given[field] !== undefined && (typeof given[field] !== 'string' || String(given[field]).length > 320)) {
          problem(`.subject.${field}`, 'must be a string');
        }
      }
      subject = {
        type: given.type as string,
        id: (given.id as string | undefined) ?? null,
        email: (given.email as string | undefined) ?? null,
        phone: (given.phone as string | undefined) ?? null,
      };
    }
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
