import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { Contact } from '../../entities/contact.entity';
import { Tenant } from '../../entities/tenant.entity';
import { Availability, Role, User } from '../../entities/user.entity';
import type { Clock } from '../platform/clock';
import { assertBatchLimit } from '../platform/errors';
import type { Transactor, UnitOfWork } from '../platform/unit-of-work';
import { UpsertOutcome, countOutcomes } from '../platform/upsert';
import {
  type ContactFields,
  type FieldProblem,
  type UserFields,
  applyContactFields,
  applyUserFields,
  normalizeEmail,
  normalizePhone,
} from './person-fields';
import { NO_PASSWORD } from './password';

/** How a row found an existing person. */
export enum PersonMatch {
  EXTERNAL_ID = 'external_id',
  PHONE = 'phone',
  EMAIL = 'email',
}

export const MAX_IMPORT_ROWS = 10_000;

/** A contact as another system sends it; matched by external id, then phone, then e-mail. */
export type ContactImportRow = ContactFields;

/** A staff user as an HR system sends it; matched by external id, then e-mail. */
export interface UserImportRow extends UserFields {
  /** The manager by their external id or e-mail, in this batch or already here. */
  managerExternalId?: string | null;
  managerEmail?: string | null;
}

export interface ImportRowResult {
  index: number;
  id: string | null;
  outcome: UpsertOutcome;
  /** How the row found the person it updated: external_id, phone or email. */
  matchedBy: PersonMatch | null;
  problems: FieldProblem[];
}

export interface ImportReport {
  created: number;
  updated: number;
  unchanged: number;
  failed: number;
  rows: ImportRowResult[];
}

/**
 * Bulk upserts of people from other systems (a CRM's customers, an HR system's staff and
 * its hierarchy). Each row is checked on its own: a bad row is reported with its
 * problems and not written, the good rows are written in one statement, in one
 * transaction with their events. Imports of one tenant run one at a time.
 */
export class PeopleImportService {
  constructor(
    private readonly transactor: Transactor,
    private readonly clock: Clock,
  ) {}

  importContacts(tenantId: string, rows: ContactImportRow[], actorId: string | null, within?: UnitOfWork): Promise<ImportReport> {
    assertBatchSize(rows.length);
    return this.transactor.run(async (uow) => {
      const { manager } = uow;
      const defaultCountry = await lockTenantImports(manager, tenantId, 'contacts');
      const now = this.clock.now();
      const keys = rows.map((row) => ({
        externalId: row.externalId?.trim() || null,
        phone: row.phone ? asString(normalizePhone(row.phone, defaultCountry)) : null,
        email: row.email ? normalizeEmail(row.email) : null,
      }));
      const existing = await manager
        .createQueryBuilder(Contact, 'c')
        .setLock('pessimistic_write')
        .where('c."tenantId" = :tenantId', { tenantId })
        .andWhere('(c."externalId" = ANY(:externalIds) OR c.phone = ANY(:phones) OR c.email = ANY(:emails))', {
          externalIds: keys.flatMap((key) => (key.externalId ? [key.externalId] : [])),
          phones: keys.flatMap((key) => (key.phone ? [key.phone] : [])),
          emails: keys.flatMap((key) => (key.email ? [key.email] : [])),
        })
        .orderBy('c.id')
        .getMany();
      const byExternalId = new Map(existing.filter((c) => c.externalId).map((c) => [c.externalId!, c]));
      // Phone and e-mail match only contacts that have no other external id: a different id is a different person.
      const byPhone = new Map(existing.filter((c) => c.phone).map((c) => [c.phone!, c]));
      const byEmail = new Map(existing.filter((c) => c.email).map((c) => [c.email!, c]));
      const claimed = new Map<string, number>();
      const seen = { externalId: new Map<string, number>(), phone: new Map<string, number>(), email: new Map<string, number>() };
      const results: ImportRowResult[] = [];
      const written: Contact[] = [];
      const created: Contact[] = [];
      rows.forEach((row, index) => {
        const key = keys[index];
        const problems: FieldProblem[] = [];
        for (const field of ['externalId', 'phone', 'email'] as const) {
          const value = key[field];
          if (!value) continue;
          const first = seen[field].get(value);
          if (first !== undefined) problems.push({ field, problem: `is the same as row ${first}'s; each person once per batch` });
          else seen[field].set(value, index);
        }
        const usable = (contact: Contact | undefined) =>
          contact && (!key.externalId || !contact.externalId || contact.externalId === key.externalId) ? contact : undefined;
        let matchedBy: PersonMatch | null = null;
        let match = key.externalId ? byExternalId.get(key.externalId) : undefined;
        if (match) matchedBy = PersonMatch.EXTERNAL_ID;
        else if ((match = key.phone ? usable(byPhone.get(key.phone)) : undefined)) matchedBy = PersonMatch.PHONE;
        else if ((match = key.email ? usable(byEmail.get(key.email)) : undefined)) matchedBy = PersonMatch.EMAIL;
        if (match && claimed.has(match.id)) {
          problems.push({
            field: matchedBy === PersonMatch.EXTERNAL_ID ? 'externalId' : matchedBy!,
            problem: `matches the same contact as row ${claimed.get(match.id)}`,
          });
        }
        if (!match && !row.name?.trim()) problems.push({ field: 'name', problem: 'is needed for a new contact' });
        if (!key.externalId && !key.phone && !key.email && !row.phone && !row.email) {
          problems.push({ field: 'externalId', problem: 'give an external id, a phone number or an e-mail address' });
        }
        const contact = match ? Object.assign(new Contact(), match) : newContact(tenantId);
        const before = match ? snapshot(match) : null;
        problems.push(...applyContactFields(contact, row, { defaultCountry, now, source: 'import', mergeAttributes: true }));
        if (problems.length) {
          results.push({ index, id: match?.id ?? null, outcome: UpsertOutcome.FAILED, matchedBy, problems: dedupe(problems) });
          return;
        }
        if (match) claimed.set(match.id, index);
        const outcome: UpsertOutcome = !match
          ? UpsertOutcome.CREATED
          : before === snapshot(contact)
            ? UpsertOutcome.UNCHANGED
            : UpsertOutcome.UPDATED;
        if (outcome !== UpsertOutcome.UNCHANGED) written.push(contact);
        if (outcome === UpsertOutcome.CREATED) created.push(contact);
        results.push({ index, id: contact.id, outcome, matchedBy, problems: [] });
      });
      await upsertRows(manager, 'contact', CONTACT_COLUMNS, written, now);
      await recordCreated(uow, created, 'contact', actorId);
      return report(results);
    }, within);
  }

  importUsers(tenantId: string, rows: UserImportRow[], actorId: string | null, within?: UnitOfWork): Promise<ImportReport> {
    assertBatchSize(rows.length);
    return this.transactor.run(async (uow) => {
      const { manager } = uow;
      const defaultCountry = await lockTenantImports(manager, tenantId, 'users');
      const now = this.clock.now();
      // The whole staff of the tenant: hierarchies are checked for loops against everyone.
      const staff = await manager.find(User, { where: { tenantId }, lock: { mode: 'pessimistic_write' }, order: { id: 'ASC' } });
      const byExternalId = new Map(staff.filter((u) => u.externalId).map((u) => [u.externalId!, u]));
      const byEmail = new Map(staff.map((u) => [u.email, u]));
      const results: ImportRowResult[] = [];
      const candidates: Array<{ index: number; user: User; before: string | null; row: UserImportRow }> = [];
      const seen = { externalId: new Map<string, number>(), email: new Map<string, number>() };
      const claimed = new Map<string, number>();
      rows.forEach((row, index) => {
        const problems: FieldProblem[] = [];
        const externalId = row.externalId?.trim() || null;
        const email = row.email ? normalizeEmail(row.email) : null;
        for (const [field, value] of [
          ['externalId', externalId],
          ['email', email],
        ] as const) {
          if (!value) continue;
          const first = seen[field].get(value);
          if (first !== undefined) problems.push({ field, problem: `is the same as row ${first}'s; each person once per batch` });
          else seen[field].set(value, index);
        }
        let match = externalId ? byExternalId.get(externalId) : undefined;
        let matchedBy: PersonMatch | null = match ? PersonMatch.EXTERNAL_ID : null;
        const sameEmail = !match && email ? byEmail.get(email) : undefined;
        if (sameEmail && externalId && sameEmail.externalId) {
          problems.push({ field: 'email', problem: `belongs to a user with another external id (${sameEmail.externalId})` });
        } else if (sameEmail) {
          match = sameEmail;
          matchedBy = PersonMatch.EMAIL;
        }
        if (match && claimed.has(match.id))
          problems.push({ field: 'externalId', problem: `matches the same user as row ${claimed.get(match.id)}` });
        if (!match && !row.name?.trim()) problems.push({ field: 'name', problem: 'is needed for a new user' });
        if (!match && !email) problems.push({ field: 'email', problem: 'is needed for a new user' });
        if (match && email && email !== match.email && byEmail.has(email)) {
          problems.push({ field: 'email', problem: 'belongs to another user' });
        }
        const user = match ? Object.assign(new User(), match) : newUser(tenantId);
        problems.push(...applyUserFields(user, row, { defaultCountry, now, source: 'import', mergeAttributes: true }));
        if (problems.length) {
          results[index] = { index, id: match?.id ?? null, outcome: UpsertOutcome.FAILED, matchedBy, problems: dedupe(problems) };
          return;
        }
        if (match) claimed.set(match.id, index);
        candidates.push({ index, user, before: match ? snapshot(match) : null, row });
        results[index] = {
          index,
          id: user.id,
          outcome: match ? UpsertOutcome.UPDATED : UpsertOutcome.CREATED,
          matchedBy,
          problems: [],
        };
      });
      const written = settleManagers(candidates, staff, results);
      const changed = written.filter((candidate) => {
        const same = candidate.before !== null && candidate.before === snapshot(candidate.user);
        if (same) results[candidate.index].outcome = UpsertOutcome.UNCHANGED;
        return !same;
      });
      await upsertRows(
        manager,
        'user',
        USER_COLUMNS,
        changed.map((candidate) => candidate.user),
        now,
      );
      await recordCreated(
        uow,
        changed.filter((candidate) => candidate.before === null).map((candidate) => candidate.user),
        'user',
        actorId,
      );
      return report(results);
    }, within);
  }
}

type Candidate = { index: number; user: User; before: string | null; row: UserImportRow };

/**
 * Resolves each row's manager (by external id or e-mail, in the batch or already here),
 * then refuses rows whose manager cannot be found or whose chain loops, until what is
 * left is consistent: a row that leans on a refused new row is refused too.
 */
function settleManagers(candidates: Candidate[], staff: User[], results: ImportRowResult[]): Candidate[] {
  let live = candidates;
  for (;;) {
    const inBatch = new Map<string, Candidate>();
    for (const candidate of live) {
      if (candidate.user.externalId) inBatch.set(`x:${candidate.user.externalId}`, candidate);
      inBatch.set(`e:${candidate.user.email}`, candidate);
    }
    const here = new Map<string, User>();
    for (const user of staff) {
      if (user.externalId) here.set(`x:${user.externalId}`, user);
      here.set(`e:${user.email}`, user);
    }
    const failed = new Map<number, FieldProblem>();
    for (const candidate of live) {
      const { managerExternalId, managerEmail } = candidate.row;
      if (!managerExternalId && !managerEmail) continue;
      const key = managerExternalId ? `x:${managerExternalId.trim()}` : `e:${normalizeEmail(managerEmail!) ?? managerEmail}`;
      const manager = inBatch.get(key)?.user ?? here.get(key);
      if (!manager) {
        const rejected = candidates.find((other) => !live.includes(other) && matchesKey(other.user, key));
        const field = managerExternalId ? 'managerExternalId' : 'managerEmail';
        failed.set(candidate.index, {
          field,
          problem: rejected
            ? `names row ${rejected.index}, which was not imported`
            : 'names nobody in this batch or already here',
        });
      } else if (manager.id === candidate.user.id) {
        failed.set(candidate.index, {
          field: managerExternalId ? 'managerExternalId' : 'managerEmail',
          problem: 'a user cannot be their own manager',
        });
      } else candidate.user.managerId = manager.id;
    }
    // Loops: follow each chain through the batch's new state over what is here now.
    const managerOf = new Map(staff.map((user) => [user.id, user.managerId]));
    for (const candidate of live) if (!failed.has(candidate.index)) managerOf.set(candidate.user.id, candidate.user.managerId);
    const indexOf = new Map(live.map((candidate) => [candidate.user.id, candidate.index]));
    for (const candidate of live) {
      if (failed.has(candidate.index)) continue;
      const path: string[] = [];
      let at: string | null | undefined = candidate.user.id;
      while (at && !path.includes(at) && path.length <= managerOf.size) {
        path.push(at);
        at = managerOf.get(at);
      }
      if (at === candidate.user.id) {
        const rowsInLoop = path.map((id) => indexOf.get(id)).filter((index) => index !== undefined);
        failed.set(candidate.index, {
          field: candidate.row.managerExternalId ? 'managerExternalId' : 'managerEmail',
          problem: `makes a reporting loop${rowsInLoop.length > 1 ? ` with rows ${rowsInLoop.filter((i) => i !== candidate.index).join(', ')}` : ''}`,
        });
      }
    }
    if (!failed.size) return live;
    for (const [index, problem] of failed) {
      results[index] = {
        ...results[index],
        id: results[index].matchedBy ? results[index].id : null,
        outcome: UpsertOutcome.FAILED,
        problems: [problem],
      };
    }
    live = live.filter((candidate) => !failed.has(candidate.index));
  }
}

function matchesKey(user: User, key: string): boolean {
  return key === `x:${user.externalId}` || key === `e:${user.email}`;
}

function assertBatchSize(count: number): void {
  assertBatchLimit(count, MAX_IMPORT_ROWS, 'rows', 'rows');
}

/** Imports of one tenant and kind run one at a time; answers the tenant's phone country. */
async function lockTenantImports(manager: EntityManager, tenantId: string, kind: string): Promise<string | null> {
  await manager.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`import:${kind}:${tenantId}`]);
  const tenant = await manager.findOneByOrFail(Tenant, { id: tenantId });
  return tenant.defaultCountry;
}

function newContact(tenantId: string): Contact {
  return Object.assign(new Contact(), {
    id: randomUUID(),
    tenantId,
    name: '',
    phone: null,
    email: null,
    externalId: null,
    birthday: null,
    anniversary: null,
    timezone: null,
    locale: null,
    area: null,
    attributes: {},
    tags: [],
    optedOutChannels: [],
    consent: {},
  });
}

function newUser(tenantId: string): User {
  return Object.assign(new User(), {
    id: randomUUID(),
    tenantId,
    name: '',
    email: '',
    externalId: null,
    // Imported staff sign in once an admin gives them a password (resetUserPassword).
    passwordHash: NO_PASSWORD,
    role: Role.AGENT,
    phone: null,
    managerId: null,
    timezone: null,
    attributes: {},
    availability: Availability.AVAILABLE,
    maxOpenTickets: 10,
    active: true,
  });
}

const CONTACT_COLUMNS = [
  ['id', 'uuid'],
  ['tenantId', 'uuid'],
  ['externalId', 'varchar'],
  ['name', 'varchar'],
  ['phone', 'varchar'],
  ['email', 'varchar'],
  ['birthday', 'date'],
  ['anniversary', 'date'],
  ['timezone', 'varchar'],
  ['locale', 'varchar'],
  ['area', 'varchar'],
  ['attributes', 'jsonb'],
  ['tags', 'text[]'],
  ['consent', 'jsonb'],
] as const;

const USER_COLUMNS = [
  ['id', 'uuid'],
  ['tenantId', 'uuid'],
  ['externalId', 'varchar'],
  ['name', 'varchar'],
  ['email', 'varchar'],
  ['passwordHash', 'varchar'],
  ['role', '"role"'],
  ['phone', 'varchar'],
  ['managerId', 'uuid'],
  ['timezone', 'varchar'],
  ['attributes', 'jsonb'],
  ['maxOpenTickets', 'integer'],
  ['active', 'boolean'],
] as const;

/**
 * Writes the rows in one INSERT ... ON CONFLICT (id) DO UPDATE: the rows arrive as one
 * JSON array, so ten thousand rows are one round trip whatever their columns.
 */
async function upsertRows(
  manager: EntityManager,
  table: 'contact' | 'user',
  columns: ReadonlyArray<readonly [string, string]>,
  rows: Array<Contact | User>,
  now: Date,
): Promise<void> {
  if (!rows.length) return;
  const names = columns.map(([name]) => `"${name}"`).join(', ');
  const recordType = columns.map(([name, type]) => `"${name}" ${type}`).join(', ');
  const updates = columns
    .filter(([name]) => name !== 'id' && name !== 'tenantId' && name !== 'passwordHash')
    .map(([name]) => `"${name}" = EXCLUDED."${name}"`)
    .join(', ');
  const json = rows.map((row) =>
    Object.fromEntries(columns.map(([name]) => [name, (row as unknown as Record<string, unknown>)[name]])),
  );
  await manager.query(
    `INSERT INTO "${table}" (${names}, "createdAt", "updatedAt")
     SELECT ${names}, $2, $2 FROM jsonb_to_recordset($1::jsonb) AS r(${recordType})
     ON CONFLICT (id) DO UPDATE SET ${updates}, "updatedAt" = EXCLUDED."updatedAt"`,
    [JSON.stringify(json), now],
  );
}

async function recordCreated(uow: UnitOfWork, people: Array<Contact | User>, kind: 'contact' | 'user', actorId: string | null) {
  await uow.recordAll(
    people.map((person) => ({
      tenantId: person.tenantId,
      type: `${kind}.created`,
      subjectType: kind,
      subjectId: person.id,
      payload: { [`${kind}Id`]: person.id, externalId: person.externalId, name: person.name, source: 'import' },
      actorId,
    })),
  );
}

/** What a person looked like, to tell an update from a row that changes nothing. */
function snapshot(person: Contact | User): string {
  const { createdAt: _created, updatedAt: _updated, ...rest } = person as Contact & User;
  return JSON.stringify(Object.entries(rest).sort(([a], [b]) => a.localeCompare(b)));
}

function report(results: ImportRowResult[]): ImportReport {
  return { ...countOutcomes(results), rows: results };
}

function dedupe(problems: FieldProblem[]): FieldProblem[] {
  const seen = new Set<string>();
  return problems.filter(
    (problem) => !seen.has(`${problem.field}:${problem.problem}`) && !!seen.add(`${problem.field}:${problem.problem}`),
  );
}

function asString(value: string | FieldProblem): string | null {
  return typeof value === 'string' ? value : null;
}
