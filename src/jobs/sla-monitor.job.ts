import type { ScheduledJob } from './job-definition';

/** Marks SLA breaches and warns supervisors before due times (default every 15 minutes). */
export const slaMonitorJob: ScheduledJob = {
  name: 'sla-monitor',
  description: 'Marks first-response and resolution breaches and warns supervisors of tickets close to a due time.',
  cadence: (config) => ({ cron: config.scheduler.slaMonitorCron }),
  handler: (services) => (tenantId, runId) => services.sla.monitor(tenantId, runId),
};
