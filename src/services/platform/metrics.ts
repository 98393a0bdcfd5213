import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The process's own counters (what this process did: operations answered, messages sent,
 * jobs run, webhooks received), in one registry with the default process metrics. Label
 * values are bounded: operation names are capped, no id is ever a label, and the tenant
 * only when the deployment asks for it (METRICS_PER_TENANT: operations and deliveries get
 * a `tenant` label, the tenant's id).
 * What is true of the whole system (queue depth, relay lag, circuits) is read from the
 * database at scrape time instead (src/metrics.ts).
 */
export const processRegistry = new Registry();
collectDefaultMetrics({ register: processRegistry });

export const graphqlOperations = new Counter({
  name: 'graphql_operations_total',
  help: 'GraphQL operations answered over HTTP, by operation name, type and outcome (ok or the error code).',
  labelNames: ['operation', 'type', 'outcome', 'tenant'] as const,
  registers: [processRegistry],
});

export const graphqlDuration = new Histogram({
  name: 'graphql_operation_duration_seconds',
  help: 'Time to answer a GraphQL operation over HTTP.',
  labelNames: ['operation', 'type', 'outcome', 'tenant'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [processRegistry],
});

export const wsSockets = new Gauge({
  name: 'graphql_ws_sockets',
  help: 'Open graphql-ws sockets.',
  registers: [processRegistry],
});

export const wsSubscriptions = new Gauge({
  name: 'graphql_ws_subscriptions',
  help: 'Active subscriptions over graphql-ws.',
  registers: [processRegistry],
});

export const deliveriesRecorded = new Counter({
  name: 'deliveries_total',
  help: 'Delivery outcomes this process recorded, by channel, the status reached (sent, retried, dead, delivered, read, ...) and provider kind.',
  labelNames: ['channel', 'status', 'provider', 'tenant'] as const,
  registers: [processRegistry],
});

export const jobRuns = new Counter({
  name: 'job_runs_total',
  help: 'Scheduled job runs finished in this process, by job and outcome.',
  labelNames: ['job', 'outcome'] as const,
  registers: [processRegistry],
});

export const webhookRequests = new Counter({
  name: 'webhook_requests_total',
  help: 'Provider webhook requests, by provider and result (ok, unauthorized, bad_request, failed, ...).',
  labelNames: ['provider', 'result'] as const,
  registers: [processRegistry],
});

const MAX_OPERATION_NAMES = 300;
const seenOperations = new Set<string>();

/** A bounded label for a client-chosen operation name: at most 300 distinct names, the rest "other". */
export function operationLabel(name: string | null | undefined): string {
  if (!name) return 'anonymous';
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,99}$/.test(name)) return 'invalid';
  if (seenOperations.has(name)) return name;
  if (seenOperations.size >= MAX_OPERATION_NAMES) return 'other';
  seenOperations.add(name);
  return name;
}

let perTenant = false;

/** Whether operations and deliveries are counted per tenant (METRICS_PER_TENANT), set once at start. */
export function countPerTenant(enabled: boolean): void {
  perTenant = enabled;
}

/** The `tenant` label of a count, when counting per tenant; nothing otherwise (the series has no such label). */
export function tenantLabel(tenantId: string | null | undefined): { tenant?: string } {
  return perTenant && tenantId ? { tenant: tenantId } : {};
}
