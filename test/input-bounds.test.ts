import 'reflect-metadata';
import { getMetadataStorage as validationMetadata } from 'class-validator';
import { execute, parse } from 'graphql';
import { getMetadataStorage as graphqlMetadata } from 'type-graphql';
import { getMetadataArgsStorage } from 'typeorm';
import '../src/entities';
import { buildAppSchema } from '../src/schema/build-schema';
import { INPUT_STRING_LIMIT, argumentLimit, rootStringArguments } from '../src/schema/string-limits';
import { createLiveEvents } from '../src/services/platform/live-events';

/**
 * Input types and the entity their fields land in. The rows of bulk upserts and imports
 * (BusinessRecordInput, ContactImportInput, UserImportInput) are not here: each row is
 * checked by its service, lengths included, so one bad row is reported and the rest
 * written (records and people-import tests) instead of the whole batch refused.
 */
const ENTITY_OF: Record<string, string> = {
  CreateUserInput: 'User',
  UpdateUserInput: 'User',
  TemplateInput: 'MessageTemplate',
  ProviderInput: 'ChannelProvider',
  AddTicketMessageInput: 'TicketMessage',
  CreateTicketInput: 'Ticket',
  UpdateTicketInput: 'Ticket',
  TenantSettingsInput: 'Tenant',
  AutomationRuleInput: 'AutomationRule',
  EscalationPolicyInput: 'EscalationPolicy',
  CampaignInput: 'Campaign',
  SegmentInput: 'Segment',
  ContactInput: 'Contact',
};

/** Written normalised, never as given: a phone number is stored in E.164 (at most 16 characters). */
const NORMALISED = new Set(['phone']);

describe('every string input is bounded at the API', () => {
  const schema = buildAppSchema(createLiveEvents());
  const columns = getMetadataArgsStorage().columns;

  it('holds each input field that fills a bounded column to at most the column’s length', () => {
    const problems: string[] = [];
    let checked = 0;
    for (const input of graphqlMetadata().inputTypes) {
      const entity = ENTITY_OF[input.name];
      if (!entity) continue;
      const rules = validationMetadata().getTargetValidationMetadatas(input.target, '', true, false);
      for (const field of input.fields ?? []) {
        const column = columns.find((c) => (c.target as { name?: string }).name === entity && c.propertyName === field.name);
        const length = Number(column?.options.length);
        let type: unknown;
        try {
          type = field.getType();
        } catch {
          continue;
        }
        // Enums are bounded by their values.
        if (type !== String || !length || NORMALISED.has(field.name)) continue;
        checked++;
        const rule = rules.find((r) => r.propertyName === field.name && (r.name === 'maxLength' || r.name === 'isLength'));
        const max = rule ? Number(rule.name === 'maxLength' ? rule.constraints[0] : rule.constraints[1]) : undefined;
        if (max === undefined)
          problems.push(`${input.name}.${field.name}: no @MaxLength (column ${entity}.${field.name} holds ${length})`);
        else if (max > length) problems.push(`${input.name}.${field.name}: @MaxLength(${max}) > column length ${length}`);
      }
    }
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThan(30);
  });

  it('bounds every string argument of a root field, and every string inside an input', async () => {
    const args = rootStringArguments(schema);
    expect(args.length).toBeGreaterThan(40);
    for (const { field, argument } of args) expect(argumentLimit(field, argument)).toBeLessThanOrEqual(INPUT_STRING_LIMIT);

    // Checked before anything else runs: no principal, no services, yet the answer names the argument.
    const run = (source: string, variableValues: Record<string, unknown>) =>
      execute({ schema, document: parse(source), variableValues, contextValue: {} });
    const note = await run(
      'mutation($note: String) { closeCompletionRequest(id: "x", outcome: CANCELLED, note: $note) { id } }',
      {
        note: 'n'.repeat(50_000),
      },
    );
    expect(note.errors?.[0].originalError).toMatchObject({ code: 'BAD_USER_INPUT', details: { field: 'note' } });
    expect(note.errors?.[0].message).toBe('note holds at most 2,000 characters');
    const nested = await run('mutation($input: CreateTicketInput!) { createTicket(input: $input) { id } }', {
      input: {
        requesterId: '00000000-0000-4000-8000-000000000000',
        subject: 'Printer',
        description: 'x'.repeat(INPUT_STRING_LIMIT + 1),
      },
    });
    expect(nested.errors?.[0].originalError).toMatchObject({ code: 'BAD_USER_INPUT', details: { field: 'input.description' } });
  });
});
