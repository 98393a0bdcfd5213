import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../ormconfig';
import { MAX_PREPARED_STATEMENTS, hotRows } from '../src/services/platform/sql';
import { createTestDatabase } from './helpers/test-app';

describe('hot reads', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let dataSource: DataSource;

  beforeAll(async () => {
    database = await createTestDatabase();
    // One connection, so every statement below runs where the last one did.
    dataSource = new DataSource(dataSourceOptions(database.url, 1));
    await dataSource.initialize();
  });
  afterAll(async () => {
    await dataSource.destroy();
    await database.drop();
  });

  const prepared = async () =>
    (await dataSource.query(`SELECT name, statement FROM pg_prepared_statements ORDER BY prepare_time`)) as Array<{
      name: string;
      statement: string;
    }>;

  it('are planned once per connection under one name, at most MAX_PREPARED_STATEMENTS texts, and never when turned off', async () => {
    const sum = 'SELECT $1::int + 1 AS n';
    expect(await hotRows(dataSource, sum, [1], { prepared: false })).toEqual([{ n: 2 }]);
    expect(await prepared()).toEqual([]);

    expect(await hotRows(dataSource, sum, [2], { prepared: true })).toEqual([{ n: 3 }]);
    expect(await hotRows(dataSource, sum, [3], { prepared: true, arrays: true })).toEqual([[4]]);
    expect(await prepared()).toEqual([{ name: expect.stringMatching(/^hot_\d+$/), statement: sum }]);

    for (let n = 0; n < MAX_PREPARED_STATEMENTS + 5; n++) {
      expect(await hotRows(dataSource, `SELECT $1::int + ${n} AS n`, [n], { prepared: true })).toEqual([{ n: 2 * n }]);
    }
    expect((await prepared()).length).toBe(MAX_PREPARED_STATEMENTS);
  });
});
