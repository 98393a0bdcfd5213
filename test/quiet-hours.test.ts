import { DateTime } from 'luxon';
import { outOfQuietHours } from '../src/services/campaigns/campaign-sender';

const at = (iso: string) => DateTime.fromISO(iso, { zone: 'Asia/Jakarta' });

/** Campaign messages never go out in the recipient's quiet hours: they wait for the end. */
describe('quiet hours', () => {
  it('moves a time inside hours that wrap midnight to their end, today or tomorrow', () => {
    expect(outOfQuietHours(at('2026-12-01T22:30'), '21:00', '08:00').toISO()).toBe('2026-12-02T08:00:00.000+07:00');
    expect(outOfQuietHours(at('2026-12-01T03:10'), '21:00', '08:00').toISO()).toBe('2026-12-01T08:00:00.000+07:00');
    expect(outOfQuietHours(at('2026-12-01T21:00'), '21:00', '08:00').toISO()).toBe('2026-12-02T08:00:00.000+07:00');
  });

  it('leaves times outside alone, the end itself included, and handles hours within one day', () => {
    expect(outOfQuietHours(at('2026-12-01T08:00'), '21:00', '08:00').toISO()).toBe('2026-12-01T08:00:00.000+07:00');
    expect(outOfQuietHours(at('2026-12-01T20:59'), '21:00', '08:00').toISO()).toBe('2026-12-01T20:59:00.000+07:00');
    expect(outOfQuietHours(at('2026-12-01T12:30'), '12:00', '13:00').toISO()).toBe('2026-12-01T13:00:00.000+07:00');
    expect(outOfQuietHours(at('2026-12-01T13:00'), '12:00', '13:00').toISO()).toBe('2026-12-01T13:00:00.000+07:00');
  });
});
