import { CronExpressionParser } from 'cron-parser';
import { IANAZone } from 'luxon';
import type { CompletionSettings } from './services/completions/completion.service';
import { isIP } from 'node:net';
import { parseValidity } from './services/delivery/validity';

/**
 * Every environment variable the service reads, validated once at boot.
 * A bad value stops the process with the variable's name and the reason.
 */

export type NodeEnv = 'development' | 'production' | 'test';
export type ProcessRole = 'api' | 'worker' | 'all';

/** Where uploaded and received files are kept, and their limits. */
export interface FileSettings {
  /** Largest file accepted, in bytes. */
  maxBytes: number;
  /** How long a download link works. */
  linkTtlSeconds: number;
  /** An S3-compatible bucket; undefined keeps files under DATA_DIR/files. */
  s3:
    | {
        endpoint: string | undefined;
        bucket: string;
        region: string;
        accessKeyId: string | undefined;
        secretAccessKey: string | undefined;
        forcePathStyle: boolean;
      }
    | undefined;
}

export interface Config {
  nodeEnv: NodeEnv;
  role: ProcessRole;
  host: string;
  port: number;
  /** Empty: the service runs an embedded PostgreSQL under `dataDir`. */
  databaseUrl: string | undefined;
  databasePoolSize: number;
  /** Hot statements run as named prepared statements (off behind a pooler that cannot keep them). */
  databasePreparedStatements: boolean;
  dataDir: string;
  embeddedPostgresPort: number;
  /** Undefined outside production: a random secret is kept under `dataDir`. */
  jwtSecret: string | undefined;
  accessTokenTtlSeconds: number;
  customerTokenTtlSeconds: number;
  seedDemoData: boolean;
  corsOrigins: string[] | '*';
  /** Express `trust proxy`: how many proxy hops set X-Forwarded-For (0: none). */
  trustProxyHops: number;
  logLevel: LogLevel;
  logFormat: 'text' | 'json';
  shutdownTimeoutMs: number;
  /** Longest an HTTP GraphQL request may take before it is answered REQUEST_TIMEOUT (0: no limit). */
  requestTimeoutMs: number;
  /** Undefined outside production: a random key is kept under `dataDir`. */
  credentialsKey: string | undefined;
  metaAppSecret: string | undefined;
  metaVerifyToken: string | undefined;
  delivery: DeliverySettings;
  scheduler: SchedulerSettings;
  events: EventSettings;
  completions: CompletionSettings;
  campaigns: { batchSize: number; pollMs: number };
  /** In the api role, longest a statement may run (0: no limit). */
  statementTimeoutMs: number;
  /** Who may introspect the schema: everyone, signed-in staff only, or nobody. */
  introspection: 'all' | 'staff' | 'off';
  /** Whether the GraphQL IDE is served (always outside production; in production only when asked). */
  ide: boolean;
  /** Empty: live events cross processes through PostgreSQL LISTEN/NOTIFY. */
  redisUrl: string | undefined;
  /** Bearer token /metrics asks for; open when unset. */
  metricsToken: string | undefined;
  files: FileSettings;
  /** Operations and deliveries counted per tenant (a `tenant` label). */
  metricsPerTenant: boolean;
  /** A worker's own /metrics port (0: none). */
  metricsPort: number;
}

export interface EventSettings {
  /** Periodic relay pass besides the wake-up at commit (retries that came due, and a fallback). */
  sweepMs: number;
  batchSize: number;
  maxAttempts: number;
  backoffBaseMs: number;
  retentionDays: number;
  /** How often the worker looks for delayed rule executions that came due. */
  ruleDelayPollMs: number;
  /** How often the worker scans relative-date rules for what is due today. */
  ruleDateScanMs: number;
  /** Days skipped rule executions are kept. */
  ruleSkippedRetentionDays: number;
  /** Hours a request made with an idempotency key is remembered. */
  idempotencyRetentionHours: number;
}

export interface SchedulerSettings {
  /** Empty: Agenda keeps its jobs in PostgreSQL (the application database). */
  mongodbUrl: string | undefined;
  slaMonitorCron: string;
  escalationsCron: string;
  timezone: string;
  /** How often a worker looks for due jobs (new runs requested over the API also wake it at once on PostgreSQL). */
  processEveryMs: number;
  /** How long a worker holds a running job before another may take it over. */
  lockLifetimeMs: number;
  failureLimit: number;
  slaWarningCooldownMinutes: number;
}

export interface DeliverySettings {
  /** Retries after the first attempt before a delivery is dead. */
  retries: number;
  /** First retry delay; each next one doubles (5 s, 10 s, 20 s), with ±10% jitter. */
  backoffBaseMs: number;
  /** How long a claimed delivery may stay `sending` before another worker reclaims it. */
  leaseMs: number;
  batchSize: number;
  /** Periodic sweep besides the immediate wake-up on enqueue. */
  sweepMs: number;
  circuitFailureThreshold: number;
  circuitCooldownMs: number;
  /** How long one provider request may take before it counts as a transient failure. */
  sendTimeoutMs: number;
  /** Sends in flight at once per worker process. */
  concurrency: number;
  /** Sends in flight at once to one provider per worker process (one while it is failing). */
  providerMaxInFlight: number;
  /** Addresses or CIDR ranges outbound requests may reach although loopback, private or link-local. */
  allowedAddresses: string[];
  /** How long a message of a notification type without a default of its own is worth sending. */
  defaultValidityMinutes: number;
  /** A provider whose every request in flight has been out this long counts as failing for routing. */
  providerSlowMs: number;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    reason: string,
  ) {
    super(`Invalid configuration: ${variable} ${reason}`);
    this.name = 'ConfigError';
  }
}

interface VariableSpec {
  description: string;
  default: string;
  secret?: boolean;
}

/** The documentation of every variable; the README's configuration table mirrors it. */
export const VARIABLES: Record<string, VariableSpec> = {
  NODE_ENV: { description: 'development, production or test', default: 'development' },
  ROLE: { description: 'api, worker or all (both in one process)', default: 'all' },
  HOST: { description: 'interface the HTTP server binds to', default: '127.0.0.1' },
  PORT: { description: 'HTTP port', default: '4000' },
  DATABASE_URL: {
    description: 'PostgreSQL connection string; empty runs an embedded PostgreSQL under DATA_DIR',
    default: '',
    secret: true,
  },
  DATABASE_POOL_SIZE: { description: 'connections in the database pool', default: '10' },
  DATABASE_PREPARED_STATEMENTS: {
    description:
      'run the hot statements (tickets list, dispatcher) as prepared statements; false behind a pooler in transaction mode that cannot keep them',
    default: 'true',
  },
  DATA_DIR: { description: 'where the embedded database and the development secret live', default: './.data' },
  EMBEDDED_PG_PORT: { description: 'port of the embedded PostgreSQL', default: '5488' },
  JWT_SECRET: {
    description: 'HS256 signing secret (32+ characters); required in production',
    default: 'random, kept in DATA_DIR',
    secret: true,
  },
  ACCESS_TOKEN_TTL_SECONDS: { description: 'lifetime of a staff access token', default: '43200' },
  CUSTOMER_TOKEN_TTL_SECONDS: { description: 'lifetime of a customer token', default: '86400' },
  SEED_DEMO_DATA: {
    description: 'create the demo tenant on an empty database',
    default: 'true, false when NODE_ENV=production',
  },
  CORS_ORIGINS: { description: 'comma-separated allowed origins, or *', default: '*' },
  TRUST_PROXY_HOPS: {
    description: 'reverse proxies in front that set X-Forwarded-For (client addresses for sign-in throttling)',
    default: '0',
  },
  LOG_LEVEL: { description: 'debug, info, warn or error', default: 'info' },
  LOG_FORMAT: {
    description: 'text (readable, via pino-pretty when installed) or json (one line per event)',
    default: 'text, json when NODE_ENV=production',
  },
  SHUTDOWN_TIMEOUT_MS: { description: 'how long shutdown waits for requests to drain', default: '10000' },
  CREDENTIALS_KEY: {
    description: 'base64 of 32 random bytes: encrypts provider credentials at rest; required in production',
    default: 'random, kept in DATA_DIR',
    secret: true,
  },
  META_APP_SECRET: {
    description: 'Meta app secret: verifies X-Hub-Signature-256 of WhatsApp webhooks',
    default: '',
    secret: true,
  },
  MAX_UPLOAD_BYTES: { description: 'largest file accepted for upload or from a provider, in bytes', default: '16777216' },
  FILE_LINK_TTL_SECONDS: { description: 'how long a signed file download link works', default: '300' },
  S3_BUCKET: { description: 'keep files in this S3-compatible bucket instead of DATA_DIR/files', default: '' },
  S3_ENDPOINT: { description: 'S3-compatible endpoint (MinIO, R2...); empty for AWS S3', default: '' },
  S3_REGION: { description: 'region of the bucket', default: 'us-east-1' },
  S3_ACCESS_KEY_ID: { description: 'access key of the bucket; empty uses the AWS default credential chain', default: '' },
  S3_SECRET_ACCESS_KEY: { description: 'secret key of the bucket', default: '', secret: true },
  S3_FORCE_PATH_STYLE: { description: 'address the bucket as endpoint/bucket (MinIO)', default: 'true when S3_ENDPOINT is set' },
  META_VERIFY_TOKEN: { description: 'token Meta echoes in the webhook verification handshake', default: '', secret: true },
  DELIVERY_RETRIES: { description: 'retries after the first attempt before a delivery is dead', default: '3' },
  DELIVERY_BACKOFF_BASE_MS: { description: 'first retry delay, doubling each time (5 s, 10 s, 20 s)', default: '5000' },
  DELIVERY_LEASE_MS: { description: 'how long a claimed delivery may stay sending before it is reclaimed', default: '60000' },
  DISPATCHER_BATCH_SIZE: { description: 'deliveries claimed per batch', default: '100' },
  DISPATCHER_SWEEP_MS: {
    description: 'periodic sweep for due deliveries (enqueues wake the dispatcher at once)',
    default: '1000',
  },
  CIRCUIT_FAILURE_THRESHOLD: { description: 'failures in a row that open a provider circuit', default: '3' },
  CIRCUIT_COOLDOWN_MS: { description: 'how long an open circuit skips its provider before one probe', default: '30000' },
  PROVIDER_TIMEOUT_MS: { description: 'how long one provider request may take before it counts as failed', default: '10000' },
  DISPATCHER_CONCURRENCY: { description: 'sends in flight at once per worker', default: '32' },
  PROVIDER_SLOW_MS: {
    description:
      'a provider whose every request in flight has been out this long is passed over for the next provider (hung, not yet timed out)',
    default: '2000',
  },
  DELIVERY_DEFAULT_VALIDITY: {
    description:
      'how long a message is worth sending when its notification type has no default of its own (e.g. 90m, 72h, 3d); past it, EXPIRED',
    default: '72h',
  },
  PROVIDER_MAX_IN_FLIGHT: {
    description: 'sends in flight at once to one provider per worker (one while it is failing)',
    default: '8',
  },
  OUTBOUND_ALLOWED_ADDRESSES: {
    description:
      'comma-separated addresses or CIDR ranges that providers and webhooks may reach although loopback, private or link-local',
    default: '',
  },
  METRICS_TOKEN: { description: 'bearer token GET /metrics asks for (open when empty)', default: '', secret: true },
  METRICS_PER_TENANT: {
    description: 'count GraphQL operations and deliveries per tenant (a tenant label: one series per tenant)',
    default: 'false',
  },
  METRICS_PORT: {
    description: 'port on which a worker (ROLE=worker, which has no API server) serves GET /metrics; 0: none',
    default: '0',
  },
  REDIS_URL: {
    description:
      'Redis for live events across processes (pub/sub) and shared provider rate limits; empty uses PostgreSQL (LISTEN/NOTIFY, provider_pace)',
    default: '',
    secret: true,
  },
  MONGODB_URL: {
    description: "MongoDB connection string for Agenda's jobs; empty keeps them in PostgreSQL",
    default: '',
    secret: true,
  },
  SLA_MONITOR_CRON: { description: 'cron schedule of the sla-monitor job', default: '*/15 * * * *' },
  ESCALATIONS_CRON: { description: 'cron schedule of the escalations job', default: '0 * * * *' },
  JOBS_TIMEZONE: { description: 'IANA timezone the job schedules are read in', default: 'UTC' },
  SCHEDULER_PROCESS_EVERY_MS: { description: 'how often a worker looks for due jobs', default: '5000' },
  SCHEDULER_LOCK_LIFETIME_MS: {
    description: 'how long a worker holds a running job before another worker may take it over',
    default: '600000',
  },
  JOB_FAILURE_LIMIT: { description: "failed runs in a row that pause a tenant's job and alert its admins", default: '3' },
  EVENT_RELAY_SWEEP_MS: {
    description: 'periodic outbox relay pass (commits wake the relay at once)',
    default: '1000',
  },
  EVENT_RELAY_BATCH_SIZE: { description: 'domain events handed on to consumers per pass', default: '500' },
  EVENT_CONSUMER_MAX_ATTEMPTS: {
    description: 'tries of one event by one consumer before it is parked for an operator',
    default: '5',
  },
  EVENT_CONSUMER_BACKOFF_MS: { description: 'first retry delay of a failing event consumer, doubling', default: '1000' },
  EVENT_RETENTION_DAYS: { description: 'how long handled domain events are kept before pruning', default: '7' },
  IDEMPOTENCY_RETENTION_HOURS: {
    description: 'how long a request made with an idempotency key is remembered (a retry within it gets the first answer)',
    default: '24',
  },
  REQUEST_TIMEOUT_MS: {
    description: 'longest an HTTP GraphQL request may take before it is answered REQUEST_TIMEOUT (0: no limit)',
    default: '30000',
  },
  DB_STATEMENT_TIMEOUT_MS: {
    description: 'in the api role, longest a database statement may run before it is stopped (0: no limit)',
    default: '30000',
  },
  GRAPHQL_INTROSPECTION: {
    description: 'who may introspect the schema: all, staff (signed-in staff only) or off',
    default: 'all outside production, staff in production',
  },
  GRAPHQL_IDE: { description: 'serve the GraphQL IDE in production too (always served outside production)', default: 'false' },
  PUBLIC_URL: {
    description: 'where customers reach the API from outside, for links in messages (e.g. https://api.example.com)',
    default: 'http://localhost:<PORT>',
  },
  COMPLETION_DEADLINE_HOURS: { description: 'default time a customer has to confirm a finished job', default: '48' },
  COMPLETION_REMINDER_HOURS: { description: 'hours between reminders of an unanswered completion request', default: '12' },
  COMPLETION_AUTO_COMPLETE_DAYS: {
    description: 'days after which an unanswered completion request may auto-complete',
    default: '7',
  },
  COMPLETION_AUTO_COMPLETE_ATTEMPTS: {
    description: 'failed contact attempts needed before a completion request auto-completes',
    default: '3',
  },
  CAMPAIGN_BATCH_SIZE: { description: 'campaign recipients enqueued per transaction (one INSERT each)', default: '5000' },
  CAMPAIGN_POLL_MS: { description: 'how often the worker starts due campaigns and enqueues their recipients', default: '1000' },
  RULE_DELAY_POLL_MS: { description: 'how often the worker acts on delayed rule executions that came due', default: '5000' },
  RULE_DATE_SCAN_MS: { description: 'how often the worker scans relative-date rules for what is due today', default: '60000' },
  RULE_SKIPPED_RETENTION_DAYS: {
    description: 'days the record of a rule that did not act on an event is kept (acted-on ones stay)',
    default: '30',
  },
  SLA_WARNING_COOLDOWN_MINUTES: { description: 'least time between two SLA warnings about one ticket', default: '30' },
};

type Env = Record<string, string | undefined>;

function read(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === '' ? undefined : value;
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const value = read(env, name) ?? fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(name, `must be one of ${allowed.join(', ')} (got "${value}")`);
  }
  return value as T;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number (got "${raw}")`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max} (got ${value})`);
  return value;
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  if (['true', '1', 'yes'].includes(raw.toLowerCase())) return true;
  if (['false', '0', 'no'].includes(raw.toLowerCase())) return false;
  throw new ConfigError(name, `must be true or false (got "${raw}")`);
}

function addressList(env: Env, name: string): string[] {
  const entries = (read(env, name) ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  for (const entry of entries) {
    const [address, bits] = entry.split('/');
    const valid =
      isIP(address) !== 0 && (bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= (isIP(address) === 4 ? 32 : 128)));
    if (!valid)
      throw new ConfigError(name, `has "${entry}", which is not an IP address or CIDR range (e.g. 127.0.0.1 or 10.0.0.0/8)`);
  }
  return entries;
}

function validity(env: Env, name: string, fallback: string): number {
  const minutes = parseValidity(read(env, name) ?? fallback);
  if (minutes === null) throw new ConfigError(name, 'must be a duration of 1 minute to 30 days such as 90m, 72h or 3d');
  return minutes;
}

function cron(env: Env, name: string, fallback: string, timezone: string): string {
  const value = read(env, name) ?? fallback;
  try {
    CronExpressionParser.parse(value, { tz: timezone });
  } catch (error) {
    throw new ConfigError(name, `must be a cron expression such as "${fallback}" (${(error as Error).message})`);
  }
  return value;
}

function fileSettings(env: Env): FileSettings {
  const bucket = read(env, 'S3_BUCKET');
  const endpoint = read(env, 'S3_ENDPOINT');
  if (endpoint !== undefined && !/^https?:\/\/\S+$/.test(endpoint))
    throw new ConfigError('S3_ENDPOINT', 'must be an http(s) URL such as https://minio.example.com');
  if (endpoint !== undefined && bucket === undefined) throw new ConfigError('S3_BUCKET', 'is required with S3_ENDPOINT');
  return {
    maxBytes: integer(env, 'MAX_UPLOAD_BYTES', 16 * 1024 * 1024, 1024, 2 * 1024 * 1024 * 1024 - 1),
    linkTtlSeconds: integer(env, 'FILE_LINK_TTL_SECONDS', 300, 10, 7 * 24 * 3600),
    s3: bucket
      ? {
          endpoint,
          bucket,
          region: read(env, 'S3_REGION') ?? 'us-east-1',
          accessKeyId: read(env, 'S3_ACCESS_KEY_ID'),
          secretAccessKey: read(env, 'S3_SECRET_ACCESS_KEY'),
          forcePathStyle: boolean(env, 'S3_FORCE_PATH_STYLE', endpoint !== undefined),
        }
      : undefined,
  };
}

export function loadConfig(env: Env = process.env): Config {
  const nodeEnv = oneOf(env, 'NODE_ENV', ['development', 'production', 'test'] as const, 'development');
  const production = nodeEnv === 'production';

  const databaseUrl = read(env, 'DATABASE_URL');
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL', 'must start with postgres:// or postgresql://');
  }
  const publicUrl = read(env, 'PUBLIC_URL');
  if (publicUrl !== undefined && !/^https?:\/\/[^\s/]+(\/\S*)?$/.test(publicUrl)) {
    throw new ConfigError('PUBLIC_URL', 'must be an http(s) URL such as https://api.example.com');
  }

  const jwtSecret = read(env, 'JWT_SECRET');
  if (jwtSecret !== undefined && jwtSecret.length < 32) {
    throw new ConfigError('JWT_SECRET', 'must be at least 32 characters long');
  }
  if (production && jwtSecret === undefined) {
    throw new ConfigError('JWT_SECRET', 'is required when NODE_ENV=production');
  }

  const credentialsKey = read(env, 'CREDENTIALS_KEY');
  if (credentialsKey !== undefined && Buffer.from(credentialsKey, 'base64').length !== 32) {
    throw new ConfigError('CREDENTIALS_KEY', 'must be 32 bytes, base64-encoded (e.g. `openssl rand -base64 32`)');
  }
  if (production && credentialsKey === undefined) {
    throw new ConfigError('CREDENTIALS_KEY', 'is required when NODE_ENV=production');
  }

  const mongodbUrl = read(env, 'MONGODB_URL');
  if (mongodbUrl !== undefined && !/^mongodb(\+srv)?:\/\//.test(mongodbUrl)) {
    throw new ConfigError('MONGODB_URL', 'must start with mongodb:// or mongodb+srv://');
  }
  const redisUrl = read(env, 'REDIS_URL');
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl)) {
    throw new ConfigError('REDIS_URL', 'must start with redis:// or rediss://');
  }
  const timezone = read(env, 'JOBS_TIMEZONE') ?? 'UTC';
  if (!IANAZone.isValidZone(timezone)) throw new ConfigError('JOBS_TIMEZONE', `must be an IANA timezone (got "${timezone}")`);

  const corsRaw = read(env, 'CORS_ORIGINS') ?? '*';
  const corsOrigins =
    corsRaw === '*'
      ? '*'
      : corsRaw.split(',').map((origin) => {
          const trimmed = origin.trim();
          if (!/^https?:\/\/[^/]+$/.test(trimmed)) {
            throw new ConfigError('CORS_ORIGINS', `has an invalid origin "${trimmed}" (expected scheme://host[:port])`);
          }
          return trimmed;
        });

  return {
    nodeEnv,
    role: oneOf(env, 'ROLE', ['api', 'worker', 'all'] as const, 'all'),
    host: read(env, 'HOST') ?? '127.0.0.1',
    port: integer(env, 'PORT', 4000, 0, 65535),
    databaseUrl,
    databasePoolSize: integer(env, 'DATABASE_POOL_SIZE', 10, 1, 500),
    databasePreparedStatements: boolean(env, 'DATABASE_PREPARED_STATEMENTS', true),
    dataDir: read(env, 'DATA_DIR') ?? './.data',
    embeddedPostgresPort: integer(env, 'EMBEDDED_PG_PORT', 5488, 1, 65535),
    jwtSecret,
    accessTokenTtlSeconds: integer(env, 'ACCESS_TOKEN_TTL_SECONDS', 43200, 60, 31 * 24 * 3600),
    customerTokenTtlSeconds: integer(env, 'CUSTOMER_TOKEN_TTL_SECONDS', 86400, 60, 31 * 24 * 3600),
    seedDemoData: boolean(env, 'SEED_DEMO_DATA', !production),
    corsOrigins,
    trustProxyHops: integer(env, 'TRUST_PROXY_HOPS', 0, 0, 10),
    logLevel: oneOf(env, 'LOG_LEVEL', ['debug', 'info', 'warn', 'error'] as const, 'info'),
    logFormat: oneOf(env, 'LOG_FORMAT', ['text', 'json'] as const, production ? 'json' : 'text'),
    shutdownTimeoutMs: integer(env, 'SHUTDOWN_TIMEOUT_MS', 10000, 0, 600000),
    requestTimeoutMs: integer(env, 'REQUEST_TIMEOUT_MS', 30_000, 0, 3_600_000),
    credentialsKey,
    metaAppSecret: read(env, 'META_APP_SECRET'),
    metaVerifyToken: read(env, 'META_VERIFY_TOKEN'),
    delivery: {
      retries: integer(env, 'DELIVERY_RETRIES', 3, 0, 20),
      backoffBaseMs: integer(env, 'DELIVERY_BACKOFF_BASE_MS', 5000, 0, 3_600_000),
      leaseMs: integer(env, 'DELIVERY_LEASE_MS', 60000, 1000, 3_600_000),
      batchSize: integer(env, 'DISPATCHER_BATCH_SIZE', 100, 1, 5000),
      sweepMs: integer(env, 'DISPATCHER_SWEEP_MS', 1000, 10, 600_000),
      circuitFailureThreshold: integer(env, 'CIRCUIT_FAILURE_THRESHOLD', 3, 1, 100),
      circuitCooldownMs: integer(env, 'CIRCUIT_COOLDOWN_MS', 30000, 0, 3_600_000),
      sendTimeoutMs: integer(env, 'PROVIDER_TIMEOUT_MS', 10000, 100, 300_000),
      concurrency: integer(env, 'DISPATCHER_CONCURRENCY', 32, 1, 1000),
      providerMaxInFlight: integer(env, 'PROVIDER_MAX_IN_FLIGHT', 8, 1, 1000),
      allowedAddresses: addressList(env, 'OUTBOUND_ALLOWED_ADDRESSES'),
      defaultValidityMinutes: validity(env, 'DELIVERY_DEFAULT_VALIDITY', '72h'),
      providerSlowMs: integer(env, 'PROVIDER_SLOW_MS', 2000, 100, 300_000),
    },
    scheduler: {
      mongodbUrl,
      slaMonitorCron: cron(env, 'SLA_MONITOR_CRON', '*/15 * * * *', timezone),
      escalationsCron: cron(env, 'ESCALATIONS_CRON', '0 * * * *', timezone),
      timezone,
      processEveryMs: integer(env, 'SCHEDULER_PROCESS_EVERY_MS', 5000, 50, 600_000),
      lockLifetimeMs: integer(env, 'SCHEDULER_LOCK_LIFETIME_MS', 600_000, 1000, 24 * 3_600_000),
      failureLimit: integer(env, 'JOB_FAILURE_LIMIT', 3, 1, 100),
      slaWarningCooldownMinutes: integer(env, 'SLA_WARNING_COOLDOWN_MINUTES', 30, 0, 7 * 24 * 60),
    },
    redisUrl,
    metricsToken: read(env, 'METRICS_TOKEN') || undefined,
    files: fileSettings(env),
    metricsPerTenant: boolean(env, 'METRICS_PER_TENANT', false),
    metricsPort: integer(env, 'METRICS_PORT', 0, 0, 65535),
    statementTimeoutMs: integer(env, 'DB_STATEMENT_TIMEOUT_MS', 30_000, 0, 3_600_000),
    introspection: oneOf(env, 'GRAPHQL_INTROSPECTION', ['all', 'staff', 'off'] as const, production ? 'staff' : 'all'),
    ide: !production || boolean(env, 'GRAPHQL_IDE', false),
    completions: {
      publicUrl: publicUrl ?? `http://localhost:${integer(env, 'PORT', 4000, 0, 65535)}`,
      deadlineHours: integer(env, 'COMPLETION_DEADLINE_HOURS', 48, 1, 720),
      reminderHours: integer(env, 'COMPLETION_REMINDER_HOURS', 12, 1, 720),
      autoCompleteDays: integer(env, 'COMPLETION_AUTO_COMPLETE_DAYS', 7, 1, 365),
      autoCompleteAttempts: integer(env, 'COMPLETION_AUTO_COMPLETE_ATTEMPTS', 3, 0, 100),
    },
    campaigns: {
      batchSize: integer(env, 'CAMPAIGN_BATCH_SIZE', 5000, 1, 50_000),
      pollMs: integer(env, 'CAMPAIGN_POLL_MS', 1000, 10, 600_000),
    },
    events: {
      sweepMs: integer(env, 'EVENT_RELAY_SWEEP_MS', 1000, 10, 600_000),
      batchSize: integer(env, 'EVENT_RELAY_BATCH_SIZE', 500, 1, 10_000),
      maxAttempts: integer(env, 'EVENT_CONSUMER_MAX_ATTEMPTS', 5, 1, 100),
      backoffBaseMs: integer(env, 'EVENT_CONSUMER_BACKOFF_MS', 1000, 0, 3_600_000),
      retentionDays: integer(env, 'EVENT_RETENTION_DAYS', 7, 0, 3650),
      idempotencyRetentionHours: integer(env, 'IDEMPOTENCY_RETENTION_HOURS', 24, 1, 24 * 90),
      ruleDelayPollMs: integer(env, 'RULE_DELAY_POLL_MS', 5000, 100, 600_000),
      ruleDateScanMs: integer(env, 'RULE_DATE_SCAN_MS', 60_000, 1000, 3_600_000),
      ruleSkippedRetentionDays: integer(env, 'RULE_SKIPPED_RETENTION_DAYS', 30, 1, 3650),
    },
  };
}
