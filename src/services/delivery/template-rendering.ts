import { badInput } from '../platform/errors';

/** {{path}}, or {{path | fallback}} for a value that may be missing (e.g. {{contact.area | -}}). */
const PLACEHOLDER = /\{\{\s*([a-zA-Z_][\w.]*)\s*(?:\|\s*([^}]*?)\s*)?\}\}/g;

/** The variable names a template uses, e.g. ["contact.name", "ticket.reference"]. */
export function templateVariables(body: string): string[] {
  return [...new Set([...body.matchAll(PLACEHOLDER)].map((match) => match[1]))];
}

function lookup(variables: Record<string, unknown>, path: string): unknown {
  return path
    .split('.')
    .reduce<unknown>(
      (value, key) => (value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined),
      variables,
    );
}

const missingValue = (value: unknown) => value === undefined || value === null || value === '';

/** A missing variable without a fallback is refused before anything is queued, naming every one that is missing. */
function assertComplete(body: string, variables: Record<string, unknown>): void {
  const missing = [
    ...new Set(
      [...body.matchAll(PLACEHOLDER)]
        .filter((match) => match[2] === undefined && (lookup(variables, match[1]) ?? null) === null)
        .map((match) => match[1]),
    ),
  ];
  if (missing.length) throw badInput(`The template needs values for: ${missing.join(', ')}`, 'variables');
}

/** Fills {{variable}} placeholders (dotted paths reach into objects). */
export function renderTemplate(body: string, variables: Record<string, unknown>): string {
  assertComplete(body, variables);
  return body.replace(PLACEHOLDER, (_, name: string, fallback?: string) => valueOf(variables, name, fallback));
}

/** Each placeholder's value in order of appearance, repeats included: Meta template body parameters. */
export function templateParameters(body: string, variables: Record<string, unknown>): string[] {
  assertComplete(body, variables);
  return [...body.matchAll(PLACEHOLDER)].map((match) => valueOf(variables, match[1], match[2]));
}

function valueOf(variables: Record<string, unknown>, name: string, fallback: string | undefined): string {
  const value = lookup(variables, name);
  return missingValue(value) ? (fallback ?? '') : String(value);
}

/** The template names to look for, best first: the contact's language, its base language, the bare name, English. */
export function templateCandidates(name: string, locale: string): string[] {
  return [...new Set([`${name}.${locale}`, `${name}.${locale.split('-')[0]}`, name, `${name}.en`])];
}
