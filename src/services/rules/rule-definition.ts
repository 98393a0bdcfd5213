import { IANAZone } from 'luxon';
import { RuleTriggerType } from '../../entities/automation-rule.entity';
import { CronExpressionParser } from 'cron-parser';
import { FACT_SCHEMA, type ConditionProblem, checkCondition } from './conditions';
import { type TemplateCatalogue, checkAction } from './actions';
import type { Problem } from './actions/action';

export type { TemplateCatalogue } from './actions';

/**
 * The shape of a rule as admins write it, and its checks: everything a rule holds is
 * checked when it is saved, so a saved rule can always run. Problems name their place
 * (`actions[1].recipients[0].role`).
 */
export interface RuleInput {
  name: string;
  description?: string | null;
  active?: boolean | null;
  triggerType: RuleTriggerType;
  eventTypes?: string[] | null;
  dateTrigger?: Record<string, unknown> | null;
  cron?: string | null;
  cronTimezone?: string | null;
  conditions?: Record<string, unknown> | null;
  delay?: Record<string, unknown> | null;
  actions: Array<Record<string, unknown>>;
  stopOnFailure?: boolean | null;
  validFrom?: Date | null;
  validUntil?: Date | null;
  maxExecutions?: number | null;
  maxExecutionsPerSubject?: number | null;
  cooldownMinutes?: number | null;
  priority?: number | null;
}

/** Date fields a relative-date trigger can hang on. */
export const DATE_FIELDS = [
  'record.dueAt',
  'record.expiresAt',
  'record.sentAt',
  'record.scheduledAt',
  'contact.birthday',
  'contact.anniversary',
];

const EVENT_TYPE = /^([a-z][a-z0-9_]*)(\.[a-z][a-z0-9_]*)*(\.\*)?$|^\*$/;
const LOCAL_TIME = /^([01]\d|2[0-3]):([0-5]\d)$/;

export function checkRule(rule: RuleInput, templates: TemplateCatalogue): ConditionProblem[] {
  const problems: ConditionProblem[] = [];
  const problem = (path: string, text: string) => problems.push({ path, problem: text });
  if (!rule.name?.trim() || rule.name.trim().length > 200) problem('name', 'must be 1-200 characters');
  if (!Object.values(RuleTriggerType).includes(rule.triggerType))
    problem('triggerType', 'must be EVENT, RELATIVE_DATE or MANUAL');
  if (rule.triggerType === RuleTriggerType.EVENT) {
    const types = rule.eventTypes ?? [];
    if (!types.length || types.length > 20) problem('eventTypes', 'an event rule listens to 1-20 event types');
    types.forEach((type, index) => {
      if (!EVENT_TYPE.test(type) || type.length > 100)
        problem(`eventTypes[${index}]`, 'must be an event type such as ticket.created, quote.*, or *');
    });
  } else if (rule.eventTypes?.length) problem('eventTypes', 'only an event rule has event types');
  if (rule.triggerType === RuleTriggerType.RELATIVE_DATE) checkDateTrigger(rule.dateTrigger, problem);
  else if (rule.dateTrigger) problem('dateTrigger', 'only a relative-date rule has a date trigger');
  if (rule.triggerType === RuleTriggerType.SCHEDULE) {
    if (rule.cronTimezone && !IANAZone.isValidZone(rule.cronTimezone))
      problem('cronTimezone', 'must be an IANA time zone such as Asia/Jakarta');
    else if (!rule.cron || !isCron(rule.cron, rule.cronTimezone ?? 'UTC'))
      problem('cron', 'must be a cron expression such as 0 18 * * * (18:00 daily)');
  } else if (rule.cron) problem('cron', 'only a schedule rule has a cron expression');
  if (rule.conditions) problems.push(...checkCondition(rule.conditions, FACT_SCHEMA, 'conditions'));
  if (rule.delay) checkDelay(rule.delay, problem);
  if (!Array.isArray(rule.actions) || !rule.actions.length || rule.actions.length > 20) {
    problem('actions', 'a rule has 1-20 actions');
  } else rule.actions.forEach((action, index) => checkAction(action, `actions[${index}]`, templates, problem));
  for (const field of ['maxExecutions', 'maxExecutionsPerSubject', 'cooldownMinutes'] as const) {
    const value = rule[field];
    if (value != null && (!Number.isInteger(value) || value < 1 || value > 10_000_000))
      problem(field, 'must be a whole number of at least 1');
  }
  if (rule.priority != null && (!Number.isInteger(rule.priority) || Math.abs(rule.priority) > 1000)) {
    problem('priority', 'must be a whole number from -1000 to 1000');
  }
  if (rule.validFrom && rule.validUntil && rule.validFrom >= rule.validUntil) problem('validUntil', 'must be after validFrom');
  return problems;
}

function checkDateTrigger(trigger: Record<string, unknown> | null | undefined, problem: Problem) {
  if (!trigger || typeof trigger !== 'object')
    return problem('dateTrigger', 'a relative-date rule needs { field, offsetsDays, atLocalTime }');
  if (!DATE_FIELDS.includes(trigger.field as string)) problem('dateTrigger.field', `must be one of ${DATE_FIELDS.join(', ')}`);
  const offsets = trigger.offsetsDays;
  if (
    !Array.isArray(offsets) ||
    !offsets.length ||
    offsets.length > 10 ||
    !offsets.every((o) => Number.isInteger(o) && Math.abs(o) <= 366)
  ) {
    problem(
      'dateTrigger.offsetsDays',
      'must be 1-10 whole numbers of days: negative before the date, positive after (e.g. [-7, -3, -1])',
    );
  }
  if (
    trigger.kinds !== undefined &&
    (!Array.isArray(trigger.kinds) || !trigger.kinds.every((kind) => typeof kind === 'string'))
  ) {
    problem('dateTrigger.kinds', 'must be a list of record kinds');
  }
  if (trigger.atLocalTime !== undefined && !LOCAL_TIME.test(String(trigger.atLocalTime)))
    problem('dateTrigger.atLocalTime', 'must be HH:MM');
  if (trigger.timezone !== undefined && trigger.timezone !== 'recipient' && !IANAZone.isValidZone(String(trigger.timezone))) {
    problem('dateTrigger.timezone', 'must be "recipient" or an IANA time zone');
  }
}

function checkDelay(delay: Record<string, unknown>, problem: Problem) {
  const known = ['minutes', 'hours', 'days', 'untilLocalTime', 'recheckConditions'];
  for (const key of Object.keys(delay))
    if (!known.includes(key)) problem(`delay.${key}`, `unknown; a delay has ${known.join(', ')}`);
  for (const unit of ['minutes', 'hours', 'days'] as const) {
    const value = delay[unit];
    if (value !== undefined && (!Number.isInteger(value) || (value as number) < 0 || (value as number) > 400 * 24 * 60)) {
      problem(`delay.${unit}`, 'must be a whole number of at least 0');
    }
  }
  if (delay.untilLocalTime !== undefined && !LOCAL_TIME.test(String(delay.untilLocalTime)))
    problem('delay.untilLocalTime', 'must be HH:MM');
  if (delay.recheckConditions !== undefined && typeof delay.recheckConditions !== 'boolean') {
    problem('delay.recheckConditions', 'must be true or false');
  }
}

/** The delay in milliseconds before any local-time adjustment. */
export function delayMs(delay: Record<string, unknown>): number {
  return (
    ((delay.minutes as number) ?? 0) * 60_000 +
    ((delay.hours as number) ?? 0) * 3_600_000 +
    ((delay.days as number) ?? 0) * 86_400_000
  );
}

function isCron(expression: string, timezone: string): boolean {
  if (expression.trim().split(/\s+/).length !== 5) return false;
  try {
    CronExpressionParser.parse(expression, { tz: timezone });
    return true;
  } catch {
    return false;
  }
}
