import type { Config } from '../config';
import type { Services } from '../services';
import type { JobRunOptions, TenantJobHandler } from '../services/scheduling/job.service';

/** When a recurring job runs: a cron expression (in JOBS_TIMEZONE) or a fixed interval. */
export type Cadence = { cron: string } | { everyMs: number };

/** A recurring job: its cadence comes from configuration, its work from a service. */
export interface ScheduledJob {
  name: string;
  description: string;
  cadence(config: Config): Cadence;
  handler(services: Services, config: Config): TenantJobHandler;
  /** How a scheduled run picks its tenants (only those with something due) and what it keeps. */
  options?(services: Services): JobRunOptions;
}

/** The cadence as admins read it: the cron expression, or `every 5 s`. */
export function describeCadence(cadence: Cadence): string {
  if ('cron' in cadence) return cadence.cron;
  const ms = cadence.everyMs;
  if (ms % 3_600_000 === 0) return `every ${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `every ${ms / 60_000} min`;
  if (ms % 1000 === 0) return `every ${ms / 1000} s`;
  return `every ${ms} ms`;
}

/** Runs a service step until it does less than a full batch; the total. */
export async function drain(step: () => Promise<number>, batch = 100): Promise<number> {
  let total = 0;
  for (;;) {
    const done = await step();
    total += done;
    if (done < batch) return total;
  }
}
