import { GraphQLJSON, GraphQLJSONObject } from 'graphql-scalars';
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Column, CreateDateColumn, Entity, Index, UpdateDateColumn } from 'typeorm';
import { TenantOwned } from './tenant-owned';

/** What starts a rule. */
export enum RuleTriggerType {
  EVENT = 'event',
  RELATIVE_DATE = 'relative_date',
  SCHEDULE = 'schedule',
  MANUAL = 'manual',
}

registerEnumType(RuleTriggerType, {
  name: 'RuleTriggerType',
  description: 'What starts an automation rule.',
  valuesConfig: {
    EVENT: { description: 'A domain event: ticket.created, sla.breached, quote.sent, payment.received...' },
    RELATIVE_DATE: {
      description: "A date of a business record or contact (an invoice's dueAt, a birthday), some days before or after.",
    },
    SCHEDULE: { description: 'A cron schedule in a time zone (the tenant’s by default), e.g. 0 18 * * * for 18:00 daily.' },
    MANUAL: { description: 'Only runAutomationRule.' },
  },
});

/**
 * "When this happens, if these hold, after this delay, do these things." Trigger details,
 * conditions, delay and actions are JSON checked by the rules service when saved.
 */
@ObjectType({ description: 'An automation rule: trigger, conditions, delay and actions.' })
@Entity('automation_rule')
@Index('automation_rule_tenant_name_key', ['tenantId', 'name'], { unique: true })
@Index('automation_rule_event_idx', ['tenantId', 'triggerType', 'active'])
export class AutomationRule extends TenantOwned {
  @Field({ description: 'Unique name within the tenant.' })
  @Column({ type: 'varchar', length: 200 })
  name!: string;

  @Field(() => String, { nullable: true, description: 'What it is for.' })
  @Column({ type: 'text', nullable: true })
  description!: string | null;

  @Field({ description: 'Inactive rules never fire, not even from a delay already waiting.' })
  @Column({ type: 'boolean', default: true })
  active!: boolean;

  @Field(() => RuleTriggerType, { description: 'What starts it.' })
  @Column({ type: 'varchar', length: 20 })
  triggerType!: RuleTriggerType;

  @Field(() => [String], { description: 'For an event trigger: the event types (exact, or a prefix such as ticket.*).' })
  @Column({ type: 'text', array: true, default: '{}' })
  eventTypes!: string[];

  @Field(() => GraphQLJSONObject, {
    nullable: true,
    description: 'For a relative-date trigger: { field, kinds?, offsetsDays, atLocalTime?, timezone? }.',
  })
  @Column({ type: 'jsonb', nullable: true })
  dateTrigger!: Record<string, unknown> | null;

  @Field(() => String, {
    nullable: true,
    description: 'For a schedule trigger: a cron expression, e.g. 0 8 * * 1 (Mondays 08:00).',
  })
  @Column({ type: 'varchar', length: 100, nullable: true })
  cron!: string | null;

  @Field(() => String, {
    nullable: true,
    description: "For a schedule trigger: the cron's IANA time zone; the tenant's when null.",
  })
  @Column({ type: 'varchar', length: 64, nullable: true })
  cronTimezone!: string | null;

  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Nested all/any/not conditions; null always holds.' })
  @Column({ type: 'jsonb', nullable: true })
  conditions!: Record<string, unknown> | null;

  @Field(() => GraphQLJSONObject, {
    nullable: true,
    description: '{ minutes?, hours?, days?, untilLocalTime?, recheckConditions? }; null acts at once.',
  })
  @Column({ type: 'jsonb', nullable: true })
  delay!: Record<string, unknown> | null;

  @Field(() => GraphQLJSON, {
    description:
      "The actions, in order: [{ type, ... }]; each type's parameters are served as JSON Schema by ruleCatalog.actions.",
  })
  @Column({ type: 'jsonb' })
  actions!: Array<Record<string, unknown>>;

  @Field({ description: 'True: the first failing action stops the ones after it.' })
  @Column({ type: 'boolean', default: false })
  stopOnFailure!: boolean;

  @Field(() => Date, { nullable: true, description: 'It fires only from this time.' })
  @Column({ type: 'timestamptz', nullable: true })
  validFrom!: Date | null;

  @Field(() => Date, { nullable: true, description: 'It fires only until this time.' })
  @Column({ type: 'timestamptz', nullable: true })
  validUntil!: Date | null;

  @Field(() => Int, { nullable: true, description: 'Most executions in total.' })
  @Column({ type: 'integer', nullable: true })
  maxExecutions!: number | null;

  @Field(() => Int, { nullable: true, description: 'Most executions per subject (ticket, contact, record).' })
  @Column({ type: 'integer', nullable: true })
  maxExecutionsPerSubject!: number | null;

  @Field(() => Int, { nullable: true, description: 'Minutes before it may act again for the same subject.' })
  @Column({ type: 'integer', nullable: true })
  cooldownMinutes!: number | null;

  @Field(() => Int, { description: 'Order among rules on the same event, highest first.' })
  @Column({ type: 'integer', default: 0 })
  priority!: number;

  @Field(() => String, { nullable: true, description: 'Set on the rules of the built-in notification pack.' })
  @Column({ type: 'varchar', length: 100, nullable: true })
  builtIn!: string | null;

  @Field(() => Int, { description: 'Executions that acted (succeeded or failed).' })
  @Column({ type: 'integer', default: 0 })
  executionCount!: number;

  @Field(() => Int, { description: 'Executions whose every action succeeded.' })
  @Column({ type: 'integer', default: 0 })
  successCount!: number;

  @Field(() => Int, { description: 'Executions with a failed action.' })
  @Column({ type: 'integer', default: 0 })
  failureCount!: number;

  @Field(() => Date, { nullable: true, description: 'When it last acted.' })
  @Column({ type: 'timestamptz', nullable: true })
  lastExecutedAt!: Date | null;

  @Field(() => ID, { nullable: true, description: 'Who created it.' })
  @Column({ type: 'uuid', nullable: true })
  createdById!: string | null;

  @Field(() => ID, { nullable: true, description: 'Who changed it last.' })
  @Column({ type: 'uuid', nullable: true })
  updatedById!: string | null;

  @Field({ description: 'When it was created.' })
  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @Field({ description: 'When it was last changed.' })
  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt!: Date;
}
