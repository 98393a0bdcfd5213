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
