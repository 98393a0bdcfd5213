import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Column, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { AutomationRule, RuleTriggerType } from './automation-rule.entity';
import { TenantOwned } from './tenant-owned';

export enum RuleExecutionStatus {
  SKIPPED = 'skipped',
  DELAYED = 'delayed',
  SUCCEEDED = 'succeeded',
  FAILED = 'failed',
}

registerEnumType(RuleExecutionStatus, {
  name: 'RuleExecutionStatus',
  description: 'Where a rule execution stands.',
  valuesConfig: {
    SKIPPED: { description: 'It did not act: conditions, limits, cooldown or validity said no (see reason).' },
    DELAYED: { description: 'Its conditions held; it acts at runAt.' },
    SUCCEEDED: { description: 'Every action succeeded.' },
    FAILED: { description: 'At least one action failed (see actions).' },
  },
});

export enum RuleActionStatus {
  SUCCEEDED = 'succeeded',
  FAILED = 'failed',
  SKIPPED = 'skipped',
}
registerEnumType(RuleActionStatus, {
  name: 'RuleActionStatus',
  description: 'What became of one action of a rule.',
  valuesConfig: {
    SUCCEEDED: { description: 'It did what it says (or, in a dry run, would).' },
    FAILED: { description: 'It failed; its error says why.' },
    SKIPPED: { description: 'Not run: an earlier action failed and the rule stops on failure.' },
  },
});

/** One action's outcome within an execution. */
export interface ActionOutcome {
  index: number;
  type: string;
  status: `${RuleActionStatus}`;
  error: string | null;
  deliveryIds: string[];
  detail: string | null;
}

/**
 * A rule's response to one trigger (an event, a date, a manual run), kept as history.
 * `dedupeKey` makes it once per rule and trigger occurrence: a redelivered event or a
 * second scan of the same date does not act twice.
 */
@ObjectType({ description: 'What a rule did with one trigger: skipped, delayed, succeeded or failed.' })
@Entity('rule_execution')
@Index('rule_execution_dedupe_key', ['ruleId', 'dedupeKey'], { unique: true })
@Index('rule_execution_tenant_created_idx', ['tenantId', 'createdAt'])
@Index('rule_execution_subject_idx', ['ruleId', 'subjectKey', 'createdAt'])
@Index('rule_execution_due_idx', ['runAt'], { where: `status = 'delayed'` })
@Index('rule_execution_failed_idx', ['ruleId', 'createdAt'], { where: `status = 'failed'` })
@Index('rule_execution_skipped_idx', ['finishedAt'], { where: `status = 'skipped'` })
export class RuleExecution extends TenantOwned {
  @Field(() => ID, { nullable: true, description: 'The rule; null once it is deleted.' })
  @Column({ type: 'uuid', nullable: true })
  ruleId!: string | null;

  @ManyToOne(() => AutomationRule, { nullable: true, onDelete: 'SET NULL' })
  @JoinColumn({ name: 'ruleId' })
  rule?: AutomationRule | null;

  @Field({ description: 'The rule’s name when it ran.' })
  @Column({ type: 'varchar', length: 200 })
  ruleName!: string;

  @Field(() => RuleTriggerType, { description: 'What started it: an event, a date, a schedule or a manual run.' })
  @Column({ type: 'varchar', length: 20 })
  trigger!: `${RuleTriggerType}`;

  @Field(() => String, { nullable: true, description: 'The event type that started it.' })
  @Column({ type: 'varchar', length: 100, nullable: true })
  eventType!: string | null;

  @Field(() => ID, { nullable: true, description: 'The domain event that started it.' })
  @Column({ type: 'bigint', nullable: true })
  eventId!: string | null;

  @Column({ type: 'varchar', length: 300 })
  dedupeKey!: string;

  @Field(() => String, { nullable: true, description: 'What it was about: ticket, contact, business_record, user.' })
  @Column({ type: 'varchar', length: 50, nullable: true })
  subjectType!: string | null;

  @Field(() => ID, { nullable: true, description: 'The id of what it was about.' })
  @Column({ type: 'uuid', nullable: true })
  subjectId!: string | null;

  /** subjectType:subjectId, for per-subject limits and cooldowns. */
  @Column({ type: 'varchar', length: 100, nullable: true })
  subjectKey!: string | null;

  @Field(() => RuleExecutionStatus, { description: 'Where it stands.' })
  @Column({ type: 'varchar', length: 20 })
  status!: RuleExecutionStatus;

  @Field(() => String, { nullable: true, description: 'Why it was skipped, or what failed.' })
  @Column({ type: 'text', nullable: true })
  reason!: string | null;

  /** The facts the rule saw (event, ids), so a delayed execution can load them again. */
  @Field(() => GraphQLJSONObject, { description: 'What the rule saw: event, ids of ticket, contact and record.' })
  @Column({ type: 'jsonb', default: {} })
  context!: Record<string, unknown>;

  @Field(() => Int, { description: 'How many rule actions led to its trigger (loop guard).' })
  @Column({ type: 'smallint', default: 0 })
  depth!: number;

  @Field(() => Date, { nullable: true, description: 'When a delayed execution acts.' })
  @Column({ type: 'timestamptz', nullable: true })
  runAt!: Date | null;

  @Column({ type: 'jsonb', default: [] })
  actionOutcomes!: ActionOutcome[];

  @Field({ description: 'When it was created.' })
  @Column({ type: 'timestamptz' })
  createdAt!: Date;

  @Field(() => Date, { nullable: true, description: 'When it finished acting (or was skipped).' })
  @Column({ type: 'timestamptz', nullable: true })
  finishedAt!: Date | null;

  @Field(() => Int, { description: 'How often it acted: 1, plus one per retry of its failed actions.' })
  @Column({ type: 'smallint', default: 1 })
  attempts!: number;

  @Field(() => Date, { nullable: true, description: 'When its failed actions were last run again.' })
  @Column({ type: 'timestamptz', nullable: true })
  retriedAt!: Date | null;
}
