import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Client as PgClient } from 'pg';
import { CronExpressionParser } from 'cron-parser';
import { Delivery } from '../src/entities/delivery.entity';
import { Role, type User } from '../src/entities/user.entity';
import { PASSWORD, makeContact, makeTenant, makeUser } from './helpers/factories';
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
      RULE_DATE_SCAN_MS: '1000',
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
    expect(listed.map(({ name, schedule }) => ({ name, schedule }))).toEqual([
      { name: 'sla-monitor', schedule: '*/5 * * * *' },
      { name: 'escalations', schedule: '30 2 * * 1-5' },
      { name: 'rule-delays', schedule: 'every 5 s' },
      { name: 'relative-date-rules', schedule: 'every 1 s' },
      { name: 'schedule-rules', schedule: 'every 1 s' },
      { name: 'campaigns', schedule: 'every 1 s' },
      { name: 'completion-requests', schedule: 'every 1 s' },
      { name: 'ticket-auto-close', schedule: 'every 1 s' },
      { name: 'rule-executions-pruning', schedule: 'every 1 h' },
      { name: 'idempotency-keys-pruning', schedule: 'every 1 h' },
      { name: 'abandoned-uploads', schedule: 'every 1 h' },
    ]);
    expect(new Set(listed.map((job) => job.timezone))).toEqual(new Set(['Asia/Jakarta']));
    // Every job has its next run planned.
    expect(listed.filter((job) => !job.nextRunAt).map((job) => job.name)).toEqual([]);
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

  /** A business whose resolved tickets close after 3 quiet days, with its admin's token. */
  async function business() {
    const tenant = await makeTenant(t.app.dataSource, { ticketAutoCloseDays: 3 });
    const owner = await makeUser(t.app.dataSource, tenant, { role: Role.ADMIN, phone: '+6281111111112' });
    const contact = await makeContact(t.app.dataSource, tenant, { phone: null });
    const agent = await makeUser(t.app.dataSource, tenant, { role: Role.AGENT });
    const token = (await t.app.services.auth.login(owner.email, PASSWORD)).token;
    const actor = { kind: 'staff' as const, tenantId: tenant.id, userId: owner.id, role: Role.ADMIN as const, name: owner.name };
    /** A ticket resolved four days ago (by the API's clock): due to close. */
    const resolvedTicket = async () => {
      const ticket = await t.app.services.tickets.create(actor, {
        subject: 'Done',
        category: 'technical' as never,
        priority: 'low' as never,
        requesterId: contact.id,
        assigneeId: agent.id,
      });
      await t.app.services.tickets.changeStatus(actor, ticket.id, 'in_progress' as never);
      await t.app.services.tickets.changeStatus(actor, ticket.id, 'resolved' as never);
      await t.app.dataSource.query(`UPDATE ticket SET "resolvedAt" = $2 WHERE id = $1`, [
        ticket.id,
        new Date(t.clock.now().getTime() - 4 * 86_400_000),
      ]);
      return ticket.id;
    };
    return { tenant, token, resolvedTicket };
  }
  const ticketStatus = async (id: string) =>
    (await t.app.dataSource.query(`SELECT status FROM ticket WHERE id = $1`, [id]))[0].status as string;

  it("runs the worker's periodic work as jobs of each tenant: paused for one, running for another, run now with its history", async () => {
    const a = await business();
    const b = await business();
    // A's admin pauses the job; it stays running for B, and B's admin cannot reach A's.
    await gqlOk(t.url, `mutation { pauseJob(name: "ticket-auto-close") { paused } }`, {}, a.token);
    await gqlOk(t.url, `mutation { pauseJob(name: "ticket-auto-close") { paused } }`, {}, b.token);
    await gqlOk(t.url, `mutation { resumeJob(name: "ticket-auto-close") { paused } }`, {}, b.token);
    expect(await jobState(t, a.token, 'ticket-auto-close')).toMatchObject({
      paused: true,
      pausedReason: expect.stringContaining('Paused by'),
    });
    expect(await jobState(t, b.token, 'ticket-auto-close')).toMatchObject({ paused: false });

    const heldTicket = await a.resolvedTicket();
    const closedTicket = await b.resolvedTicket();
    // The schedule (every second here) closes B's ticket; the run that did saw A's due too and left it.
    const runs = (tenantId: string) =>
      t.app.dataSource.query(
        `SELECT trigger, status, summary FROM job_run WHERE "tenantId" = $1 AND "jobName" = 'ticket-auto-close' ORDER BY "startedAt"`,
        [tenantId],
      );
    await until('the schedule to close B’s ticket and record its run', async () =>
      (await runs(b.tenant.id)).some((run: any) => run.status === 'completed'),
    );
    expect(await ticketStatus(closedTicket)).toBe('closed');
    expect(await ticketStatus(heldTicket)).toBe('resolved');
    expect(await runs(b.tenant.id)).toEqual([{ trigger: 'schedule', status: 'completed', summary: { closed: 1 } }]);
    expect(await runs(a.tenant.id)).toEqual([]);

    // Run now works while paused, for the caller's tenant only, and is kept even when it finds nothing.
    const finished = await runJob(t, a.token, 'ticket-auto-close');
    expect(finished).toMatchObject({ paused: true, lastError: null });
    expect(await ticketStatus(heldTicket)).toBe('closed');
    await runJob(t, b.token, 'ticket-auto-close');
    expect(await runs(a.tenant.id)).toEqual([{ trigger: 'manual', status: 'completed', summary: { closed: 1 } }]);
    expect((await runs(b.tenant.id)).map((run: any) => [run.trigger, run.summary])).toEqual([
      ['schedule', { closed: 1 }],
      ['manual', { closed: 0 }],
    ]);
    const { jobStats } = await gqlOk(
      t.url,
      `query ($from: DateTimeISO!, $to: DateTimeISO!) { jobStats(from: $from, to: $to) { name completed failed } }`,
      {
        from: new Date(t.clock.now().getTime() - 86_400_000).toISOString(),
        to: new Date(t.clock.now().getTime() + 60_000).toISOString(),
      },
      a.token,
    );
    expect(jobStats.find((row: any) => row.name === 'ticket-auto-close')).toEqual({
      name: 'ticket-auto-close',
      completed: 1,
      failed: 0,
    });
  });

  it('pauses a periodic job that keeps failing and tells the admins, as any job', async () => {
    const c = await business();
    await c.resolvedTicket();
    // The auto-close cannot write while this trigger exists: each run fails on the database.
    await t.app.dataSource.query(`
      CREATE FUNCTION refuse_ticket_close() RETURNS trigger AS $$
      BEGIN IF NEW.status = 'closed' THEN RAISE EXCEPTION 'tickets cannot close during the migration'; END IF; RETURN NEW; END; $$ LANGUAGE plpgsql;
      CREATE TRIGGER refuse_ticket_close BEFORE UPDATE ON ticket FOR EACH ROW EXECUTE FUNCTION refuse_ticket_close();`);
    try {
      // The schedule (every second) fails three times in a row, then the job pauses itself for this tenant.
      const paused = await until('the job to pause itself', async () => {
        const state = await jobState(t, c.token, 'ticket-auto-close');
        return state.paused ? state : undefined;
      });
      expect(paused).toMatchObject({
        consecutiveFailures: 3,
        lastError: expect.stringContaining('cannot close during the migration'),
      });
      const notices = await t.app.dataSource.query(
        `SELECT body FROM delivery WHERE "tenantId" = $1 AND "notificationType" = 'job_paused'`,
        [c.tenant.id],
      );
      expect(notices).toEqual([{ body: expect.stringContaining('ticket-auto-close job failed 3 times in a row') }]);
      const failed = (await gqlOk(t.url, FAILED, { name: 'ticket-auto-close' }, c.token)).failedJobs;
      expect(failed.totalCount).toBe(3);
    } finally {
      await t.app.dataSource.query(`DROP TRIGGER refuse_ticket_close ON ticket; DROP FUNCTION refuse_ticket_close();`);
    }
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
            `SELECT status, error FROM job_run WHERE "tenantId" = $1 AND "jobName" = 'escalations' ORDER BY "startedAt"`,
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
