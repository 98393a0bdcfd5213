import { addWorkingMinutes, validateBusinessHours } from '../src/services/escalation/business-hours';
import { composeDigest, type DigestItem, ticketDigestItem } from '../src/services/escalation/escalation-digest';

const weekdays = (timezone: string) => ({
  timezone,
  windows: [1, 2, 3, 4, 5].map((day) => ({ day, start: '09:00', end: '17:00' })),
  holidays: [],
});

describe('working time', () => {
  it('counts every minute without a calendar', () => {
    expect(addWorkingMinutes(new Date('2026-03-06T22:00:00Z'), 90, null).toISOString()).toBe('2026-03-06T23:30:00.000Z');
  });

  it('keeps local working hours across a daylight-saving change', () => {
    // Friday 16:00 CET (UTC+1); Europe moves to CEST (UTC+2) on Sunday 29 March 2026.
    const due = addWorkingMinutes(new Date('2026-03-27T15:00:00Z'), 120, weekdays('Europe/Berlin'));
    expect(due.toISOString()).toBe('2026-03-30T08:00:00.000Z'); // Monday 10:00 CEST
  });

  it('splits a day with two windows and skips holidays', () => {
    const hours = {
      timezone: 'UTC',
      windows: [
        { day: 2, start: '08:00', end: '12:00' },
        { day: 2, start: '13:00', end: '17:00' },
      ],
      holidays: ['2026-03-03'],
    };
    // Tuesday 3 March is a holiday: the clock starts Tuesday 10 March; 5 h = 08-12 and 13-14.
    expect(addWorkingMinutes(new Date('2026-03-02T10:00:00Z'), 300, hours).toISOString()).toBe('2026-03-10T14:00:00.000Z');
  });

  it('refuses calendars it cannot compute with', () => {
    expect(() =>
      validateBusinessHours({ ...weekdays('Europe/Berlin'), windows: [{ day: 8, start: '09:00', end: '17:00' }] }),
    ).toThrow(/1 \(Monday\) to 7/);
    expect(() => validateBusinessHours({ ...weekdays('UTC'), windows: [{ day: 1, start: '17:00', end: '09:00' }] })).toThrow(
      /end after it starts/,
    );
    expect(() => validateBusinessHours({ ...weekdays('UTC'), holidays: ['2026-02-30'] })).toThrow(/not a date/);
  });
});

describe('escalation digest', () => {
  const item = (reference: string, team: string, overdueMinutes: number, level: number, style: DigestItem['style']): DigestItem =>
    ticketDigestItem(
      { reference, subject: `Subject ${reference}`, priority: 'high', assigneeName: 'Ali', team },
      { level, style, intro: null, overdueMinutes, criticalAfterMinutes: 14 * 1440 },
    );

  it('groups a top-level summary by team, worst first, and names the critical cases', () => {
    const items = [
      ...Array.from({ length: 7 }, (_, i) => item(`T-00000${i}`, 'Store Bandung', 60 * (i + 1), 4, 'summary')),
      ...Array.from({ length: 4 }, (_, i) => item(`T-00001${i}`, 'Store Depok', 15 * 1440 + i, 4, 'summary')),
      item('T-000020', 'Store Bogor', 20, 4, 'summary'),
    ];
    const { subject, text } = composeDigest('Ada', items);
    expect(subject).toBe('Escalation level 4: 12 overdue tickets');
    expect(text).toContain('12 overdue tickets across 3 teams; 4 critical (overdue 14 d or more)');
    expect(text).toContain('Teams affected: Store Bandung (7), Store Depok (4), Store Bogor (1).');
    expect(text.indexOf('T-000013')).toBeLessThan(text.indexOf('T-000010')); // worst critical case first
    expect(text).not.toContain('T-000020"'); // not critical, not listed
  });

  it('puts each level of a run in one message, highest first, with a custom intro', () => {
    const { text } = composeDigest('Dina', [
      item('T-000001', 'Team Mona', 70, 1, 'detail'),
      { ...item('T-000002', 'Team Mona', 130, 2, 'teams'), intro: '{{recipientName}}, level {{level}} needs you ({{count}})' },
    ]);
    expect(text.indexOf('Dina, level 2 needs you (1)')).toBeLessThan(text.indexOf('Escalation level 1: 1 ticket overdue'));
  });
});
