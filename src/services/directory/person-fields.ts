import { IANAZone } from 'luxon';
import { Channel } from '../../entities/channel';
import type { Contact } from '../../entities/contact.entity';
import { STAFF_ROLES, type StaffRole, type User } from '../../entities/user.entity';
import { toE164 } from '../platform/phone';

/**
 * The fields people carry and their checks, shared by the single-row mutations and the
 * bulk imports: `apply*Fields` writes the given fields onto a contact or user and returns
 * the problems, each against its field, for the caller to report as a GraphQL error or
 * against an import row. Omitted (undefined) fields stay as they are.
 */
export interface FieldProblem {
  field: string;
  problem: string;
}

export interface ConsentInput {
  channel: Channel;
  granted: boolean;
}

export interface ContactFields {
  externalId?: string | null;
  name?: string | null;
  phone?: string | null;
  email?: string | null;
  birthday?: string | null;
  anniversary?: string | null;
  timezone?: string | null;
  locale?: string | null;
  area?: string | null;
  tags?: string[] | null;
  /** Replaces the attributes (single edits) or is merged into them (imports: see mergeAttributes). */
  attributes?: Record<string, unknown> | null;
  consent?: ConsentInput[] | null;
}

export interface UserFields {
  externalId?: string | null;
  name?: string | null;
  email?: string | null;
  phone?: string | null;
  role?: StaffRole | null;
  timezone?: string | null;
  attributes?: Record<string, unknown> | null;
  maxOpenTickets?: number | null;
  active?: boolean | null;
}

/** How the fields are applied: the tenant's phone country, the time, and where the change came from. */
export interface ApplyOptions {
  defaultCountry: string | null;
  now: Date;
  source: string;
  /** Imports merge attributes key by key; single edits replace them. */
  mergeAttributes?: boolean;
  /** Null clears a field (single edits); imports keep what is there. */
  nullClears?: boolean;
}

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

export function normalizePhone(raw: string, defaultCountry: string | null): string | FieldProblem {
  const number = toE164(raw, defaultCountry);
  if (number) return number;
  const hint = defaultCountry ? ` (local numbers are read as ${defaultCountry})` : '; add the country code, e.g. +62...';
  return { field: 'phone', problem: `"${raw.slice(0, 40)}" is not a valid phone number${hint}` };
}

export function normalizeEmail(raw: string): string | null {
  const email = raw.trim().toLowerCase();
  return EMAIL.test(email) && email.length <= 320 ? email : null;
}

/** A calendar date, YYYY-MM-DD, that exists (no 2023-02-30). */
export function normalizeDate(raw: string): string | null {
  const match = DATE.exec(raw.trim());
  if (!match) return null;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  date.setUTCFullYear(year);
  return year >= 1 && date.getUTCMonth() === month - 1 && date.getUTCDate() === day ? match[0] : null;
}

export function normalizeLocale(raw: string): string | null {
  try {
    const [locale] = Intl.getCanonicalLocales(raw);
    return locale && locale.length <= 35 ? locale : null;
  } catch {
    return null;
  }
}

export const isTimezone = (raw: string): boolean => IANAZone.isValidZone(raw);

export function normalizeTags(tags: string[]): string[] {
  return [...new Set(tags.map((tag) => tag.trim().toLowerCase()).filter(Boolean))];
}

/** Writes the given fields of a contact; returns what was wrong (nothing is half-applied on a problem). */
export function applyContactFields(contact: Contact, input: ContactFields, options: ApplyOptions): FieldProblem[] {
  const next: Partial<Contact> = {};
  const problems: FieldProblem[] = [];
  const given = <K extends keyof ContactFields>(key: K): ContactFields[K] | undefined =>
    input[key] === null && !options.nullClears ? undefined : input[key];
  const text = (key: 'externalId' | 'name' | 'area', max: number) => {
    const value = given(key);
    if (value === undefined) return;
    const trimmed = value?.trim() ?? '';
    if (key === 'name' && !trimmed) problems.push({ field: key, problem: 'must not be empty' });
    else if (trimmed.length > max) problems.push({ field: key, problem: `must be at most ${max} characters` });
    else if (key === 'name') next.name = trimmed;
    else next[key] = trimmed || null;
  };
  text('externalId', 200);
  text('name', 200);
  text('area', 100);
  const phone = given('phone');
  if (phone !== undefined) {
    const normalized = phone === null || !phone.trim() ? null : normalizePhone(phone, options.defaultCountry);
    if (normalized !== null && typeof normalized !== 'string') problems.push(normalized);
    else next.phone = normalized;
  }
  const email = given('email');
  if (email !== undefined) {
    const normalized = email === null || !email.trim() ? null : normalizeEmail(email);
    if (email && email.trim() && !normalized)
      problems.push({ field: 'email', problem: `"${email.slice(0, 60)}" is not an e-mail address` });
    else next.email = normalized;
  }
  for (const key of ['birthday', 'anniversary'] as const) {
    const value = given(key);
    if (value === undefined) continue;
    const date = value === null || !value.trim() ? null : normalizeDate(value);
    if (value && value.trim() && !date)
      problems.push({ field: key, problem: `"${value.slice(0, 40)}" is not a date in YYYY-MM-DD form` });
    else next[key] = date;
  }
  const timezone = given('timezone');
  if (timezone !== undefined) {
    if (timezone && !isTimezone(timezone))
      problems.push({ field: 'timezone', problem: `"${timezone.slice(0, 60)}" is not an IANA time zone such as Asia/Jakarta` });
    else next.timezone = timezone || null;
  }
  const locale = given('locale');
  if (locale !== undefined) {
    const normalized = locale ? normalizeLocale(locale) : null;
    if (locale && !normalized)
      problems.push({ field: 'locale', problem: `"${locale.slice(0, 40)}" is not a language tag such as id or en-GB` });
    else next.locale = normalized;
  }
  const tags = given('tags');
  if (tags !== undefined) {
    const normalized = normalizeTags(tags ?? []);
    if (normalized.length > 50 || normalized.some((tag) => tag.length > 50)) {
      problems.push({ field: 'tags', problem: 'at most 50 tags of at most 50 characters' });
    } else next.tags = normalized;
  }
  const attributes = given('attributes');
  if (attributes !== undefined) {
    const problem = attributesProblem(attributes);
    if (problem) problems.push({ field: 'attributes', problem });
    else next.attributes = options.mergeAttributes ? { ...contact.attributes, ...attributes } : (attributes ?? {});
  }
  const consent = given('consent');
  if (consent) {
    const merged = { ...contact.consent };
    for (const answer of consent) {
      if (!Object.values(Channel).includes(answer.channel) || typeof answer.granted !== 'boolean') {
        problems.push({ field: 'consent', problem: 'each answer needs a channel and granted true or false' });
        break;
      }
      if (merged[answer.channel]?.granted === answer.granted) continue;
      merged[answer.channel] = { granted: answer.granted, at: options.now.toISOString(), source: options.source };
    }
    next.consent = merged;
  }
  if (!problems.length) Object.assign(contact, next);
  return problems;
}

/** Writes the given fields of a staff user; returns what was wrong (nothing is half-applied on a problem). */
export function applyUserFields(user: User, input: UserFields, options: ApplyOptions): FieldProblem[] {
  const next: Partial<User> = {};
  const problems: FieldProblem[] = [];
  const given = <K extends keyof UserFields>(key: K): UserFields[K] | undefined =>
    input[key] === null && !options.nullClears ? undefined : input[key];
  const externalId = given('externalId');
  if (externalId !== undefined) {
    const trimmed = externalId?.trim() ?? '';
    if (trimmed.length > 200) problems.push({ field: 'externalId', problem: 'must be at most 200 characters' });
    else next.externalId = trimmed || null;
  }
  const name = given('name');
  if (name !== undefined) {
    if (!name?.trim() || name.trim().length > 200) problems.push({ field: 'name', problem: 'must be 1-200 characters' });
    else next.name = name.trim();
  }
  const email = given('email');
  if (email !== undefined) {
    const normalized = email ? normalizeEmail(email) : null;
    if (!normalized) problems.push({ field: 'email', problem: `"${(email ?? '').slice(0, 60)}" is not an e-mail address` });
    else next.email = normalized;
  }
  const phone = given('phone');
  if (phone !== undefined) {
    const normalized = phone === null || !phone.trim() ? null : normalizePhone(phone, options.defaultCountry);
    if (normalized !== null && typeof normalized !== 'string') problems.push(normalized);
    else next.phone = normalized;
  }
  const role = given('role');
  if (role !== undefined && role !== null) {
    if (!(STAFF_ROLES as readonly string[]).includes(role))
      problems.push({ field: 'role', problem: 'must be a staff role (not customer)' });
    else next.role = role;
  }
  const timezone = given('timezone');
  if (timezone !== undefined) {
    if (timezone && !isTimezone(timezone))
      problems.push({ field: 'timezone', problem: `"${timezone.slice(0, 60)}" is not an IANA time zone such as Asia/Jakarta` });
    else next.timezone = timezone || null;
  }
  const attributes = given('attributes');
  if (attributes !== undefined) {
    const problem = attributesProblem(attributes);
    if (problem) problems.push({ field: 'attributes', problem });
    else next.attributes = options.mergeAttributes ? { ...user.attributes, ...attributes } : (attributes ?? {});
  }
  const maxOpenTickets = given('maxOpenTickets');
  if (maxOpenTickets !== undefined && maxOpenTickets !== null) {
    if (!Number.isInteger(maxOpenTickets) || maxOpenTickets < 0 || maxOpenTickets > 1000) {
      problems.push({ field: 'maxOpenTickets', problem: 'must be a whole number from 0 to 1000' });
    } else next.maxOpenTickets = maxOpenTickets;
  }
  const active = given('active');
  if (active !== undefined && active !== null) next.active = active;
  if (!problems.length) Object.assign(user, next);
  return problems;
}

const MAX_ATTRIBUTES_BYTES = 16 * 1024;

function attributesProblem(attributes: Record<string, unknown> | null): string | null {
  if (attributes === null) return null;
  if (typeof attributes !== 'object' || Array.isArray(attributes)) return 'must be a JSON object';
  return Buffer.byteLength(JSON.stringify(attributes)) > MAX_ATTRIBUTES_BYTES ? 'must be at most 16 KB' : null;
}
