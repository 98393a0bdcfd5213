/**
 * The condition language of automation rules (and, later, campaign audiences): nested
 * `all` / `any` / `not` groups of comparisons on paths into what a rule sees (the event,
 * the ticket, the contact, the business record, the actor).
 *
 *   { "all": [ { "path": "record.kind", "op": "eq", "value": "invoice" },
 *              { "not": { "path": "record.status", "op": "in", "value": ["paid", "void"] } },
 *              { "path": "record.dueAt", "op": "within_next", "value": "7d" } ] }
 *
 * `checkCondition` refuses, when a rule is saved, an unknown path or an operator or value
 * that does not fit the path's type, naming the exact location; `evaluate` is a pure
 * function of the condition, the facts and the time.
 */

export type Operator =
  | 'eq'
  | 'neq'
  | 'contains'
  | 'not_contains'
  | 'starts_with'
  | 'gt'
  | 'gte'
  | 'lt'
  | 'lte'
  | 'in'
  | 'not_in'
  | 'exists'
  | 'not_exists'
  | 'within_last'
  | 'within_next'
  | 'older_than';

export const OPERATORS: readonly Operator[] = [
  'eq',
  'neq',
  'contains',
  'not_contains',
  'starts_with',
  'gt',
  'gte',
  'lt',
  'lte',
  'in',
  'not_in',
  'exists',
  'not_exists',
  'within_last',
  'within_next',
  'older_than',
];

export interface Comparison {
  path: string;
  op: Operator;
  value?: unknown;
}

/**
 * `someRecord` (audiences): the contact has at least one business record for which the
 * inner condition, on `record.*` paths, holds; e.g. an invoice overdue by more than 7 days.
 */
export type Condition = { all: Condition[] } | { any: Condition[] } | { not: Condition } | { someRecord: Condition } | Comparison;

/** What a path holds; `any` for free-form JSON (event payloads, attributes). */
export const FIELD_TYPES = {
  STRING: 'string',
  NUMBER: 'number',
  BOOLEAN: 'boolean',
  DATE: 'date',
  /** A list of strings (tags, channels). */
  STRINGS: 'strings',
  ANY: 'any',
} as const;
export type FieldType = (typeof FIELD_TYPES)[keyof typeof FIELD_TYPES];

/** The fields a rule can test, by root. A root's `*` entry admits any path below it (JSON). */
export type FieldSchema = Record<string, FieldType>;

export const FACT_SCHEMA: FieldSchema = {
  'event.type': 'string',
  'event.occurredAt': 'date',
  'event.source': 'string',
  'event.payload.*': 'any',
  'ticket.id': 'string',
  'ticket.reference': 'string',
  'ticket.subject': 'string',
  'ticket.category': 'string',
  'ticket.priority': 'string',
  'ticket.status': 'string',
  'ticket.assigneeId': 'string',
  'ticket.escalationLevel': 'number',
  'ticket.createdAt': 'date',
  'ticket.resolutionDueAt': 'date',
  'ticket.resolvedAt': 'date',
  'ticket.rating': 'number',
  'contact.id': 'string',
  'contact.externalId': 'string',
  'contact.name': 'string',
  'contact.phone': 'string',
  'contact.email': 'string',
  'contact.area': 'string',
  'contact.locale': 'string',
  'contact.timezone': 'string',
  'contact.birthday': 'string',
  'contact.tags': 'strings',
  'contact.optedOutChannels': 'strings',
  'contact.createdAt': 'date',
  'contact.attributes.*': 'any',
  'record.id': 'string',
  'record.kind': 'string',
  'record.externalId': 'string',
  'record.status': 'string',
  'record.title': 'string',
  'record.dueAt': 'date',
  'record.expiresAt': 'date',
  'record.sentAt': 'date',
  'record.scheduledAt': 'date',
  'record.completedAt': 'date',
  'record.amount': 'number',
  'record.currency': 'string',
  'record.attributes.*': 'any',
  'record.dueDate': 'string',
  'record.expiresDate': 'string',
  'record.sentDate': 'string',
  'record.scheduledDate': 'string',
  'record.scheduledTime': 'string',
  'actor.id': 'string',
  'actor.role': 'string',
  'actor.name': 'string',
};

/** Marks a schema that admits `someRecord` groups (audiences). */
export const SOME_RECORD = '@someRecord';

const pick = (prefix: string): FieldSchema =>
  Object.fromEntries(Object.entries(FACT_SCHEMA).filter(([path]) => path.startsWith(prefix)));

/** What `someRecord` tests: the stored fields of a business record. */
export const RECORD_SCHEMA: FieldSchema = Object.fromEntries(
  Object.entries(pick('record.')).filter(([path]) => !/Date$|Time$/.test(path)),
);

/**
 * What a campaign audience or segment tests: the contact (consent per channel as
 * contact.consent.<channel>) and, through `someRecord`, its business records. The same
 * language as rules; `audienceSql` compiles it to one SQL predicate.
 */
export const AUDIENCE_SCHEMA: FieldSchema = {
  ...pick('contact.'),
  'contact.anniversary': 'string',
  'contact.consent.whatsapp': 'boolean',
  'contact.consent.sms': 'boolean',
  'contact.consent.email': 'boolean',
  [SOME_RECORD]: 'any',
};

export interface ConditionProblem {
  /** Where, e.g. conditions.all[1].any[0].op */
  path: string;
  problem: string;
}

const MAX_DEPTH = 8;
const MAX_NODES = 200;
const DURATION = /^(\d{1,5})(m|h|d|w)$/;

/** The type of a path, or undefined when the schema does not know it. */
export function fieldType(schema: FieldSchema, path: string): FieldType | undefined {
  if (path.startsWith('@')) return undefined;
  if (schema[path]) return schema[path];
  const parts = path.split('.');
  for (let n = parts.length - 1; n > 0; n--) {
    const wildcard = schema[`${parts.slice(0, n).join('.')}.*`];
    if (wildcard) return wildcard;
  }
  return undefined;
}

/** Every problem of a condition, each at its location; empty when it is sound. */
export function checkCondition(condition: unknown, schema: FieldSchema = FACT_SCHEMA, at = 'conditions'): ConditionProblem[] {
  const problems: ConditionProblem[] = [];
  let nodes = 0;
  const walk = (node: unknown, where: string, depth: number): void => {
    if (++nodes > MAX_NODES) {
      if (nodes === MAX_NODES + 1) problems.push({ path: where, problem: `a rule holds at most ${MAX_NODES} conditions` });
      return;
    }
    if (depth > MAX_DEPTH) {
      problems.push({ path: where, problem: `groups nest at most ${MAX_DEPTH} deep` });
      return;
    }
    if (!node || typeof node !== 'object' || Array.isArray(node)) {
      problems.push({ path: where, problem: 'must be an object: { all }, { any }, { not } or { path, op, value }' });
      return;
    }
    const keys = Object.keys(node);
    const group = keys.find((key) => key === 'all' || key === 'any');
    if (group) {
      const members = (node as Record<string, unknown>)[group];
      if (keys.length !== 1) problems.push({ path: where, problem: `a group holds only "${group}"` });
      if (!Array.isArray(members) || !members.length) {
        problems.push({ path: `${where}.${group}`, problem: 'must be a non-empty list of conditions' });
        return;
      }
      members.forEach((member, index) => walk(member, `${where}.${group}[${index}]`, depth + 1));
      return;
    }
    if ('not' in node) {
      if (keys.length !== 1) problems.push({ path: where, problem: 'a "not" holds only "not"' });
      walk((node as { not: unknown }).not, `${where}.not`, depth + 1);
      return;
    }
    if ('someRecord' in node) {
      if (!schema[SOME_RECORD]) {
        problems.push({ path: where, problem: '"someRecord" is for audiences; a rule tests its own record with record.* paths' });
        return;
      }
      if (keys.length !== 1) problems.push({ path: where, problem: 'a "someRecord" holds only "someRecord"' });
      const inner = checkCondition((node as { someRecord: unknown }).someRecord, RECORD_SCHEMA, `${where}.someRecord`);
      problems.push(...inner);
      return;
    }
    const comparison = node as Record<string, unknown>;
    const extra = keys.filter((key) => key !== 'path' && key !== 'op' && key !== 'value');
    if (extra.length) problems.push({ path: where, problem: `unknown key ${extra.map((key) => `"${key}"`).join(', ')}` });
    if (typeof comparison.path !== 'string') {
      problems.push({ path: `${where}.path`, problem: 'must be a path such as contact.tags or record.dueAt' });
      return;
    }
    const type = fieldType(schema, comparison.path);
    if (!type) {
      problems.push({ path: `${where}.path`, problem: `unknown path "${comparison.path}"` });
      return;
    }
    if (!OPERATORS.includes(comparison.op as Operator)) {
      problems.push({ path: `${where}.op`, problem: `must be one of ${OPERATORS.join(', ')}` });
      return;
    }
    const problem = operatorProblem(type, comparison.op as Operator, comparison.value);
    if (problem) problems.push({ path: problem.onValue ? `${where}.value` : `${where}.op`, problem: problem.text });
  };
  walk(condition, at, 0);
  return problems;
}

function operatorProblem(type: FieldType, op: Operator, value: unknown): { onValue: boolean; text: string } | null {
  const scalar = (v: unknown) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
  const fits = (v: unknown) =>
    type === 'any' ||
    (type === 'string' && typeof v === 'string') ||
    (type === 'number' && typeof v === 'number') ||
    (type === 'boolean' && typeof v === 'boolean') ||
    (type === 'date' && typeof v === 'string' && !Number.isNaN(Date.parse(v))) ||
    (type === 'strings' && typeof v === 'string');
  const wants = type === 'strings' ? 'a string' : type === 'date' ? 'an ISO 8601 date' : `a ${type}`;
  switch (op) {
    case 'exists':
    case 'not_exists':
      return value === undefined ? null : { onValue: true, text: `"${op}" takes no value` };
    case 'eq':
    case 'neq':
      if (type === 'strings') return { onValue: false, text: 'a list is tested with contains or not_contains' };
      return fits(value) ? null : { onValue: true, text: `must be ${wants}` };
    case 'contains':
    case 'not_contains':
      if (type !== 'string' && type !== 'strings' && type !== 'any')
        return { onValue: false, text: `"${op}" needs text or a list` };
      return typeof value === 'string' || (type === 'any' && scalar(value)) ? null : { onValue: true, text: 'must be a string' };
    case 'starts_with':
      if (type !== 'string' && type !== 'any') return { onValue: false, text: '"starts_with" needs text' };
      return typeof value === 'string' ? null : { onValue: true, text: 'must be a string' };
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      if (type !== 'number' && type !== 'date' && type !== 'any')
        return { onValue: false, text: `"${op}" needs a number or a date` };
      return fits(value) && (type !== 'any' || typeof value === 'number' || typeof value === 'string')
        ? null
        : { onValue: true, text: `must be ${type === 'any' ? 'a number or a date' : wants}` };
    case 'in':
    case 'not_in':
      if (type === 'strings') return { onValue: false, text: 'a list is tested with contains or not_contains' };
      if (!Array.isArray(value) || !value.length || value.length > 500)
        return { onValue: true, text: 'must be a list of 1-500 values' };
      return value.every(fits) ? null : { onValue: true, text: `every value must be ${wants}` };
    case 'within_last':
    case 'within_next':
    case 'older_than':
      if (type !== 'date' && type !== 'any') return { onValue: false, text: `"${op}" needs a date` };
      return typeof value === 'string' && DURATION.test(value)
        ? null
        : { onValue: true, text: 'must be a duration such as 30m, 12h, 7d or 2w' };
  }
}

/** Milliseconds of a duration such as 30m, 12h, 7d, 2w. */
export function durationMs(duration: string): number {
  const match = DURATION.exec(duration);
  if (!match) throw new Error(`Not a duration: ${duration}`);
  const unit = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[match[2] as 'm' | 'h' | 'd' | 'w'];
  return Number(match[1]) * unit;
}

/** The value at a dotted path of the facts (undefined when absent). */
export function valueAt(facts: Record<string, unknown>, path: string): unknown {
  let value: unknown = facts;
  for (const key of path.split('.')) {
    if (value === null || value === undefined || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

export interface Verdict {
  matched: boolean;
  /** Why not, in words, naming the first comparison that failed. */
  reason: string | null;
}

/** Evaluates a checked condition against the facts at `now`. Pure. */
export function evaluate(condition: Condition | null | undefined, facts: Record<string, unknown>, now: Date): Verdict {
  if (!condition) return { matched: true, reason: null };
  if ('all' in condition) {
    for (const member of condition.all) {
      const verdict = evaluate(member, facts, now);
      if (!verdict.matched) return verdict;
    }
    return { matched: true, reason: null };
  }
  if ('any' in condition) {
    const reasons: string[] = [];
    for (const member of condition.any) {
      const verdict = evaluate(member, facts, now);
      if (verdict.matched) return verdict;
      reasons.push(verdict.reason ?? '');
    }
    return { matched: false, reason: `none of: ${reasons.join('; ')}` };
  }
  if ('not' in condition) {
    const verdict = evaluate(condition.not, facts, now);
    return verdict.matched
      ? { matched: false, reason: `not expected: ${describe(condition.not)}` }
      : { matched: true, reason: null };
  }
  if ('someRecord' in condition) {
    const records = Array.isArray(facts.records) ? (facts.records as Array<Record<string, unknown>>) : [];
    return records.some((record) => evaluate(condition.someRecord, { record }, now).matched)
      ? { matched: true, reason: null }
      : { matched: false, reason: `no record with ${describe(condition.someRecord)}` };
  }
  const actual = valueAt(facts, condition.path);
  return compare(actual, condition, now)
    ? { matched: true, reason: null }
    : { matched: false, reason: `${describe(condition)} (was ${show(actual)})` };
}

function compare(actual: unknown, { op, value }: Comparison, now: Date): boolean {
  const present = actual !== undefined && actual !== null && actual !== '';
  switch (op) {
    case 'exists':
      return present && !(Array.isArray(actual) && actual.length === 0);
    case 'not_exists':
      return !present || (Array.isArray(actual) && actual.length === 0);
    case 'eq':
      return same(actual, value);
    case 'neq':
      return !same(actual, value);
    case 'contains':
      return contains(actual, value);
    case 'not_contains':
      return !contains(actual, value);
    case 'starts_with':
      return typeof actual === 'string' && actual.toLowerCase().startsWith(String(value).toLowerCase());
    case 'in':
      return Array.isArray(value) && value.some((candidate) => same(actual, candidate));
    case 'not_in':
      return !(Array.isArray(value) && value.some((candidate) => same(actual, candidate)));
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const [a, b] = ordered(actual, value);
      if (a === null || b === null) return false;
      return op === 'gt' ? a > b : op === 'gte' ? a >= b : op === 'lt' ? a < b : a <= b;
    }
    case 'within_last':
    case 'within_next': {
      const time = timeOf(actual);
      if (time === null) return false;
      const span = durationMs(String(value));
      const delta = time - now.getTime();
      return op === 'within_last' ? delta <= 0 && -delta <= span : delta >= 0 && delta <= span;
    }
    case 'older_than': {
      const time = timeOf(actual);
      return time !== null && now.getTime() - time > durationMs(String(value));
    }
  }
}

/** Equal, reading numbers from numeric strings (amounts are exact decimal strings) and dates by instant. */
function same(actual: unknown, expected: unknown): boolean {
  if (actual === expected) return true;
  if (actual === undefined || actual === null) return expected === null;
  if (typeof expected === 'number') return Number(actual) === expected && String(actual).trim() !== '';
  if (typeof expected === 'string' && typeof actual === 'string') return actual.toLowerCase() === expected.toLowerCase();
  if (actual instanceof Date && typeof expected === 'string') return actual.getTime() === Date.parse(expected);
  return false;
}

function contains(actual: unknown, value: unknown): boolean {
  if (Array.isArray(actual)) return actual.some((item) => same(item, value));
  if (typeof actual === 'string') return actual.toLowerCase().includes(String(value).toLowerCase());
  return false;
}

function timeOf(value: unknown): number | null {
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}/.test(value)) {
    const time = Date.parse(value);
    return Number.isNaN(time) ? null : time;
  }
  return null;
}

function ordered(actual: unknown, value: unknown): [number | null, number | null] {
  if (typeof value === 'number') {
    const a = typeof actual === 'number' ? actual : typeof actual === 'string' && actual.trim() ? Number(actual) : NaN;
    return [Number.isNaN(a) ? null : a, value];
  }
  return [timeOf(actual), timeOf(value)];
}

function describe(condition: Condition): string {
  if ('all' in condition) return `all of (${condition.all.map(describe).join(', ')})`;
  if ('any' in condition) return `any of (${condition.any.map(describe).join(', ')})`;
  if ('not' in condition) return `not ${describe(condition.not)}`;
  if ('someRecord' in condition) return `some record with ${describe(condition.someRecord)}`;
  return condition.value === undefined
    ? `${condition.path} ${condition.op}`
    : `${condition.path} ${condition.op} ${show(condition.value)}`;
}

function show(value: unknown): string {
  if (value === undefined) return 'absent';
  if (value instanceof Date) return value.toISOString();
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** The operators a path of this type can be tested with (what rule builders offer). */
export function operatorsFor(type: FieldType): Operator[] {
  return OPERATORS.filter((op) => {
    const problem = operatorProblem(type, op, undefined);
    return !problem || problem.onValue;
  });
}
