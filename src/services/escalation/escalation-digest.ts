import { renderTemplate } from '../delivery/template-rendering';
import { formatDuration } from './staff-notices';

/**
 * The one message a recipient gets per escalation run, grouping every ticket
 * escalated to them in that run. Pure: no clock, no database.
 */

/** How a level speaks: the first names each ticket, middle levels count by team, the top summarizes. */
export type DigestStyle = 'detail' | 'teams' | 'summary';

export interface DigestItem {
  reference: string;
  subject: string;
  priority: string;
  level: number;
  style: DigestStyle;
  /** Optional opening line of the level, with {{recipientName}}, {{count}} and {{level}}. */
  intro: string | null;
  overdueMinutes: number;
  assigneeName: string | null;
  /** The team (or store) the ticket belongs to: its assignee's manager. */
  team: string;
  criticalAfterMinutes: number;
}

/** Lines listed per section before "…and N more": WhatsApp caps a text at 4,096 characters. */
const MAX_LINES = 15;

export function styleOfLevel(level: number, topLevel: number): DigestStyle {
  if (level === 1) return 'detail';
  return level >= topLevel ? 'summary' : 'teams';
}

const plural = (count: number, one: string, many = `${one}s`) => `${count} ${count === 1 ? one : many}`;

function capped(lines: string[]): string[] {
  return lines.length <= MAX_LINES ? lines : [...lines.slice(0, MAX_LINES), `…and ${lines.length - MAX_LINES} more`];
}

function byTeam(items: DigestItem[]): Array<{ team: string; items: DigestItem[] }> {
  const teams = new Map<string, DigestItem[]>();
  for (const item of items) teams.set(item.team, [...(teams.get(item.team) ?? []), item]);
  return [...teams.entries()]
    .map(([team, teamItems]) => ({ team, items: teamItems }))
    .sort((a, b) => b.items.length - a.items.length || b.items[0].overdueMinutes - a.items[0].overdueMinutes);
}

function section(recipientName: string, level: number, items: DigestItem[]): string {
  const { style, intro } = items[0];
  const opening = intro ? renderTemplate(intro, { recipientName, count: items.length, level }) : `Escalation level ${level}`;
  const teams = byTeam(items);
  if (style === 'detail') {
    const lines = items.map(
      (item) =>
        `• ${item.reference} "${item.subject}" (${item.priority}): ${item.assigneeName ?? 'unassigned'}, ` +
        `${formatDuration(item.overdueMinutes)} overdue`,
    );
    return `${opening}: ${plural(items.length, 'ticket')} overdue.\n${capped(lines).join('\n')}`;
  }
  if (style === 'teams') {
    const lines = teams.map(
      ({ team, items: teamItems }) =>
        `• ${team}: ${plural(teamItems.length, 'ticket')}, worst ${teamItems[0].reference} ` +
        `(${formatDuration(teamItems[0].overdueMinutes)} overdue)`,
    );
    return (
      `${opening}: ${plural(items.length, 'ticket')} in ${plural(teams.length, 'team')} still overdue; ` +
      `the owners of the earlier levels have not resolved them.\n${capped(lines).join('\n')}`
    );
  }
  const critical = items.filter((item) => item.overdueMinutes >= item.criticalAfterMinutes);
  const threshold = formatDuration(items[0].criticalAfterMinutes);
  const parts = [
    `${opening}, summary: ${plural(items.length, 'overdue ticket')} across ${plural(teams.length, 'team')}; ` +
      `${critical.length} critical (overdue ${threshold} or more).`,
    `Teams affected: ${teams.map(({ team, items: teamItems }) => `${team} (${teamItems.length})`).join(', ')}.`,
  ];
  if (critical.length) {
    const lines = critical.map(
      (item) => `• ${item.reference} "${item.subject}", ${item.team}: ${formatDuration(item.overdueMinutes)} overdue`,
    );
    parts.push(`Critical cases:\n${capped(lines).join('\n')}`);
  }
  return parts.join('\n');
}

/** The subject and text of one recipient's message; sections highest level first, worst cases first. */
export function composeDigest(recipientName: string, items: DigestItem[]): { subject: string; text: string } {
  const levels = new Map<number, DigestItem[]>();
  for (const item of [...items].sort((a, b) => b.overdueMinutes - a.overdueMinutes)) {
    levels.set(item.level, [...(levels.get(item.level) ?? []), item]);
  }
  const ordered = [...levels.entries()].sort((a, b) => b[0] - a[0]);
  const top = ordered[0][0];
  return {
    subject: `Escalation level ${top}: ${plural(items.length, 'overdue ticket')}`,
    text: [`Hi ${recipientName},`, ...ordered.map(([level, levelItems]) => section(recipientName, level, levelItems))].join(
      '\n\n',
    ),
  };
}
