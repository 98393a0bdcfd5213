/**
 * Rows of an `UPDATE ... RETURNING` run through `DataSource.query`: TypeORM answers
 * those on PostgreSQL with `[rows, affectedCount]` instead of the rows.
 */
export function returningRows<T>(result: unknown): T[] {
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number')
    return result[0] as T[];
  return (result ?? []) as T[];
}
