import type { DataSource } from 'typeorm';
import { RuleTriggerType } from '../../entities/automation-rule.entity';
import type { DomainEvent } from '../../entities/domain-event.entity';
import { badInput, notFound } from '../platform/errors';
import { isUuid } from '../platform/ids';
import type { FactIds } from './facts';
import type { Occurrence } from './rule-engine';

/** The fact ids of a named subject of the tenant; NOT_FOUND otherwise. */
export async function subjectIds(
  dataSource: DataSource,
  tenantId: string,
  subject: { type: string; id: string },
): Promise<FactIds> {
  const tables: Record<string, [string, keyof FactIds]> = {
    ticket: ['ticket', 'ticketId'],
    contact: ['contact', 'contactId'],
    business_record: ['business_record', 'recordId'],
    user: ['"user"', 'userId'],
  };
  const table = tables[subject.type];
  if (!table) throw badInput('The subject type must be ticket, contact, business_record or user', 'subject.type');
  const rows = isUuid(subject.id)
    ? ((await dataSource.query(`SELECT id FROM ${table[0]} WHERE id = $1 AND "tenantId" = $2`, [
        subject.id,
        tenantId,
      ])) as unknown[])
    : [];
  if (!rows.length) throw notFound(subject.type, subject.id);
  return { [table[1]]: subject.id };
}

/** An event as an occurrence of an event rule's trigger. */
export function occurrenceOf(event: DomainEvent, ids: FactIds, dedupeKey: string): Occurrence {
  return {
    trigger: RuleTriggerType.EVENT,
    dedupeKey,
    event,
    subjectType: event.subjectId ? event.subjectType : null,
    subjectId: event.subjectId,
    ids,
    depth: event.depth ?? 0,
  };
}

export function eventMatches(patterns: string[], type: string): boolean {
  return patterns.some(
    (pattern) => pattern === '*' || pattern === type || (pattern.endsWith('.*') && type.startsWith(pattern.slice(0, -1))),
  );
}
