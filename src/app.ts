import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import type { Config } from './config';
import { openDataSource, provideDatabase, type DatabaseServer } from './database';
import type { Logger } from './logger';
import { buildAppSchema } from './schema/build-schema';
import { startApiServer, type ApiServer } from './server';
import { createServices, type Services } from './services';
import { type Clock, systemClock } from './services/clock';
import { createLiveEvents } from './services/live-events';

export interface App {
  services: Services;
  dataSource: DataSource;
  api: ApiServer | undefined;
  stop(): Promise<void>;
}

/** Opens the database, wires the services and starts the roles the config asks for. */
export async function startApp(config: Config, logger: Logger, clock: Clock = systemClock): Promise<App> {
  const database: DatabaseServer = await provideDatabase(config, logger);
  let dataSource: DataSource | undefined;
  try {
    dataSource = await openDataSource(database.url, config.databasePoolSize, logger);
    const services = createServices(dataSource, createLiveEvents(), clock, {
      jwtSecret: await resolveJwtSecret(config),
      accessTokenTtlSeconds: config.accessTokenTtlSeconds,
      customerTokenTtlSeconds: config.customerTokenTtlSeconds,
    });
    if (config.seedDemoData) {
      const demo = await services.tenantSetup.seedDemoIfEmpty();
      if (demo) {
        logger.info(`demo data created: sign in as ${demo.admin} with password ${demo.password} (tenant ${demo.tenant})`);
      }
    }
    const api =
      config.role === 'worker'
        ? undefined
        : await startApiServer({ config, schema: buildAppSchema(services.live), services, dataSource, logger });
    const openedDataSource = dataSource;
    return {
      services,
      dataSource,
      api,
      stop: async () => {
        await api?.stop();
        await openedDataSource.destroy();
        await database.stop();
      },
    };
  } catch (error) {
    await dataSource?.destroy().catch(() => undefined);
    await database.stop().catch(() => undefined);
    throw error;
  }
}

/** JWT_SECRET, or outside production a random secret kept under DATA_DIR so tokens survive restarts. */
async function resolveJwtSecret(config: Config): Promise<string> {
  if (config.jwtSecret) return config.jwtSecret;
  const file = path.resolve(config.dataDir, 'jwt-secret');
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  await mkdir(path.dirname(file), { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  await writeFile(file, secret + '\n', { mode: 0o600 });
  return secret;
}
