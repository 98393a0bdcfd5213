import { type ScheduledJob, drain } from './job-definition';

/** Campaign sending: due runs started, recipients enqueued in batches, runs completed, conversions marked. */
export const campaignsJob: ScheduledJob = {
  name: 'campaigns',
  description: 'Starts due campaign runs, enqueues their recipients in batches, completes finished runs and marks conversions.',
  cadence: (config) => ({ everyMs: config.campaigns.pollMs }),
  handler: (services) => (tenantId) => services.campaignSender.tick(tenantId),
  options: (services) => ({ dueTenants: () => services.campaignSender.tenantsWithWork(), forgetQuietRuns: true }),
};

/** Completion requests: reminders, escalation to support at the deadline, auto-completion. */
export const completionRequestsJob: ScheduledJob = {
  name: 'completion-requests',
  description:
    'Reminds customers of pending completion requests, escalates them to support at the deadline and auto-completes them.',
  cadence: (config) => ({ everyMs: config.events.ruleDateScanMs }),
  handler: (services) => async (tenantId) => ({ advanced: await drain(() => services.completions.runDue(100, tenantId)) }),
  options: (services) => ({ dueTenants: () => services.completions.tenantsWithDue(), forgetQuietRuns: true }),
};

/** Resolved tickets without news for the tenant's ticketAutoCloseDays. */
export const ticketAutoCloseJob: ScheduledJob = {
  name: 'ticket-auto-close',
  description: "Closes resolved tickets after the business's ticketAutoCloseDays without news, telling the customer.",
  cadence: (config) => ({ everyMs: config.events.ruleDateScanMs }),
  handler: (services) => async (tenantId) => ({ closed: await drain(() => services.tickets.autoCloseDue(100, tenantId)) }),
  options: (services) => ({ dueTenants: () => services.tickets.tenantsWithAutoCloseDue(), forgetQuietRuns: true }),
};

/** Idempotency keys of requests past their retention. */
export const idempotencyKeysPruningJob: ScheduledJob = {
  name: 'idempotency-keys-pruning',
  description: 'Forgets Idempotency-Key answers older than IDEMPOTENCY_RETENTION_HOURS.',
  cadence: () => ({ everyMs: 3_600_000 }),
  handler: (services, config) => async (tenantId) => ({
    pruned: await services.requests.prune(config.events.idempotencyRetentionHours * 3_600_000, tenantId),
  }),
  options: () => ({ forgetQuietRuns: true }),
};

/** Uploads announced and never attached. */
export const abandonedUploadsJob: ScheduledJob = {
  name: 'abandoned-uploads',
  description: 'Deletes uploads that were announced (createUpload) but never attached before their link expired.',
  cadence: () => ({ everyMs: 3_600_000 }),
  handler: (services) => async (tenantId) => ({ removed: await drain(() => services.files.sweepAbandoned(tenantId, 500), 500) }),
  options: () => ({ forgetQuietRuns: true }),
};
