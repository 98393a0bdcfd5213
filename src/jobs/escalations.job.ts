import type { ScheduledJob } from './job-definition';

/** Raises overdue tickets up the escalation ladder, one message per recipient (default hourly). */
export const escalationsJob: ScheduledJob = {
  name: 'escalations',
  description: 'Escalates overdue tickets level by level up the management hierarchy and closes escalations of resolved tickets.',
  cadence: (config) => ({ cron: config.scheduler.escalationsCron }),
  handler: (services) => (tenantId, runId) => services.escalations.run(tenantId, runId),
};
