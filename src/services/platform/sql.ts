import type { Pool, QueryResultRow } from 'pg';
import type { DataSource } from 'typeorm';

/**
 * Rows of an `UPDATE ... RETURNING` run through `DataSource.query`: TypeORM answers
 * those on PostgreSQL with `[rows, affectedCount]` instead of the rows.
 */
export function returningRows<T>(result: unknown): T[] {
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number')
    return result[0] as T[];
  return (result ?? []) as T[];
}

/** Names given to statement texts, process-wide: a connection parses each named text once. */
const statementNames = new Map<string, string>();
/** Texts that get a name; further ones run unnamed, so no connection ever holds more statements. */
export const MAX_PREPARED_STATEMENTS = 200;
/** Data sources whose connections cannot keep prepared statements (a pooler in transaction mode). */
const unprepared = new WeakSet<DataSource>();

/** Hot statements on this data source run unnamed from now on (DATABASE_PREPARED_STATEMENTS=false). */
export function withoutPreparedStatements(dataSource: DataSource): void {
  unprepared.add(dataSource);
}

/**
 * Runs a hot statement as a named prepared statement on the data source's pool: PostgreSQL
 * parses and plans its text once per connection instead of on every call (the tickets
 * page costs the database about 0.48 ms unnamed and 0.14 ms prepared). The first
 * MAX_PREPARED_STATEMENTS distinct texts get names; any other runs unnamed, as every text
 * does on a data source marked withoutPreparedStatements. `arrays`: each row as an array
 * of its values in select order (no property names to clash when two tables' columns
 * share one). Outside any transaction: the statement takes whichever connection is free.
 */
export async function hotRows<T>(
  dataSource: DataSource,
  text: string,
  values: unknown[],
  options: { arrays?: boolean } = {},
): Promise<T[]> {
  const pool = (dataSource.driver as unknown as { master: Pool }).master;
  const run = (name: string | undefined) =>
    pool.query<T & QueryResultRow>({ name, text, values, ...(options.arrays ? { rowMode: 'array' } : {}) });
  const name = unprepared.has(dataSource) ? undefined : statementName(text);
  try {
    return (await run(name)).rows;
  } catch (error) {
    // A migration changed what the statement returns (`RETURNING d.*` after a new column)
    // under a running process: PostgreSQL refuses the prepared plan before running it, so
    // the text is prepared anew under a new name instead of failing until a restart.
    if (!name || databaseErrorCode(error) !== CACHED_PLAN_CHANGED) throw error;
    statementNames.delete(text);
    return (await run(statementName(text))).rows;
  }
}

/** feature_not_supported, as PostgreSQL answers "cached plan must not change result type". */
const CACHED_PLAN_CHANGED = '0A000';
let namesGiven = 0;

/** The name of a statement text, given on first use while fewer than MAX_PREPARED_STATEMENTS texts have one. */
function statementName(text: string): string | undefined {
  let name = statementNames.get(text);
  if (!name && statementNames.size < MAX_PREPARED_STATEMENTS) {
    name = `hot_${++namesGiven}`;
    statementNames.set(text, name);
  }
  return name;
}

/**
 * PostgreSQL's error code (SQLSTATE) of a failed statement, whether it ran through TypeORM
 * (a QueryFailedError wrapping the driver's error) or straight on the pool; '' for any other error.
 */
export function databaseErrorCode(error: unknown): string {
  const code = (error as { driverError?: { code?: unknown } })?.driverError?.code ?? (error as { code?: unknown })?.code;
  return typeof code === 'string' ? code : '';
}

/** Whether an error means the connection went away (not that the statement was wrong). */
export function isConnectionLoss(error: unknown): boolean {
  const code = databaseErrorCode(error);
  if (/^08/.test(code) || /^57P0[123]$/.test(code)) return true;
  const message = error instanceof Error ? error.message : String(error);
  return /Connection terminated|terminating connection|ECONNRESET|ECONNREFUSED|connection.*(closed|ended)/i.test(message);
}
