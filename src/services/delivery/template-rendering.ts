import { badInput } from '../platform/errors';

const PLACEHOLDER = /\{\{\s*([a-zA-Z_][\w.]*)\s*\}\}/g;

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

/** A missing variable is refused before anything is queued, naming every one that is missing. */
function assertComplete(body: string, variables: Record<string, unknown>): void {
  const missing = templateVariables(body).filter((name) => {
    const value = lookup(variables, name);
    return value === undefined || value === null;
  });
  if (missing.length) throw badInput(`The template needs values for: ${missing.join(', ')}`, 'variables');
}

/** Fills {{variable}} placeholders (dotted paths reach into objects). */
export function renderTemplate(body: string, variables: Record<string, unknown>): string {
  assertComplete(body, variables);
  return body.replace(PLACEHOLDER, (_, name: string) => String(lookup(variables, name)));
}

/** Each placeholder's value in order of appearance, repeats included: Meta template body parameters. */
export function templateParameters(body: string, variables: Record<string, unknown>): string[] {
  assertComplete(body, variables);
  return [...body.matchAll(PLACEHOLDER)].map((match) => String(lookup(variables, match[1])));
}
