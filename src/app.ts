import { startMetricsServer } from './metrics';
import { countPerTenant } from './services/platform/metrics';
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { LocalFileStore, S3FileStore } from './services/files/file-store';
import type { DataSource } from 'typeorm';
import type { Config } from './config';
import { openDataSource, provideDatabase, type DatabaseServer } from './database';
import { DeliveryDispatcher } from './jobs/delivery-dispatcher';
import { EventRelay } from './jobs/event-relay';
import { jobSchedules } from './jobs/scheduled-job';
import { Scheduler } from './jobs/scheduler';
import type { Logger } from './logger';
import { PgListener } from './pg-listener';
import { RedisSlots, SharedRateLimiter } from './channels/shared-rate-limiter';
import type { Redis } from 'ioredis';
import { redisClient } from './redis';
import { buildAppSchema } from './schema/build-schema';
import { startApiServer, type ApiServer } from './server';
import { createServices, type ServiceSettings, type Services } from './services';
import { PRINCIPAL_CHANGED_CHANNEL, type PrincipalCache } from './services/directory/principal-cache';
import { type Clock, systemClock } from './services/platform/clock';
import { type LiveEvents, createLiveEvents } from './services/platform/live-events';
import { type LiveTransport, createLiveTransport } from './live-transport';

export interface App {
  services: Services;
  dataSource: DataSource;
  api: ApiServer | undefined;
  dispatcher: DeliveryDispatcher | undefined;
  relay: EventRelay | undefined;
  scheduler: Scheduler;
  stop(): Promise<void>;
}

/** Opens the database, wires the services and starts the roles the config asks for. */
export async function startApp(config: Config, logger: Logger, clock: Clock = systemClock): Promise<App> {
  countPerTenant(config.metricsPerTenant);
  const database: DatabaseServer = await provideDatabase(config, logger);
  let dataSource: DataSource | undefined;
  let scheduler: Scheduler | undefined;
  let transport: LiveTransport | undefined;
  let paceRedis: Redis | undefined;
  try {
    // Workers run long batches; the API's requests get a statement timeout.
    dataSource = await openDataSource(database.url, config.databasePoolSize, logger, {
      statementTimeoutMs: config.role === 'api' ? config.statementTimeoutMs : 0,
      preparedStatements: config.databasePreparedStatements,
    });
    transport = await createLiveTransport({ dataSource, databaseUrl: database.url, redisUrl: config.redisUrl, logger });
    // With REDIS_URL, workers share provider send slots through Redis instead of PostgreSQL.
    paceRedis = config.redisUrl ? redisClient(config.redisUrl, 'pace', logger) : undefined;
    const pacer = paceRedis ? new SharedRateLimiter(new RedisSlots(paceRedis)) : undefined;
    const services = await servicesFor(config, dataSource, clock, { logger, live: transport.live, pacer });
    await services.providers.assertCredentialsReadable();
    if (config.seedDemoData) {
      const demo = await services.tenantSetup.seedDemoIfEmpty();
      if (demo) {
        logger.info(`demo data created: sign in as ${demo.admin} with password ${demo.password} (tenant ${demo.tenant})`);
      }
    }
    // Every role queues job runs (runJobNow); only workers run them.
    scheduler = await Scheduler.open({
      databaseUrl: database.url,
      config,
      services,
      logger,
      processing: config.role !== 'api',
    });
    services.jobs.useQueue(scheduler);
    services.ruleRuns.useDelayWaker(scheduler);
    // API processes cache the principals of tokens, exactly: forgotten on each change notice.
    const principalNotices =
      config.role === 'worker' ? undefined : listenForPrincipalChanges(database.url, services.auth.principals, logger);
    await principalNotices?.start();
    const api =
      config.role === 'worker'
        ? undefined
        : await startApiServer({ config, schema: buildAppSchema(services.live), services, dataSource, logger });
    const dispatcher =
      config.role === 'api'
        ? undefined
        : new DeliveryDispatcher(
            services.dispatch,
            database.url,
            { sweepMs: config.delivery.sweepMs, concurrency: config.delivery.concurrency, batchSize: config.delivery.batchSize },
            logger,
          );
    await dispatcher?.start();
    const relay =
      config.role === 'api' ? undefined : new EventRelay(services.events, database.url, config.events.sweepMs, logger);
    await relay?.start();
    const metrics =
      config.role === 'worker' && config.metricsPort
        ? await startMetricsServer(config.metricsPort, config.host, dataSource, logger, config.metricsToken)
        : undefined;
    const openedDataSource = dataSource;
    const openedScheduler = scheduler;
    const openedTransport = transport;
    return {
      services,
      dataSource,
      api,
      dispatcher,
      relay,
      scheduler,
      stop: async () => {
        await api?.stop();
        await principalNotices?.stop();
        await openedScheduler.stop(config.shutdownTimeoutMs);
        await dispatcher?.stop();
        await relay?.stop();
        await new Promise((resolve) => (metrics ? metrics.server.close(resolve) : resolve(undefined)));
        await openedTransport.close();
        paceRedis?.disconnect();
        await openedDataSource.destroy();
        await database.stop();
      },
    };
  } catch (error) {
    await scheduler?.stop().catch(() => undefined);
    await transport?.close().catch(() => undefined);
    paceRedis?.disconnect();
    await dataSource?.destroy().catch(() => undefined);
    await database.stop().catch(() => undefined);
    throw error;
  }
}

function listenForPrincipalChanges(databaseUrl: string, principals: PrincipalCache, logger: Logger): PgListener {
  return new PgListener({
    databaseUrl,
    channels: [PRINCIPAL_CHANGED_CHANNEL],
    name: 'principal changes',
    logger,
    onNotification: (_channel, id) => principals.forget(id ?? ''),
    onConnect: () => principals.connected(),
    onLost: () => principals.disconnected(),
  });
}

/** The services as configured: secrets from the environment, or outside production kept under DATA_DIR. */
export async function servicesFor(
  config: Config,
  dataSource: DataSource,
  clock: Clock = systemClock,
  overrides: Pick<ServiceSettings, 'logger' | 'pacer'> & { live?: LiveEvents } = {},
): Promise<Services> {
  const { live = createLiveEvents(), ...settings } = overrides;
  const jwtSecret =
    config.jwtSecret ?? (await localSecret(config.dataDir, 'jwt-secret', () => randomBytes(48).toString('base64url')));
  return createServices(dataSource, live, clock, {
    auth: {
      jwtSecret,
      accessTokenTtlSeconds: config.accessTokenTtlSeconds,
      customerTokenTtlSeconds: config.customerTokenTtlSeconds,
    },
    credentialsKey:
      config.credentialsKey ?? (await localSecret(config.dataDir, 'credentials-key', () => randomBytes(32).toString('base64'))),
    delivery: config.delivery,
    jobs: {
      schedules: jobSchedules(config),
      failureLimit: config.scheduler.failureLimit,
      staleAfterMs: config.scheduler.lockLifetimeMs,
    },
    slaWarningCooldownMinutes: config.scheduler.slaWarningCooldownMinutes,
    events: config.events,
    completions: config.completions,
    campaigns: config.campaigns,
    files: {
      store: config.files.s3 ? new S3FileStore(config.files.s3) : new LocalFileStore(path.resolve(config.dataDir, 'files')),
      linkSecret: createHmac('sha256', jwtSecret).update('file links').digest('base64url'),
      maxBytes: config.files.maxBytes,
      linkTtlSeconds: config.files.linkTtlSeconds,
    },
    ...settings,
  });
}

/** A development secret generated once and kept (mode 0600) under DATA_DIR, so it survives restarts. */
async function localSecret(dataDir: string, name: string, generate: () => string): Promise<string> {
  const file = path.resolve(dataDir, name);
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  await mkdir(path.dirname(file), { recursive: true });
  const secret = generate();
  await writeFile(file, secret + '\n', { mode: 0o600 });
  return secret;
}
