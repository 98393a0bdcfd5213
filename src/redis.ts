import { Redis } from 'ioredis';
import type { Logger } from './logger';

/** A named Redis connection (REDIS_URL) whose errors are logged, not thrown; ioredis reconnects by itself. */
export function redisClient(url: string, name: string, logger: Logger): Redis {
  const client = new Redis(url, { connectionName: `notify-desk-${name}`, maxRetriesPerRequest: 3 });
  client.on('error', (error) => logger.warn(`redis ${name} connection: ${error.message}`));
  return client;
}
