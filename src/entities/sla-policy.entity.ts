import { Column, Entity, Index, UpdateDateColumn } from 'typeorm';
import { TenantOwned } from './tenant-owned';
import { TicketPriority } from './ticket.entity';

/** One working window of a weekday, in the calendar's timezone. */
export interface BusinessWindow {
  /** ISO weekday: 1 Monday … 7 Sunday. */
  day: number;
  /** Local start, "HH:MM". */
  start: string;
  /** Local end, "HH:MM", after `start` ("24:00" allowed). */
  end: string;
}

/** A weekly working calendar: SLA clocks only run inside its windows. */
export interface BusinessHours {
  /** IANA zone, e.g. Asia/Jakarta. */
  timezone: string;
  windows: BusinessWindow[];
  /** Local dates ("YYYY-MM-DD") on which the clock does not run. */
  holidays: string[];
}

/**
 * A tenant's SLA targets for one priority. Priorities without a row use the
 * product defaults (see DEFAULT_SLA_POLICIES).
 */
@Entity('sla_policy')
@Index('sla_policy_tenant_priority_key', ['tenantId', 'priority'], { unique: true })
export class SlaPolicy extends TenantOwned {
  @Column({ type: 'enum', enum: TicketPriority, enumName: 'ticket_priority' })
  priority!: TicketPriority;

  @Column({ type: 'integer' })
  firstResponseMinutes!: number;

  @Column({ type: 'integer' })
  resolutionMinutes!: number;

  @Column({ type: 'integer' })
  warningLeadMinutes!: number;

  @Column({ type: 'jsonb', nullable: true })
  businessHours!: BusinessHours | null;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt!: Date;
}
