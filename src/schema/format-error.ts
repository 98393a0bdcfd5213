import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError, type GraphQLFormattedError, Kind } from 'graphql';
import { ArgumentValidationError, AuthorizationError } from 'type-graphql';
import { DatabaseError } from 'pg';
import { QueryFailedError } from 'typeorm';
import type { ValidationError } from 'class-validator';
import { DomainError, ErrorCode } from '../services/platform/errors';
import { domainProblems, validationProblems, variableProblems } from './input-problems';
import { databaseErrorCode } from '../services/platform/sql';
import { QUERY_LIMITS, QUERY_LIMIT_EXTENSION, isTokenLimitError } from './query-limits';
import type { Logger } from '../logger';

/**
 * The one place where errors become GraphQL errors: domain errors keep their code and
 * message, validation errors list each field, and anything unexpected is logged and
 * answered with a generic message (no stack traces or SQL in production).
 */
export function createErrorFormatter(logger: Logger, production: boolean) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    const sent = sentArguments(error);
    if (original instanceof DomainError) {
      if (original.code !== ErrorCode.BadUserInput) {
        return { ...formatted, message: original.message, extensions: { ...original.details, code: original.code } };
      }
      // Every refusal of input in one shape: `problems: [{ path, message, code }]`; other details
      // (the allowed values, a limit) stay beside it.
      const { field: _field, problems: _problems, problemCode: _code, ...details } = original.details;
      return {
        ...formatted,
        message: original.message,
        extensions: {
          ...details,
          code: ErrorCode.BadUserInput,
          problems: domainProblems(original.message, original.details, sent),
        },
      };
    }
    if (original instanceof ArgumentValidationError) {
      const problems = validationProblems(original.extensions.validationErrors as ValidationError[], sent);
      return {
        ...formatted,
        message: `Invalid input: ${problems.map((problem) => `${problem.path.join('.')}: ${problem.message}`).join('; ')}`,
        extensions: { code: 'BAD_USER_INPUT', problems },
      };
    }
    if (original instanceof AuthorizationError) {
      return { ...formatted, message: 'Your role does not allow this operation', extensions: { code: 'FORBIDDEN' } };
    }
    if (isDatabaseError(original) && databaseErrorCode(original) === STATEMENT_TIMEOUT) {
      logger.warn('a request was stopped by the statement timeout', { path: formatted.path?.join('.') });
      return {
        ...formatted,
        message: 'The request took too long and was stopped; ask for less (a smaller page, a narrower filter) or try again',
        extensions: { code: 'QUERY_TIMEOUT' },
      };
    }
    if (isDatabaseError(original) && MALFORMED_VALUE.has(databaseErrorCode(original))) {
      return {
        ...formatted,
        message: 'A value has the wrong format (for example an id that is not a UUID)',
        extensions: {
          code: 'BAD_USER_INPUT',
          problems: [{ path: [], message: 'A value has the wrong format', code: 'MALFORMED_VALUE' }],
        },
      };
    }
    // Query limits (depth, aliases, directives, cost, tokens): one code naming the limit.
    const limit = formatted.extensions?.[QUERY_LIMIT_EXTENSION];
    if (typeof limit === 'string' || isTokenLimitError(formatted.message)) {
      return {
        message: formatted.message,
        locations: formatted.locations,
        extensions: {
          code: 'QUERY_TOO_COMPLEX',
          limit: typeof limit === 'string' ? limit : 'tokens',
          max: formatted.extensions?.max ?? QUERY_LIMITS.tokens,
        },
      };
    }
    const code = formatted.extensions?.code;
    if (original instanceof GraphQLError || (typeof code === 'string' && code !== 'INTERNAL_SERVER_ERROR')) {
      // An expected error (bad query, unauthenticated, forbidden...) is the client's: no stack trace, in any mode.
      const { stacktrace: _stack, ...extensions } = formatted.extensions ?? {};
      // Variables the type system refused (Apollo answers BAD_USER_INPUT): the same shape.
      if (code === 'BAD_USER_INPUT' && !Array.isArray(extensions.problems))
        extensions.problems = variableProblems(formatted.message);
      return { ...formatted, extensions };
    }
    logger.error('unexpected error in a resolver', { error: original, path: formatted.path?.join('.') });
    if (!production) return formatted;
    return {
      message: 'Something went wrong on our side; it has been logged',
      path: formatted.path,
      locations: formatted.locations,
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    };
  };
}

/** PostgreSQL errors caused by a malformed value from the client: invalid text, datetime format, datetime overflow. */
const MALFORMED_VALUE = new Set(['22P02', '22007', '22008']);

/** query_canceled: the statement timeout stopped it. */
const STATEMENT_TIMEOUT = '57014';

/** A statement PostgreSQL refused, run through TypeORM or straight on the pool (the hot statements). */
function isDatabaseError(error: unknown): boolean {
  return error instanceof QueryFailedError || error instanceof DatabaseError;
}

/** The names of the arguments the client gave the field that failed, to anchor problems' paths. */
function sentArguments(error: unknown): string[] {
  const node = error instanceof GraphQLError ? error.nodes?.[0] : undefined;
  return node?.kind === Kind.FIELD ? (node.arguments ?? []).map((argument) => argument.name.value) : [];
}
