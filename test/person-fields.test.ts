import { Contact } from '../src/entities/contact.entity';
import { applyContactFields, normalizeDate } from '../src/services/directory/person-fields';
import { toE164 } from '../src/services/platform/phone';
import { checkRecord } from '../src/services/records/record.service';

describe('phone numbers', () => {
  it.each([
    ['081234567890', 'ID', '+6281234567890'],
    ['0812-3456-7890', 'ID', '+6281234567890'],
    ['+62 812 3456 7890', null, '+6281234567890'],
    ['6281234567890', null, '+6281234567890'],
    ['6281234567890', 'US', '+6281234567890'],
    ['(415) 555-2671', 'US', '+14155552671'],
  ])('reads %s in %s as %s', (raw, country, expected) => {
    expect(toE164(raw, country)).toBe(expected);
  });

  it.each([
    ['081234567890', null],
    ['12345', 'ID'],
    ['not a number', 'ID'],
    ['0812345678901234567890123456789012', 'ID'],
  ])('refuses %s in %s', (raw, country) => {
    expect(toE164(raw, country)).toBeNull();
  });
});

describe('contact fields', () => {
  const options = { defaultCountry: 'ID', now: new Date('2026-11-23T00:00:00Z'), source: 'import' };
  const contact = () =>
    Object.assign(new Contact(), { name: 'Old', phone: '+6281111111111', attributes: { a: 1 }, consent: {}, tags: [] });

  it('applies every field or none', () => {
    const target = contact();
    const problems = applyContactFields(target, { name: 'New', phone: '0812', birthday: '2023-02-29' }, options);
    expect(problems.map((p) => p.field)).toEqual(['phone', 'birthday']);
    expect(target).toMatchObject({ name: 'Old', phone: '+6281111111111' });
  });

  it('keeps fields given as null on imports, clears them on single edits, and merges attributes on imports', () => {
    const imported = contact();
    expect(applyContactFields(imported, { phone: null, attributes: { b: 2 } }, { ...options, mergeAttributes: true })).toEqual(
      [],
    );
    expect(imported).toMatchObject({ phone: '+6281111111111', attributes: { a: 1, b: 2 } });
    const edited = contact();
    expect(applyContactFields(edited, { phone: null, attributes: { b: 2 } }, { ...options, nullClears: true })).toEqual([]);
    expect(edited).toMatchObject({ phone: null, attributes: { b: 2 } });
  });

  it('stamps a consent answer only when it changes', () => {
    const target = contact();
    applyContactFields(target, { consent: [{ channel: 'whatsapp' as never, granted: true }] }, options);
    const first = target.consent.whatsapp;
    applyContactFields(
      target,
      { consent: [{ channel: 'whatsapp' as never, granted: true }] },
      { ...options, now: new Date('2027-01-01T00:00:00Z') },
    );
    expect(target.consent.whatsapp).toBe(first);
    expect(first).toEqual({ granted: true, at: '2026-11-23T00:00:00.000Z', source: 'import' });
  });

  it('takes only calendar dates that exist', () => {
    expect(normalizeDate('2024-02-29')).toBe('2024-02-29');
    expect(normalizeDate('0004-02-29')).toBe('0004-02-29');
    expect(normalizeDate('2023-02-29')).toBeNull();
    expect(normalizeDate('29/02/2024')).toBeNull();
  });
});

describe('business record checks', () => {
  it('normalises what it accepts', () => {
    expect(checkRecord({ kind: 'invoice', externalId: ' I-1 ', status: 'PAID', amount: 12.5, currency: 'idr' })).toEqual({
      record: { kind: 'invoice', externalId: 'I-1', status: 'paid', amount: '12.5000', currency: 'IDR' },
      problems: [],
    });
  });

  it('names every bad field', () => {
    const { record, problems } = checkRecord({
      kind: 'In Voice',
      externalId: '',
      dueAt: 'tomorrow',
      amount: '1,5',
      subject: { type: 'shop', id: 'x' },
      owner: {},
      attributes: [],
    });
    expect(record).toBeNull();
    expect(problems.map((p) => p.field)).toEqual([
      'kind',
      'externalId',
      'subject.type',
      'subject.id',
      'owner',
      'dueAt',
      'amount',
      'attributes',
    ]);
  });
});
