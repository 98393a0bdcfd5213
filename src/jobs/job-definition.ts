import type { SchedulerSettings } from '../config';
import type { Services } from '../services';
import type { TenantJobHandler } from '../services/scheduling/job.service';

/** A recurring job: its schedule comes from configuration, its work from a service. */
export interface ScheduledJob {
  name: string;
  description: string;
  cron(settings: SchedulerSettings): string;
  handler(services: Services): TenantJobHandler;
}
