import { GraphQLObjectType } from 'graphql';
import { type AuthChecker, AuthenticationError, type MiddlewareFn } from 'type-graphql';
import type { Context } from './context';

/**
 * Roles check for `@Authorized(...)`: the principal's role must be listed.
 * `@Authorized()` with no roles admits any signed-in principal.
 */
export const authChecker: AuthChecker<Context> = ({ context }, roles) => {
  if (!context.principal) return false;
  return roles.length === 0 || roles.includes(context.principal.role);
};

/** Marks a root field as reachable without signing in (login only). */
export const PUBLIC = { public: true } as const;

/**
 * Security by default: every root Query, Mutation and Subscription field requires a
 * signed-in principal unless it carries `@Extensions(PUBLIC)`, so a new operation
 * is never accidentally open.
 */
export const requireAuthentication: MiddlewareFn<Context> = async ({ context, info }, next) => {
  const isRoot = ['Query', 'Mutation', 'Subscription'].includes(info.parentType.name);
  if (isRoot && !context.principal) {
    const field = (info.parentType as GraphQLObjectType).getFields()[info.fieldName];
    if (!field?.extensions?.public)
      throw new AuthenticationError('Sign in first: send `Authorization: Bearer <token>` from the login mutation');
  }
  return next();
};
