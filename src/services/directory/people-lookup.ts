import type { EntityManager } from 'typeorm';
import { isUuid } from '../platform/ids';
import { toE164 } from '../platform/phone';
import { normalizeEmail } from './person-fields';

/** How another system names a person: our id, its own id, an e-mail address or a phone number. */
export interface PersonRef {
  type: 'contact' | 'user';
  id?: string | null;
  externalId?: string | null;
  email?: string | null;
  phone?: string | null;
}

/** Problems of a reference, by field, before anything is looked up. */
export function personRefProblems(raw: unknown, kinds: ReadonlyArray<'contact' | 'user'>): Array<[string, string]> {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return [['', 'must be an object']];
  const ref = raw as Record<string, unknown>;
  const problems: Array<[string, string]> = [];
  if (!kinds.includes(ref.type as 'contact')) problems.push(['.type', `must be ${kinds.join(' or ')}`]);
  if ([ref.id, ref.externalId, ref.email, ref.phone].every((value) => value === undefined || value === null)) {
    problems.push(['', 'must name the person by id, externalId, email or phone']);
  }
  if (ref.id != null && !isUuid(ref.id)) problems.push(['.id', 'must be a UUID']);
  for (const field of ['externalId', 'email', 'phone'] as const) {
    const value = ref[field];
    if (value != null && (typeof value !== 'string' || !value.trim() || value.length > 320)) {
      problems.push([`.${field}`, 'must be a non-empty string']);
    }
  }
  return problems;
}

/**
 * Finds each referenced person in the tenant, for a whole batch in at most two queries
 * (contacts, users): the id found for each reference, or null. A reference by phone is
 * read in the tenant's phone country, so 0812... finds +62812....
 */
export async function resolvePeople(
  manager: EntityManager,
  tenantId: string,
  refs: ReadonlyArray<PersonRef | null | undefined>,
  defaultCountry: string | null,
): Promise<Array<string | null>> {
  const keyed = refs.map((ref) =>
    ref
      ? {
          type: ref.type,
          id: ref.id && isUuid(ref.id) ? ref.id : null,
          externalId: ref.externalId?.trim() || null,
          email: ref.email ? normalizeEmail(ref.email) : null,
          phone: ref.phone ? toE164(ref.phone, defaultCountry) : null,
        }
      : null,
  );
  const found = new Map<string, string>();
  for (const [type, table] of [
    ['contact', 'contact'],
    ['user', '"user"'],
  ] as const) {
    const wanted = keyed.filter((ref) => ref?.type === type);
    if (!wanted.length) continue;
    const values = (field: 'id' | 'externalId' | 'email' | 'phone') => [
      ...new Set(wanted.flatMap((ref) => (ref?.[field] ? [ref[field]] : []))),
    ];
    const rows: Array<{ id: string; externalId: string | null; email: string | null; phone: string | null }> =
      await manager.query(
        `SELECT id, "externalId", email, phone FROM ${table}
          WHERE "tenantId" = $1
            AND (id = ANY($2::uuid[]) OR "externalId" = ANY($3::varchar[]) OR email = ANY($4::varchar[]) OR phone = ANY($5::varchar[]))
          ORDER BY "createdAt", id`,
        [tenantId, values('id'), values('externalId'), values('email'), values('phone')],
      );
    // The first-created person wins when two share a phone or e-mail address.
    for (const row of rows.reverse()) {
      found.set(`${type}:id:${row.id}`, row.id);
      if (row.externalId) found.set(`${type}:externalId:${row.externalId}`, row.id);
      if (row.email) found.set(`${type}:email:${row.email}`, row.id);
      if (row.phone) found.set(`${type}:phone:${row.phone}`, row.id);
    }
  }
  return keyed.map((ref) => {
    if (!ref) return null;
    for (const field of ['id', 'externalId', 'email', 'phone'] as const) {
      const value = ref[field];
      if (value) return found.get(`${ref.type}:${field}:${value}`) ?? null;
    }
    return null;
  });
}
