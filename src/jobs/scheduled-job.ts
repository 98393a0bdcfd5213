import type { SchedulerSettings } from '../config';
import type { JobSchedule } from '../services/scheduling/job.service';
import { escalationsJob } from './escalations.job';
import type { ScheduledJob } from './job-definition';
import { slaMonitorJob } from './sla-monitor.job';

export const SCHEDULED_JOBS: readonly ScheduledJob[] = [slaMonitorJob, escalationsJob];

export function jobSchedules(settings: SchedulerSettings): JobSchedule[] {
  return SCHEDULED_JOBS.map((job) => ({
    name: job.name,
    description: job.description,
    cron: job.cron(settings),
    timezone: settings.timezone,
  }));
}
