/**
 * How long a message is worth sending. A delivery that could not go out in time (every
 * provider down, a campaign paused) becomes EXPIRED instead of reaching its recipient
 * late: an SLA warning or "your technician is on the way" is worthless after an hour, a
 * receipt is still good for days.
 */

/** The longest validity anything may ask for: 30 days. */
export const MAX_VALIDITY_MINUTES = 30 * 24 * 60;

const HOUR = 60;
const DAY = 24 * HOUR;

/** Defaults by notification type, in minutes; other types take DELIVERY_DEFAULT_VALIDITY. */
export const VALIDITY_BY_NOTIFICATION_TYPE: Readonly<Record<string, number>> = {
  // Worthless soon after: the moment has passed, or the next run sends a fresh one.
  emergency: HOUR,
  sla_warning: HOUR,
  technician_on_the_way: HOUR,
  escalation: 2 * HOUR,
  job_paused: 4 * HOUR,
  ticket_assigned: 4 * HOUR,
  greeting: 12 * HOUR,
  booking_reminder: 12 * HOUR,
  report: 12 * HOUR,
  // Good for a day or so.
  ticket_reply: DAY,
  ticket_status: DAY,
  ticket_auto_closed: DAY,
  payment_reminder: DAY,
  quote_expiring: DAY,
  completion_request: DAY,
  completion_reminder: DAY,
  opt_out_confirmation: DAY,
  opt_in_confirmation: DAY,
  campaign: 2 * DAY,
  campaign_test: 2 * DAY,
  satisfaction_survey: 3 * DAY,
  quote_followup: 3 * DAY,
  // Records the customer may want whenever it arrives.
  payment_receipt: 7 * DAY,
  booking_confirmation: 7 * DAY,
  registration: 7 * DAY,
  welcome: 7 * DAY,
};

/**
 * The validity of one message, in minutes: what the sender asked for (sendMessage, a rule
 * action, a campaign), else its template's, else its notification type's default, else
 * the deployment's default.
 */
export function validityMinutes(choice: {
  requested?: number | null;
  template?: number | null;
  notificationType: string;
  defaultMinutes: number;
}): number {
  const minutes =
    choice.requested ?? choice.template ?? VALIDITY_BY_NOTIFICATION_TYPE[choice.notificationType] ?? choice.defaultMinutes;
  return Math.min(Math.max(1, Math.round(minutes)), MAX_VALIDITY_MINUTES);
}

/** The end of a validity that starts when the message is first due. */
export function validUntil(firstDue: Date, minutes: number): Date {
  return new Date(firstDue.getTime() + minutes * 60_000);
}

/** Reads a duration such as `90m`, `72h` or `3d` (as DELIVERY_DEFAULT_VALIDITY is written) in minutes; null when malformed. */
export function parseValidity(text: string): number | null {
  const match = /^(\d{1,6})\s*(m|h|d)$/i.exec(text.trim());
  if (!match) return null;
  const minutes = Number(match[1]) * { m: 1, h: HOUR, d: DAY }[match[2].toLowerCase() as 'm' | 'h' | 'd'];
  return minutes >= 1 && minutes <= MAX_VALIDITY_MINUTES ? minutes : null;
}
