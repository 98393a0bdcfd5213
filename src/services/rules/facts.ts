import { DateTime } from 'luxon';
import type { EntityManager } from 'typeorm';
import { BusinessRecord } from '../../entities/business-record.entity';
import { Contact } from '../../entities/contact.entity';
import type { DomainEvent } from '../../entities/domain-event.entity';
import { Tenant } from '../../entities/tenant.entity';
import { Ticket } from '../../entities/ticket.entity';
import { User } from '../../entities/user.entity';

/** The ids a rule's facts are loaded from; kept on a delayed execution to load them again. */
export interface FactIds {
  ticketId?: string | null;
  contactId?: string | null;
  recordId?: string | null;
  userId?: string | null;
  actorId?: string | null;
}

/** What a rule sees: the event and the ticket, contact, record, user and actor it concerns. */
export interface Facts {
  event: { id: string | null; type: string; occurredAt: string; source: string; payload: Record<string, unknown> } | null;
  ticket: Record<string, unknown> | null;
  contact: Record<string, unknown> | null;
  record: Record<string, unknown> | null;
  user: Record<string, unknown> | null;
  actor: { id: string; role: string; name: string } | null;
  tenant: { name: string; timezone: string; locale: string };
}

/** The facts for these ids, read in the caller's transaction, as plain JSON (dates as ISO 8601). */
export async function loadFacts(
  manager: EntityManager,
  tenantId: string,
  ids: FactIds,
  event: DomainEvent | null,
  loadedTenant?: Tenant,
): Promise<{ facts: Facts; ids: FactIds }> {
  const resolved: FactIds = { ...ids };
  const tenant = loadedTenant ?? (await manager.findOneByOrFail(Tenant, { id: tenantId }));
  const ticket = resolved.ticketId ? await manager.findOneBy(Ticket, { id: resolved.ticketId, tenantId }) : null;
  const record = resolved.recordId ? await manager.findOneBy(BusinessRecord, { id: resolved.recordId, tenantId }) : null;
  resolved.contactId ??= ticket?.requesterId ?? record?.contactId ?? null;
  resolved.userId ??= record?.userId ?? null;
  const contact = resolved.contactId ? await manager.findOneBy(Contact, { id: resolved.contactId, tenantId }) : null;
  const user = resolved.userId ? await manager.findOneBy(User, { id: resolved.userId, tenantId }) : null;
  const actor = resolved.actorId ? await manager.findOneBy(User, { id: resolved.actorId, tenantId }) : null;
  const plain = (row: object | null) => (row ? { ...row } : null);
  const facts: Facts = JSON.parse(
    JSON.stringify({
      event: event
        ? {
            id: event.id ?? null,
            type: event.type,
            occurredAt: new Date(event.occurredAt).toISOString(),
            source: event.source,
            payload: event.payload,
          }
        : null,
      ticket: ticket ? { ...ticket, reference: ticket.reference } : null,
      contact: plain(contact),
      record: record
        ? { ...record, amount: record.amount === null ? null : Number(record.amount), ...localDates(record, contact, tenant) }
        : null,
      user: user
        ? { id: user.id, name: user.name, email: user.email, phone: user.phone, role: user.role, attributes: user.attributes }
        : null,
      actor: actor ? { id: actor.id, role: actor.role, name: actor.name } : null,
      tenant: { name: tenant.name, timezone: tenant.timezone, locale: tenant.locale },
    }),
  ) as Facts;
  return { ids: resolved, facts };
}

/** The ids an event points at: its subject, and ids its payload names. */
export function idsOf(event: DomainEvent): FactIds {
  const payload = event.payload ?? {};
  const id = (value: unknown) => (typeof value === 'string' && /^[0-9a-f-]{36}$/i.test(value) ? value : null);
  const ids: FactIds = { actorId: event.actorId };
  if (event.subjectType === 'ticket') ids.ticketId = event.subjectId;
  if (event.subjectType === 'contact') ids.contactId = event.subjectId;
  if (event.subjectType === 'business_record') ids.recordId = event.subjectId;
  if (event.subjectType === 'user') ids.userId = event.subjectId;
  ids.ticketId ??= id(payload.ticketId);
  ids.contactId ??= id(payload.contactId) ?? id(payload.requesterId);
  ids.recordId ??= id(payload.recordId) ?? id((payload.record as Record<string, unknown> | undefined)?.id);
  return ids;
}

/**
 * A record's dates as the recipient reads them, in their time zone and language:
 * dueDate "1 Des 2026", scheduledTime "09:30", for messages (the *At fields stay ISO 8601).
 */
function localDates(record: BusinessRecord, contact: Contact | null, tenant: Tenant): Record<string, string | null> {
  const zone = contact?.timezone ?? tenant.timezone;
  const locale = contact?.locale ?? tenant.locale;
  const local = (date: Date | null) => (date ? DateTime.fromJSDate(date, { zone }).setLocale(locale) : null);
  return {
    dueDate: local(record.dueAt)?.toLocaleString(DateTime.DATE_MED) ?? null,
    expiresDate: local(record.expiresAt)?.toLocaleString(DateTime.DATE_MED) ?? null,
    sentDate: local(record.sentAt)?.toLocaleString(DateTime.DATE_MED) ?? null,
    scheduledDate: local(record.scheduledAt)?.toLocaleString(DateTime.DATE_MED) ?? null,
    scheduledTime: local(record.scheduledAt)?.toFormat('HH:mm') ?? null,
  };
}

/** Template variables: the facts, then the action's own. */
export function templateValues(facts: Facts, own: Record<string, unknown> | undefined): Record<string, unknown> {
  return {
    contact: facts.contact ?? undefined,
    ticket: facts.ticket ?? undefined,
    record: facts.record ?? undefined,
    event: facts.event ?? undefined,
    tenant: facts.tenant,
    ...(own ?? {}),
  };
}
