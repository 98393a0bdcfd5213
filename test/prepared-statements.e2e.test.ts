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

  it('are planned once per connection under one name, and never when turned off', async () => {
    const sum = 'SELECT $1::int + 1 AS n';
    expect(await hotRows(unprepared, sum, [1])).toEqual([{ n: 2 }]);
    expect(await hotRows(unprepared, sum, [2])).toEqual([{ n: 3 }]);
    expect(await statementsOf(unprepared)).toEqual([]);

    expect(await hotRows(prepared, sum, [2])).toEqual([{ n: 3 }]);
    expect(await hotRows(prepared, sum, [3], { arrays: true })).toEqual([[4]]);
    expect((await statementsOf(prepared)).filter((held) => held.statement === sum)).toEqual([
      { name: expect.stringMatching(/^hot_\d+$/), statement: sum },
    ]);
  });

  it('are prepared anew when a migration changed what they return, instead of failing until a restart', async () => {
    await prepared.query(`CREATE TABLE hot_probe (id int PRIMARY KEY)`);
    await prepared.query(`INSERT INTO hot_probe VALUES (1)`);
    const read = 'SELECT * FROM hot_probe WHERE id = $1';
    expect(await hotRows(prepared, read, [1])).toEqual([{ id: 1 }]);
    await prepared.query(`ALTER TABLE hot_probe ADD COLUMN note text NOT NULL DEFAULT 'added'`);
    expect(await hotRows(prepared, read, [1])).toEqual([{ id: 1, note: 'added' }]);
    expect(await hotRows(prepared, read, [1])).toEqual([{ id: 1, note: 'added' }]);
  });

  it(`name at most MAX_PREPARED_STATEMENTS texts; any further one runs unnamed`, async () => {
    const texts = Array.from({ length: MAX_PREPARED_STATEMENTS + 5 }, (_, n) => `SELECT $1::int + ${n} AS n`);
    for (const [n, text] of texts.entries()) expect(await hotRows(prepared, text, [n])).toEqual([{ n: 2 * n }]);
    const held = (await statementsOf(prepared)).map((statement) => statement.statement);
    // (One more is left on this connection by the test above: its first plan of hot_probe.)
    expect(held.length).toBeLessThanOrEqual(MAX_PREPARED_STATEMENTS + 1);
    expect(held).toContain(texts[0]);
    expect(held).not.toContain(texts[texts.length - 1]);
  });
});
