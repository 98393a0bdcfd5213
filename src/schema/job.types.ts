import { ArgsType, Field, Float, Int, ObjectType } from 'type-graphql';
import { IsOptional, MaxLength } from 'class-validator';
import { JobRun } from '../entities/job-run.entity';
import { PageArgs, PageInfo } from './connection';

@ObjectType({ description: "A recurring job as it stands for the caller's tenant." })
export class JobInfo {
  @Field({ description: 'Job name, e.g. sla-monitor, escalations or campaigns.' })
  name!: string;

  @Field({ description: 'What the job does.' })
  description!: string;

  @Field({ description: 'Cron schedule, or an interval such as `every 5 s` (from configuration).' })
  schedule!: string;

  @Field({ description: 'Timezone the schedule is read in.' })
  timezone!: string;

  @Field(() => Date, { nullable: true, description: 'When it runs next; null while paused.' })
  nextRunAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'When it last started for this tenant.' })
  lastRunAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'When it last finished for this tenant.' })
  lastFinishedAt!: Date | null;

  @Field(() => String, { nullable: true, description: 'Error of the last run, if it failed.' })
  lastError!: string | null;

  @Field({ description: 'True while a run for this tenant is in progress.' })
  running!: boolean;

  @Field(() => Int, { description: 'Failed runs in a row; reaching the limit pauses the job.' })
  consecutiveFailures!: number;

  @Field({ description: 'True when paused (by an admin, or after failing too often).' })
  paused!: boolean;

  @Field(() => String, { nullable: true, description: 'Why it is paused.' })
  pausedReason!: string | null;
}

@ObjectType({ description: 'Runs of one job in a period.' })
export class JobStats {
  @Field({ description: 'Job name.' })
  name!: string;

  @Field(() => Int, { description: 'Runs that completed.' })
  completed!: number;

  @Field(() => Int, { description: 'Runs that failed.' })
  failed!: number;

  @Field(() => Float, { nullable: true, description: 'Mean duration of completed runs, in milliseconds.' })
  averageDurationMs!: number | null;
}

@ArgsType()
export class FailedJobsArgs extends PageArgs {
  @Field(() => String, { nullable: true, description: 'Only this job.' })
  @IsOptional()
  @MaxLength(100)
  name?: string | null;
}

@ObjectType({ description: 'A failed run in a list, with its cursor.' })
export class JobRunEdge {
  @Field(() => JobRun, { description: 'The run.' })
  node!: JobRun;

  @Field({ description: 'Cursor of this position.' })
  cursor!: string;
}

@ObjectType({ description: 'A page of failed runs, newest first.' })
export class JobRunConnection {
  @Field(() => [JobRunEdge], { description: 'Runs of this page.' })
  edges!: JobRunEdge[];

  @Field(() => PageInfo, { description: 'Where this page is.' })
  pageInfo!: PageInfo;

  @Field(() => Int, { description: 'How many match in all.' })
  totalCount!: number;
}
