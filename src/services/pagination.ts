import type { SelectQueryBuilder } from 'typeorm';
import { badInput } from './errors';

export interface PageRequest {
  first: number;
  after?: string | null;
}

export interface Edge<T> {
  node: T;
  cursor: string;
}

export interface Page<T> {
  edges: Edge<T>[];
  hasNextPage: boolean;
  totalCount: number;
}

export const MAX_PAGE_SIZE = 100;

/** Opaque keyset cursor: the sort value and id of the last row seen. */
export function encodeCursor(value: string, id: string): string {
  return Buffer.from(JSON.stringify([value, id])).toString('base64url');
}

export function decodeCursor(cursor: string): { value: string; id: string } {
  try {
    const decoded: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(decoded) && decoded.length === 2 && decoded.every((part) => typeof part === 'string')) {
      const [value, id] = decoded as [string, string];
      if (/^[0-9a-f-]{36}$/i.test(id)) return { value, id };
    }
  } catch {
    // fall through to the error below
  }
  throw badInput('The cursor is not valid; use a cursor returned by this query', 'after');
}

/**
 * One page of a query ordered newest first by `createdAt`, then id (both in the
 * alias's table): the keyset cursor is the last row's pair.
 */
export async function newestFirstPage<T extends { id: string; createdAt: Date }>(
  query: SelectQueryBuilder<T>,
  alias: string,
  page: PageRequest,
): Promise<Page<T>> {
  const totalCount = await query.clone().getCount();
  if (page.after) {
    const after = decodeCursor(page.after);
    query.andWhere(`(${alias}."createdAt", ${alias}.id) < (CAST(:afterValue AS timestamptz), CAST(:afterId AS uuid))`, {
      afterValue: after.value,
      afterId: after.id,
    });
  }
  const rows = await query
    .orderBy(`${alias}."createdAt"`, 'DESC')
    .addOrderBy(`${alias}.id`, 'DESC')
    .limit(page.first + 1)
    .getMany();
  const nodes = rows.slice(0, page.first);
  return {
    totalCount,
    hasNextPage: rows.length > page.first,
    edges: nodes.map((node) => ({ node, cursor: encodeCursor(node.createdAt.toISOString(), node.id) })),
  };
}
