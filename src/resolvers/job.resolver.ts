import { Arg, Args, Authorized, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { JobRun } from '../entities/job-run.entity';
import { Role } from '../entities/user.entity';
import type { AuthedContext } from '../schema/context';
import { pageInfo, splitPage } from '../schema/connection';
import { FailedJobsArgs, JobInfo, JobRunConnection, JobStats } from '../schema/job.types';
import { assertPeriod } from '../services/platform/errors';
import { requireStaff } from '../services/directory/principal';

@Resolver()
export class JobResolver {
  @Authorized(Role.ADMIN)
  @Query(() => [JobInfo], { description: 'Every recurring job as it stands for this tenant.' })
  jobs(@Ctx() { principal, services }: AuthedContext): Promise<JobInfo[]> {
    return services.jobs.list(principal.tenantId);
  }

  @Authorized(Role.ADMIN)
  @Query(() => JobRunConnection, { description: 'Failed runs, newest first: the dead letters of the jobs.' })
  async failedJobs(@Args() args: FailedJobsArgs, @Ctx() { principal, services }: AuthedContext): Promise<JobRunConnection> {
    const [page, { name }] = splitPage(args);
    const found = await services.jobs.failed(principal.tenantId, name ?? null, page);
    return { edges: found.edges, pageInfo: pageInfo(found), totalCount: found.totalCount };
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => JobRun, { description: 'Queues a new run for a failed one (once per failed run); returns the failed run.' })
  retryJob(
    @Arg('id', () => ID, { description: 'Id of the failed run.' }) id: string,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<JobRun> {
    return services.jobs.retry(requireStaff(principal), id);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => JobInfo, { description: 'Queues a run of the job for this tenant now (even while paused).' })
  runJobNow(
    @Arg('name', { description: 'Job name.' }) name: string,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<JobInfo> {
    return services.jobs.runNow(requireStaff(principal), name);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => JobInfo, { description: 'Stops scheduled runs of the job for this tenant until resumed.' })
  pauseJob(
    @Arg('name', { description: 'Job name.' }) name: string,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<JobInfo> {
    return services.jobs.pause(requireStaff(principal), name);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => JobInfo, { description: 'Resumes scheduled runs and resets the count of failures in a row.' })
  resumeJob(
    @Arg('name', { description: 'Job name.' }) name: string,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<JobInfo> {
    return services.jobs.resume(requireStaff(principal), name);
  }

  @Authorized(Role.ADMIN)
  @Query(() => [JobStats], { description: 'Per job: completed and failed runs and mean duration in [from, to).' })
  jobStats(
    @Arg('from', () => Date, { description: 'Start (inclusive).' }) from: Date,
    @Arg('to', () => Date, { description: 'End (exclusive).' }) to: Date,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<JobStats[]> {
    assertPeriod(from, to);
    return services.jobs.stats(principal.tenantId, from, to);
  }
}
