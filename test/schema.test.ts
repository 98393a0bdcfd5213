import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  type GraphQLNamedType,
  type GraphQLType,
  getNamedType,
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

  it('types closed sets as enums, not strings that list their values in a description', () => {
    const typeOf = (typeName: string, field: string) => {
      const type = schema.getType(typeName);
      if (!type || !(isObjectType(type) || isInputObjectType(type))) throw new Error(`no type ${typeName}`);
      return getNamedType(type.getFields()[field].type).name;
    };
    expect(
      Object.fromEntries(
        [
          ['Viewer', 'kind'],
          ['ImportRow', 'matchedBy'],
          ['PersonRefInput', 'type'],
          ['EventSubjectInput', 'type'],
          ['RuleSubjectInput', 'type'],
          ['RuleActionOutcome', 'status'],
          ['RuleTestAction', 'status'],
          ['RuleTestMessage', 'status'],
          ['RuleTestMessage', 'channel'],
          ['RuleExecution', 'trigger'],
          ['CampaignRecipient', 'skipReason'],
          ['CompletionRequest', 'respondedVia'],
          ['DeliveryEvent', 'type'],
        ].map(([type, field]) => [`${type}.${field}`, typeOf(type, field)]),
      ),
    ).toEqual({
      'Viewer.kind': 'ViewerKind',
      'ImportRow.matchedBy': 'PersonMatch',
      'PersonRefInput.type': 'PersonKind',
      'EventSubjectInput.type': 'EventSubjectType',
      'RuleSubjectInput.type': 'RuleSubjectType',
      'RuleActionOutcome.status': 'RuleActionStatus',
      'RuleTestAction.status': 'RuleActionStatus',
      'RuleTestMessage.status': 'RuleTestMessageStatus',
      'RuleTestMessage.channel': 'Channel',
      'RuleExecution.trigger': 'RuleTriggerType',
      'CampaignRecipient.skipReason': 'CampaignSkipReason',
      'CompletionRequest.respondedVia': 'ResponseChannel',
      'DeliveryEvent.type': 'DeliveryEventType',
    });
    // A String whose description enumerates lower-case words ("staff or customer",
    // "queued, sent, ...") is a closed set that escaped.
    const listed = /^[a-z_]+(, [a-z_]+)*,? or [a-z_]+\.?$/;
    const escaped: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (type.name.startsWith('__') || !(isObjectType(type) || isInterfaceType(type) || isInputObjectType(type))) continue;
      for (const field of Object.values<{ name: string; description?: string | null; type: GraphQLType }>(type.getFields())) {
        if (getNamedType(field.type).name === 'String' && listed.test(field.description ?? ''))
          escaped.push(`${type.name}.${field.name}`);
      }
    }
    expect(escaped).toEqual([]);
  });

  it('matches the committed schema.graphql', () => {
    const committed = readFileSync(path.join(__dirname, '..', 'schema.graphql'), 'utf8');
    expect(printSchema(lexicographicSortSchema(schema)) + '\n').toBe(committed);
  });
});
