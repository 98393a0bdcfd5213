import { jobRuns } from '../platform/metrics';
import { performance } from 'node:perf_hooks';
import type { DataSource } from 'typeorm';
import { JobRun, JobRunStatus, JobTrigger } from '../../entities/job-run.entity';
import { JobState } from '../../entities/job-state.entity';
import { Role } from '../../entities/user.entity';
import type { Logger } from '../../logger';
import type { Clock } from '../platform/clock';
import type { DeliveryService } from '../delivery/delivery.service';
import { badInput, conflict, notFound } from '../platform/errors';
import type { StaffPrincipal } from '../directory/principal';
import { returningRows } from '../platform/sql';
import { keysetPage, type Page, type PageRequest } from '../platform/pagination';
import { activeStaff, notifyStaff } from '../escalation/staff-notices';
import type { Transactor } from '../platform/unit-of-work';

/** A recurring job as configured: its cron expression or interval (`every 5 s`), and timezone. */
export interface JobSchedule {
  name: string;
  description: string;
  schedule: string;
  timezone: string;
}

/** How a job picks the tenants it visits on a scheduled run. */
export interface JobRunOptions {
  /**
   * Only the tenants with something due (one cheap query); the others are not visited and
   * get no run. Without it every tenant that has not paused the job.
   */
  dueTenants?: () => Promise<string[]>;
  /** A scheduled run that found nothing to do is not kept in the history (frequent jobs); its state still moves. */
  forgetQuietRuns?: boolean;
}

/** What a queued run asks for: every unpaused tenant (schedule), or one tenant. */
export interface JobRequest {
  tenantId?: string;
  trigger?: JobTrigger;
  retryOfId?: string;
}

/** What the scheduler knows of a recurring job (shared by all tenants). */
export interface RecurringJobInfo {
  nextRunAt: Date | null;
  lockedAt: Date | null;
}

/** The scheduler as the services see it (Agenda in src/jobs implements it). */
export interface JobQueue {
  enqueueRun(name: string, request: JobRequest): Promise<void>;
  recurring(): Promise<Map<string, RecurringJobInfo>>;
}

/** The work of one job for one tenant; returns counts for the run's summary. */
export type TenantJobHandler = (tenantId: string, runId: string) => Promise<object>;

export interface JobInfo {
  name: string;
  description: string;
  schedule: string;
  timezone: string;
  nextRunAt: Date | null;
  lastRunAt: Date | null;
  lastFinishedAt: Date | null;
  lastError: string | null;
  running: boolean;
  consecutiveFailures: number;
  paused: boolean;
  pausedReason: string | null;
}

export interface JobStatsRow {
  name: string;
  completed: number;
  failed: number;
  averageDurationMs: number | null;
}

export interface JobSettings {
  schedules: JobSchedule[];
  /** Failures in a row that pause a tenant's job (default 3). */
  failureLimit: number;
  /** A run still marked running after this long lost its worker. */
  staleAfterMs: number;
}

const MAX_ERROR_LENGTH = 2000;

/**
 * Scheduled jobs per tenant: each run is recorded (history and dead letters), a
 * tenant's job that fails `failureLimit` times in a row pauses itself and tells
 * the tenant's admins, and admins pause, resume, run now and retry.
 */
export class JobService {
  private queue: JobQueue | undefined;
  /** Runs this process has started and not finished. */
  private readonly inFlight = new Set<string>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly transactor: Transactor,
    private readonly deliveries: DeliveryService,
    private readonly clock: Clock,
    private readonly settings: JobSettings,
    private readonly logger: Logger,
  ) {}

  /** Set once the scheduler is up (the scheduler needs the services first). */
  useQueue(queue: JobQueue): void {
    this.queue = queue;
  }

  get schedules(): JobSchedule[] {
    return this.settings.schedules;
  }

  /**
   * Runs a job: for one tenant when the request names it (run now, retry), else for
   * every tenant that has not paused it. A failing tenant does not stop the others.
   */
  async execute(
    name: string,
    request: JobRequest,
    handler: TenantJobHandler,
    keepAlive: () => Promise<unknown>,
    options: JobRunOptions = {},
  ): Promise<void> {
    const due = request.tenantId ? null : ((await options.dueTenants?.()) ?? null);
    if (due && !due.length) return;
    const tenants: string[] = request.tenantId
      ? [request.tenantId]
      : (
          await this.dataSource.query(
            `SELECT t.id FROM tenant t
              WHERE ($2::uuid[] IS NULL OR t.id = ANY($2::uuid[]))
                AND NOT EXISTS (SELECT 1 FROM job_state s WHERE s."tenantId" = t.id AND s."jobName" = $1 AND s.paused)
              ORDER BY t.id`,
            [name, due],
          )
        ).map((row: { id: string }) => row.id);
    const forgetQuiet = Boolean(options.forgetQuietRuns) && !request.tenantId;
    for (const tenantId of tenants) {
      await keepAlive();
      await this.runForTenant(name, tenantId, request, handler, forgetQuiet);
    }
  }

  private async runForTenant(
    name: string,
    tenantId: string,
    request: JobRequest,
    handler: TenantJobHandler,
    forgetQuiet: boolean,
  ): Promise<void> {
    const startedAt = this.clock.now();
    const started = performance.now();
    await this.dataSource.query(
      `UPDATE job_run SET status = 'failed', "finishedAt" = $3, error = 'Interrupted: its worker stopped before it finished'
        WHERE "tenantId" = $1 AND "jobName" = $2 AND status = 'running' AND "startedAt" < $4`,
      [tenantId, name, startedAt, new Date(startedAt.getTime() - this.settings.staleAfterMs)],
    );
    const run = await this.dataSource.getRepository(JobRun).save({
      tenantId,
      jobName: name,
      trigger: request.trigger ?? JobTrigger.SCHEDULE,
      status: JobRunStatus.RUNNING,
      startedAt,
      retryOfId: request.retryOfId ?? null,
    });
    this.inFlight.add(run.id);
    await this.dataSource.query(
      `INSERT INTO job_state ("tenantId", "jobName", "lastRunAt", "runningSince") VALUES ($1, $2, $3, $3)
       ON CONFLICT ("tenantId", "jobName") DO UPDATE SET "lastRunAt" = $3, "runningSince" = $3`,
      [tenantId, name, startedAt],
    );
    try {
      const summary = await handler(tenantId, run.id);
      const durationMs = Math.round(performance.now() - started);
      const quiet = forgetQuiet && Object.values(summary).every((value) => value === 0);
      await this.transactor.run(async ({ manager }) => {
        const finishedAt = this.clock.now();
        if (quiet) await manager.delete(JobRun, run.id);
        else
          await manager.update(JobRun, run.id, {
            status: JobRunStatus.COMPLETED,
            finishedAt,
            durationMs,
            summary: { ...summary },
          });
        jobRuns.inc({ job: name, outcome: 'completed' });
        await manager.query(
          `UPDATE job_state SET "consecutiveFailures" = 0, "lastFinishedAt" = $3, "lastError" = NULL, "runningSince" = NULL
            WHERE "tenantId" = $1 AND "jobName" = $2`,
          [tenantId, name, finishedAt],
        );
      });
    } catch (error) {
      const message = (error instanceof Error ? error.message : String(error)).slice(0, MAX_ERROR_LENGTH);
      this.logger.error(`job ${name} failed for tenant ${tenantId}`, { error });
      await this.recordFailure(tenantId, name, run.id, Math.round(performance.now() - started), message);
    } finally {
      this.inFlight.delete(run.id);
    }
  }

  /**
   * Called when this worker stops with runs still going: their transactions roll back
   * with the process, so they are recorded as interrupted (and their jobs re-run elsewhere).
   */
  async abandonInFlight(): Promise<void> {
    if (!this.inFlight.size) return;
    const ids = [...this.inFlight];
    await this.dataSource.query(
      `WITH interrupted AS (
         UPDATE job_run SET status = 'failed', "finishedAt" = $2, error = 'Interrupted: its worker stopped before it finished'
          WHERE id = ANY($1::uuid[]) AND status = 'running' RETURNING "tenantId", "jobName")
       UPDATE job_state s SET "runningSince" = NULL FROM interrupted i WHERE s."tenantId" = i."tenantId" AND s."jobName" = i."jobName"`,
      [ids, this.clock.now()],
    );
  }

  /**
   * Records a failed run and counts it; at the limit the tenant's job pauses and its
   * admins are told. One transaction: nobody sees the count reached but the job running.
   */
  private async recordFailure(tenantId: string, name: string, runId: string, durationMs: number, error: string) {
    const paused = await this.transactor.run(async (uow) => {
      const { manager } = uow;
      const finishedAt = this.clock.now();
      await manager.update(JobRun, runId, { status: JobRunStatus.FAILED, finishedAt, durationMs, error });
      jobRuns.inc({ job: name, outcome: 'failed' });
      const [state] = returningRows<{ consecutiveFailures: number; paused: boolean }>(
        await manager.query(
          `UPDATE job_state SET "consecutiveFailures" = "consecutiveFailures" + 1, "lastFinishedAt" = $3, "lastError" = $4,
                  "runningSince" = NULL
            WHERE "tenantId" = $1 AND "jobName" = $2 RETURNING "consecutiveFailures", paused`,
          [tenantId, name, finishedAt, error],
        ),
      );
      if (!state || state.paused || state.consecutiveFailures < this.settings.failureLimit) return false;
      const failures = state.consecutiveFailures;
      const reason = `Paused after ${failures} failed runs in a row; last error: ${error}`;
      await manager.query(`UPDATE job_state SET paused = true, "pausedReason" = $3 WHERE "tenantId" = $1 AND "jobName" = $2`, [
        tenantId,
        name,
        reason,
      ]);
      await uow.record({
        tenantId,
        type: 'job.paused',
        subjectType: 'job',
        subjectId: runId,
        payload: { name, failures, error },
      });
      const admins = [...(await activeStaff(manager, tenantId)).values()].filter((user) => user.role === Role.ADMIN);
      for (const admin of admins) {
        await notifyStaff(this.deliveries, uow, tenantId, admin, {
          subject: `Job ${name} paused after ${failures} failures`,
          text:
            `Hi ${admin.name}, the ${name} job failed ${failures} times in a row and has paused itself. ` +
            `Last error: ${error}. Fix the cause, then resume it (resumeJob).`,
          notificationType: 'job_paused',
          idempotencyKey: `job-paused:${runId}:user:${admin.id}`,
        });
      }
      return true;
    });
    if (paused) this.logger.warn(`job ${name} paused for tenant ${tenantId} after ${this.settings.failureLimit} failures`);
  }

  private schedule(name: string): JobSchedule {
    const schedule = this.settings.schedules.find((candidate) => candidate.name === name);
    if (!schedule) {
      const known = this.settings.schedules.map((candidate) => candidate.name).join(', ');
      throw badInput(`There is no job "${name}"; the jobs are ${known}`, 'name');
    }
    return schedule;
  }

  private requireQueue(): JobQueue {
    if (!this.queue) throw conflict('The scheduler is not running in this process');
    return this.queue;
  }

  async list(tenantId: string): Promise<JobInfo[]> {
    const states = await this.dataSource.getRepository(JobState).findBy({ tenantId });
    const recurring = this.queue ? await this.queue.recurring() : new Map<string, RecurringJobInfo>();
    return this.settings.schedules.map((schedule) => {
      const state = states.find((candidate) => candidate.jobName === schedule.name);
      const paused = state?.paused ?? false;
      return {
        name: schedule.name,
        description: schedule.description,
        schedule: schedule.schedule,
        timezone: schedule.timezone,
        nextRunAt: paused ? null : (recurring.get(schedule.name)?.nextRunAt ?? null),
        lastRunAt: state?.lastRunAt ?? null,
        lastFinishedAt: state?.lastFinishedAt ?? null,
        lastError: state?.lastError ?? null,
        running: Boolean(state?.runningSince),
        consecutiveFailures: state?.consecutiveFailures ?? 0,
        paused,
        pausedReason: state?.pausedReason ?? null,
      };
    });
  }

  async get(tenantId: string, name: string): Promise<JobInfo> {
    this.schedule(name);
    return (await this.list(tenantId)).find((job) => job.name === name)!;
  }

  /** Queues a run of the job for the actor's tenant; a worker picks it up within moments. */
  async runNow(actor: StaffPrincipal, name: string): Promise<JobInfo> {
    this.schedule(name);
    await this.requireQueue().enqueueRun(name, { tenantId: actor.tenantId, trigger: JobTrigger.MANUAL });
    return this.get(actor.tenantId, name);
  }

  async pause(actor: StaffPrincipal, name: string): Promise<JobInfo> {
    this.schedule(name);
    await this.dataSource.query(
      `INSERT INTO job_state ("tenantId", "jobName", paused, "pausedReason") VALUES ($1, $2, true, $3)
       ON CONFLICT ("tenantId", "jobName") DO UPDATE SET paused = true, "pausedReason" = $3`,
      [actor.tenantId, name, `Paused by ${actor.name}`],
    );
    return this.get(actor.tenantId, name);
  }

  /** Resumes the job and resets its count of failures in a row. */
  async resume(actor: StaffPrincipal, name: string): Promise<JobInfo> {
    this.schedule(name);
    await this.dataSource.query(
      `UPDATE job_state SET paused = false, "pausedReason" = NULL, "consecutiveFailures" = 0
        WHERE "tenantId" = $1 AND "jobName" = $2`,
      [actor.tenantId, name],
    );
    return this.get(actor.tenantId, name);
  }

  /** A page of failed runs, newest first (by start, then id): the jobs' dead letters. */
  failed(tenantId: string, name: string | null, page: PageRequest): Promise<Page<JobRun>> {
    const query = this.dataSource
      .getRepository(JobRun)
      .createQueryBuilder('r')
      .where('r."tenantId" = :tenantId AND r.status = :failed', { tenantId, failed: JobRunStatus.FAILED });
    if (name) query.andWhere('r."jobName" = :name', { name });
    return keysetPage(query, 'r', { column: 'startedAt', cast: 'timestamptz', kind: 'timestamp', direction: 'DESC' }, page);
  }

  /** Queues a new run for the tenant of a failed one; each failed run is retried once. */
  async retry(actor: StaffPrincipal, runId: string): Promise<JobRun> {
    const queue = this.requireQueue();
    const [claimed] = returningRows<JobRun>(
      await this.dataSource.query(
        `UPDATE job_run SET "retriedAt" = $3 WHERE id = $1 AND "tenantId" = $2 AND status = 'failed' AND "retriedAt" IS NULL
       RETURNING *`,
        [runId, actor.tenantId, this.clock.now()],
      ),
    );
    if (!claimed) {
      const run = await this.dataSource.getRepository(JobRun).findOneBy({ id: runId, tenantId: actor.tenantId });
      if (!run) throw notFound('Job run', runId);
      throw conflict(run.status === JobRunStatus.FAILED ? 'This run was already retried' : 'Only failed runs can be retried');
    }
    try {
      await queue.enqueueRun(claimed.jobName, { tenantId: actor.tenantId, trigger: JobTrigger.RETRY, retryOfId: runId });
    } catch (error) {
      // Not queued: the run stays retryable.
      await this.dataSource.query(`UPDATE job_run SET "retriedAt" = NULL WHERE id = $1`, [runId]);
      throw error;
    }
    return this.dataSource.getRepository(JobRun).findOneByOrFail({ id: runId });
  }

  async stats(tenantId: string, from: Date, to: Date): Promise<JobStatsRow[]> {
    const rows: JobStatsRow[] = await this.dataSource.query(
      `SELECT "jobName" AS name,
              count(*) FILTER (WHERE status = 'completed')::int AS completed,
              count(*) FILTER (WHERE status = 'failed')::int AS failed,
              avg("durationMs") FILTER (WHERE status = 'completed')::float AS "averageDurationMs"
         FROM job_run WHERE "tenantId" = $1 AND "startedAt" >= $2 AND "startedAt" < $3
        GROUP BY "jobName"`,
      [tenantId, from, to],
    );
    return this.settings.schedules.map(
      ({ name }) => rows.find((row) => row.name === name) ?? { name, completed: 0, failed: 0, averageDurationMs: null },
    );
  }
}
