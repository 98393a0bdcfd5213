import { loadConfig } from '../src/config';
import { describeCadence } from '../src/jobs/job-definition';
import { SCHEDULED_JOBS, jobSchedules, processEveryMs } from '../src/jobs/scheduled-job';

describe('job definitions', () => {
  const config = (env: Record<string, string> = {}) => loadConfig({ NODE_ENV: 'test', ...env });

  it('describes a cadence as admins read it', () => {
    expect(describeCadence({ cron: '*/15 * * * *' })).toBe('*/15 * * * *');
    expect(describeCadence({ everyMs: 3_600_000 })).toBe('every 1 h');
    expect(describeCadence({ everyMs: 120_000 })).toBe('every 2 min');
    expect(describeCadence({ everyMs: 5000 })).toBe('every 5 s');
    expect(describeCadence({ everyMs: 250 })).toBe('every 250 ms');
  });

  it('takes every cadence from configuration', () => {
    const schedules = jobSchedules(
      config({ CAMPAIGN_POLL_MS: '2000', RULE_DELAY_POLL_MS: '30000', ESCALATIONS_CRON: '0 * * * *' }),
    );
    const by = Object.fromEntries(schedules.map((job) => [job.name, job.schedule]));
    expect(by).toMatchObject({ campaigns: 'every 2 s', 'rule-delays': 'every 30 s', escalations: '0 * * * *' });
    expect(new Set(schedules.map((job) => job.name)).size).toBe(SCHEDULED_JOBS.length);
  });

  it('looks for due jobs often enough for the shortest interval', () => {
    expect(processEveryMs(config({ SCHEDULER_PROCESS_EVERY_MS: '5000', CAMPAIGN_POLL_MS: '1000' }))).toBe(1000);
    expect(processEveryMs(config({ SCHEDULER_PROCESS_EVERY_MS: '200', CAMPAIGN_POLL_MS: '1000' }))).toBe(200);
  });
});
