import type { EntityManager } from 'typeorm';
import { Channel } from '../../entities/channel';
import { Role, type User } from '../../entities/user.entity';
import type { Delivery } from '../../entities/delivery.entity';
import { addressOf, type DeliveryService } from '../delivery/delivery.service';
import type { UnitOfWork } from '../platform/unit-of-work';

/** The fields of a staff member that notices need. */
export type StaffContact = Pick<User, 'id' | 'name' | 'role' | 'managerId' | 'email' | 'phone'>;

/** Active staff of a tenant, by id (one query; the manager chain is walked in memory). */
export async function activeStaff(manager: EntityManager, tenantId: string): Promise<Map<string, StaffContact>> {
  const rows: StaffContact[] = await manager.query(
    `SELECT id, name, role, "managerId", email, phone FROM "user" WHERE "tenantId" = $1 AND active AND role <> 'customer'`,
    [tenantId],
  );
  return new Map(rows.map((row) => [row.id, row]));
}

/** The tenant's supervisors, or its admins when it has none. */
export function supervisorsOf(staff: Map<string, StaffContact>): StaffContact[] {
  const all = [...staff.values()];
  const supervisors = all.filter((user) => user.role === Role.SUPERVISOR);
  return supervisors.length ? supervisors : all.filter((user) => user.role === Role.ADMIN);
}

export interface StaffNotice {
  subject: string;
  text: string;
  notificationType: string;
  idempotencyKey: string;
  ticketId?: string | null;
  escalationId?: string | null;
}

/**
 * Queues one notice to a staff member on the first of `channels` they can be reached
 * on (WhatsApp needs a phone, e-mail an address). Returns undefined when none works.
 */
export async function notifyStaff(
  deliveries: DeliveryService,
  uow: UnitOfWork,
  tenantId: string,
  user: StaffContact,
  notice: StaffNotice,
  channels: readonly Channel[] = [Channel.WHATSAPP, Channel.EMAIL],
): Promise<Delivery | undefined> {
  const channel = channels.find((candidate) => addressOf(user, candidate));
  if (!channel) return undefined;
  return deliveries.enqueue(
    tenantId,
    {
      channel,
      userId: user.id,
      subject: notice.subject,
      text: notice.text,
      notificationType: notice.notificationType,
      idempotencyKey: `${notice.idempotencyKey}:${channel}`,
      ticketId: notice.ticketId ?? null,
      escalationId: notice.escalationId ?? null,
    },
    uow,
  );
}

/** "3 d 4 h", "5 h 10 min", "45 min". */
export function formatDuration(minutes: number): string {
  const whole = Math.max(0, Math.floor(minutes));
  const days = Math.floor(whole / 1440);
  const hours = Math.floor((whole % 1440) / 60);
  const mins = whole % 60;
  if (days) return hours ? `${days} d ${hours} h` : `${days} d`;
  if (hours) return mins ? `${hours} h ${mins} min` : `${hours} h`;
  return `${mins} min`;
}
