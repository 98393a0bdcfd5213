import type { DataSource, EntityMetadata } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';
import { Contact } from '../../entities/contact.entity';
import { Ticket } from '../../entities/ticket.entity';
import { User } from '../../entities/user.entity';
import type { Principal } from '../directory/principal';
import {
  type CursorKind,
  type Page,
  type PageRequest,
  cursorValue,
  encodeCursor,
  finishKeyset,
  planKeyset,
} from '../platform/pagination';
import { projection } from '../platform/projection';
import { hotRows } from '../platform/sql';
import type { TicketFilter, TicketOrderField } from './ticket.service';

/** What a page of tickets reads: the fields asked of a ticket, its requester and its assignee (null: not asked). */
export interface TicketListShape {
  ticket?: ReadonlySet<string> | null;
  requester?: ReadonlySet<string> | null;
  assignee?: ReadonlySet<string> | null;
}

/** The column a page is sorted by (then id), the SQL type of its cursor value, and what that value looks like. */
export interface TicketListOrder {
  column: TicketOrderField;
  cast: string;
  kind: CursorKind;
  direction: 'ASC' | 'DESC';
}

/** Ticket fields that are not columns of their own, and the columns they are made of (the keys are always read). */
const TICKET_DERIVED: Record<string, string[]> = {
  reference: ['number'],
  requester: [],
  assignee: [],
  messages: [],
  messageCount: [],
};

/** A table of the statement: its alias, entity, the columns read (in select order) and the first one's position. */
interface Part {
  alias: string;
  metadata: EntityMetadata;
  columns: ColumnMetadata[];
  offset: number;
}

/** Positional parameters of a statement being written. */
class Parameters {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/**
 * The tickets list, the query agents keep open all day: one hand-written statement per
 * page, run as a prepared statement, instead of TypeORM's query builder and hydration,
 * which cost the API more CPU than everything else in the request. The page reads only
 * the columns of the fields asked for, the requester and assignee in the same statement,
 * and the total as an uncorrelated subquery (an InitPlan, computed once); a page past the
 * end counts apart. Visibility is the same as every other ticket read: the tenant's
 * tickets, a customer only their own.
 */
export class TicketList {
  constructor(private readonly dataSource: DataSource) {}

  async page(
    actor: Principal,
    filter: TicketFilter,
    order: TicketListOrder,
    page: PageRequest,
    shape: TicketListShape,
  ): Promise<Page<Ticket>> {
    const plan = planKeyset(page, order.column, order.kind, order.direction);
    const after = plan.cursor;
    const params = new Parameters();
    const where = conditions(actor, filter, params).join(' AND ');
    const filterValues = params.values.length;

    const parts: Part[] = [];
    const select: string[] = [];
    const table = (alias: string, metadata: EntityMetadata, fields: ReadonlySet<string> | null | undefined, always: string[]) => {
      const chosen = fields === undefined ? undefined : projection(metadata, fields, always, alias === 't' ? TICKET_DERIVED : {});
      const columns = chosen
        ? chosen.map((property) => metadata.findColumnWithPropertyName(property)!)
        : metadata.columns.filter((column) => column.isSelect && !column.isVirtual && !column.isVirtualProperty);
      parts.push({ alias, metadata, columns, offset: select.length });
      for (const column of columns) select.push(`${alias}."${column.databaseName}"`);
    };
    table('t', this.meta(Ticket), shape.ticket, ['id', 'tenantId', 'requesterId', 'assigneeId', order.column]);
    const joins: string[] = [];
    const people = [
      ['requester', 'contact', 'requesterId', Contact, shape.requester],
      ['assignee', 'user', 'assigneeId', User, actor.kind === 'staff' ? shape.assignee : null],
    ] as const;
    for (const [alias, tableName, key, entity, fields] of people) {
      if (!fields) continue;
      joins.push(`LEFT JOIN "${tableName}" ${alias} ON ${alias}.id = t."${key}" AND ${alias}."tenantId" = t."tenantId"`);
      table(alias, this.meta(entity), fields, ['id', 'tenantId']);
    }

    const sortColumn = `t."${order.column}"`;
    const keyset = after
      ? ` AND (${sortColumn}, t.id) ${plan.comparison} (CAST(${params.add(after.value)} AS ${order.cast}), CAST(${params.add(after.id)} AS uuid))`
      : '';
    const text =
      `SELECT ${select.join(', ')}, (SELECT count(*) FROM ticket t WHERE ${where}) AS total FROM ticket t ${joins.join(' ')} ` +
      `WHERE ${where}${keyset} ORDER BY ${sortColumn} ${plan.direction}, t.id ${plan.direction} LIMIT ${params.add(plan.size + 1)}`;
    const rows = await hotRows<unknown[]>(this.dataSource, text, params.values, { arrays: true });

    const totalCount = rows.length
      ? Number(rows[0][select.length])
      : after
        ? await this.count(where, params.values.slice(0, filterValues))
        : 0;
    const tickets = rows.slice(0, plan.size + 1).map((row) => this.ticketOf(row, parts));
    return {
      totalCount,
      ...finishKeyset(tickets, plan, (node) => encodeCursor(order.column, cursorValue(node[order.column]), node.id)),
    };
  }

  private async count(where: string, values: unknown[]): Promise<number> {
    const [row] = await hotRows<{ total: string }>(
      this.dataSource,
      `SELECT count(*) AS total FROM ticket t WHERE ${where}`,
      values,
    );
    return Number(row.total);
  }

  private ticketOf(row: unknown[], [ticketPart, ...people]: Part[]): Ticket {
    const ticket = this.entityOf<Ticket>(row, ticketPart);
    for (const part of people) {
      // No row joined (a person of another tenant, or none): the field's resolver decides.
      if (row[part.offset] == null) continue;
      (ticket as unknown as Record<string, unknown>)[part.alias] = this.entityOf(row, part);
    }
    return ticket;
  }

  private entityOf<T>(row: unknown[], part: Part): T {
    const entity = part.metadata.create() as Record<string, unknown>;
    const driver = this.dataSource.driver;
    part.columns.forEach((column, index) => {
      entity[column.propertyName] = driver.prepareHydratedValue(row[part.offset + index], column);
    });
    return entity as T;
  }

  private meta(entity: typeof Ticket | typeof Contact | typeof User): EntityMetadata {
    return this.dataSource.getMetadata(entity);
  }
}

/** Which tickets a page may hold: the actor's visible ones, narrowed by the filter. */
function conditions(actor: Principal, filter: TicketFilter, params: Parameters): string[] {
  const where = [`t."tenantId" = ${params.add(actor.tenantId)}`];
  if (actor.kind === 'customer') where.push(`t."requesterId" = ${params.add(actor.contactId)}`);
  const anyOf = (column: string, type: string, values: readonly string[] | null | undefined) => {
    if (values?.length) where.push(`t.${column} = ANY(CAST(${params.add(values)} AS ${type}[]))`);
  };
  anyOf('status', 'ticket_status', filter.statuses);
  anyOf('priority', 'ticket_priority', filter.priorities);
  anyOf('category', 'ticket_category', filter.categories);
  if (filter.assigneeId) where.push(`t."assigneeId" = ${params.add(filter.assigneeId)}`);
  if (filter.unassigned) where.push(`t."assigneeId" IS NULL`);
  if (filter.requesterId) where.push(`t."requesterId" = ${params.add(filter.requesterId)}`);
  if (filter.createdFrom) where.push(`t."createdAt" >= ${params.add(filter.createdFrom)}`);
  if (filter.createdTo) where.push(`t."createdAt" < ${params.add(filter.createdTo)}`);
  if (filter.resolvedFrom) where.push(`t."resolvedAt" >= ${params.add(filter.resolvedFrom)}`);
  if (filter.resolvedTo) where.push(`t."resolvedAt" < ${params.add(filter.resolvedTo)}`);
  if (filter.tags?.length) {
    where.push(`t.tags && CAST(${params.add(filter.tags.map((tag) => tag.trim().toLowerCase()))} AS text[])`);
  }
  const area = filter.area?.trim();
  if (area) {
    where.push(`EXISTS (SELECT 1 FROM contact c WHERE c.id = t."requesterId" AND lower(c.area) = lower(${params.add(area)}))`);
  }
  if (filter.breached != null) {
    where.push(
      filter.breached
        ? '(t."firstResponseBreachedAt" IS NOT NULL OR t."resolutionBreachedAt" IS NOT NULL)'
        : '(t."firstResponseBreachedAt" IS NULL AND t."resolutionBreachedAt" IS NULL)',
    );
  }
  const text = filter.text?.trim();
  if (text) {
    const pattern = params.add(`%${text.replace(/[\\%_]/g, (c) => '\\' + c)}%`);
    const number = /^(?:T-)?0*(\d{1,9})$/i.exec(text)?.[1];
    where.push(
      `(t.subject ILIKE ${pattern} OR t.description ILIKE ${pattern}${number ? ` OR t.number = ${params.add(Number(number))}` : ''})`,
    );
  }
  return where;
}
