import { ArrayMaxSize, IsOptional, MaxLength } from 'class-validator';
import { GraphQLJSONObject } from 'graphql-scalars';
import { ArgsType, Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { AutomationRule, RuleTriggerType } from '../entities/automation-rule.entity';
import { RuleActionStatus, RuleExecution, RuleExecutionStatus } from '../entities/rule-execution.entity';
import { Channel } from '../entities/channel';
import { RuleSubjectType, RuleTestMessageStatus } from './closed-sets';
import { PageArgs, PageInfo } from './connection';

@InputType({
  description:
    'An automation rule. Conditions, delay, date trigger and actions are JSON, checked whole when saved (see the README for their shapes).',
})
export class AutomationRuleInput {
  @Field({ description: 'Unique name within the tenant.' })
  @MaxLength(200)
  name!: string;

  @Field(() => String, { nullable: true, description: 'What it is for.' })
  description?: string | null;

  @Field(() => Boolean, { nullable: true, description: 'Whether it fires (default true).' })
  active?: boolean | null;

  @Field(() => RuleTriggerType, { description: 'What starts it.' })
  triggerType!: RuleTriggerType;

  @Field(() => [String], { nullable: true, description: 'For EVENT: event types, exact or a prefix such as ticket.*.' })
  eventTypes?: string[] | null;

  @Field(() => GraphQLJSONObject, {
    nullable: true,
    description:
      'For RELATIVE_DATE: { field: "record.dueAt", kinds?: ["invoice"], offsetsDays: [-7, -3, -1], atLocalTime?: "09:00", timezone?: "recipient" }.',
  })
  dateTrigger?: Record<string, unknown> | null;

  @Field(() => String, { nullable: true, description: 'For SCHEDULE: a cron expression, e.g. "0 18 * * *" (18:00 daily).' })
  @IsOptional()
  @MaxLength(100)
  cron?: string | null;

  @Field(() => String, { nullable: true, description: "For SCHEDULE: the cron's IANA time zone; the tenant's when omitted." })
  @IsOptional()
  @MaxLength(64)
  cronTimezone?: string | null;

  @Field(() => GraphQLJSONObject, { nullable: true, description: '{ all | any: [...] } / { not } / { path, op, value }.' })
  conditions?: Record<string, unknown> | null;

  @Field(() => GraphQLJSONObject, {
    nullable: true,
    description: '{ minutes?, hours?, days?, untilLocalTime?: "09:00", recheckConditions?: true }.',
  })
  delay?: Record<string, unknown> | null;

  @Field(() => [GraphQLJSONObject], {
    description:
      'The actions, in order: { type: "send_message", channels, template, recipients } ...; each type\'s parameters as JSON Schema are in ruleCatalog.actions.',
  })
  actions!: Array<Record<string, unknown>>;

  @Field(() => Boolean, { nullable: true, description: 'True: a failing action stops the ones after it (default false).' })
  stopOnFailure?: boolean | null;

  @Field(() => Date, { nullable: true, description: 'Fires only from this time.' })
  validFrom?: Date | null;

  @Field(() => Date, { nullable: true, description: 'Fires only until this time.' })
  validUntil?: Date | null;

  @Field(() => Int, { nullable: true, description: 'Most executions in total.' })
  maxExecutions?: number | null;

  @Field(() => Int, { nullable: true, description: 'Most executions per subject.' })
  maxExecutionsPerSubject?: number | null;

  @Field(() => Int, { nullable: true, description: 'Minutes before it acts again for the same subject.' })
  cooldownMinutes?: number | null;

  @Field(() => Int, { nullable: true, description: 'Order among rules on the same event, highest first (default 0).' })
  priority?: number | null;
}

@ArgsType()
export class AutomationRulesArgs extends PageArgs {
  @Field(() => Boolean, { nullable: true, description: 'Only active (true) or inactive (false) rules.' })
  active?: boolean | null;

  @Field(() => RuleTriggerType, { nullable: true, description: 'Only rules with this trigger.' })
  triggerType?: RuleTriggerType | null;

  @Field(() => String, { nullable: true, description: 'Only rules listening to exactly this event type.' })
  @IsOptional()
  @MaxLength(100)
  eventType?: string | null;

  @Field(() => String, { nullable: true, description: 'Part of the name.' })
  @IsOptional()
  @MaxLength(200)
  search?: string | null;
}

@ObjectType({ description: 'A rule in a list, with its cursor.' })
export class AutomationRuleEdge {
  @Field(() => AutomationRule, { description: 'The rule.' })
  node!: AutomationRule;

  @Field({ description: 'Cursor of this position.' })
  cursor!: string;
}

@ObjectType({ description: 'A page of automation rules, newest first.' })
export class AutomationRuleConnection {
  @Field(() => [AutomationRuleEdge], { description: 'Rules of this page.' })
  edges!: AutomationRuleEdge[];

  @Field(() => PageInfo, { description: 'Where this page is.' })
  pageInfo!: PageInfo;

  @Field(() => Int, { description: 'How many rules match in all.' })
  totalCount!: number;
}

@InputType({ description: 'What a manual run or a dry run is about.' })
export class RuleSubjectInput {
  @Field(() => RuleSubjectType, { description: 'A ticket, contact, business record or user.' })
  type!: `${RuleSubjectType}`;

  @Field(() => ID, { description: 'Its id.' })
  id!: string;
}

@InputType({ description: 'A sample event for a dry run.' })
export class SampleEventInput {
  @Field({ description: 'Its type, e.g. ticket.created or invoice.overdue.' })
  type!: string;

  @Field(() => RuleSubjectInput, { nullable: true, description: 'What it is about; its ticket, contact and record are read.' })
  subject?: RuleSubjectInput | null;

  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Its payload.' })
  payload?: Record<string, unknown> | null;
}

@ObjectType({ description: 'A message a dry run rendered (nothing was sent).' })
export class RuleTestMessage {
  @Field(() => Channel, { description: 'The channel it would go on.' })
  channel!: `${Channel}`;

  @Field({ description: 'To whom (test mode applies when it is sent for real).' })
  to!: string;

  @Field(() => String, { nullable: true, description: 'Subject (e-mail).' })
  subject!: string | null;

  @Field({ description: 'The rendered text.' })
  body!: string;

  @Field(() => RuleTestMessageStatus, { description: 'Queued, or cancelled when the recipient opted out.' })
  status!: `${RuleTestMessageStatus}`;
}

@ObjectType({ description: 'What one action did (or, in a dry run, would do).' })
export class RuleActionOutcome {
  @Field(() => Int, { description: 'Its position in the rule.' })
  index!: number;

  @Field({ description: 'Its type, e.g. send_message.' })
  type!: string;

  @Field(() => RuleActionStatus, {
    description: 'Succeeded, failed, or skipped (after a failure, when the rule stops on failure).',
  })
  status!: `${RuleActionStatus}`;

  @Field(() => String, { nullable: true, description: 'Why it failed.' })
  error!: string | null;

  @Field(() => String, { nullable: true, description: 'What it did, in words.' })
  detail!: string | null;

  deliveryIds!: string[];
}

@ObjectType({ description: 'A dry-run action with the messages it rendered.' })
export class RuleTestAction extends RuleActionOutcome {
  @Field(() => [RuleTestMessage], { description: 'The messages it would queue.' })
  messages!: RuleTestMessage[];
}

@ObjectType({ description: 'A dry run: whether the rule matches, why not, and what it would do. Nothing is written or sent.' })
export class RuleTestResult {
  @Field({ description: 'Whether it would act.' })
  matched!: boolean;

  @Field(() => String, { nullable: true, description: 'Why not: the trigger, a limit, or the first condition that failed.' })
  reason!: string | null;

  @Field(() => Date, { nullable: true, description: 'When it would act, for a rule with a delay.' })
  wouldRunAt!: Date | null;

  @Field(() => [RuleTestAction], { description: 'Its actions with the messages they would queue.' })
  actions!: RuleTestAction[];

  @Field(() => GraphQLJSONObject, { description: 'The facts it saw: event, ticket, contact, record, user, actor, tenant.' })
  facts!: Record<string, unknown>;
}

@ArgsType()
export class RuleExecutionsArgs extends PageArgs {
  @Field(() => ID, { nullable: true, description: 'Only this rule.' })
  ruleId?: string | null;

  @Field(() => [RuleExecutionStatus], { nullable: true, description: 'Only these outcomes.' })
  @IsOptional()
  @ArrayMaxSize(4)
  statuses?: RuleExecutionStatus[] | null;

  @Field(() => ID, { nullable: true, description: 'Only executions about this ticket, contact or record.' })
  subjectId?: string | null;

  @Field(() => Date, { nullable: true, description: 'Created at or after.' })
  from?: Date | null;

  @Field(() => Date, { nullable: true, description: 'Created before.' })
  to?: Date | null;
}

@ObjectType({ description: 'An execution in a list, with its cursor.' })
export class RuleExecutionEdge {
  @Field(() => RuleExecution, { description: 'The execution.' })
  node!: RuleExecution;

  @Field({ description: 'Cursor of this position.' })
  cursor!: string;
}

@ObjectType({ description: 'A page of rule executions, newest first.' })
export class RuleExecutionConnection {
  @Field(() => [RuleExecutionEdge], { description: 'Executions of this page.' })
  edges!: RuleExecutionEdge[];

  @Field(() => PageInfo, { description: 'Where this page is.' })
  pageInfo!: PageInfo;

  @Field(() => Int, { description: 'How many executions match in all.' })
  totalCount!: number;
}

@ObjectType({ description: 'One rule over a period.' })
export class AutomationRuleStats {
  @Field(() => ID, { description: 'The rule.' })
  ruleId!: string;

  @Field({ description: 'Its name.' })
  name!: string;

  @Field(() => Int, { description: 'Executions whose every action succeeded.' })
  succeeded!: number;

  @Field(() => Int, { description: 'Executions with a failed action.' })
  failed!: number;

  @Field(() => Int, { description: 'Occurrences it did not act on (conditions, limits, loops).' })
  skipped!: number;

  @Field(() => Int, { description: 'Executions still waiting on their delay.' })
  delayed!: number;

  @Field(() => Int, { description: 'Messages its executions queued.' })
  deliveries!: number;
}

@ObjectType({ description: 'What a bulk retry of failed executions did.' })
export class RuleRetryResult {
  @Field(() => Int, { description: 'Executions run again.' })
  retried!: number;

  @Field(() => Int, { description: 'Of those, how many now succeeded.' })
  succeeded!: number;

  @Field(() => Int, { description: 'Of those, how many failed again (see their actions).' })
  stillFailed!: number;
}
