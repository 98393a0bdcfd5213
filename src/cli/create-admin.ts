import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config';
import { openDataSource, provideDatabase } from '../database';
import { createLogger } from '../logger';
import { DomainError } from '../services/platform/errors';
import { servicesFor } from '../app';

const USAGE =
  'Usage: npm run create-admin -- --tenant <slug> --email <address> [--name "Full Name"] [--tenant-name "Company"] [--platform-admin]\n' +
  '       (in the container image: create-admin --tenant <slug> --email <address> ...)';

/**
 * Creates a tenant (when new) and an admin in it, and prints the admin's one-time password once.
 * `--platform-admin` makes the admin a platform super-admin (or grants an existing user that right):
 * the only way to get it, so no tenant's API can.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      tenant: { type: 'string' },
      email: { type: 'string' },
      name: { type: 'string' },
      'tenant-name': { type: 'string' },
      'platform-admin': { type: 'boolean', default: false },
    },
  });
  if (!values.tenant || !values.email) {
    process.stderr.write(`${USAGE}\n`);
    process.exit(2);
  }
  const config = loadConfig();
  const logger = createLogger({ level: 'warn', format: config.logFormat });
  const database = await provideDatabase(config, logger);
  const dataSource = await openDataSource(database.url, 2, logger);
  try {
    const services = await servicesFor(config, dataSource);
    const { user, password } = await services.tenantSetup.createAdmin({
      tenantSlug: values.tenant,
      tenantName: values['tenant-name'],
      email: values.email,
      name: values.name,
      platformAdmin: values['platform-admin'],
    });
    const rights = user.platformAdmin ? ' with platform super-admin rights' : '';
    process.stdout.write(
      password
        ? `Admin ${user.email} created in tenant ${values.tenant}${rights}.\nOne-time password (shown only now): ${password}\n`
        : `${user.email} in tenant ${values.tenant} now has platform super-admin rights.\n`,
    );
  } finally {
    await dataSource.destroy();
    await database.stop();
  }
}

main().catch((error: unknown) => {
  const known = error instanceof DomainError || error instanceof ConfigError;
  process.stderr.write(`create-admin failed: ${known || error instanceof Error ? (error as Error).message : String(error)}\n`);
  process.exit(1);
});
