import type { Config } from '../config';
import type { JobSchedule } from '../services/scheduling/job.service';
import { escalationsJob } from './escalations.job';
import { type ScheduledJob, describeCadence } from './job-definition';
import { relativeDateRulesJob, ruleDelaysJob, ruleExecutionsPruningJob, scheduleRulesJob } from './rules.jobs';
import { slaMonitorJob } from './sla-monitor.job';
import {
  abandonedUploadsJob,
  campaignsJob,
  completionRequestsJob,
  idempotencyKeysPruningJob,
  ticketAutoCloseJob,
} from './work.jobs';

/** Every recurring piece of work of the worker, each visible and steerable per tenant (jobs, pauseJob, runJobNow...). */
export const SCHEDULED_JOBS: readonly ScheduledJob[] = [
  slaMonitorJob,
  escalationsJob,
  ruleDelaysJob,
  relativeDateRulesJob,
  scheduleRulesJob,
  campaignsJob,
  completionRequestsJob,
  ticketAutoCloseJob,
  ruleExecutionsPruningJob,
  idempotencyKeysPruningJob,
  abandonedUploadsJob,
];

export function jobSchedules(config: Config): JobSchedule[] {
  return SCHEDULED_JOBS.map((job) => ({
    name: job.name,
    description: job.description,
    schedule: describeCadence(job.cadence(config)),
    timezone: config.scheduler.timezone,
  }));
}

/** How often a worker must look for due jobs so that the shortest interval holds. */
export function processEveryMs(config: Config): number {
  const intervals = SCHEDULED_JOBS.map((job) => job.cadence(config)).flatMap((cadence) =>
    'everyMs' in cadence ? [cadence.everyMs] : [],
  );
  return Math.min(config.scheduler.processEveryMs, ...intervals);
}
