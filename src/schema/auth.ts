import type { ApolloServerPlugin } from '@apollo/server';
import { type FragmentDefinitionNode, GraphQLError, Kind, type SelectionSetNode } from 'graphql';
import type { AuthChecker } from 'type-graphql';
import type { ApiScope } from '../entities/api-key.entity';
import type { Role } from '../entities/user.entity';
import { forbidden } from '../services/platform/errors';
import type { Context } from './context';

/**
 * Roles check for `@Authorized(...)`: the principal's role must be listed.
 * `@Authorized()` with no roles admits any signed-in principal.
 */
export const authChecker: AuthChecker<Context> = ({ context }, roles) => {
  if (!context.principal) return false;
  return roles.length === 0 || roles.includes(context.principal.role);
};

/**
 * Who may call an operation open to machine clients: an API key with the scope, or a
 * signed-in staff user with one of the roles. Answers the tenant, the acting user (null
 * for a key) and the source recorded on what it writes. Mark the operation with
 * `@Extensions({ apiScope })` so keys reach it at all.
 */
export function keyOrStaff(
  context: Context,
  scope: ApiScope,
  roles: Role[],
): { tenantId: string; actorId: string | null; source: 'api' | 'staff' } {
  if (context.apiKey?.scopes.includes(scope)) return { tenantId: context.apiKey.tenantId, actorId: null, source: 'api' };
  const principal = context.principal;
  if (principal?.kind === 'staff' && roles.includes(principal.role)) {
    return { tenantId: principal.tenantId, actorId: principal.userId, source: 'staff' };
  }
  throw forbidden(`This needs an API key with ${scope}, or a user with the role ${roles.join(' or ')}`);
}

/** Marks a root field as reachable without signing in (login only). */
export const PUBLIC = { public: true } as const;

/**
 * Security by default: an operation whose root fields are not all marked
 * `@Extensions(PUBLIC)` needs a signed-in principal, so a new operation is never
 * accidentally open. Checked once per operation (a per-field middleware would also
 * run on every field of every subscription event). graphql-ws connections are
 * authenticated at connect, so only HTTP requests reach this check unauthenticated.
 *
 * A bad Authorization header fails only the operations that need a principal, with the
 * header's own problem (expired, malformed): signing in again with it still works, as it
 * must in an IDE that keeps sending yesterday's token. Schema introspection follows
 * GRAPHQL_INTROSPECTION: open to all (outside production, so the IDE shows its docs before
 * anyone signs in), to signed-in staff only (production), or off.
 */
export function requireAuthentication(options: { introspection: 'all' | 'staff' | 'off' }): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ contextValue, operation, document, schema }) {
          if (!operation) return;
          const root = schema.getRootType(operation.operation);
          const fragments = new Map(
            document.definitions
              .filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
              .map((d) => [d.name.value, d]),
          );
          const fields = rootFieldNames(operation.selectionSet, fragments);
          const introspects = fields.some((name) => name === '__schema' || name === '__type');
          if (introspects && options.introspection === 'off') {
            throw new GraphQLError('Schema introspection is switched off on this server', {
              extensions: { code: 'FORBIDDEN', http: { status: 403 } },
            });
          }
          if (
            introspects &&
            options.introspection === 'staff' &&
            contextValue.principal &&
            contextValue.principal.kind !== 'staff'
          ) {
            throw new GraphQLError('Schema introspection is open to staff only', {
              extensions: { code: 'FORBIDDEN', http: { status: 403 } },
            });
          }
          if (contextValue.principal) return;
          const apiKey = contextValue.apiKey;
          if (apiKey) {
            // A machine client reaches only the operations its key's scopes name, nothing else.
            const refused = fields.filter((name) => {
              const scope = root?.getFields()[name]?.extensions?.apiScope;
              return name !== '__typename' && !(typeof scope === 'string' && (apiKey.scopes as string[]).includes(scope));
            });
            if (!refused.length) return;
            throw new GraphQLError(
              `This API key may not call ${refused.join(', ')}; its scopes are ${apiKey.scopes.join(', ')}`,
              {
                extensions: { code: 'FORBIDDEN', http: { status: 403 } },
              },
            );
          }
          const open = (name: string) =>
            name === '__typename' ||
            (options.introspection === 'all' && (name === '__schema' || name === '__type')) ||
            root?.getFields()[name]?.extensions?.public === true;
          if (fields.every(open)) return;
          throw new GraphQLError(
            contextValue.authError?.message ?? 'Sign in first: send `Authorization: Bearer <token>` from the login mutation',
            { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } },
          );
        },
      };
    },
  };
}

function rootFieldNames(selectionSet: SelectionSetNode, fragments: Map<string, FragmentDefinitionNode>): string[] {
  return selectionSet.selections.flatMap((selection) => {
    if (selection.kind === Kind.FIELD) return [selection.name.value];
    if (selection.kind === Kind.INLINE_FRAGMENT) return rootFieldNames(selection.selectionSet, fragments);
    const fragment = fragments.get(selection.name.value);
    return fragment ? rootFieldNames(fragment.selectionSet, fragments) : [];
  });
}
