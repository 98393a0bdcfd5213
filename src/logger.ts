import type { LogLevel } from './config';

/**
 * A deliberately small structured logger: one line per event, text for people in
 * development and JSON for log collectors in production. Fields whose names look
 * like secrets are masked so a careless call cannot leak a credential.
 */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SECRET_FIELD = /pass(word)?|secret|token|authorization|credential|apikey|api_key/i;

function clean(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (SECRET_FIELD.test(key)) out[key] = '[redacted]';
    else if (value instanceof Error) out[key] = value.message;
    else out[key] = value;
  }
  return out;
}

export function createLogger(options: { level: LogLevel; format: 'text' | 'json' }): Logger {
  const threshold = LEVELS[options.level];
  const write = (level: LogLevel, message: string, fields: Record<string, unknown> = {}): void => {
    if (LEVELS[level] < threshold) return;
    const safe = clean(fields);
    const stream = level === 'error' || level === 'warn' ? process.stderr : process.stdout;
    if (options.format === 'json') {
      stream.write(JSON.stringify({ time: new Date().toISOString(), level, message, ...safe }) + '\n');
      return;
    }
    const extra = Object.entries(safe)
      .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
      .join(' ');
    stream.write(`${level.toUpperCase().padEnd(5)} ${message}${extra ? ' ' + extra : ''}\n`);
  };
  return {
    debug: (message, fields) => write('debug', message, fields),
    info: (message, fields) => write('info', message, fields),
    warn: (message, fields) => write('warn', message, fields),
    error: (message, fields) => write('error', message, fields),
  };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
