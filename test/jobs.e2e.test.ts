import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Client as PgClient } from 'pg';
import { CronExpressionParser } from 'cron-parser';
import { Delivery } from '../src/entities/delivery.entity';
import { Role, type User } from '../src/entities/user.entity';
import { PASSWORD, makeTenant, makeUser } from './helpers/factories';
import { type TestApp, errorCode, gql, gqlOk, startTestApp } from './helpers/test-app';
import { jobState, runJob } from './helpers/jobs';
import { killAndWait, until } from './helpers/wait';

const JOBS = `{ jobs { name schedule timezone nextRunAt lastRunAt lastFinishedAt lastError running consecutiveFailures paused pausedReason } }`;
const RUN_NOW = `mutation ($name: String!) { runJobNow(name: $name) { name } }`;
const FAILED = `query ($first: Int, $after: String, $name: String) {
  failedJobs(first: $first, after: $after, name: $name) { totalCount pageInfo { hasNextPage endCursor } edges { node { id jobName trigger status error retriedAt } } }
}`;

const backends = [
  { name: 'PostgreSQL', env: (): Record<string, string> => ({}) },
  {
    name: 'MongoDB',
    env: (): Record<string, string> => {
      const url = new URL(process.env.TEST_MONGODB_URL!);
      url.pathname = `/notify_jobs_${randomBytes(4).toString('hex')}`;
      return { MONGODB_URL: url.toString() };
    },
  },
];

describe.each(backends)('scheduled jobs on $name', (backend) => {
  let t: TestApp;
  let admin: User;
  let adminToken: string;
  let agentToken: string;

  beforeAll(async () => {
    t = await startTestApp(undefined, {
      ...backend.env(),
      ROLE: 'all',
      SLA_MONITOR_CRON: '*/5 * * * *',
      ESCALATIONS_CRON: '30 2 * * 1-5',
      JOBS_TIMEZONE: 'Asia/Jakarta',
      SCHEDULER_PROCESS_EVERY_MS: '100',
      SCHEDULER_LOCK_LIFETIME_MS: '2000',
    });
    const tenant = await makeTenant(t.app.dataSource);
    admin = await makeUser(t.app.dataSource, tenant, { role: Role.ADMIN, name: 'Ada Admin', phone: '+6281111111111' });
    const agent = await makeUser(t.app.dataSource, tenant, { role: Role.AGENT });
    adminToken = (await t.app.services.auth.login(admin.email, PASSWORD)).token;
    agentToken = (await t.app.services.auth.login(agent.email, PASSWORD)).token;
  });
  afterAll(() => t.stop());

  const jobs = async () => (await gqlOk(t.url, JOBS, {}, adminToken)).jobs as Array<Record<string, any>>;
  const job = async (name: string) => (await jobs()).find((candidate) => candidate.name === name)!;

  const runNow = (name: string) => runJob(t, adminToken, name);

  it('keeps each recurring job on its configured cron and timezone', async () => {
    const listed = await jobs();
    expect(listed.map(({ name, schedule, timezone }) => ({ name, schedule, timezone }))).toEqual([
      { name: 'sla-monitor', schedule: '*/5 * * * *', timezone: 'Asia/Jakarta' },
      { name: 'escalations', schedule: '30 2 * * 1-5', timezone: 'Asia/Jakarta' },
    ]);
    // 02:30 on weekdays in Jakarta (UTC+7) is 19:30 UTC the day before.
    const expected = CronExpressionParser.parse('30 2 * * 1-5', { tz: 'Asia/Jakarta', currentDate: new Date() }).next().toDate();
    expect(new Date(listed[1].nextRunAt).toISOString()).toBe(expected.toISOString());
    const nextMonitor = new Date(listed[0].nextRunAt);
    expect(nextMonitor.getUTCMinutes() % 5).toBe(0);
    expect(nextMonitor.getTime() - Date.now()).toBeLessThanOrEqual(5 * 60_000);
  });

  it('runs a job now on the worker and records the run', async () => {
    const from = new Date(t.clock.now().getTime() - 60_000).toISOString();
    const finished = await runNow('sla-monitor');
    expect(finished).toMatchObject({ lastError: null, consecutiveFailures: 0, paused: false });
    const to = new Date(t.clock.now().getTime() + 60_000).toISOString();
    const { jobStats } = await gqlOk(
      t.url,
      `query ($from: DateTimeISO!, $to: DateTimeISO!) { jobStats(from: $from, to: $to) { name completed failed averageDurationMs } }`,
      { from, to },
      adminToken,
    );
    // The real */5 schedule may also have run meanwhile: at least this run, and no failure.
    const monitorStats = jobStats.find((row: any) => row.name === 'sla-monitor');
    expect(monitorStats.completed).toBeGreaterThanOrEqual(1);
    expect(monitorStats.failed).toBe(0);
    expect(jobStats.find((row: any) => row.name === 'sla-monitor').averageDurationMs).toBeGreaterThanOrEqual(0);
  });

  it('pauses and resumes a job for the tenant', async () => {
    const paused = (
      await gqlOk(t.url, `mutation { pauseJob(name: "escalations") { paused pausedReason nextRunAt } }`, {}, adminToken)
    ).pauseJob;
    expect(paused).toEqual({ paused: true, pausedReason: 'Paused by Ada Admin', nextRunAt: null });
    const resumed = (await gqlOk(t.url, `mutation { resumeJob(name: "escalations") { paused nextRunAt } }`, {}, adminToken))
      .resumeJob;
    expect(resumed.paused).toBe(false);
    expect(resumed.nextRunAt).not.toBeNull();
  });

  it('pauses a job that fails three times in a row, tells the admins, and retries a dead letter', async () => {
    // A real database failure inside the run: escalation updates are refused while this trigger exists.
    await t.app.dataSource.query(`
      CREATE FUNCTION refuse_escalation_update() RETURNS trigger AS $$
      BEGIN RAISE EXCEPTION 'escalation table is read-only for maintenance'; END; $$ LANGUAGE plpgsql;
      CREATE TRIGGER refuse_escalation_update BEFORE UPDATE ON escalation
        FOR EACH STATEMENT EXECUTE FUNCTION refuse_escalation_update();`);
    try {
      for (const failures of [1, 2]) {
        expect(await runNow('escalations')).toMatchObject({ consecutiveFailures: failures, paused: false });
      }
      const third = await runNow('escalations');
      expect(third).toMatchObject({ consecutiveFailures: 3, paused: true, nextRunAt: null });
      expect(third.lastError).toContain('read-only for maintenance');
      expect(third.pausedReason).toContain('Paused after 3 failed runs in a row');

      const notices = await t.app.dataSource.getRepository(Delivery).findBy({ notificationType: 'job_paused' });
      expect(notices.map((notice) => notice.userId)).toEqual([admin.id]);
      expect(notices[0].body).toContain('escalations job failed 3 times in a row');
    } finally {
      await t.app.dataSource.query(
        `DROP TRIGGER refuse_escalation_update ON escalation; DROP FUNCTION refuse_escalation_update();`,
      );
    }

    const listed = (await gqlOk(t.url, FAILED, {}, adminToken)).failedJobs;
    expect(listed.totalCount).toBe(3);
    const failedJobs = listed.edges.map((edge: any) => edge.node);
    expect(failedJobs.every((run: any) => run.jobName === 'escalations' && run.status === 'FAILED')).toBe(true);
    // Paged two at a time, the same runs in the same order; another job's name finds none.
    const first = (await gqlOk(t.url, FAILED, { first: 2 }, adminToken)).failedJobs;
    const rest = (await gqlOk(t.url, FAILED, { first: 2, after: first.pageInfo.endCursor }, adminToken)).failedJobs;
    expect([first.pageInfo.hasNextPage, rest.pageInfo.hasNextPage]).toEqual([true, false]);
    expect([...first.edges, ...rest.edges].map((edge: any) => edge.node.id)).toEqual(failedJobs.map((run: any) => run.id));
    expect((await gqlOk(t.url, FAILED, { name: 'sla-monitor' }, adminToken)).failedJobs.totalCount).toBe(0);

    t.clock.advance(1000);
    const before = (await job('escalations')).lastFinishedAt;
    const retried = await gqlOk(
      t.url,
      `mutation ($id: ID!) { retryJob(id: $id) { id retriedAt } }`,
      { id: failedJobs[0].id },
      adminToken,
    );
    expect(retried.retryJob.retriedAt).not.toBeNull();
    const afterRetry = await until('the retry to finish', async () => {
      const current = await job('escalations');
      return current.lastFinishedAt !== before && !current.running ? current : undefined;
    });
    // The retry ran even though the job is paused; success resets the count but not the pause.
    expect(afterRetry).toMatchObject({ consecutiveFailures: 0, lastError: null, paused: true });
    const again = await gql(t.url, `mutation ($id: ID!) { retryJob(id: $id) { id } }`, { id: failedJobs[0].id }, adminToken);
    expect(errorCode(again)).toBe('CONFLICT');

    const resumed = (
      await gqlOk(t.url, `mutation { resumeJob(name: "escalations") { paused consecutiveFailures } }`, {}, adminToken)
    ).resumeJob;
    expect(resumed).toEqual({ paused: false, consecutiveFailures: 0 });
  });

  it('refuses unknown jobs and non-admins, changing nothing', async () => {
    expect(errorCode(await gql(t.url, RUN_NOW, { name: 'nope' }, adminToken))).toBe('BAD_USER_INPUT');
    expect(errorCode(await gql(t.url, RUN_NOW, { name: 'sla-monitor' }, agentToken))).toBe('FORBIDDEN');
    expect(errorCode(await gql(t.url, JOBS, {}, agentToken))).toBe('FORBIDDEN');
    expect(errorCode(await gql(t.url, JOBS, {}))).toBe('UNAUTHENTICATED');
  });
});

describe('a worker stopped in the middle of a job', () => {
  const MAIN = path.join(__dirname, '..', 'dist', 'src', 'main.js');
  const workerEnv = (databaseUrl: string) => ({
    ...process.env,
    ROLE: 'worker',
    DATABASE_URL: databaseUrl,
    JWT_SECRET: 'x'.repeat(40),
    CREDENTIALS_KEY: Buffer.alloc(32, 9).toString('base64'),
    NODE_ENV: 'test',
    SEED_DEMO_DATA: 'false',
    SCHEDULER_PROCESS_EVERY_MS: '100',
    SCHEDULER_LOCK_LIFETIME_MS: '2000',
    SHUTDOWN_TIMEOUT_MS: '300',
  });

  it('exits, releases the job, and another worker runs it to the end', async () => {
    const t = await startTestApp();
    const blocker = new PgClient({ connectionString: t.databaseUrl });
    blocker.on('error', () => undefined);
    const workers: ChildProcess[] = [];
    try {
      const tenant = await makeTenant(t.app.dataSource);
      const admin = await makeUser(t.app.dataSource, tenant, { role: Role.ADMIN });
      const token = (await t.app.services.auth.login(admin.email, PASSWORD)).token;
      // The run waits on the tenant's escalation lock, which this session holds: it stays in progress.
      await blocker.connect();
      await blocker.query(`SELECT pg_advisory_lock(hashtext('escalations:' || $1::text))`, [tenant.id]);
      workers.push(spawn(process.execPath, [MAIN], { env: workerEnv(t.databaseUrl), stdio: 'ignore' }));
      await gqlOk(t.url, `mutation { runEscalationsNow { name } }`, {}, token);
      await until('the run to start', async () => (await jobState(t, token, 'escalations')).running, 20_000);

      workers[0].kill('SIGTERM');
      const code = await new Promise<number | null>((resolve) => workers[0].once('exit', resolve));
      expect(code).toBe(0); // it exited on its own, cleanly: drain, release, stop
      const [job] = await t.app.dataSource.query(
        `SELECT locked_at FROM agenda_jobs WHERE name = 'escalations' AND type = 'normal'`,
      );
      expect(job.locked_at).toBeNull();

      await blocker.query(`SELECT pg_advisory_unlock_all()`);
      workers.push(spawn(process.execPath, [MAIN], { env: workerEnv(t.databaseUrl), stdio: 'ignore' }));
      const finished = await until(
        'another worker to finish the run',
        async () => {
          const runs: Array<{ status: string; error: string | null }> = await t.app.dataSource.query(
            `SELECT status, error FROM job_run WHERE "tenantId" = $1 ORDER BY "startedAt"`,
            [tenant.id],
          );
          return runs.some((run) => run.status === 'completed') ? runs : undefined;
        },
        20_000,
      );
      expect(finished.map((run) => run.status)).toEqual(['failed', 'completed']);
      expect(finished[0].error).toContain('Interrupted');
    } finally {
      await Promise.all(workers.map(killAndWait));
      await blocker.end().catch(() => undefined);
      await t.stop();
    }
  }, 60_000);
});
