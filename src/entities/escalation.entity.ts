import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Check, Column, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { BusinessRecord } from './business-record.entity';
import { TenantOwned } from './tenant-owned';
import { Ticket } from './ticket.entity';
import { User } from './user.entity';

export enum EscalationStatus {
  OPEN = 'open',
  ACKNOWLEDGED = 'acknowledged',
  RESOLVED = 'resolved',
}

registerEnumType(EscalationStatus, {
  name: 'EscalationStatus',
  description: 'Where an escalation stands.',
  valuesConfig: {
    OPEN: { description: 'Sent; nobody has acknowledged it yet.' },
    ACKNOWLEDGED: { description: 'The recipient (or an admin) acknowledged it.' },
    RESOLVED: { description: 'The ticket was resolved or closed.' },
  },
});

/** One recipient told about one overdue item (a ticket, or a business record such as a training) at one level. */
@ObjectType({ description: 'One recipient told about one overdue ticket or business record at one escalation level.' })
@Entity('escalation')
@Check('escalation_one_subject', '("ticketId" IS NULL) <> ("recordId" IS NULL)')
@Index('escalation_ticket_level_recipient_key', ['ticketId', 'level', 'recipientId'], {
  unique: true,
  where: '"manual" = false',
})
@Index('escalation_record_level_recipient_key', ['recordId', 'level', 'recipientId'], {
  unique: true,
  where: '"manual" = false AND "recordId" IS NOT NULL',
})
@Index('escalation_record_idx', ['recordId'], { where: '"recordId" IS NOT NULL' })
@Index('escalation_tenant_status_idx', ['tenantId', 'status'])
@Index('escalation_tenant_created_idx', ['tenantId', 'createdAt'])
@Index('escalation_tenant_recipient_idx', ['tenantId', 'recipientId'])
export class Escalation extends TenantOwned {
  @Field(() => ID, { nullable: true, description: 'Id of the overdue ticket (null for a business record).' })
  @Column({ type: 'uuid', nullable: true })
  ticketId!: string | null;

  @ManyToOne(() => Ticket, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'ticketId' })
  ticket?: Ticket;

  @Field(() => ID, { nullable: true, description: 'Id of the overdue business record, e.g. a training (null for a ticket).' })
  @Column({ type: 'uuid', nullable: true })
  recordId!: string | null;

  @ManyToOne(() => BusinessRecord, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'recordId' })
  record?: BusinessRecord;

  @Field(() => Int, { description: 'Escalation level, 1 being the first rung (manual escalations keep the current level).' })
  @Column({ type: 'smallint' })
  level!: number;

  @Field(() => ID, { description: 'Id of the user who was told.' })
  @Column({ type: 'uuid' })
  recipientId!: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'recipientId' })
  recipient?: User;

  @Field({ description: 'Why the ticket was escalated.' })
  @Column({ type: 'text' })
  reason!: string;

  @Field({ description: 'True when a person escalated the ticket by hand.' })
  @Column({ type: 'boolean', default: false })
  manual!: boolean;

  @Field(() => Int, { description: 'How many minutes the ticket was overdue when it was escalated.' })
  @Column({ type: 'integer' })
  overdueMinutes!: number;

  @Field(() => EscalationStatus, { description: 'Open, acknowledged or resolved.' })
  @Column({ type: 'enum', enum: EscalationStatus, enumName: 'escalation_status', default: EscalationStatus.OPEN })
  status!: EscalationStatus;

  @Field(() => [ID], { description: 'Ids of the messages that told the recipient (one per channel).' })
  @Column({ type: 'uuid', array: true, default: () => "'{}'" })
  deliveryIds!: string[];

  @Column({ type: 'uuid', nullable: true })
  runId!: string | null;

  @Field(() => ID, { nullable: true, description: 'Id of the user who escalated by hand.' })
  @Column({ type: 'uuid', nullable: true })
  createdById!: string | null;

  @Field({ description: 'When the escalation was raised.' })
  @Column({ type: 'timestamptz' })
  createdAt!: Date;

  @Field(() => Date, { nullable: true, description: 'When it was acknowledged.' })
  @Column({ type: 'timestamptz', nullable: true })
  acknowledgedAt!: Date | null;

  @Field(() => ID, { nullable: true, description: 'Id of the user who acknowledged it.' })
  @Column({ type: 'uuid', nullable: true })
  acknowledgedById!: string | null;

  @Field(() => Date, { nullable: true, description: 'When the ticket was resolved and the escalation closed.' })
  @Column({ type: 'timestamptz', nullable: true })
  resolvedAt!: Date | null;
}
