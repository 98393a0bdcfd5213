import { z } from 'zod';
import { badInput } from '../../platform/errors';
import type { ActionModule, Problem, TemplateCatalogue } from './action';
import { addTagAction } from './add-tag';
import { addTicketNoteAction } from './add-ticket-note';
import { assignTicketAction } from './assign-ticket';
import { callWebhookAction } from './call-webhook';
import { createTicketAction } from './create-ticket';
import { escalateAction } from './escalate';
import { notifyStaffAction } from './notify-staff';
import { sendMessageAction } from './send-message';
import { sendReportAction } from './send-report';
import { setFieldAction } from './set-field';
import { setTicketPriorityAction } from './set-ticket-priority';
import { setTicketStatusAction } from './set-ticket-status';

export type { ActionModule, ActionRun, ActionResult, ActionServices, TemplateCatalogue } from './action';

/** Every action a rule can take, by type. */
export const ACTIONS: ReadonlyMap<string, ActionModule> = new Map(
  (
    [
      sendMessageAction,
      notifyStaffAction,
      sendReportAction,
      callWebhookAction,
      assignTicketAction,
      setTicketStatusAction,
      setTicketPriorityAction,
      addTicketNoteAction,
      createTicketAction,
      escalateAction,
      setFieldAction,
      addTagAction,
    ] as ActionModule[]
  ).map((module) => [module.type, module]),
);

export const ACTION_TYPES: readonly string[] = [...ACTIONS.keys()];

function moduleOf(action: unknown): ActionModule | undefined {
  const type = (action as { type?: unknown } | null)?.type;
  return typeof type === 'string' ? ACTIONS.get(type) : undefined;
}

/** `actions[1].recipients[0].role`: a problem's place as admins read it. */
function placeOf(at: string, path: readonly PropertyKey[]): string {
  return path.reduce<string>((place, key) => (typeof key === 'number' ? `${place}[${key}]` : `${place}.${String(key)}`), at);
}

/**
 * Checks one action where it is saved: its type, its parameters against the type's
 * schema (every problem, each at its place), then what the schema cannot know.
 */
export function checkAction(action: unknown, at: string, templates: TemplateCatalogue, problem: Problem): void {
  const module = moduleOf(action);
  if (!module) return problem(`${at}.type`, `must be one of ${ACTION_TYPES.join(', ')}`);
  const parsed = module.schema.safeParse(action);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) problem(placeOf(at, [...issue.path, key]), `is not a parameter of ${module.type}`);
      } else if (issue.code === 'invalid_type' && issue.expected === 'nonoptional') {
        problem(placeOf(at, issue.path), 'is needed');
      } else problem(placeOf(at, issue.path), issue.message);
    }
    return;
  }
  module.check?.(parsed.data, at, templates, problem);
}

/**
 * The action's typed parameters for running it, by the schema it was saved under; a
 * rule saved before a schema tightened fails that action (with the reason), not the execution.
 */
export function parseAction(action: unknown): { module: ActionModule; params: unknown } {
  const module = moduleOf(action);
  if (!module) throw badInput(`Unknown action ${String((action as { type?: unknown } | null)?.type)}`);
  const parsed = module.schema.safeParse(action);
  if (!parsed.success) {
    const [issue] = parsed.error.issues;
    throw badInput(
      `The action does not fit its schema (${placeOf(module.type, issue.path)}: ${issue.message}); edit and save the rule`,
    );
  }
  return { module, params: parsed.data };
}

/** Each action's parameters as JSON Schema (draft 2020-12), for rule builders. */
export function actionCatalog(): readonly ActionDescription[] {
  catalog ??= [...ACTIONS.values()].map((module) => ({
    type: module.type,
    summary: module.summary,
    parameters: z.toJSONSchema(module.schema) as Record<string, unknown>,
  }));
  return catalog;
}

export interface ActionDescription {
  type: string;
  summary: string;
  parameters: Record<string, unknown>;
}
let catalog: ActionDescription[] | undefined;
