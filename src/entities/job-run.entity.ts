import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { Column, Entity, Index } from 'typeorm';
import { TenantOwned } from './tenant-owned';

export enum JobRunStatus {
  RUNNING = 'running',
  COMPLETED = 'completed',
  FAILED = 'failed',
}

registerEnumType(JobRunStatus, {
  name: 'JobRunStatus',
  description: 'Outcome of one run of a scheduled job for one tenant.',
  valuesConfig: {
    RUNNING: { description: 'Started and not finished (or its worker died; the next run supersedes it).' },
    COMPLETED: { description: 'Finished without error.' },
    FAILED: { description: 'Stopped by an error; nothing of the run was committed.' },
  },
});

export enum JobTrigger {
  SCHEDULE = 'schedule',
  MANUAL = 'manual',
  RETRY = 'retry',
}

registerEnumType(JobTrigger, {
  name: 'JobTrigger',
  description: 'What started a job run.',
  valuesConfig: {
    SCHEDULE: { description: 'Its cron schedule.' },
    MANUAL: { description: 'An admin asked to run it now.' },
    RETRY: { description: 'An admin retried a failed run.' },
  },
});

/** One run of a scheduled job for one tenant: the job history and its dead letters. */
@ObjectType({ description: 'One run of a scheduled job for one tenant.' })
@Entity('job_run')
@Index('job_run_tenant_job_started_idx', ['tenantId', 'jobName', 'startedAt'])
@Index('job_run_tenant_failed_idx', ['tenantId', 'startedAt'], { where: `"status" = 'failed'` })
export class JobRun extends TenantOwned {
  @Field({ description: 'Name of the job, e.g. sla-monitor.' })
  @Column({ type: 'varchar', length: 100 })
  jobName!: string;

  @Field(() => JobTrigger, { description: 'What started the run.' })
  @Column({ type: 'enum', enum: JobTrigger, enumName: 'job_trigger' })
  trigger!: JobTrigger;

  @Field(() => JobRunStatus, { description: 'Running, completed or failed.' })
  @Column({ type: 'enum', enum: JobRunStatus, enumName: 'job_run_status' })
  status!: JobRunStatus;

  @Field({ description: 'When the run started.' })
  @Column({ type: 'timestamptz' })
  startedAt!: Date;

  @Field(() => Date, { nullable: true, description: 'When the run finished.' })
  @Column({ type: 'timestamptz', nullable: true })
  finishedAt!: Date | null;

  @Field(() => Int, { nullable: true, description: 'How long the run took, in milliseconds.' })
  @Column({ type: 'integer', nullable: true })
  durationMs!: number | null;

  @Field(() => String, { nullable: true, description: 'The error that stopped a failed run.' })
  @Column({ type: 'text', nullable: true })
  error!: string | null;

  @Field(() => GraphQLJSONObject, { nullable: true, description: 'What the run did (counts), when it completed.' })
  @Column({ type: 'jsonb', nullable: true })
  summary!: Record<string, unknown> | null;

  @Field(() => ID, { nullable: true, description: 'The failed run this one retried.' })
  @Column({ type: 'uuid', nullable: true })
  retryOfId!: string | null;

  @Field(() => Date, { nullable: true, description: 'When an admin retried this failed run.' })
  @Column({ type: 'timestamptz', nullable: true })
  retriedAt!: Date | null;
}
