import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { ProviderKind } from '../../src/entities/channel';
import type { ChannelProvider } from '../../src/entities/channel-provider.entity';
import { Contact } from '../../src/entities/contact.entity';
import { Tenant } from '../../src/entities/tenant.entity';
import { Availability, Role, type StaffRole, User } from '../../src/entities/user.entity';
import type { Services } from '../../src/services';
import type { ProviderInput } from '../../src/services/delivery/channel-provider.service';
import { hashPassword } from '../../src/services/directory/password';
import type { StaffPrincipal } from '../../src/services/directory/principal';

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

/**
 * A Meta WhatsApp account of the tenant, sending to a provider fake at `baseUrl` with the
 * fake's token, under a phone number id of its own (added as the tenant's admin would).
 * Its service window is not held by the product (`serviceWindow: false`, the setting for a
 * number whose inbound messages reach another system): these tests are about sending, and
 * the fake takes free text unless a test turns its window on. Window tests pass
 * `settings` without it, as an admin's new provider has.
 */
export function addMetaProvider(
  services: Services,
  tenant: Tenant,
  baseUrl: string,
  input: Partial<ProviderInput> = {},
): Promise<ChannelProvider> {
  const admin: StaffPrincipal = { kind: 'staff', tenantId: tenant.id, userId: tenant.id, role: Role.ADMIN, name: 'Admin' };
  return services.providers.create(admin, {
    kind: ProviderKind.META_WHATSAPP,
    name: 'Meta',
    baseUrl,
    settings: { phoneNumberId: uniquePhoneNumberId(), serviceWindow: false },
    credentials: { accessToken: 'meta-token' },
    ...input,
  });
}

/** A finished service job of a customer, owned by the technician with this external id (as a business's system reports it); its id. */
export async function makeServiceJob(
  services: Services,
  tenant: Tenant,
  contactId: string,
  technicianExternalId: string,
  externalId = `JOB-${randomBytes(4).toString('hex')}`,
): Promise<string> {
  const report = await services.records.upsert(
    tenant.id,
    [
      {
        kind: 'service_job',
        externalId,
        status: 'done',
        title: 'AC service',
        subject: { type: 'contact', id: contactId },
        owner: { externalId: technicianExternalId },
      },
    ],
    null,
  );
  return report.records[0].id as string;
}
