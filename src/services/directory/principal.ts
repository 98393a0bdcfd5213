import { Role, type StaffRole } from '../../entities/user.entity';
import { forbidden } from '../platform/errors';

/** Who is acting: a staff user, or a contact through a customer token. */
export type Principal = StaffPrincipal | CustomerPrincipal;

export interface StaffPrincipal {
  kind: 'staff';
  tenantId: string;
  userId: string;
  role: StaffRole;
  name: string;
  /** A platform super-admin (set only by the create-admin command) may read deliveries across tenants. */
  platformAdmin?: boolean;
}

export interface CustomerPrincipal {
  kind: 'customer';
  tenantId: string;
  contactId: string;
  role: Role.CUSTOMER;
  name: string;
}

export function requireStaff(actor: Principal): StaffPrincipal {
  if (actor.kind !== 'staff') throw forbidden('Only staff can do this');
  return actor;
}

export function requireCustomer(actor: Principal): CustomerPrincipal {
  if (actor.kind !== 'customer') throw forbidden('Only customers can do this');
  return actor;
}

/** Staff who work tickets; technicians read them but do not work the queue. */
export const TICKET_WORKERS: StaffRole[] = [Role.ADMIN, Role.MANAGER, Role.SUPERVISOR, Role.AGENT];
