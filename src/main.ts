import 'reflect-metadata';
import pino from 'pino';
import { startApp } from './app';
import { ConfigError, loadConfig, type Config } from './config';
import { createLogger, type Logger } from './logger';

/**
 * The logger for a failure before or during start-up: the configured format when the
 * configuration could be read, otherwise the one it would have chosen (JSON with
 * LOG_FORMAT=json or NODE_ENV=production), written synchronously so the line is out before
 * the process exits.
 */
function failureLogger(config: Config | undefined): Logger {
  const format =
    config?.logFormat ??
    (process.env.LOG_FORMAT === 'json' || (process.env.NODE_ENV === 'production' && process.env.LOG_FORMAT !== 'text')
      ? 'json'
      : 'text');
  return createLogger({ level: 'info', format }, pino.destination({ sync: true }));
}

let config: Config | undefined;

async function main(): Promise<void> {
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      failureLogger(undefined).error(error.message, { code: 'INVALID_CONFIGURATION' });
      process.exit(1);
    }
    throw error;
  }
  const settings = config;
  const logger = createLogger({ level: settings.logLevel, format: settings.logFormat });
  // Handlers first: a worker runs jobs before start-up has finished, and a signal in that
  // window must still drain and release them rather than kill the process outright.
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    const force = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, settings.shutdownTimeoutMs + 10_000);
    force.unref();
    try {
      // Nothing can run between registering the handlers and starting: `started` is set by then.
      await (await started).stop();
      logger.info('stopped cleanly');
      process.exit(0);
    } catch (error) {
      logger.error('shutdown failed', { error });
      process.exit(1);
    }
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  const started = startApp(settings, logger);
  const app = await started;
  if (stopping) return;
  if (app.api) {
    // The IDE is named only where it is served (production serves it only with GRAPHQL_IDE=true).
    const ide = settings.ide ? ` (GraphQL IDE at ${app.api.url}/)` : '';
    logger.info(`Notify Desk API ready at ${app.api.url}/graphql${ide}`, { role: settings.role });
  } else logger.info('Notify Desk worker running', { role: settings.role });
}

main().catch((error: unknown) => {
  failureLogger(config).error(`Failed to start: ${error instanceof Error ? error.message : String(error)}`, { error });
  process.exit(1);
});
