import { IANAZone } from 'luxon';
import { Channel } from '../../entities/channel';
import { RuleTriggerType } from '../../entities/automation-rule.entity';
import { TicketCategory, TicketPriority, TicketStatus } from '../../entities/ticket.entity';
import { STAFF_ROLES } from '../../entities/user.entity';
import { isUuid } from '../platform/ids';
import { CronExpressionParser } from 'cron-parser';
import { REPORT_PERIODS, ReportKind } from '../reports/report.service';
import { FACT_SCHEMA, type ConditionProblem, checkCondition, fieldType } from './conditions';
import { MAX_VALIDITY_MINUTES } from '../delivery/validity';

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

export type ActionType =
  | 'send_message'
  | 'assign_ticket'
  | 'set_ticket_status'
  | 'set_ticket_priority'
  | 'add_ticket_note'
  | 'create_ticket'
  | 'call_webhook'
  | 'set_field'
  | 'add_tag'
  | 'send_report'
  | 'escalate'
  | 'notify_staff';

export const ACTION_TYPES: readonly ActionType[] = [
  'send_message',
  'assign_ticket',
  'set_ticket_status',
  'set_ticket_priority',
  'add_ticket_note',
  'create_ticket',
  'call_webhook',
  'set_field',
  'add_tag',
  'send_report',
  'escalate',
  'notify_staff',
];

export type RecipientType =
  | 'contact'
  | 'requester'
  | 'assignee'
  | 'record_owner'
  | 'owner_manager'
  | 'role'
  | 'user'
  | 'address'
  | 'whatsapp_group'
  | 'each_technician';

const RECIPIENT_TYPES: readonly RecipientType[] = [
  'contact',
  'requester',
  'assignee',
  'record_owner',
  'owner_manager',
  'role',
  'user',
  'address',
  'whatsapp_group',
  'each_technician',
];

/** The fields `set_field` may change. */
export const SETTABLE_FIELDS = {
  contact: ['area', 'locale', 'timezone'],
  record: ['status'],
} as const;

/** Date fields a relative-date trigger can hang on. */
export const DATE_FIELDS = [
  'record.dueAt',
  'record.expiresAt',
  'record.sentAt',
  'record.scheduledAt',
  'contact.birthday',
  'contact.anniversary',
];

/** Template variables a rule's message may use besides the fact paths. */
const TEMPLATE_ROOTS = ['contact', 'ticket', 'record', 'event', 'user', 'tenant', 'recipient'];
const EXTRA_TEMPLATE_FIELDS = new Set(['user.name', 'user.email', 'user.phone', 'tenant.name', 'recipient.name']);

const EVENT_TYPE = /^([a-z][a-z0-9_]*)(\.[a-z][a-z0-9_]*)*(\.\*)?$|^\*$/;
const LOCAL_TIME = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** What the rule checks need from the tenant: its templates by channel and name. */
export interface TemplateCatalogue {
  /** The template's placeholders, or undefined when the tenant has none of that name on the channel. */
  variables(channel: Channel, name: string): string[] | undefined;
}

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

function checkDateTrigger(trigger: Record<string, unknown> | null | undefined, problem: (path: string, text: string) => void) {
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

function checkDelay(delay: Record<string, unknown>, problem: (path: string, text: string) => void) {
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

function checkAction(
  action: Record<string, unknown>,
  at: string,
  templates: TemplateCatalogue,
  problem: (path: string, text: string) => void,
): void {
  if (!action || typeof action !== 'object' || !ACTION_TYPES.includes(action.type as ActionType)) {
    return problem(`${at}.type`, `must be one of ${ACTION_TYPES.join(', ')}`);
  }
  const text = (key: string, max: number, required = true) => {
    const value = action[key];
    if (value === undefined && !required) return;
    if (typeof value !== 'string' || !value.trim() || value.length > max) problem(`${at}.${key}`, `must be 1-${max} characters`);
    else checkPlaceholders(value, `${at}.${key}`, action.variables, problem);
  };
  switch (action.type as ActionType) {
    case 'send_message':
      return checkSendMessage(action, at, templates, problem);
    case 'assign_ticket':
      if (action.userId !== undefined && !isUuid(action.userId))
        problem(`${at}.userId`, 'must be a user id (or omit it for the least-loaded agent)');
      return;
    case 'set_ticket_status':
      if (!Object.values(TicketStatus).includes(action.status as TicketStatus))
        problem(`${at}.status`, `must be one of ${Object.values(TicketStatus).join(', ')}`);
      return;
    case 'set_ticket_priority':
      if (!Object.values(TicketPriority).includes(action.priority as TicketPriority)) {
        problem(`${at}.priority`, `must be one of ${Object.values(TicketPriority).join(', ')}`);
      }
      return;
    case 'add_ticket_note':
      return text('text', 5000);
    case 'create_ticket':
      text('subject', 200);
      text('description', 5000, false);
      if (!Object.values(TicketCategory).includes(action.category as TicketCategory))
        problem(`${at}.category`, `must be one of ${Object.values(TicketCategory).join(', ')}`);
      if (!Object.values(TicketPriority).includes(action.priority as TicketPriority))
        problem(`${at}.priority`, `must be one of ${Object.values(TicketPriority).join(', ')}`);
      return;
    case 'call_webhook':
      if (typeof action.url !== 'string' || !/^https?:\/\/[^\s]+$/.test(action.url) || action.url.length > 500)
        problem(`${at}.url`, 'must be an http(s) URL');
      return;
    case 'set_field': {
      const target = action.target as keyof typeof SETTABLE_FIELDS;
      if (target !== 'contact' && target !== 'record') return problem(`${at}.target`, 'must be contact or record');
      const field = String(action.field ?? '');
      const attribute = /^attributes\.[A-Za-z_][\w]{0,63}$/.test(field);
      if (!attribute && !(SETTABLE_FIELDS[target] as readonly string[]).includes(field)) {
        problem(`${at}.field`, `must be attributes.<name> or one of ${SETTABLE_FIELDS[target].join(', ')}`);
      }
      if (action.value === undefined) problem(`${at}.value`, 'is needed (null clears)');
      return;
    }
    case 'add_tag':
      if (typeof action.tag !== 'string' || !action.tag.trim() || action.tag.length > 50)
        problem(`${at}.tag`, 'must be 1-50 characters');
      if (action.target !== undefined && action.target !== 'contact' && action.target !== 'record') {
        problem(`${at}.target`, 'must be contact (the default) or record');
      }
      return;
    case 'notify_staff': {
      text('title', 200);
      text('text', 2000);
      const recipients = Array.isArray(action.recipients) ? (action.recipients as Array<Record<string, unknown>>) : [];
      const staffOnly = ['assignee', 'record_owner', 'owner_manager', 'role', 'user', 'each_technician'];
      recipients.forEach((recipient, n) => {
        if (!staffOnly.includes(String(recipient?.type))) {
          problem(`${at}.recipients[${n}].type`, `a staff notification goes to ${staffOnly.join(', ')}`);
        }
      });
      // With channels it is also a message: the recipients and channels are checked like one.
      if (action.channels !== undefined) return checkSendMessage(action, at, templates, problem);
      if (!recipients.length || recipients.length > 20) problem(`${at}.recipients`, 'give 1-20 recipients');
      return;
    }
    case 'escalate':
      if (action.userId !== undefined && !isUuid(action.userId)) {
        problem(`${at}.userId`, "must be a user id (or omit it for the assignee's manager)");
      }
      return text('reason', 1000, false);
    case 'send_report':
      if (!Object.values(ReportKind).includes(action.report as ReportKind)) {
        problem(`${at}.report`, `must be one of ${Object.values(ReportKind).join(', ')}`);
      }
      if (!REPORT_PERIODS.includes(action.period as string))
        problem(`${at}.period`, `must be one of ${REPORT_PERIODS.join(', ')}`);
      // The text is the report's; the channels and recipients are checked like a message's.
      return checkSendMessage({ ...action, text: 'report' }, at, templates, problem);
  }
}

function checkSendMessage(
  action: Record<string, unknown>,
  at: string,
  templates: TemplateCatalogue,
  problem: (path: string, text: string) => void,
): void {
  const channels = (action.channels ?? (action.channel ? [action.channel] : [])) as unknown[];
  if (
    !Array.isArray(channels) ||
    !channels.length ||
    channels.some((channel) => !Object.values(Channel).includes(channel as Channel))
  ) {
    problem(`${at}.channels`, 'give a channel or a preference list of channels (whatsapp, sms, email, webhook)');
    return;
  }
  const template = action.template;
  if (template !== undefined) {
    if (typeof template !== 'string') return problem(`${at}.template`, 'must be a template name');
    const found = (channels as Channel[]).filter((channel) => templates.variables(channel, template) !== undefined);
    if (!found.length) return problem(`${at}.template`, `no template "${template}" for ${channels.join(' or ')}`);
    for (const channel of found) {
      for (const name of templates.variables(channel, template)!)
        checkVariable(name, `${at}.template`, action.variables, problem);
    }
  } else if (typeof action.text !== 'string' || !action.text.trim() || action.text.length > 4096) {
    problem(`${at}.text`, 'give a template name or the text (1-4096 characters)');
  } else checkPlaceholders(action.text, `${at}.text`, action.variables, problem);
  if (action.variables !== undefined && (typeof action.variables !== 'object' || Array.isArray(action.variables))) {
    problem(`${at}.variables`, 'must be an object');
  }
  if (
    action.notificationType !== undefined &&
    (typeof action.notificationType !== 'string' || !/^[a-z][a-z0-9_]{0,49}$/.test(action.notificationType))
  ) {
    problem(`${at}.notificationType`, 'must be a lower-case word such as payment_reminder');
  }
  if (
    action.validForMinutes !== undefined &&
    (!Number.isInteger(action.validForMinutes) ||
      (action.validForMinutes as number) < 1 ||
      (action.validForMinutes as number) > MAX_VALIDITY_MINUTES)
  ) {
    problem(`${at}.validForMinutes`, `must be a whole number of minutes, 1-${MAX_VALIDITY_MINUTES} (30 days)`);
  }
  const recipients = action.recipients;
  if (!Array.isArray(recipients) || !recipients.length || recipients.length > 20)
    return problem(`${at}.recipients`, 'give 1-20 recipients');
  recipients.forEach((recipient: Record<string, unknown>, index) => {
    const where = `${at}.recipients[${index}]`;
    if (!recipient || !RECIPIENT_TYPES.includes(recipient.type as RecipientType))
      return problem(`${where}.type`, `must be one of ${RECIPIENT_TYPES.join(', ')}`);
    if (
      recipient.type === 'owner_manager' &&
      recipient.levels !== undefined &&
      (!Number.isInteger(recipient.levels) || (recipient.levels as number) < 1 || (recipient.levels as number) > 5)
    ) {
      problem(`${where}.levels`, 'must be 1-5');
    }
    if (recipient.type === 'role' && !(STAFF_ROLES as readonly string[]).includes(recipient.role as string))
      problem(`${where}.role`, `must be one of ${STAFF_ROLES.join(', ')}`);
    if (recipient.type === 'user' && !isUuid(recipient.userId)) problem(`${where}.userId`, 'must be a user id');
    if (recipient.type === 'address' && (typeof recipient.address !== 'string' || !recipient.address.trim()))
      problem(`${where}.address`, 'must be a phone number, e-mail address or URL');
    if (recipient.type === 'whatsapp_group' && (typeof recipient.group !== 'string' || !/^[\d-]+@g\.us$/.test(recipient.group))) {
      problem(`${where}.group`, 'must be a WhatsApp group id such as 120363025246125486@g.us');
    }
  });
}

function checkPlaceholders(text: string, at: string, variables: unknown, problem: (path: string, text: string) => void) {
  for (const match of text.matchAll(/\{\{\s*([a-zA-Z_][\w.]*)\s*\}\}/g)) checkVariable(match[1], at, variables, problem);
}

/** A placeholder must name a fact the rule can see, or a variable the action gives. */
function checkVariable(name: string, at: string, variables: unknown, problem: (path: string, text: string) => void) {
  const root = name.split('.')[0];
  if (variables && typeof variables === 'object' && root in (variables as object)) return;
  if (!TEMPLATE_ROOTS.includes(root)) return problem(at, `uses {{${name}}}, which the rule cannot fill; give it in variables`);
  if (EXTRA_TEMPLATE_FIELDS.has(name) || fieldType(FACT_SCHEMA, name)) return;
  problem(at, `uses {{${name}}}, which is not a field the rule knows`);
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
