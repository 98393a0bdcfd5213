import type { SelectQueryBuilder } from 'typeorm';
import { badInput } from './errors';
import { isUuid } from './ids';

/**
 * Which page: `first` items after the cursor `after` (forwards), or `last` items before
 * the cursor `before` (backwards, from the end when no cursor). Either direction, not both.
 */
export interface PageRequest {
  first: number;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

export interface Edge<T> {
  node: T;
  cursor: string;
}

export interface Page<T> {
  edges: Edge<T>[];
  hasNextPage: boolean;
  /** True when items precede the first edge; absent means false. */
  hasPreviousPage?: boolean;
  totalCount: number;
}

export const MAX_PAGE_SIZE = 100;

/** What a cursor's sort value must look like: a timestamp, a 32-bit integer, text, or one of some values. */
export type CursorKind = 'timestamp' | 'integer' | 'text' | readonly string[];

const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;

/** Opaque keyset cursor: what the list is sorted by, and the sort value and id of the last row seen. */
export function encodeCursor(sortKey: string, value: string, id: string): string {
  return Buffer.from(JSON.stringify([sortKey, value, id])).toString('base64url');
}

/**
 * Reads a cursor made by encodeCursor for the same sort, checking every part before it
 * reaches SQL: a forged or edited cursor, or one from another sort order, is BAD_USER_INPUT.
 */
export function decodeCursor(
  cursor: string,
  sortKey: string,
  kind: CursorKind,
  field: 'after' | 'before' = 'after',
): { value: string; id: string } {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    decoded = undefined;
  }
  if (Array.isArray(decoded) && decoded.length === 3 && decoded.every((part) => typeof part === 'string')) {
    const [key, value, id] = decoded as [string, string, string];
    if (key !== sortKey) {
      throw badInput(`The cursor belongs to a list in another order; start again without \`${field}\``, field);
    }
    if (isUuid(id) && fitsKind(value, kind)) return { value, id };
  }
  throw badInput('The cursor is not valid; use a cursor returned by this query', field);
}

/**
 * How a page request reads a keyset order: which way, from which row, how many. Backwards
 * reads the order reversed and turns the rows round afterwards, so both directions use the
 * same index.
 */
export interface KeysetPlan {
  backward: boolean;
  cursor: { value: string; id: string } | null;
  /** Items on the page; one more is read to learn whether more follow. */
  size: number;
  /** The SQL direction to read in, and the comparison with the cursor's row. */
  direction: 'ASC' | 'DESC';
  comparison: '>' | '<';
}

export function planKeyset(page: PageRequest, sortKey: string, kind: CursorKind, direction: 'ASC' | 'DESC'): KeysetPlan {
  const backward = page.before != null || page.last != null;
  if (backward && page.after != null) {
    throw badInput('Page forwards (first, after) or backwards (last, before), not both', 'after');
  }
  const size = backward ? (page.last ?? page.first) : page.first;
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
    throw badInput(`A page holds 1 to ${MAX_PAGE_SIZE} items`, backward ? 'last' : 'first', 'OUT_OF_RANGE');
  }
  const cursorText = backward ? page.before : page.after;
  const cursor = cursorText ? decodeCursor(cursorText, sortKey, kind, backward ? 'before' : 'after') : null;
  const readDirection = backward ? (direction === 'ASC' ? 'DESC' : 'ASC') : direction;
  return { backward, cursor, size, direction: readDirection, comparison: readDirection === 'ASC' ? '>' : '<' };
}

/**
 * The page made of rows read by a plan (at most size + 1, in the read direction): in the
 * list's own order, with whether items follow and precede it. A cursor means the row it
 * names lies on the side the page came from.
 */
export function finishKeyset<T>(
  rows: T[],
  plan: KeysetPlan,
  cursorOf: (node: T) => string,
): { edges: Edge<T>[]; hasNextPage: boolean; hasPreviousPage: boolean } {
  const more = rows.length > plan.size;
  const nodes = rows.slice(0, plan.size);
  if (plan.backward) nodes.reverse();
  const edges = nodes.map((node) => ({ node, cursor: cursorOf(node) }));
  return plan.backward
    ? { edges, hasNextPage: plan.cursor != null, hasPreviousPage: more }
    : { edges, hasNextPage: more, hasPreviousPage: plan.cursor != null };
}

function fitsKind(value: string, kind: CursorKind): boolean {
  if (kind === 'timestamp') return ISO_TIMESTAMP.test(value) && !Number.isNaN(Date.parse(value));
  if (kind === 'integer') return /^-?\d{1,10}$/.test(value) && Math.abs(Number(value)) <= 2 ** 31 - 1;
  if (kind === 'text') return value.length <= 500;
  return kind.includes(value);
}

/** How a keyset page is sorted: one column of the alias's table, then its id. */
export interface KeysetOrder<T> {
  /** Column name, as in the entity (e.g. `createdAt`, `name`). */
  column: string & keyof T;
  /** SQL type to cast the cursor's value to. */
  cast: string;
  kind: CursorKind;
  direction: 'ASC' | 'DESC';
}

/**
 * One page of a query in a keyset order (the column, then id): the cursor is the last
 * row's pair, checked before it reaches SQL; `last`/`before` read the same order from the
 * other end. The total counts every matching row.
 *
 * One statement: the total rides on the page as an uncorrelated scalar subquery, which
 * PostgreSQL computes once (an InitPlan), so the page keeps its index-and-limit plan and
 * the count its own. Only a page past the end (no rows after the cursor) counts apart.
 */
export async function keysetPage<T extends { id: string }>(
  query: SelectQueryBuilder<T>,
  alias: string,
  order: KeysetOrder<T>,
  page: PageRequest,
): Promise<Page<T>> {
  const counting = query.clone();
  // The subquery reuses the page's alias and parameters: inside it, the alias means its own table.
  query.addSelect(`(${counting.clone().select('count(*)').orderBy().getQuery()})`, 'keyset_total');
  const column = `${alias}."${order.column}"`;
  const plan = planKeyset(page, order.column, order.kind, order.direction);
  if (plan.cursor) {
    query.andWhere(`(${column}, ${alias}.id) ${plan.comparison} (CAST(:cursorValue AS ${order.cast}), CAST(:cursorId AS uuid))`, {
      cursorValue: plan.cursor.value,
      cursorId: plan.cursor.id,
    });
  }
  const { entities: rows, raw } = await query
    .orderBy(column, plan.direction)
    .addOrderBy(`${alias}.id`, plan.direction)
    .limit(plan.size + 1)
    .getRawAndEntities<{ keyset_total: string }>();
  const totalCount = raw.length > 0 ? Number(raw[0].keyset_total) : plan.cursor ? await counting.getCount() : 0;
  return {
    totalCount,
    ...finishKeyset(rows, plan, (node) => encodeCursor(order.column, cursorValue(node[order.column]), node.id)),
  };
}

/** A sort value as a cursor holds it: a timestamp in ISO form, anything else as text. */
export function cursorValue(value: unknown): string {
  return value instanceof Date ? value.toISOString() : String(value);
}

/** One page of a query ordered newest first by `createdAt`, then id. */
export function newestFirstPage<T extends { id: string; createdAt: Date }>(
  query: SelectQueryBuilder<T>,
  alias: string,
  page: PageRequest,
): Promise<Page<T>> {
  return keysetPage(query, alias, { column: 'createdAt', cast: 'timestamptz', kind: 'timestamp', direction: 'DESC' }, page);
}
