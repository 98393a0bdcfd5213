import type { ValidationError } from 'class-validator';

/**
 * The one shape of BAD_USER_INPUT: `extensions.problems`, a list of
 * `{ path, message, code }` where `path` is an array into the operation's arguments
 * (`['input', 'audience', 'contactIds', 0]`), so a form maps every refusal with one
 * function. Services say which field was wrong in their own terms (`field: 'sendAt'`,
 * `problems: [{ path: 'events[3].type' }]`); this module turns each of those into that
 * shape at the GraphQL edge, and knows nothing of GraphQL execution beyond the names of the
 * arguments the client sent.
 */
export interface InputProblem {
  path: Array<string | number>;
  message: string;
  /** What is wrong, for code that reacts to it: REQUIRED, TOO_LONG, INVALID... */
  code: string;
}

/** `audience.contactIds[0]` → `['audience', 'contactIds', 0]`; an empty text is the input as a whole. */
export function splitPath(text: string): Array<string | number> {
  const path: Array<string | number> = [];
  for (const [, name, index] of text.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) path.push(index !== undefined ? Number(index) : name);
  return path;
}

/**
 * A service's path starts at the argument itself (`note`, `from`, `events[0]`) or inside the
 * `input` argument (`sendAt` of `updateCampaign(id, input)`): anchored, every path starts at
 * an argument's name.
 */
export function anchor(path: Array<string | number>, sentArguments: readonly string[]): Array<string | number> {
  if (!path.length) return path;
  if (typeof path[0] === 'string' && sentArguments.includes(path[0])) return path;
  return sentArguments.includes('input') ? ['input', ...path] : path;
}

/** `isNotEmpty` → `IS_NOT_EMPTY`. */
function constantCase(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

/** class-validator's errors (from TypeGraphQL's argument validation), one problem per broken constraint. */
export function validationProblems(errors: readonly ValidationError[], sentArguments: readonly string[]): InputProblem[] {
  const walk = (list: readonly ValidationError[], prefix: Array<string | number>): InputProblem[] =>
    list.flatMap((error) => {
      const step = /^\d+$/.test(error.property) ? Number(error.property) : error.property;
      const path = [...prefix, step];
      const own = Object.entries(error.constraints ?? {}).map(([constraint, message]) => ({
        path: anchor(path, sentArguments),
        message,
        code: constantCase(constraint),
      }));
      return [...own, ...walk(error.children ?? [], path)];
    });
  return walk(errors, []);
}

/**
 * A domain error's details as problems: its `problems` (each with a `path` or `field`, and a
 * `problem` or `message`), else its `field`, else one problem about the input as a whole.
 */
export function domainProblems(
  message: string,
  details: Record<string, unknown>,
  sentArguments: readonly string[],
): InputProblem[] {
  const listed = Array.isArray(details.problems) ? (details.problems as Array<Record<string, unknown>>) : [];
  const problems = listed
    .filter((problem) => problem && typeof problem === 'object')
    .map((problem) => ({
      path: anchor(splitPath(String(problem.path ?? problem.field ?? '')), sentArguments),
      message: String(problem.message ?? problem.problem ?? message),
      code: typeof problem.code === 'string' ? problem.code : 'INVALID',
    }));
  if (problems.length) return problems;
  const field = typeof details.field === 'string' ? details.field : '';
  return [
    {
      path: anchor(splitPath(field), sentArguments),
      message,
      code: typeof details.problemCode === 'string' ? details.problemCode : 'INVALID',
    },
  ];
}

/**
 * A value the type system refused in the variables (graphql-js: `Variable "$input" got
 * invalid value "" at "input.subject"; ...`): the path starts at the variable's name, which
 * is the argument's name in the usual `field(input: $input)`.
 */
export function variableProblems(message: string): InputProblem[] {
  const variable = /^Variable "\$([_A-Za-z][_0-9A-Za-z]*)"/.exec(message);
  if (!variable) return [{ path: [], message, code: 'INVALID_VALUE' }];
  const at = / at "([^"]+)"/.exec(message);
  const path = at ? splitPath(at[1]) : [variable[1]];
  const code = /was not provided|must not be null/.test(message) ? 'REQUIRED' : 'INVALID_VALUE';
  return [{ path, message, code }];
}
