import { RuleTriggerType } from '../entities/automation-rule.entity';
import { type ScheduledJob, drain } from './job-definition';

/**
 * Delayed rule executions whose time has come. Each delay also schedules a one-off wake-up
 * at its time (Scheduler.wake), which runs this job too; this cadence is the fallback.
 */
export const ruleDelaysJob: ScheduledJob = {
  name: 'rule-delays',
  description: 'Resumes delayed rule executions whose time has come (their actions after a delay).',
  cadence: (config) => ({ everyMs: config.events.ruleDelayPollMs }),
  handler: (services) => async (tenantId) => ({ resumed: await drain(() => services.ruleRuns.runDue(100, tenantId)) }),
  options: (services) => ({ dueTenants: () => services.ruleRuns.tenantsWithDueDelays(), forgetQuietRuns: true }),
};

/** Relative-date rules (N days before or after a record's or contact's date). */
export const relativeDateRulesJob: ScheduledJob = {
  name: 'relative-date-rules',
  description: "Acts on relative-date rules whose day and time have come (a record's due date, a contact's birthday).",
  cadence: (config) => ({ everyMs: config.events.ruleDateScanMs }),
  handler: (services) => async (tenantId) => ({ acted: await services.ruleRuns.scanDates(tenantId) }),
  options: (services) => ({
    dueTenants: () => services.ruleRuns.tenantsWithRules(RuleTriggerType.RELATIVE_DATE),
    forgetQuietRuns: true,
  }),
};

/** Schedule rules (a cron of their own). */
export const scheduleRulesJob: ScheduledJob = {
  name: 'schedule-rules',
  description: 'Runs schedule rules whose cron occurrence has come, once per occurrence.',
  cadence: (config) => ({ everyMs: config.events.ruleDateScanMs }),
  handler: (services) => async (tenantId) => ({ acted: await services.ruleRuns.scanSchedules(tenantId) }),
  options: (services) => ({
    dueTenants: () => services.ruleRuns.tenantsWithRules(RuleTriggerType.SCHEDULE),
    forgetQuietRuns: true,
  }),
};

/** Skipped rule executions past their retention. */
export const ruleExecutionsPruningJob: ScheduledJob = {
  name: 'rule-executions-pruning',
  description: 'Deletes skipped rule executions older than RULE_SKIPPED_RETENTION_DAYS (acted-on ones stay).',
  cadence: () => ({ everyMs: 3_600_000 }),
  handler: (services, config) => async (tenantId) => ({
    pruned: await services.ruleRuns.pruneSkipped(config.events.ruleSkippedRetentionDays, tenantId),
  }),
  options: () => ({ forgetQuietRuns: true }),
};
