import { type GraphQLSchema, getNamedType } from 'graphql';
import { badInput } from '../services/platform/errors';
import { MAX_MESSAGE_LENGTH } from './ticket.types';

/** What any string argument of a root field holds at most, unless it is named below. */
export const DEFAULT_ARGUMENT_LIMIT = 500;

/**
 * Longer limits of root fields' string arguments (`Field.argument`); the strings inside
 * input objects are bounded by their fields' @MaxLength. A service may refuse shorter.
 */
export const ARGUMENT_LIMITS: Readonly<Record<string, number>> = {
  'broadcastEmergencyAlert.message': 1000,
  'escalateTicket.reason': 1000,
  'startSupportConversation.message': MAX_MESSAGE_LENGTH,
  'closeCompletionRequest.note': 2000,
  'logContactAttempt.note': 2000,
  'requestCompletion.note': 2000,
  'requestCompletion.photos': 2000,
  'respondToCompletion.comment': 2000,
  'leaveReview.comment': 2000,
  'rateTicket.comment': 2000,
};

/**
 * What any string inside an input object (or a JSON argument) holds at most: the fields
 * whose columns are shorter say so with @MaxLength, which the tests hold to the columns.
 */
export const INPUT_STRING_LIMIT = 10_000;

/** The path of the first string under `value` longer than INPUT_STRING_LIMIT, or undefined. */
function longString(value: unknown, path: string, depth = 0): string | undefined {
  if (typeof value === 'string') return value.length > INPUT_STRING_LIMIT ? path : undefined;
  if (value === null || typeof value !== 'object' || depth > 20) return undefined;
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = longString(item, `${path}[${index}]`, depth + 1);
      if (found) return found;
    }
    return undefined;
  }
  for (const [key, item] of Object.entries(value)) {
    const found = longString(item, `${path}.${key}`, depth + 1);
    if (found) return found;
  }
  return undefined;
}

export function argumentLimit(field: string, argument: string): number {
  return ARGUMENT_LIMITS[`${field}.${argument}`] ?? DEFAULT_ARGUMENT_LIMIT;
}

/**
 * Bounds every string argument of the schema's root fields, and every string inside their
 * input objects by INPUT_STRING_LIMIT: a longer one is BAD_USER_INPUT naming its path, before any service or column sees it. Checked with the request's
 * shape, before the role check, like GraphQL's own validation; object fields are untouched.
 */
export function boundRootStrings(schema: GraphQLSchema): void {
  for (const type of [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]) {
    for (const field of Object.values(type?.getFields() ?? {})) {
      const bounded = field.args
        .filter((arg) => getNamedType(arg.type).name === 'String')
        .map((arg) => ({ name: arg.name, limit: argumentLimit(field.name, arg.name) }));
      const nested = field.args.filter((arg) => getNamedType(arg.type).name !== 'String').map((arg) => arg.name);
      if (!bounded.length && !nested.length) continue;
      const check = (args: Record<string, unknown>) => {
        for (const name of nested) {
          const path = longString(args[name], name);
          if (path)
            throw badInput(`${path} holds at most ${INPUT_STRING_LIMIT.toLocaleString('en')} characters`, path, 'TOO_LONG');
        }
        for (const { name, limit } of bounded) {
          const value = args[name];
          const values = Array.isArray(value) ? value : [value];
          const index = values.findIndex((item) => typeof item === 'string' && item.length > limit);
          if (index >= 0)
            throw badInput(
              `${name} holds at most ${limit.toLocaleString('en')} characters`,
              Array.isArray(value) ? `${name}[${index}]` : name,
              'TOO_LONG',
            );
        }
      };
      for (const key of ['resolve', 'subscribe'] as const) {
        const original = field[key];
        if (!original) continue;
        field[key] = (source, args, context, info) => {
          check(args);
          return original(source, args, context, info);
        };
      }
    }
  }
}

/** The root fields' string arguments (`Type.field.argument`), for the walk in the tests. */
export function rootStringArguments(schema: GraphQLSchema): Array<{ field: string; argument: string }> {
  const found: Array<{ field: string; argument: string }> = [];
  for (const type of [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]) {
    for (const field of Object.values(type?.getFields() ?? {})) {
      for (const arg of field.args) {
        if (getNamedType(arg.type).name === 'String') found.push({ field: field.name, argument: arg.name });
      }
    }
  }
  return found;
}
