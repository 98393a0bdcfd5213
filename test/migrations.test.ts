import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../ormconfig';
import { createTestDatabase } from './helpers/test-app';

describe('migrations', () => {
  it('leave the database exactly as the entities describe it (no schema change without a migration)', async () => {
    const database = await createTestDatabase();
    const dataSource = new DataSource(dataSourceOptions(database.url, 1));
    await dataSource.initialize();
    try {
      expect(await dataSource.showMigrations()).toBe(false);
      const pending = await dataSource.driver.createSchemaBuilder().log();
      expect(pending.upQueries.map((query) => query.query)).toEqual([]);
    } finally {
      await dataSource.destroy();
      await database.drop();
    }
  });
});
