import { registerEnumType } from 'type-graphql';

/**
 * The ticket enums, apart from the entity so that entities the ticket depends on (the
 * tenant's customer choices) can name them without an import cycle.
 */

export enum TicketStatus {
  OPEN = 'open',
  ASSIGNED = 'assigned',
  IN_PROGRESS = 'in_progress',
  WAITING_ON_CUSTOMER = 'waiting_on_customer',
  RESOLVED = 'resolved',
  CLOSED = 'closed',
}

registerEnumType(TicketStatus, {
  name: 'TicketStatus',
  description: 'Where a ticket is in its workflow.',
  valuesConfig: {
    OPEN: { description: 'New and not yet assigned.' },
    ASSIGNED: { description: 'Has an assignee who has not started.' },
    IN_PROGRESS: { description: 'Being worked on.' },
    WAITING_ON_CUSTOMER: { description: 'Paused until the customer answers.' },
    RESOLVED: { description: 'Solved; the customer may rate it or it may be reopened.' },
    CLOSED: { description: 'Finished for good.' },
  },
});

/** Declared lowest to highest: the PostgreSQL enum sorts in this order. */
export enum TicketPriority {
  LOW = 'low',
  MEDIUM = 'medium',
  HIGH = 'high',
  URGENT = 'urgent',
}

registerEnumType(TicketPriority, {
  name: 'TicketPriority',
  description: 'How soon a ticket must be handled; sets its SLA targets.',
  valuesConfig: {
    LOW: { description: 'First response within 8 h, resolution within 48 h.' },
    MEDIUM: { description: 'First response within 4 h, resolution within 24 h.' },
    HIGH: { description: 'First response within 1 h, resolution within 8 h.' },
    URGENT: { description: 'First response within 15 min, resolution within 4 h.' },
  },
});

export enum ResolutionType {
  FIXED = 'fixed',
  WORKAROUND = 'workaround',
  NO_FAULT_FOUND = 'no_fault_found',
  DUPLICATE = 'duplicate',
  CUSTOMER_CANCELLED = 'customer_cancelled',
}

registerEnumType(ResolutionType, {
  name: 'ResolutionType',
  description: 'How a ticket was resolved.',
  valuesConfig: {
    FIXED: { description: 'The fault was fixed.' },
    WORKAROUND: { description: 'A workaround serves the customer for now.' },
    NO_FAULT_FOUND: { description: 'Nothing wrong was found.' },
    DUPLICATE: { description: 'Another ticket covers it.' },
    CUSTOMER_CANCELLED: { description: 'The customer withdrew it.' },
  },
});

export enum TicketCategory {
  ACCOUNT = 'account',
  BOOKING = 'booking',
  PAYMENT = 'payment',
  TECHNICAL = 'technical',
  BILLING = 'billing',
  COMPLAINT = 'complaint',
  OTHER = 'other',
}

registerEnumType(TicketCategory, {
  name: 'TicketCategory',
  description: 'What a ticket is about.',
  valuesConfig: {
    ACCOUNT: { description: 'Sign-in, profile and account questions.' },
    BOOKING: { description: 'Reservations and appointments.' },
    PAYMENT: { description: 'Payments that failed or are missing.' },
    TECHNICAL: { description: 'Something does not work.' },
    BILLING: { description: 'Invoices and charges.' },
    COMPLAINT: { description: 'Dissatisfaction with the service.' },
    OTHER: { description: 'Anything else.' },
  },
});
