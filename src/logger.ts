import pino, { type DestinationStream, type Logger as Pino } from 'pino';
import type { LogLevel } from './config';

/**
 * Structured logging through pino: JSON lines for log collectors in production, and in
 * development readable lines through pino-pretty (a dev dependency; without it, JSON).
 * `child` binds fields (a request id, the tenant, the user) to every line after it.
 * Fields whose names look like secrets are masked, at any depth, so a careless call
 * cannot leak a credential; an Error is logged with its stack, once, under its field.
 */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

const SECRET_FIELD = /pass(word)?|secret|token|authorization|credential|apikey|api_key/i;

/** The fields as logged: secrets masked (nested objects too), errors as message and stack. */
export function clean(fields: Record<string, unknown>, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (SECRET_FIELD.test(key)) out[key] = '[redacted]';
    else if (value instanceof Error) out[key] = { type: value.name, message: value.message, stack: value.stack };
    else if (value && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date) && depth < 3) {
      out[key] = clean(value as Record<string, unknown>, depth + 1);
    } else out[key] = value;
  }
  return out;
}

function wrap(base: Pino): Logger {
  return {
    debug: (message, fields) => base.debug(fields ? clean(fields) : {}, message),
    info: (message, fields) => base.info(fields ? clean(fields) : {}, message),
    warn: (message, fields) => base.warn(fields ? clean(fields) : {}, message),
    error: (message, fields) => base.error(fields ? clean(fields) : {}, message),
    child: (fields) => wrap(base.child(clean(fields))),
  };
}

/** pino-pretty in the same thread, when it is installed (development); undefined otherwise. */
function prettyStream(): DestinationStream | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pretty = require('pino-pretty') as (options: Record<string, unknown>) => DestinationStream;
    return pretty({ sync: true, ignore: 'pid,hostname', translateTime: 'SYS:HH:MM:ss.l', singleLine: true });
  } catch {
    return undefined;
  }
}

/**
 * `destination`: where JSON lines go. By default standard output, written asynchronously
 * (lines logged while a write is under way go out together in the next one; pino flushes
 * what is left synchronously when the process exits), so logging never blocks a request.
 */
export function createLogger(options: { level: LogLevel; format: 'text' | 'json' }, destination?: DestinationStream): Logger {
  const settings = {
    level: options.level,
    messageKey: 'message',
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  const stream = options.format === 'text' ? prettyStream() : undefined;
  return wrap(pino(settings, stream ?? destination ?? pino.destination({ sync: false })));
}

export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silentLogger,
};
