import type { DataSource } from 'typeorm';
import { openDataSource } from '../src/database';
import { silentLogger } from '../src/logger';
import { MAX_PREPARED_STATEMENTS, hotRows } from '../src/services/platform/sql';
import { createTestDatabase } from './helpers/test-app';

describe('hot statements', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  // One connection each, so every statement below runs where the last one did.
  let prepared: DataSource;
  let unprepared: DataSource;

  beforeAll(async () => {
    database = await createTestDatabase();
    prepared = await openDataSource(database.url, 1, silentLogger);
    unprepared = await openDataSource(database.url, 1, silentLogger, { preparedStatements: false });
  });
  afterAll(async () => {
    await Promise.all([prepared.destroy(), unprepared.destroy()]);
    await database.drop();
  });

  const statementsOf = async (dataSource: DataSource) =>
    (await dataSource.query(`SELECT name, statement FROM pg_prepared_statements ORDER BY prepare_time`)) as Array<{
      name: string;
      statement: string;
    }>;

  it('are planned once per connection under one name, at most MAX_PREPARED_STATEMENTS texts, and never when turned off', async () => {
    const sum = 'SELECT $1::int + 1 AS n';
    expect(await hotRows(unprepared, sum, [1])).toEqual([{ n: 2 }]);
    expect(await hotRows(unprepared, sum, [2])).toEqual([{ n: 3 }]);
    expect(await statementsOf(unprepared)).toEqual([]);

    expect(await hotRows(prepared, sum, [2])).toEqual([{ n: 3 }]);
    expect(await hotRows(prepared, sum, [3], { arrays: true })).toEqual([[4]]);
    expect(await statementsOf(prepared)).toEqual([{ name: expect.stringMatching(/^hot_\d+$/), statement: sum }]);

    for (let n = 0; n < MAX_PREPARED_STATEMENTS + 5; n++) {
      expect(await hotRows(prepared, `SELECT $1::int + ${n} AS n`, [n])).toEqual([{ n: 2 * n }]);
    }
    expect((await statementsOf(prepared)).length).toBe(MAX_PREPARED_STATEMENTS);
  });
});
