import { Column, Entity, Index } from 'typeorm';
import { TenantOwned } from './tenant-owned';

/** A recurring job's state for one tenant: paused or not, and its run of failures. */
@Entity('job_state')
@Index('job_state_tenant_job_key', ['tenantId', 'jobName'], { unique: true })
export class JobState extends TenantOwned {
  @Column({ type: 'varchar', length: 100 })
  jobName!: string;

  @Column({ type: 'boolean', default: false })
  paused!: boolean;

  @Column({ type: 'text', nullable: true })
  pausedReason!: string | null;

  @Column({ type: 'integer', default: 0 })
  consecutiveFailures!: number;

  @Column({ type: 'timestamptz', nullable: true })
  lastRunAt!: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  lastFinishedAt!: Date | null;

  @Column({ type: 'text', nullable: true })
  lastError!: string | null;

  @Column({ type: 'timestamptz', nullable: true })
  runningSince!: Date | null;
}
