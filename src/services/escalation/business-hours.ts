import { DateTime, IANAZone } from 'luxon';
import type { BusinessHours, BusinessWindow } from '../../entities/sla-policy.entity';
import { badInput } from '../platform/errors';

/**
 * SLA maths over a weekly working calendar. Pure functions: no clock, no database.
 * A due time is the instant at which `minutes` of working time have passed since
 * `start`; without a calendar every minute counts.
 */

const TIME = /^([01]\d|2[0-3]):([0-5]\d)$|^24:00$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
/** Far enough for any real target; a calendar with no working time is refused before this matters. */
const MAX_DAYS = 3 * 366;

function minutesOf(time: string): number {
  const [hours, minutes] = time.split(':').map(Number);
  return hours * 60 + minutes;
}

/** Refuses calendars that cannot be computed with, naming the field at fault. */
export function validateBusinessHours(hours: BusinessHours): void {
  if (!IANAZone.isValidZone(hours.timezone)) {
    throw badInput(`"${hours.timezone}" is not an IANA timezone (e.g. Asia/Jakarta)`, 'businessHours.timezone');
  }
  if (!hours.windows.length) throw badInput('Business hours need at least one window', 'businessHours.windows');
  for (const window of hours.windows) {
    if (!Number.isInteger(window.day) || window.day < 1 || window.day > 7) {
      throw badInput('A window day is 1 (Monday) to 7 (Sunday)', 'businessHours.windows.day');
    }
    if (!TIME.test(window.start) || !TIME.test(window.end)) {
      throw badInput('Window times are "HH:MM" (00:00 to 24:00)', 'businessHours.windows');
    }
    if (minutesOf(window.end) <= minutesOf(window.start)) {
      throw badInput(`A window must end after it starts (${window.start}–${window.end})`, 'businessHours.windows');
    }
  }
  for (const day of hours.holidays) {
    if (!DATE.test(day) || !DateTime.fromISO(day).isValid) {
      throw badInput(`Holiday "${day}" is not a date (YYYY-MM-DD)`, 'businessHours.holidays');
    }
  }
}

/** The instant `minutes` of working time after `start`. */
export function addWorkingMinutes(start: Date, minutes: number, hours: BusinessHours | null): Date {
  if (!hours) return new Date(start.getTime() + minutes * 60_000);
  const holidays = new Set(hours.holidays);
  const byDay = new Map<number, BusinessWindow[]>();
  for (const window of hours.windows) {
    byDay.set(window.day, [...(byDay.get(window.day) ?? []), window]);
  }
  for (const windows of byDay.values()) windows.sort((a, b) => minutesOf(a.start) - minutesOf(b.start));

  let remainingMs = minutes * 60_000;
  const from = DateTime.fromJSDate(start, { zone: hours.timezone });
  let day = from.startOf('day');
  for (let i = 0; i < MAX_DAYS; i++, day = day.plus({ days: 1 }).startOf('day')) {
    if (holidays.has(day.toISODate()!)) continue;
    for (const window of byDay.get(day.weekday) ?? []) {
      // Built from wall-clock minutes so days with a DST change keep their local hours.
      const opens = day.plus({ minutes: minutesOf(window.start) });
      const closes = day.plus({ minutes: minutesOf(window.end) });
      const begin = opens < from ? from : opens;
      if (begin >= closes) continue;
      const available = closes.toMillis() - begin.toMillis();
      if (remainingMs <= available) return new Date(begin.toMillis() + remainingMs);
      remainingMs -= available;
    }
  }
  throw badInput('The business hours leave too little working time to reach this target', 'businessHours');
}
