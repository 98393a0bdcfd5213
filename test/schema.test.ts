import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  type GraphQLNamedType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  lexicographicSortSchema,
  printSchema,
} from 'graphql';
import { buildAppSchema } from '../src/schema/build-schema';
import { createLiveEvents } from '../src/services/platform/live-events';

describe('GraphQL schema', () => {
  const schema = buildAppSchema(createLiveEvents());

  it('documents every type, field, argument and enum value (the schema is the frontend documentation)', () => {
    const missing: string[] = [];
    const own = Object.values(schema.getTypeMap()).filter((type: GraphQLNamedType) => !type.name.startsWith('__'));
    for (const type of own) {
      if (!type.description) missing.push(type.name);
      if (isObjectType(type) || isInterfaceType(type) || isInputObjectType(type)) {
        for (const field of Object.values(type.getFields())) {
          if (!field.description) missing.push(`${type.name}.${field.name}`);
          for (const arg of 'args' in field ? field.args : []) {
            if (!arg.description) missing.push(`${type.name}.${field.name}(${arg.name})`);
          }
        }
      }
      if (isEnumType(type)) {
        for (const value of type.getValues()) if (!value.description) missing.push(`${type.name}.${value.name}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('matches the committed schema.graphql', () => {
    const committed = readFileSync(path.join(__dirname, '..', 'schema.graphql'), 'utf8');
    expect(printSchema(lexicographicSortSchema(schema)) + '\n').toBe(committed);
  });
});
