import { timingSafeEqual } from 'node:crypto';
import { DeliveryStatus } from '../entities/channel';

export interface GatewayStatusUpdate {
  providerMessageId: string;
  status: DeliveryStatus.SENT | DeliveryStatus.DELIVERED | DeliveryStatus.READ | DeliveryStatus.FAILED;
  raw: Record<string, unknown>;
}

const STATUS: Record<string, GatewayStatusUpdate['status']> = {
  sent: DeliveryStatus.SENT,
  delivered: DeliveryStatus.DELIVERED,
  received: DeliveryStatus.DELIVERED,
  read: DeliveryStatus.READ,
  failed: DeliveryStatus.FAILED,
  cancel: DeliveryStatus.FAILED,
  rejected: DeliveryStatus.FAILED,
};

/**
 * Fonnte and Wablas do not sign their callbacks: the callback URL carries a secret
 * token of ours (the provider's `webhookToken` credential), compared in constant time.
 */
export function verifyCallbackToken(expected: string | undefined, given: unknown): boolean {
  if (!expected || typeof given !== 'string') return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Fonnte's message-status webhook: `id` with `state` (sent, delivered, read) or `status`. */
export function parseFonnteStatus(body: Record<string, unknown>): GatewayStatusUpdate | undefined {
  const id = body.id ?? body.stateid;
  const state = String(body.state ?? body.status ?? '').toLowerCase();
  if (id === undefined || !STATUS[state]) return undefined;
  return { providerMessageId: String(id), status: STATUS[state], raw: body };
}

/** Wablas's tracking callback: `id` and `status` (sent, delivered, read, cancel, rejected). */
export function parseWablasStatus(body: Record<string, unknown>): GatewayStatusUpdate | undefined {
  const status = String(body.status ?? '').toLowerCase();
  if (typeof body.id !== 'string' || !STATUS[status]) return undefined;
  return { providerMessageId: body.id, status: STATUS[status], raw: body };
}
