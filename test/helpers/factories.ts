import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { Contact } from '../../src/entities/contact.entity';
import { Tenant } from '../../src/entities/tenant.entity';
import { Availability, Role, type StaffRole, User } from '../../src/entities/user.entity';
import { hashPassword } from '../../src/services/directory/password';

export const PASSWORD = 'correct horse battery staple';
let passwordHash: Promise<string> | undefined;

const unique = () => randomBytes(4).toString('hex');

/** A WhatsApp phone number id no other provider of the test database has claimed (one number, one tenant). */
export function uniquePhoneNumberId(): string {
  return String(randomBytes(6).readUIntBE(0, 6));
}

export async function makeTenant(dataSource: DataSource, overrides: Partial<Tenant> = {}): Promise<Tenant> {
  const slug = overrides.slug ?? `t-${unique()}`;
  return dataSource.getRepository(Tenant).save({ slug, name: `Tenant ${slug}`, ...overrides });
}

export async function makeUser(
  dataSource: DataSource,
  tenant: Tenant,
  overrides: Partial<Omit<User, 'role'>> & { role?: StaffRole } = {},
): Promise<User> {
  passwordHash ??= hashPassword(PASSWORD);
  const name = overrides.name ?? `User ${unique()}`;
  return dataSource.getRepository(User).save({
    tenantId: tenant.id,
    name,
    email: `${name.toLowerCase().replace(/\W+/g, '.')}.${unique()}@example.test`,
    role: Role.AGENT,
    availability: Availability.AVAILABLE,
    maxOpenTickets: 10,
    passwordHash: await passwordHash,
    ...overrides,
  });
}

export async function makeContact(dataSource: DataSource, tenant: Tenant, overrides: Partial<Contact> = {}): Promise<Contact> {
  return dataSource.getRepository(Contact).save({
    tenantId: tenant.id,
    name: `Contact ${unique()}`,
    phone: '+15551234567',
    email: `c.${unique()}@example.test`,
    attributes: {},
    tags: [],
    ...overrides,
  });
}
