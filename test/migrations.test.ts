import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../ormconfig';

describe('migrations', () => {
  it('leave the database exactly as the entities describe it (no schema change without a migration)', async () => {
    const dataSource = new DataSource(dataSourceOptions(process.env.TEST_DATABASE_URL!, 1));
    await dataSource.initialize();
    try {
      expect(await dataSource.showMigrations()).toBe(false);
      const pending = await dataSource.driver.createSchemaBuilder().log();
      expect(pending.upQueries.map((query) => query.query)).toEqual([]);
    } finally {
      await dataSource.destroy();
    }
  });
});
