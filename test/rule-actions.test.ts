import Ajv2020 from 'ajv/dist/2020';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Channel } from '../src/entities/channel';
import { RuleTriggerType } from '../src/entities/automation-rule.entity';
import { INTERNAL_EVENT_TYPES } from '../src/services/events/event-types';
import { ACTION_TYPES, actionCatalog, parseAction } from '../src/services/rules/actions';
import { PACK_RULES } from '../src/services/rules/notification-pack.v1';
import { type RuleInput, checkRule } from '../src/services/rules/rule-definition';

/** A tenant with one WhatsApp template that needs {{coupon}} and a text one that needs only facts. */
const templates = {
  variables: (channel: Channel, name: string) =>
    channel === Channel.WHATSAPP && name === 'coupon_offer'
      ? ['contact.name', 'coupon']
      : channel === Channel.WHATSAPP
        ? ['contact.name']
        : undefined,
};

const rule = (actions: unknown[]): RuleInput => ({
  name: 'R',
  triggerType: RuleTriggerType.EVENT,
  eventTypes: ['ticket.created'],
  actions: actions as RuleInput['actions'],
});
const problems = (...actions: unknown[]) => checkRule(rule(actions), templates);
const USER = '2b0f5c1e-7f7a-4a43-9a55-0c8f8c2f4d10';

describe('rule actions: one schema per action type, checked at save and parsed at run', () => {
  it('accepts a well-formed action of every type', () => {
    const good = [
      { type: 'send_message', channels: ['whatsapp', 'sms'], template: 'greeting', recipients: [{ type: 'contact' }] },
      {
        type: 'send_message',
        channel: 'email',
        text: 'Hi {{contact.name}}',
        recipients: [{ type: 'address', address: 'a@b.co' }],
      },
      {
        type: 'notify_staff',
        title: 'New {{ticket.reference}}',
        text: 'See it',
        recipients: [{ type: 'role', role: 'supervisor' }],
      },
      {
        type: 'send_report',
        report: 'daily_summary',
        period: 'today',
        channels: ['email'],
        recipients: [{ type: 'each_technician' }],
      },
      { type: 'call_webhook', url: 'https://hooks.example.com/x' },
      { type: 'assign_ticket' },
      { type: 'assign_ticket', userId: USER },
      { type: 'set_ticket_status', status: 'in_progress' },
      { type: 'set_ticket_priority', priority: 'urgent' },
      { type: 'add_ticket_note', text: 'Rule saw {{event.type}}' },
      { type: 'create_ticket', subject: 'Follow up {{contact.name}}', category: 'billing', priority: 'high' },
      { type: 'escalate', reason: 'Waiting on {{ticket.reference}}' },
      { type: 'set_field', target: 'contact', field: 'attributes.segment', value: null },
      { type: 'set_field', target: 'record', field: 'status', value: 'chased' },
      { type: 'add_tag', tag: 'vip', target: 'record' },
    ];
    expect(problems(...good.slice(0, 10))).toEqual([]);
    expect(problems(...good.slice(10))).toEqual([]);
    expect(new Set(good.map((action) => action.type))).toEqual(new Set(ACTION_TYPES));
  });

  it('names each problem at its place: unknown parameters, wrong values, missing channel, unknown template', () => {
    expect(
      problems(
        { type: 'send_message', channels: ['whatsapp'], text: 'x', recipients: [{ type: 'role', role: 'owner' }], recipent: 1 },
        { type: 'send_message', text: 'Hi', recipients: [{ type: 'contact' }] },
        { type: 'send_message', channels: ['whatsapp', 'fax'], template: 'x', recipients: [] },
        { type: 'send_message', channels: ['email'], template: 'coupon_offer', recipients: [{ type: 'contact' }] },
        { type: 'send_message', channels: ['whatsapp'], template: 'coupon_offer', recipients: [{ type: 'contact' }] },
        { type: 'set_field', target: 'record', field: 'amount' },
        { type: 'create_ticket', subject: '  ', category: 'weather', priority: 'high' },
        { type: 'notify_staff', title: 't', text: 'x', recipients: [{ type: 'contact' }] },
        { type: 'send_message', channels: ['sms'], text: 'x', validForMinutes: 0, recipients: [{ type: 'user', userId: 'me' }] },
        { type: 'launch_rocket' },
      ),
    ).toEqual([
      { path: 'actions[0].recipients[0].role', problem: 'must be one of admin, manager, supervisor, agent, technician' },
      { path: 'actions[0].recipent', problem: 'is not a parameter of send_message' },
      { path: 'actions[1].channels', problem: 'give a channel or a preference list of channels (whatsapp, sms, email, webhook)' },
      { path: 'actions[2].channels[1]', problem: 'must be one of whatsapp, sms, email, webhook' },
      { path: 'actions[2].recipients', problem: 'give 1-20 recipients' },
      { path: 'actions[3].template', problem: 'no template "coupon_offer" for email' },
      { path: 'actions[4].template', problem: 'uses {{coupon}}, which the rule cannot fill; give it in variables' },
      { path: 'actions[5].value', problem: 'is needed' },
      { path: 'actions[6].subject', problem: 'must be 1-200 characters' },
      { path: 'actions[6].category', problem: expect.stringContaining('must be one of') },
      { path: 'actions[7].recipients[0].type', problem: expect.stringContaining('a staff notification goes to assignee') },
      { path: 'actions[8].validForMinutes', problem: expect.stringContaining('1-43200') },
      { path: 'actions[8].recipients[0].userId', problem: 'must be a user id' },
      { path: 'actions[9].type', problem: expect.stringContaining('must be one of send_message') },
    ]);
    // A field outside the settable ones is refused once the shape is right.
    expect(problems({ type: 'set_field', target: 'record', field: 'amount', value: 1 })).toEqual([
      { path: 'actions[0].field', problem: 'must be attributes.<name> or one of status' },
    ]);
    // Variables given by the action fill the template's placeholder.
    expect(
      problems({
        type: 'send_message',
        channels: ['whatsapp'],
        template: 'coupon_offer',
        variables: { coupon: 'HEMAT10' },
        recipients: [{ type: 'contact' }],
      }),
    ).toEqual([]);
  });

  it('parses a saved action into typed parameters, and refuses to run one that no longer fits its schema', () => {
    const { module, params } = parseAction({ type: 'set_ticket_priority', priority: 'urgent' });
    expect(module.type).toBe('set_ticket_priority');
    expect(params).toEqual({ type: 'set_ticket_priority', priority: 'urgent' });
    expect(() => parseAction({ type: 'set_ticket_priority', priority: 'whenever' })).toThrow(
      /does not fit its schema \(set_ticket_priority\.priority: must be one of/,
    );
    expect(() => parseAction({ type: 'teleport' })).toThrow('Unknown action teleport');
  });

  it('serves each action as JSON Schema: strict objects, its type as a constant, recipients by kind', () => {
    const catalog = actionCatalog();
    expect(catalog.map((entry) => entry.type)).toEqual([...ACTION_TYPES]);
    const send = catalog.find((entry) => entry.type === 'send_message')!.parameters as any;
    expect(send.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(send.additionalProperties).toBe(false);
    expect(send.required).toEqual(['type', 'recipients']);
    expect(send.properties.type).toEqual({ type: 'string', const: 'send_message' });
    expect(send.properties.channels.items.enum).toEqual(['whatsapp', 'sms', 'email', 'webhook']);
    expect(send.properties.recipients.maxItems).toBe(20);
    const kinds = send.properties.recipients.items.oneOf.map((option: any) => option.properties.type.const);
    expect(kinds).toContain('whatsapp_group');
    const staff = (catalog.find((entry) => entry.type === 'notify_staff')!.parameters as any).properties.recipients.items.oneOf;
    expect(staff.map((option: any) => option.properties.type.const)).not.toContain('contact');
    for (const entry of catalog) {
      expect(entry.summary.length).toBeGreaterThan(10);
      expect((entry.parameters as any).properties.type.const).toBe(entry.type);
    }
  });

  it('agrees with a standard JSON Schema validator on what it accepts', () => {
    const ajv = new Ajv2020({ strict: false, validateFormats: false });
    const validators = new Map(actionCatalog().map((entry) => [entry.type, ajv.compile(entry.parameters)]));
    const samples = [
      { type: 'send_message', channels: ['whatsapp'], text: 'x', recipients: [{ type: 'contact' }] },
      { type: 'send_message', channels: ['whatsapp'], text: 'x', recipients: [{ type: 'contact', extra: 1 }] },
      { type: 'send_message', channels: ['pigeon'], text: 'x', recipients: [{ type: 'contact' }] },
      { type: 'send_message', channels: ['sms'], text: 'x', recipients: [{ type: 'owner_manager', levels: 9 }] },
      { type: 'send_message', channels: ['sms'], text: 'x', recipients: [{ type: 'whatsapp_group', group: 'family' }] },
      { type: 'send_message', channels: ['sms'], text: 'x', recipients: new Array(21).fill({ type: 'contact' }) },
      { type: 'notify_staff', title: 't', text: 'x', recipients: [{ type: 'assignee' }] },
      { type: 'notify_staff', title: 't', text: 'x', recipients: [{ type: 'requester' }] },
      { type: 'call_webhook', url: 'ftp://x' },
      { type: 'call_webhook', url: 'https://example.com/hook' },
      { type: 'assign_ticket', userId: 'not-an-id' },
      { type: 'set_field', target: 'contact', field: 'area', value: 'Bekasi' },
      { type: 'set_field', target: 'ticket', field: 'area', value: 'Bekasi' },
      { type: 'add_tag', tag: '' },
      { type: 'escalate', reason: 'x'.repeat(1001) },
      {
        type: 'send_report',
        report: 'daily_summary',
        period: 'today',
        channel: 'email',
        recipients: [{ type: 'user', userId: USER }],
      },
      { type: 'send_report', report: 'daily_summary', period: 'tomorrow', channel: 'email', recipients: [{ type: 'contact' }] },
    ];
    for (const sample of samples) {
      const byZod = (() => {
        try {
          parseAction(sample);
          return true;
        } catch {
          return false;
        }
      })();
      expect([sample, validators.get(sample.type)!(sample)]).toEqual([sample, byZod]);
    }
    expect(samples.filter((sample) => validators.get(sample.type)!(sample)).length).toBe(5);
  });

  it('keeps the built-in pack valid under the schemas', () => {
    const packTemplates = { variables: () => [] as string[] };
    for (const { key, rule: packRule } of PACK_RULES) {
      expect([key, checkRule(packRule as unknown as RuleInput, packTemplates)]).toEqual([key, []]);
    }
  });

  it('lists every event type the services record, so rule builders can offer it', () => {
    const files = (dir: string): string[] =>
      readdirSync(dir).flatMap((name) => {
        const path = join(dir, name);
        return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
      });
    const recorded = new Set<string>();
    for (const file of files(join(__dirname, '../src/services'))) {
      const source = readFileSync(file, 'utf8');
      for (const match of source.matchAll(/type: '([a-z_]+\.[a-z_]+)'/g)) recorded.add(match[1]);
      for (const match of source.matchAll(/this\.record\(uow, request, '([a-z_]+\.[a-z_]+)'/g)) recorded.add(match[1]);
    }
    const listed = new Set(INTERNAL_EVENT_TYPES.map((entry) => entry.type));
    expect(recorded.size).toBeGreaterThan(15);
    expect([...recorded].filter((type) => !listed.has(type))).toEqual([]);
  });
});
