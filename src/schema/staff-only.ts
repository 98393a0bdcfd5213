import type { MiddlewareFn } from 'type-graphql';
import type { Principal } from '../services/directory/principal';

/**
 * Field middleware for staff-only fields of types customers also read (tickets and their
 * messages): a customer gets null, staff the value. Fields using it must be nullable.
 */
export const StaffOnly: MiddlewareFn<{ principal: Principal | null }> = async ({ context }, next) =>
  context.principal?.kind === 'staff' ? next() : null;

/** Appended to the description of every staff-only field, so the schema documents it. */
export const STAFF_ONLY_NOTE = ' Staff only: null for customers.';
