import 'reflect-metadata';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { ENTITIES } from './src/entities';
import { MIGRATIONS } from './src/migrations';

/**
 * TypeORM options shared by the service, the tests and the TypeORM CLI.
 * Entities and migrations are listed explicitly, so the same code runs from
 * `dist/` and under ts-jest without path globs. The schema only changes through
 * migrations: `synchronize` stays off.
 */
export function dataSourceOptions(url: string, poolSize = 10): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'schema_migration',
    migrationsTransactionMode: 'each',
    synchronize: false,
    // gen_random_uuid() is built into PostgreSQL 13+: no extension to install.
    uuidExtension: 'pgcrypto',
    installExtensions: false,
    logging: ['error'],
    extra: { max: poolSize, application_name: 'notify-desk' },
  };
}

/** Used by the TypeORM CLI: `npx typeorm -d dist/ormconfig.js migration:run`. */
export default new DataSource(dataSourceOptions(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/notify_desk'));
