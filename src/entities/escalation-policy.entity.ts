import { Column, CreateDateColumn, Entity, Index, UpdateDateColumn } from 'typeorm';
import type { Channel } from './channel';
import { TenantOwned } from './tenant-owned';
import { TicketCategory, TicketPriority } from './ticket.entity';
import type { Role } from './user.entity';

export enum EscalationTargetKind {
  /** The assignee's manager (depth 1), that manager's manager (depth 2), … */
  MANAGER_CHAIN = 'manager_chain',
  /** Every active user holding a role. */
  ROLE = 'role',
  /** One named user. */
  USER = 'user',
}

export interface EscalationTarget {
  kind: EscalationTargetKind;
  depth?: number | null;
  role?: Role | null;
  userId?: string | null;
}

/** One rung of the ladder, stored as JSON inside its policy. */
export interface EscalationLevelSpec {
  level: number;
  /** Minutes after the breach at which an item reaches this level. */
  afterMinutes: number;
  target: EscalationTarget;
  channels: Channel[];
  /** Optional opening line with {{recipientName}}, {{count}} and {{level}} placeholders. */
  intro: string | null;
}

/**
 * Who hears about overdue work, and when. For tickets, a tenant has a default policy (no
 * category, no priority) and may narrow others to a category and/or priority; the most
 * specific active policy applies to a ticket. A policy with a `recordKind` escalates
 * overdue business records of that kind (trainings, service jobs, ...) with its owner
 * chain; records of a kind without a policy are not escalated.
 */
@Entity('escalation_policy')
@Index('escalation_policy_tenant_idx', ['tenantId'])
export class EscalationPolicy extends TenantOwned {
  @Column({ type: 'varchar', length: 100 })
  name!: string;

  @Column({ type: 'enum', enum: TicketCategory, enumName: 'ticket_category', nullable: true })
  category!: TicketCategory | null;

  @Column({ type: 'enum', enum: TicketPriority, enumName: 'ticket_priority', nullable: true })
  priority!: TicketPriority | null;

  /** Set: the policy escalates overdue business records of this kind (e.g. training), not tickets. */
  @Column({ type: 'varchar', length: 50, nullable: true })
  recordKind!: string | null;

  @Column({ type: 'jsonb' })
  levels!: EscalationLevelSpec[];

  /** Items overdue this long are listed as critical in the top-level summary. */
  @Column({ type: 'integer', default: 1440 })
  criticalAfterMinutes!: number;

  @Column({ type: 'boolean', default: true })
  active!: boolean;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt!: Date;
}
