import { z } from 'zod';
import type { AutomationRule } from '../../../entities/automation-rule.entity';
import type { Channel } from '../../../entities/channel';
import type { RuleExecution } from '../../../entities/rule-execution.entity';
import type { DeliveryService } from '../../delivery/delivery.service';
import type { StaffPrincipal } from '../../directory/principal';
import type { EscalationService } from '../../escalation/escalation.service';
import type { StaffNotificationService } from '../../notifications/staff-notification.service';
import type { Clock } from '../../platform/clock';
import type { UnitOfWork } from '../../platform/unit-of-work';
import type { ReportService } from '../../reports/report.service';
import type { TicketService } from '../../tickets/ticket.service';
import type { Facts } from '../facts';

/** The services actions act through (each table's owner; actions never write other features' rows). */
export interface ActionServices {
  deliveries: DeliveryService;
  tickets: TicketService;
  escalations: EscalationService;
  reports: ReportService;
  notifications: StaffNotificationService;
  clock: Clock;
}

/** One action of one execution, as its handler sees it. */
export interface ActionRun {
  /** The execution's unit of work: what the action causes carries the rule chain's depth. */
  uow: UnitOfWork;
  rule: AutomationRule;
  execution: RuleExecution;
  /** The action's place in the rule. */
  index: number;
  facts: Facts;
  services: ActionServices;
  /** The tenant's Automation user, named after the rule: who the action is recorded as. */
  actor(): Promise<StaffPrincipal>;
}

export interface ActionResult {
  detail: string;
  /** The messages the action queued. */
  deliveryIds?: string[];
}

/** What save-time checks need from the tenant: its templates by channel and name. */
export interface TemplateCatalogue {
  /** The template's placeholders, or undefined when the tenant has none of that name on the channel. */
  variables(channel: Channel, name: string): string[] | undefined;
}

export type Problem = (path: string, text: string) => void;

/**
 * One action type: its parameters' schema (checked whole when a rule is saved, parsed
 * again into typed parameters when it runs, and served to rule builders as JSON Schema),
 * the checks a schema cannot express (placeholders, the tenant's templates), and its
 * handler.
 */
export interface ActionModule<S extends z.ZodType = z.ZodType> {
  type: string;
  /** One line for rule builders. */
  summary: string;
  schema: S;
  check?(params: z.infer<S>, at: string, templates: TemplateCatalogue, problem: Problem): void;
  perform(run: ActionRun, params: z.infer<S>): Promise<ActionResult>;
}

/** Declares an action module with its parameter types inferred from the schema. */
export function defineAction<S extends z.ZodType>(module: ActionModule<S>): ActionModule<S> {
  return module;
}

/** Text of 1-max characters that is not only blanks. */
export function text(max: number) {
  const error = `must be 1-${max} characters`;
  return z.string({ error }).min(1, { error }).max(max, { error }).regex(/\S/, { error });
}

/** A row id (the database checks the tenant). */
export function id(error: string) {
  return z.guid({ error });
}

/** One of a closed set, with the set in its message. */
export function oneOf<T extends string>(values: readonly T[]) {
  return z.enum(values as [T, ...T[]], { error: `must be one of ${values.join(', ')}` });
}

/** Values for an action's {{placeholders}} besides the facts. */
export const variables = z
  .record(z.string(), z.unknown(), { error: 'must be an object' })
  .optional()
  .meta({ description: "Values for the action's {{placeholders}} besides the facts" });

/** A whole number in [min, max]. */
export function whole(min: number, max: number, error = `must be a whole number from ${min} to ${max}`) {
  return z.int({ error }).min(min, { error }).max(max, { error });
}
