import { badInput } from './errors';

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

/**
 * Fills {{variable}} placeholders (dotted paths reach into objects). A missing
 * variable is refused before anything is queued, naming every one that is missing.
 */
export function renderTemplate(body: string, variables: Record<string, unknown>): string {
  const missing = templateVariables(body).filter((name) => {
    const value = lookup(variables, name);
    return value === undefined || value === null;
  });
  if (missing.length) throw badInput(`The template needs values for: ${missing.join(', ')}`, 'variables');
  return body.replace(PLACEHOLDER, (_, name: string) => String(lookup(variables, name)));
}
