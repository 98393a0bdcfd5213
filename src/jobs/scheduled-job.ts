import type { SchedulerSettings } from '../config';
import type { Services } from '../services';
import type { JobSchedule, TenantJobHandler } from '../services/job.service';
import { escalationsJob } from './escalations.job';
import { slaMonitorJob } from './sla-monitor.job';

/** A recurring job: its schedule comes from configuration, its work from a service. */
export interface ScheduledJob {
  name: string;
  description: string;
  cron(settings: SchedulerSettings): string;
  handler(services: Services): TenantJobHandler;
}

export const SCHEDULED_JOBS: readonly ScheduledJob[] = [slaMonitorJob, escalationsJob];

export function jobSchedules(settings: SchedulerSettings): JobSchedule[] {
  return SCHEDULED_JOBS.map((job) => ({
    name: job.name,
    description: job.description,
    cron: job.cron(settings),
    timezone: settings.timezone,
  }));
}
