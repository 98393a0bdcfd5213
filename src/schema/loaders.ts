import DataLoader from 'dataloader';
import type { Contact } from '../entities/contact.entity';
import type { DeliveryEvent } from '../entities/delivery-event.entity';
import type { Delivery } from '../entities/delivery.entity';
import type { Attachment } from '../entities/ticket-message.entity';
import type { Tenant } from '../entities/tenant.entity';
import type { Ticket } from '../entities/ticket.entity';
import type { User } from '../entities/user.entity';
import type { Principal } from '../services/directory/principal';
import type { PageRequest } from '../services/platform/pagination';
import type { CustomerNotice, NoticeSubject } from '../services/delivery/customer-notices';
import type { ThreadPage } from '../services/tickets/ticket.service';
import type { Services } from '../services';

/**
 * Batches the lookups of a list's field resolvers (requester, assignee, ticket, thread,
 * counts, delivery history) into one query per field instead of one per row. No caching: a
 * subscription keeps its context for hours, and every event must see fresh rows.
 */
export interface Loaders {
  user: DataLoader<string, User | undefined>;
  contact: DataLoader<string, Contact | undefined>;
  ticket: DataLoader<string, Ticket | undefined>;
  /** A page of each thread; one loader per page asked for, so a list's threads load together. */
  threadPage(page: PageRequest): DataLoader<string, ThreadPage>;
  messageCount: DataLoader<string, number>;
  messageDelivery: DataLoader<string, Delivery | undefined>;
  deliveryEvents: DataLoader<string, DeliveryEvent[]>;
  tenant: DataLoader<string, Tenant | undefined>;
  /** What the customers of each ticket were sent, as they may know it. */
  ticketNotices: DataLoader<string, CustomerNotice[]>;
  /** What the customer of each completion request was sent, as they may know it. */
  completionNotices: DataLoader<string, CustomerNotice[]>;
  /** The stored files attached to each ticket, message or completion request, by its id. */
  subjectFiles: DataLoader<string, Attachment[]>;
  /** When a customer number's WhatsApp service window closes (null: never opened), by phone. */
  whatsappWindow: DataLoader<string, Date | null>;
}

export function createLoaders(services: Services, principal: Principal): Loaders {
  const options = { cache: false };
  const threadLoaders = new Map<string, DataLoader<string, ThreadPage>>();
  const noticeLoader = (subject: NoticeSubject) =>
    new DataLoader<string, CustomerNotice[]>(async (ids) => {
      const notices = await services.deliveries.customerNotices(principal, subject, ids);
      return ids.map((id) => notices.get(id) ?? []);
    }, options);
  return {
    user: new DataLoader(async (ids) => {
      const users = new Map((await services.directory.usersByIds(principal, ids)).map((user) => [user.id, user]));
      return ids.map((id) => users.get(id));
    }, options),
    contact: new DataLoader(async (ids) => {
      const contacts = new Map((await services.directory.contactsByIds(principal, ids)).map((contact) => [contact.id, contact]));
      return ids.map((id) => contacts.get(id));
    }, options),
    ticket: new DataLoader(async (ids) => {
      const tickets = new Map((await services.tickets.byIds(principal, ids)).map((ticket) => [ticket.id, ticket]));
      return ids.map((id) => tickets.get(id));
    }, options),
    threadPage(page) {
      const key = JSON.stringify([page.first, page.after ?? null, page.last ?? null, page.before ?? null]);
      let loader = threadLoaders.get(key);
      if (!loader) {
        loader = new DataLoader(async (ticketIds) => {
          const pages = await services.tickets.threadPages(principal, ticketIds, page);
          return ticketIds.map((id) => pages.get(id) ?? { edges: [], hasNextPage: false, hasPreviousPage: false });
        }, options);
        threadLoaders.set(key, loader);
      }
      return loader;
    },
    deliveryEvents: new DataLoader(async (deliveryIds) => {
      const byDelivery = new Map<string, DeliveryEvent[]>(deliveryIds.map((id) => [id, []]));
      for (const event of await services.deliveries.eventsOf(deliveryIds)) byDelivery.get(event.deliveryId)?.push(event);
      return deliveryIds.map((id) => byDelivery.get(id) ?? []);
    }, options),
    tenant: new DataLoader(async (ids) => {
      const tenants = new Map((await services.directory.tenantsByIds(principal, ids)).map((tenant) => [tenant.id, tenant]));
      return ids.map((id) => tenants.get(id));
    }, options),
    messageDelivery: new DataLoader(async (messageIds) => {
      const deliveries = await services.tickets.messageDeliveries(principal, messageIds);
      return messageIds.map((id) => deliveries.get(id));
    }, options),
    subjectFiles: new DataLoader(async (ids) => {
      const files = await services.files.filesOf(principal.tenantId, ids);
      return ids.map((id) => files.get(id) ?? []);
    }, options),
    ticketNotices: noticeLoader('ticket'),
    completionNotices: noticeLoader('completion_request'),
    whatsappWindow: new DataLoader(async (phones) => {
      const times = await services.tickets.whatsappWindows(principal.tenantId, phones);
      return phones.map((phone) => times.get(phone) ?? null);
    }, options),
    messageCount: new DataLoader(async (ticketIds) => {
      const counts = await services.tickets.messageCounts(principal, ticketIds);
      return ticketIds.map((id) => counts.get(id) ?? 0);
    }, options),
  };
}
