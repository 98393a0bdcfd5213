import type { EntityManager } from 'typeorm';
import { INTERNAL_EVENT_TYPES } from '../events/event-types';
import { type ActionDescription, actionCatalog } from './actions';
import { FACT_SCHEMA, FIELD_TYPES, type FieldType, type Operator, operatorsFor } from './conditions';
import { DATE_FIELDS } from './rule-definition';

export enum EventTypeOrigin {
  /** Recorded by the product itself. */
  INTERNAL = 'internal',
  /** Sent by the tenant's own systems (REST /v1/events, imports). */
  EXTERNAL = 'external',
}

export interface CatalogEventType {
  type: string;
  origin: EventTypeOrigin;
  subjectType: string | null;
  description: string | null;
}

export interface CatalogField {
  /** `contact.attributes.*`: any path below it (free-form JSON). */
  path: string;
  /** What it belongs to: event, ticket, contact, record or actor. */
  subject: string;
  type: FieldType;
  operators: Operator[];
}

/** What a rule builder needs to offer only what a rule can save. */
export interface RuleCatalog {
  eventTypes: CatalogEventType[];
  fields: CatalogField[];
  operators: Array<{ type: FieldType; operators: Operator[] }>;
  dateFields: string[];
  actions: readonly ActionDescription[];
}

/** At most this many of a tenant's own event types are listed. */
const MAX_EXTERNAL_TYPES = 500;

export async function ruleCatalog(manager: EntityManager, tenantId: string): Promise<RuleCatalog> {
  const internal = new Set(INTERNAL_EVENT_TYPES.map((entry) => entry.type));
  // The tenant's distinct event types by a loose index scan of (tenantId, type, occurredAt):
  // one index probe per type, however many events each type has.
  const seen = (await manager.query(
    `WITH RECURSIVE types AS (
       (SELECT type FROM domain_event WHERE "tenantId" = $1 ORDER BY type LIMIT 1)
       UNION ALL
       SELECT (SELECT e.type FROM domain_event e WHERE e."tenantId" = $1 AND e.type > types.type ORDER BY e.type LIMIT 1)
         FROM types WHERE types.type IS NOT NULL
     )
     SELECT type FROM types WHERE type IS NOT NULL LIMIT $2`,
    [tenantId, MAX_EXTERNAL_TYPES + internal.size],
  )) as Array<{ type: string }>;
  const external = seen
    .filter((row) => !internal.has(row.type))
    .slice(0, MAX_EXTERNAL_TYPES)
    .map((row) => ({ type: row.type, origin: EventTypeOrigin.EXTERNAL, subjectType: null, description: null }));
  return {
    eventTypes: [...INTERNAL_EVENT_TYPES.map((entry) => ({ ...entry, origin: EventTypeOrigin.INTERNAL })), ...external],
    fields: Object.entries(FACT_SCHEMA).map(([path, type]) => ({
      path,
      subject: path.split('.')[0],
      type,
      operators: operatorsFor(type),
    })),
    operators: Object.values(FIELD_TYPES).map((type) => ({ type, operators: operatorsFor(type) })),
    dateFields: [...DATE_FIELDS],
    actions: actionCatalog(),
  };
}
