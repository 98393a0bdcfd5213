import { type Condition, checkCondition, evaluate } from '../src/services/rules/conditions';

const now = new Date('2026-11-23T09:00:00Z');
const facts = {
  event: { type: 'invoice.created', payload: { amount: 250000, channel: 'whatsapp' } },
  contact: { name: 'Siti Rahma', tags: ['vip', 'bandung'], area: 'Bandung', attributes: { plan: 'gold' } },
  record: {
    kind: 'invoice',
    status: 'sent',
    dueAt: new Date('2026-11-28T00:00:00Z'),
    amount: '250000.0000',
    sentAt: '2026-11-20T00:00:00Z',
  },
  ticket: null,
};

describe('conditions: checking when a rule is saved', () => {
  it('accepts a sound nested condition', () => {
    const condition = {
      all: [
        { path: 'record.kind', op: 'eq', value: 'invoice' },
        {
          any: [
            { path: 'contact.tags', op: 'contains', value: 'vip' },
            { path: 'record.amount', op: 'gte', value: 1000000 },
          ],
        },
        { not: { path: 'record.status', op: 'in', value: ['paid', 'void'] } },
        { path: 'record.dueAt', op: 'within_next', value: '7d' },
        { path: 'event.payload.anything.deep', op: 'exists' },
      ],
    };
    expect(checkCondition(condition)).toEqual([]);
  });

  it('names the exact location of each problem', () => {
    const condition = {
      all: [
        { path: 'contact.shoeSize', op: 'eq', value: 42 },
        {
          any: [
            { path: 'record.dueAt', op: 'contains', value: 'x' },
            { path: 'record.amount', op: 'gt', value: 'lots' },
          ],
        },
        { not: { path: 'contact.tags', op: 'eq', value: 'vip' } },
        { path: 'record.sentAt', op: 'within_last', value: 'a week' },
        { path: 'contact.name', op: 'exists', value: true },
        { path: 'contact.name', op: 'like', value: '%a%' },
        { any: [] },
      ],
    };
    expect(checkCondition(condition)).toEqual([
      { path: 'conditions.all[0].path', problem: 'unknown path "contact.shoeSize"' },
      { path: 'conditions.all[1].any[0].op', problem: '"contains" needs text or a list' },
      { path: 'conditions.all[1].any[1].value', problem: 'must be a number' },
      { path: 'conditions.all[2].not.op', problem: 'a list is tested with contains or not_contains' },
      { path: 'conditions.all[3].value', problem: 'must be a duration such as 30m, 12h, 7d or 2w' },
      { path: 'conditions.all[4].value', problem: '"exists" takes no value' },
      { path: 'conditions.all[5].op', problem: expect.stringContaining('must be one of eq, neq') },
      { path: 'conditions.all[6].any', problem: 'must be a non-empty list of conditions' },
    ]);
  });

  it('refuses conditions too deep or too many to evaluate cheaply', () => {
    let deep: unknown = { path: 'contact.name', op: 'exists' };
    for (let i = 0; i < 10; i++) deep = { not: deep };
    expect(checkCondition(deep)[0].problem).toContain('nest at most');
    const wide = { any: Array.from({ length: 300 }, () => ({ path: 'contact.name', op: 'exists' })) };
    expect(checkCondition(wide)).toEqual([{ path: 'conditions.any[199]', problem: 'a rule holds at most 200 conditions' }]);
  });
});

describe('conditions: evaluation', () => {
  const check = (condition: unknown) => evaluate(condition as Condition, facts, now);

  it.each([
    [{ path: 'record.kind', op: 'eq', value: 'INVOICE' }, true],
    [{ path: 'record.amount', op: 'gte', value: 250000 }, true],
    [{ path: 'record.amount', op: 'gt', value: 250000 }, false],
    [{ path: 'record.amount', op: 'eq', value: 250000 }, true],
    [{ path: 'contact.tags', op: 'contains', value: 'VIP' }, true],
    [{ path: 'contact.tags', op: 'not_contains', value: 'jakarta' }, true],
    [{ path: 'contact.name', op: 'starts_with', value: 'siti' }, true],
    [{ path: 'contact.area', op: 'in', value: ['Jakarta', 'Bandung'] }, true],
    [{ path: 'contact.area', op: 'not_in', value: ['Jakarta'] }, true],
    [{ path: 'record.dueAt', op: 'within_next', value: '7d' }, true],
    [{ path: 'record.dueAt', op: 'within_next', value: '3d' }, false],
    [{ path: 'record.sentAt', op: 'within_last', value: '4d' }, true],
    [{ path: 'record.sentAt', op: 'within_last', value: '3d' }, false],
    [{ path: 'record.dueAt', op: 'lt', value: '2026-12-01T00:00:00Z' }, true],
    [{ path: 'record.completedAt', op: 'not_exists' }, true],
    [{ path: 'ticket.status', op: 'exists' }, false],
    [{ path: 'contact.attributes.plan', op: 'eq', value: 'gold' }, true],
    [{ path: 'event.payload.amount', op: 'lt', value: 100 }, false],
    [
      {
        any: [
          { path: 'contact.area', op: 'eq', value: 'Jakarta' },
          { path: 'contact.tags', op: 'contains', value: 'vip' },
        ],
      },
      true,
    ],
    [{ not: { path: 'record.status', op: 'in', value: ['paid', 'void'] } }, true],
  ])('%j is %s', (condition, expected) => {
    expect(check(condition).matched).toBe(expected);
  });

  it('says why not, naming the failing comparison and the value it saw', () => {
    const verdict = check({
      all: [
        { path: 'record.kind', op: 'eq', value: 'invoice' },
        { path: 'record.status', op: 'eq', value: 'paid' },
      ],
    });
    expect(verdict).toEqual({ matched: false, reason: 'record.status eq "paid" (was "sent")' });
    expect(check({ not: { path: 'contact.tags', op: 'contains', value: 'vip' } }).reason).toBe(
      'not expected: contact.tags contains "vip"',
    );
  });
});
