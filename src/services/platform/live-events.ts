import { createPubSub, type PubSub } from '@graphql-yoga/subscription';
import type { CompletionRequest } from '../../entities/completion-request.entity';
import type { Delivery } from '../../entities/delivery.entity';
import type { StaffNotification } from '../../entities/staff-notification.entity';
import type { TicketMessage } from '../../entities/ticket-message.entity';
import type { Ticket } from '../../entities/ticket.entity';

export enum TicketChangeKind {
  CREATED = 'created',
  UPDATED = 'updated',
  ASSIGNED = 'assigned',
  STATUS_CHANGED = 'status_changed',
  PRIORITY_CHANGED = 'priority_changed',
  RATED = 'rated',
}

export interface TicketChanged {
  kind: TicketChangeKind;
  ticket: Ticket;
  previousStatus: string | null;
  previousAssigneeId: string | null;
}

/**
 * Topics of the live (subscription) channel. Each is scoped by an id so a
 * subscriber only ever receives events of its own tenant or ticket.
 */
export type LiveTopics = {
  /** id: ticket id */
  ticketMessageAdded: [ticketId: string, message: TicketMessage];
  /** id: tenant id */
  ticketChanged: [tenantId: string, change: TicketChanged];
  /** id: tenant id */
  deliveryStatusChanged: [tenantId: string, delivery: Delivery];
  /** id: tenant id */
  completionRequestChanged: [tenantId: string, request: CompletionRequest];
  /** id: user id */
  staffNotificationAdded: [userId: string, notification: StaffNotification];
  /** id: campaign id; subscribers read the figures afresh */
  campaignProgress: [campaignId: string, change: { campaignId: string; tenantId: string }];
};

export type LiveEvents = PubSub<LiveTopics>;

export function createLiveEvents(): LiveEvents {
  return createPubSub<LiveTopics>();
}
