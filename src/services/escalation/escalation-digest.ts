import { renderTemplate } from '../delivery/template-rendering';
import { formatDuration } from './staff-notices';

/**
 * The one message a recipient gets per escalation run, grouping every item escalated to
 * them in that run, whatever its kind (tickets, trainings, service jobs...): one section per
 * level and kind. Pure: no clock, no database.
 */

/** How a level speaks: the first names each item, middle levels count by group, the top summarizes. */
export type DigestStyle = 'detail' | 'teams' | 'summary';

export interface DigestItem {
  /** What the item is, singular: ticket, training, service job. */
  noun: string;
  /** How lines of the group levels name it, e.g. T-000012, or "Food safety" for Ani Wijaya. */
  reference: string;
  /** Its line at the first level and among critical cases; names who is responsible and how overdue. */
  detail: string;
  /** Its line among the critical cases of a summary. */
  criticalLine: string;
  level: number;
  style: DigestStyle;
  /** Optional opening line of the level, with {{recipientName}}, {{count}} and {{level}}. */
  intro: string | null;
  overdueMinutes: number;
  /** How long it is overdue, as the message says it (e.g. "2 d 3 h", "4 days"). */
  overdue: string;
  /** The group it belongs to (a team, a store). */
  team: string;
  /** What such a group is called: team, store. */
  groupNoun: string;
  criticalAfterMinutes: number;
  /** How the critical threshold is said. */
  critical: string;
}

/** Lines listed per section before "…and N more": WhatsApp caps a text at 4,096 characters. */
const MAX_LINES = 15;

export function styleOfLevel(level: number, topLevel: number): DigestStyle {
  if (level === 1) return 'detail';
  return level >= topLevel ? 'summary' : 'teams';
}

export const plural = (count: number, one: string, many = `${one}s`) => `${count} ${count === 1 ? one : many}`;
const capitalized = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

function capped(lines: string[]): string[] {
  return lines.length <= MAX_LINES ? lines : [...lines.slice(0, MAX_LINES), `…and ${lines.length - MAX_LINES} more`];
}

/** Groups, largest first, then worst, then by name; items inside stay worst first. */
function byTeam(items: DigestItem[]): Array<{ team: string; items: DigestItem[] }> {
  const teams = new Map<string, DigestItem[]>();
  for (const item of items) teams.set(item.team, [...(teams.get(item.team) ?? []), item]);
  return [...teams.entries()]
    .map(([team, teamItems]) => ({ team, items: teamItems }))
    .sort(
      (a, b) =>
        b.items.length - a.items.length ||
        b.items[0].overdueMinutes - a.items[0].overdueMinutes ||
        a.team.localeCompare(b.team, undefined, { numeric: true }),
    );
}

/** The groups of a summary with their counts, largest first; past MAX_LINES, how many more. */
function affected(teams: Array<{ team: string; items: DigestItem[] }>, groupNoun: string): string {
  const named = teams.slice(0, MAX_LINES).map(({ team, items }) => `${team} (${items.length})`);
  const more = teams.length - named.length;
  return more > 0 ? `${named.join(', ')} and ${plural(more, `more ${groupNoun}`)}` : named.join(', ');
}

function section(recipientName: string, level: number, items: DigestItem[]): string {
  const { style, intro, noun, groupNoun } = items[0];
  const opening = intro ? renderTemplate(intro, { recipientName, count: items.length, level }) : `Escalation level ${level}`;
  const teams = byTeam(items);
  if (style === 'detail') {
    return `${opening}: ${plural(items.length, noun)} overdue.\n${capped(items.map((item) => `• ${item.detail}`)).join('\n')}`;
  }
  if (style === 'teams') {
    const lines = teams.map(
      ({ team, items: teamItems }) =>
        `• ${team}: ${plural(teamItems.length, noun)}, worst ${teamItems[0].reference} (${teamItems[0].overdue} overdue)`,
    );
    const earlier = groupNoun === 'team' ? 'the owners of the earlier levels' : `the ${groupNoun} managers`;
    return (
      `${opening}: ${plural(items.length, noun)} in ${plural(teams.length, groupNoun)} still overdue; ` +
      `${earlier} have not resolved them.\n${capped(lines).join('\n')}`
    );
  }
  const critical = items.filter((item) => item.overdueMinutes >= item.criticalAfterMinutes);
  const parts = [
    `${opening}, summary: ${plural(items.length, `overdue ${noun}`)} across ${plural(teams.length, groupNoun)}; ` +
      `${critical.length} critical (overdue ${items[0].critical} or more).`,
    `${capitalized(groupNoun)}s affected: ${affected(teams, groupNoun)}.`,
  ];
  if (critical.length) parts.push(`Critical cases:\n${capped(critical.map((item) => `• ${item.criticalLine}`)).join('\n')}`);
  return parts.join('\n');
}

/** The subject and text of one recipient's message; sections highest level first, worst cases first. */
export function composeDigest(recipientName: string, items: DigestItem[]): { subject: string; text: string } {
  const sections = new Map<string, { level: number; noun: string; items: DigestItem[] }>();
  const worstFirst = [...items].sort(
    (a, b) => b.overdueMinutes - a.overdueMinutes || a.detail.localeCompare(b.detail, undefined, { numeric: true }),
  );
  for (const item of worstFirst) {
    const key = `${item.level}/${item.noun}`;
    const entry = sections.get(key) ?? { level: item.level, noun: item.noun, items: [] };
    entry.items.push(item);
    sections.set(key, entry);
  }
  const ordered = [...sections.values()].sort((a, b) => b.level - a.level || a.noun.localeCompare(b.noun));
  const counts = new Map<string, number>();
  for (const item of items) counts.set(item.noun, (counts.get(item.noun) ?? 0) + 1);
  const what = [...counts.entries()].map(([noun, count]) => plural(count, `overdue ${noun}`)).join(', ');
  return {
    subject: `Escalation level ${ordered[0].level}: ${what}`,
    text: [`Hi ${recipientName},`, ...ordered.map((entry) => section(recipientName, entry.level, entry.items))].join('\n\n'),
  };
}

/** Where an item stands in a run: its level, how that level speaks, and the policy's critical threshold. */
export interface DigestPlace {
  level: number;
  style: DigestStyle;
  intro: string | null;
  overdueMinutes: number;
  criticalAfterMinutes: number;
}

/** An overdue ticket as a digest line: hours and minutes matter. */
export function ticketDigestItem(
  ticket: { reference: string; subject: string; priority: string; assigneeName: string | null; team: string },
  place: DigestPlace,
): DigestItem {
  const overdue = formatDuration(place.overdueMinutes);
  return {
    ...place,
    noun: 'ticket',
    reference: ticket.reference,
    detail: `${ticket.reference} "${ticket.subject}" (${ticket.priority}): ${ticket.assigneeName ?? 'unassigned'}, ${overdue} overdue`,
    criticalLine: `${ticket.reference} "${ticket.subject}", ${ticket.team}: ${overdue} overdue`,
    overdue,
    team: ticket.team,
    groupNoun: 'team',
    critical: formatDuration(place.criticalAfterMinutes),
  };
}

const days = (minutes: number) => plural(Math.floor(minutes / 1440), 'day');

/**
 * An overdue business record (a training, a service job) as a digest line, counted in days:
 * the person responsible with their id, their group (store), the record and days overdue.
 */
export function recordDigestItem(
  record: { noun: string; title: string; personName: string; personExternalId: string | null; group: string; groupNoun: string },
  place: DigestPlace,
): DigestItem {
  const person = record.personExternalId ? `${record.personName} (${record.personExternalId})` : record.personName;
  const line = `${person}, ${record.group}: "${record.title}", ${days(place.overdueMinutes)} overdue`;
  return {
    ...place,
    noun: record.noun,
    reference: `"${record.title}" for ${record.personName}`,
    detail: line,
    criticalLine: line,
    overdue: days(place.overdueMinutes),
    team: record.group,
    groupNoun: record.groupNoun,
    critical: days(place.criticalAfterMinutes),
  };
}
