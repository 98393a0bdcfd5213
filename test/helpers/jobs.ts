import { gqlOk, type TestApp } from './test-app';
import { until } from './wait';

const JOBS = `{ jobs { name lastFinishedAt lastError running consecutiveFailures paused nextRunAt pausedReason } }`;

export async function jobState(t: TestApp, token: string, name: string): Promise<Record<string, any>> {
  const { jobs } = await gqlOk(t.url, JOBS, {}, token);
  return jobs.find((job: { name: string }) => job.name === name);
}

/**
 * Asks for a run over the API (runJobNow) and waits until the worker (ROLE=all)
 * finished it. Run times come from the test's clock, so it steps one second first
 * to tell this run from the one before.
 */
export async function runJob(t: TestApp, token: string, name: string): Promise<Record<string, any>> {
  t.clock.advance(1000);
  const before = (await jobState(t, token, name)).lastFinishedAt;
  await gqlOk(t.url, `mutation ($name: String!) { runJobNow(name: $name) { name } }`, { name }, token);
  return until(`${name} to finish`, async () => {
    const current = await jobState(t, token, name);
    return current.lastFinishedAt !== before && !current.running ? current : undefined;
  });
}
