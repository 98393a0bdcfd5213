import { Field, ObjectType, registerEnumType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { FIELD_TYPES, type FieldType } from '../services/rules/conditions';
import { EventTypeOrigin } from '../services/rules/rule-catalog';

registerEnumType(FIELD_TYPES, {
  name: 'RuleFieldType',
  description: 'What a path a rule tests holds.',
  valuesConfig: {
    STRING: { description: 'Text (compared without regard to case).' },
    NUMBER: { description: 'A number.' },
    BOOLEAN: { description: 'true or false.' },
    DATE: { description: 'An ISO 8601 date and time.' },
    STRINGS: { description: 'A list of strings, such as tags.' },
    ANY: { description: 'Free-form JSON (event payloads, attributes): every operator applies.' },
  },
});

registerEnumType(EventTypeOrigin, {
  name: 'EventTypeOrigin',
  description: 'Where an event type comes from.',
  valuesConfig: {
    INTERNAL: { description: 'Recorded by the product itself.' },
    EXTERNAL: { description: "Sent by the tenant's own systems (REST /v1/events, imports); listed once seen." },
  },
});

@ObjectType({ description: 'An event type a rule can listen to.' })
export class RuleCatalogEventType {
  @Field({ description: 'The type, such as ticket.created or invoice.overdue.' })
  type!: string;

  @Field(() => EventTypeOrigin, { description: 'Recorded by the product, or sent by the tenant.' })
  origin!: `${EventTypeOrigin}`;

  @Field(() => String, { nullable: true, description: 'What events of this type are about (internal types).' })
  subjectType!: string | null;

  @Field(() => String, { nullable: true, description: 'What it means (internal types).' })
  description!: string | null;
}

@ObjectType({ description: 'A path conditions can test (and messages can use as {{path}}).' })
export class RuleCatalogField {
  @Field({ description: 'The path; one ending in .* admits any path below it (free-form JSON).' })
  path!: string;

  @Field({ description: 'What the path belongs to: its first segment.' })
  subject!: string;

  @Field(() => FIELD_TYPES, { description: 'What it holds.' })
  type!: FieldType;

  @Field(() => [String], { description: 'The condition operators (the `op` words) that apply to it.' })
  operators!: string[];
}

@ObjectType({ description: 'The condition operators a type of path can be tested with.' })
export class RuleCatalogOperators {
  @Field(() => FIELD_TYPES, { description: 'The type of path.' })
  type!: FieldType;

  @Field(() => [String], { description: 'The `op` words, as conditions write them.' })
  operators!: string[];
}

@ObjectType({ description: "An action type with its parameters' JSON Schema." })
export class RuleCatalogAction {
  @Field({ description: 'The action type, as actions write it in `type`.' })
  type!: string;

  @Field({ description: 'What it does, in one line.' })
  summary!: string;

  @Field(() => GraphQLJSONObject, {
    description: 'The action as JSON Schema (draft 2020-12): saving checks exactly this, plus the tenant-specific checks.',
  })
  parameters!: Record<string, unknown>;
}

@ObjectType({ description: 'What a rule builder can offer: only what a rule can save.' })
export class RuleCatalog {
  @Field(() => [RuleCatalogEventType], { description: "Internal event types, then the tenant's own seen so far." })
  eventTypes!: RuleCatalogEventType[];

  @Field(() => [RuleCatalogField], { description: 'The paths conditions can test, with their types and operators.' })
  fields!: RuleCatalogField[];

  @Field(() => [RuleCatalogOperators], { description: 'The operators by type of path.' })
  operators!: RuleCatalogOperators[];

  @Field(() => [String], { description: "The date paths a relative-date rule's trigger can hang on." })
  dateFields!: string[];

  @Field(() => [RuleCatalogAction], { description: 'Every action type with its parameters.' })
  actions!: RuleCatalogAction[];
}
