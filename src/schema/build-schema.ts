import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { buildSchemaSync } from 'type-graphql';
import { RESOLVERS } from '../resolvers';
import type { LiveEvents } from '../services/platform/live-events';
import { authChecker } from './auth';
import { boundRootStrings } from './string-limits';

/**
 * The whole GraphQL schema, built in one place. Every subscription has its own
 * `subscribe` that checks access first and then reads the live events; TypeGraphQL
 * still wants the pub/sub handed over.
 */
export function buildAppSchema(live: LiveEvents): GraphQLSchema {
  const schema = buildSchemaSync({
    pubSub: live,
    resolvers: RESOLVERS,
    authChecker,
    authMode: 'error',
    validate: { forbidUnknownValues: false },
  });
  boundRootStrings(schema);
  // TypeGraphQL has no option for the root types' descriptions.
  Object.assign(schema.getQueryType() ?? {}, { description: 'Reads. Every field needs a signed-in principal.' });
  Object.assign(schema.getMutationType() ?? {}, {
    description: 'Changes. Every field but login needs a signed-in principal; roles are checked per field.',
  });
  Object.assign(schema.getSubscriptionType() ?? {}, {
    description: 'Live events over graphql-ws on /graphql; send the token as connectionParams.authorization.',
  });
  return schema;
}
