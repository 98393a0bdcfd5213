import { type AgendaBackend, Agenda, type Job } from 'agenda';
import { MongoBackend } from '@agendajs/mongo-backend';
import { PostgresBackend } from '@agendajs/postgres-backend';
import { MongoClient } from 'mongodb';
import { Pool } from 'pg';
import type { Config, SchedulerSettings } from '../config';
import type { Logger } from '../logger';
import type { Services } from '../services';
import type { JobQueue, JobRequest, RecurringJobInfo } from '../services/scheduling/job.service';
import { ruleDelaysJob } from './rules.jobs';
import { SCHEDULED_JOBS, processEveryMs } from './scheduled-job';

export const AGENDA_TABLE = 'agenda_jobs';
export const AGENDA_COLLECTION = 'agendaJobs';

/** Agenda's name for the one-off job of a delayed rule execution. */
export const RULE_DELAY_JOB = 'rule-delay';

/**
 * Agenda, on MongoDB when MONGODB_URL is set and otherwise on the application's
 * PostgreSQL (its table made by a migration). Job handlers only see JobService.
 *
 * Agenda's traps, handled here: its connection is ours (own pool or client, with an
 * error handler, closed by us); processEvery is a number (a string like '500 ms'
 * silently becomes 5 s); recurring jobs are unique by a database index, not by
 * `unique()`; `stop()` first drains running jobs, then releases what is left.
 */
export class Scheduler implements JobQueue {
  /** Jobs this process is running: released on stop if they outlast the drain. */
  private readonly running = new Set<Job<JobRequest>>();

  private constructor(
    private readonly agenda: Agenda,
    private readonly close: () => Promise<void>,
    private readonly processing: boolean,
    private readonly logger: Logger,
    private readonly services: Services,
  ) {}

  /**
   * Opens the backend. A processing scheduler (worker role) defines the jobs, keeps
   * their recurring schedules in step with the configuration and starts running them;
   * otherwise it only queues runs for workers (API role).
   */
  static async open(options: {
    databaseUrl: string;
    config: Config;
    services: Services;
    logger: Logger;
    processing: boolean;
  }): Promise<Scheduler> {
    const { config, services, logger } = options;
    const settings = config.scheduler;
    const opened = await openBackend(options.databaseUrl, settings, logger);
    const { backend } = opened;
    // A scheduler that only queues (the API) still tells the workers at once: its jobs' NOTIFY
    // wakes them (runJobNow, a rule's delay), instead of waiting for their next poll.
    const channel = options.processing ? undefined : backend.notificationChannel;
    const close = async () => {
      await channel?.disconnect().catch(() => undefined);
      await opened.close();
    };
    const agenda = new Agenda({
      backend,
      name: `notify-desk-${process.pid}`,
      // Often enough for the shortest interval job (campaigns, every CAMPAIGN_POLL_MS).
      processEvery: processEveryMs(config),
      defaultLockLifetime: settings.lockLifetimeMs,
      defaultConcurrency: 1,
    });
    agenda.on('error', (error: Error) => logger.error('scheduler error', { error }));
    const scheduler = new Scheduler(agenda, close, options.processing, logger, services);
    try {
      await agenda.ready;
      if (!options.processing) {
        await channel?.connect();
        return scheduler;
      }
      for (const job of SCHEDULED_JOBS) {
        const handler = job.handler(services, config);
        const runOptions = job.options?.(services) ?? {};
        const cadence = job.cadence(config);
        agenda.define(
          job.name,
          async (run: Job<JobRequest>) => {
            scheduler.running.add(run);
            try {
              await services.jobs.execute(job.name, run.attrs.data ?? {}, handler, () => run.touch(), runOptions);
            } finally {
              scheduler.running.delete(run);
            }
          },
          // A frequent job's lock outlives a lost worker only briefly (its work is claimed row by row anyway).
          'everyMs' in cadence
            ? { lockLifetime: Math.min(settings.lockLifetimeMs, Math.max(60_000, 10 * cadence.everyMs)) }
            : undefined,
        );
      }
      // A delayed rule execution's one-off wake-up: a scheduled run of rule-delays (paused tenants skipped).
      const delays = { handler: ruleDelaysJob.handler(services, config), options: ruleDelaysJob.options!(services) };
      agenda.define(
        RULE_DELAY_JOB,
        (run: Job<JobRequest>) =>
          services.jobs.execute(ruleDelaysJob.name, {}, delays.handler, () => run.touch(), delays.options),
        { removeOnComplete: true },
      );
      await agenda.start();
      for (const job of SCHEDULED_JOBS) {
        const cadence = job.cadence(config);
        if ('cron' in cadence)
          await agenda.every(cadence.cron, job.name, {}, { timezone: settings.timezone, skipImmediate: true });
        else await agenda.every(cadence.everyMs, job.name, {});
      }
      return scheduler;
    } catch (error) {
      await scheduler.stop().catch(() => undefined);
      throw error;
    }
  }

  /** The one-off job that resumes a delayed rule execution at its time (the worker's poll is the fallback). */
  async wake(at: Date, executionId: string): Promise<void> {
    try {
      await this.agenda.schedule(at, RULE_DELAY_JOB, { executionId });
    } catch (error) {
      this.logger.warn('could not schedule a delayed rule execution; the worker poll resumes it', { error, executionId });
    }
  }

  async enqueueRun(name: string, request: JobRequest): Promise<void> {
    await this.agenda.now(name, request);
  }

  async recurring(): Promise<Map<string, RecurringJobInfo>> {
    const { jobs } = await this.agenda.queryJobs({ names: SCHEDULED_JOBS.map((job) => job.name), includeDisabled: true });
    const info = new Map<string, RecurringJobInfo>();
    for (const job of jobs) {
      if (job.type !== 'single') continue;
      info.set(job.name, { nextRunAt: job.nextRunAt ? new Date(job.nextRunAt) : null, lockedAt: job.lockedAt ?? null });
    }
    return info;
  }

  /**
   * Lets running jobs finish (up to `drainMs`), releases any still running so another
   * worker takes them over at once, and closes the connection. Agenda leaves a lock-check timer
   * per finished run (half the lock lifetime); `main` exits the process after stop.
   */
  async stop(drainMs = 10_000): Promise<void> {
    try {
      if (this.processing) {
        const drained = await this.agenda.drain({ timeout: drainMs, closeConnection: false });
        await this.agenda.stop(false);
        if (drained.timedOut && this.running.size) {
          // Agenda keeps running jobs locked until the lock lifetime runs out. This process is
          // going away and its transactions roll back with it: another worker may take them now.
          // A one-off job has no next run once started, so it is given one, or it would be lost.
          for (const run of this.running) {
            await this.agenda.db.saveJobState({ ...run.attrs, lockedAt: undefined, nextRunAt: new Date() }, undefined);
          }
          await this.services.jobs.abandonInFlight();
          this.logger.warn(`scheduler stopped with ${this.running.size} job(s) still running; released to other workers`);
        }
      }
    } finally {
      await this.close();
    }
  }
}

async function openBackend(
  databaseUrl: string,
  settings: SchedulerSettings,
  logger: Logger,
): Promise<{ backend: AgendaBackend; close: () => Promise<void> }> {
  if (settings.mongodbUrl) {
    const client = new MongoClient(settings.mongodbUrl);
    client.on('error', (error) => logger.error('scheduler MongoDB error', { error }));
    await client.connect();
    const db = client.db();
    // Recurring jobs are 'single': one document per name, whatever the number of workers.
    await db
      .collection(AGENDA_COLLECTION)
      .createIndex({ name: 1 }, { unique: true, partialFilterExpression: { type: 'single' }, name: 'single_job_name' })
      .catch((error: Error) => logger.warn('could not create the unique index of recurring jobs', { error }));
    return { backend: new MongoBackend({ mongo: db, collection: AGENDA_COLLECTION }), close: () => client.close() };
  }
  const pool = new Pool({ connectionString: databaseUrl, max: 4, application_name: 'notify-desk-scheduler' });
  // An idle connection the database dropped: the pool replaces it on next use.
  pool.on('error', (error) => logger.warn('scheduler connection lost; the pool reconnects', { error }));
  const backend = new PostgresBackend({ pool, tableName: AGENDA_TABLE, ensureSchema: false });
  const channel = backend.notificationChannel;
  let retry: NodeJS.Timeout | undefined;
  // Without an 'error' listener a dropped LISTEN connection would kill the process. The channel
  // reconnects by itself, but gives up after ten tries; past that it is started again every 30 s.
  channel?.on('error', (error: Error) => logger.warn('scheduler notifications interrupted; reconnecting', { error }));
  channel?.on('stateChange', (state: string) => {
    if (state !== 'error') return;
    clearTimeout(retry);
    retry = setTimeout(() => void channel.connect().catch(() => undefined), 30_000);
    retry.unref();
  });
  return {
    backend,
    close: async () => {
      clearTimeout(retry);
      await pool.end();
    },
  };
}
