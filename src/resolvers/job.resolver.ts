import { Arg, Authorized, Ctx, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import { JobRun } from '../entities/job-run.entity';
import { Role } from '../entities/user.entity';
import type { AuthedContext } from '../schema/context';
import { JobInfo, JobStats } from '../schema/job.types';
import { assertPeriod, badInput } from '../services/platform/errors';
import { requireStaff } from '../services/directory/principal';

@Resolver()
export class JobResolver {
  @Authorized(Role.ADMIN)
  @Query(() => [JobInfo], { description: 'Every recurring job as it stands for this tenant.' })
  jobs(@Ctx() { principal, services }: AuthedContext): Promise<JobInfo[]> {
    return services.jobs.list(principal.tenantId);
  }

  @Authorized(Role.ADMIN)
  @Query(() => [JobRun], { description: 'Failed runs, newest first: the dead letters of the jobs.' })
  failedJobs(
    @Arg('name', () => String, { nullable: true, description: 'Only this job.' }) name: string | null,
    @Arg('first', () => Int, { defaultValue: 50, description: 'At most this many (1-200).' }) first: number,
    @Ctx() { principal, services }: AuthedContext,
  ): Promise<JobRun[]> {
    if (first < 1 || first > 200) throw badInput('first must be 1 to 200', 'first');
    return services.jobs.failed(principal.tenantId, name, first);
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
