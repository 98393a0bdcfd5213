import { FACT_SCHEMA, fieldType } from '../conditions';
import type { Problem } from './action';

/** Template variables a rule's message may use besides the fact paths. */
const TEMPLATE_ROOTS = ['contact', 'ticket', 'record', 'event', 'user', 'tenant', 'recipient'];
const EXTRA_TEMPLATE_FIELDS = new Set(['user.name', 'user.email', 'user.phone', 'tenant.name', 'recipient.name']);

/** Every {{placeholder}} in the text must be one the rule can fill. */
export function checkPlaceholders(text: string, at: string, variables: unknown, problem: Problem): void {
  for (const match of text.matchAll(/\{\{\s*([a-zA-Z_][\w.]*)\s*\}\}/g)) checkVariable(match[1], at, variables, problem);
}

/** A placeholder must name a fact the rule can see, or a variable the action gives. */
export function checkVariable(name: string, at: string, variables: unknown, problem: Problem): void {
  const root = name.split('.')[0];
  if (variables && typeof variables === 'object' && root in (variables as object)) return;
  if (!TEMPLATE_ROOTS.includes(root)) return problem(at, `uses {{${name}}}, which the rule cannot fill; give it in variables`);
  if (EXTRA_TEMPLATE_FIELDS.has(name) || fieldType(FACT_SCHEMA, name)) return;
  problem(at, `uses {{${name}}}, which is not a field the rule knows`);
}
