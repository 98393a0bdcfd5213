import { type DataSource, In, type ObjectLiteral, type SelectQueryBuilder } from 'typeorm';
import { Contact } from '../../entities/contact.entity';
import { Tenant } from '../../entities/tenant.entity';
import { Availability, type Role, type StaffRole, User } from '../../entities/user.entity';
import { badInput, conflict, notFound } from '../platform/errors';
import { type Page, type PageRequest, keysetPage } from '../platform/pagination';
import { generatePassword, hashPassword } from './password';
import type { Principal, StaffPrincipal } from './principal';

export interface CreateUserInput {
  name: string;
  email: string;
  role: StaffRole;
  phone?: string | null;
  managerId?: string | null;
  maxOpenTickets?: number | null;
}

export interface UpdateUserInput {
  name?: string | null;
  role?: StaffRole | null;
  phone?: string | null;
  managerId?: string | null;
  maxOpenTickets?: number | null;
  active?: boolean | null;
}

export interface ContactInput {
  name: string;
  phone?: string | null;
  email?: string | null;
  attributes?: Record<string, unknown> | null;
  tags?: string[] | null;
}

/** The people of a tenant: staff users and customer contacts. */
export class DirectoryService {
  constructor(private readonly dataSource: DataSource) {}

  /** Staff users of the tenant by name, a page at a time. */
  users(actor: Principal, filter: UserFilter, page: PageRequest): Promise<Page<User>> {
    const query = this.dataSource
      .getRepository(User)
      .createQueryBuilder('u')
      .where('u."tenantId" = :tenantId', { tenantId: actor.tenantId });
    matchText(query, 'u', filter.search);
    if (filter.roles?.length) query.andWhere('u.role IN (:...roles)', { roles: filter.roles });
    if (filter.active != null) query.andWhere('u.active = :active', { active: filter.active });
    return keysetPage(query, 'u', BY_NAME, page);
  }

  async user(actor: Principal, id: string): Promise<User> {
    const user = await this.dataSource.getRepository(User).findOneBy({ id, tenantId: actor.tenantId });
    if (!user) throw notFound('User', id);
    return user;
  }

  /** Tenants by id: a platform super-admin may see any, everyone else only their own. */
  tenantsByIds(actor: Principal, ids: readonly string[]): Promise<Tenant[]> {
    const platform = actor.kind === 'staff' && actor.platformAdmin;
    const wanted = platform ? [...ids] : ids.filter((id) => id === actor.tenantId);
    return wanted.length ? this.dataSource.getRepository(Tenant).findBy({ id: In(wanted) }) : Promise.resolve([]);
  }

  usersByIds(actor: Principal, ids: readonly string[]): Promise<User[]> {
    return this.dataSource.getRepository(User).findBy({ tenantId: actor.tenantId, id: In([...ids]) });
  }

  /** Contacts by id; a customer only ever gets their own. */
  contactsByIds(actor: Principal, ids: readonly string[]): Promise<Contact[]> {
    const wanted = actor.kind === 'customer' ? ids.filter((id) => id === actor.contactId) : [...ids];
    return this.dataSource.getRepository(Contact).findBy({ tenantId: actor.tenantId, id: In(wanted) });
  }

  /** Creates a staff user with a one-time password, returned once and never stored in clear. */
  async createUser(actor: StaffPrincipal, input: CreateUserInput): Promise<{ user: User; password: string }> {
    const email = input.email.trim().toLowerCase();
    const repository = this.dataSource.getRepository(User);
    if (await repository.existsBy({ tenantId: actor.tenantId, email })) {
      throw conflict(`A user with e-mail ${email} already exists`);
    }
    if (input.managerId) await this.user(actor, input.managerId);
    const password = generatePassword();
    const user = repository.create({
      tenantId: actor.tenantId,
      name: input.name.trim(),
      email,
      role: input.role,
      phone: input.phone ?? null,
      managerId: input.managerId ?? null,
      maxOpenTickets: input.maxOpenTickets ?? 10,
      availability: Availability.AVAILABLE,
      passwordHash: await hashPassword(password),
    });
    await repository.save(user);
    return { user, password };
  }

  async updateUser(actor: StaffPrincipal, id: string, input: UpdateUserInput): Promise<User> {
    return this.dataSource.transaction(async (manager) => {
      const user = await manager.findOne(User, { where: { id, tenantId: actor.tenantId }, lock: { mode: 'pessimistic_write' } });
      if (!user) throw notFound('User', id);
      if (input.managerId !== undefined && input.managerId !== user.managerId) {
        if (input.managerId !== null) await this.assertValidManager(actor.tenantId, user.id, input.managerId);
        user.managerId = input.managerId;
      }
      if (input.name) user.name = input.name.trim();
      if (input.role) user.role = input.role;
      if (input.phone !== undefined) user.phone = input.phone;
      if (input.maxOpenTickets !== undefined && input.maxOpenTickets !== null) user.maxOpenTickets = input.maxOpenTickets;
      if (input.active !== undefined && input.active !== null) {
        if (user.id === actor.userId && !input.active) throw badInput('You cannot deactivate yourself', 'active');
        user.active = input.active;
      }
      return manager.save(user);
    });
  }

  async setAvailability(actor: StaffPrincipal, availability: Availability): Promise<User> {
    const user = await this.user(actor, actor.userId);
    user.availability = availability;
    return this.dataSource.getRepository(User).save(user);
  }

  /** The manager must exist in the tenant and must not report (directly or not) to the user. */
  private async assertValidManager(tenantId: string, userId: string, managerId: string): Promise<void> {
    if (managerId === userId) throw badInput('A user cannot be their own manager', 'managerId');
    const rows: Array<{ id: string }> = await this.dataSource.query(
      `WITH RECURSIVE chain AS (
         SELECT id, "managerId", 1 AS depth FROM "user" WHERE id = $1 AND "tenantId" = $2
         UNION ALL
         SELECT u.id, u."managerId", chain.depth + 1 FROM "user" u JOIN chain ON u.id = chain."managerId"
          WHERE chain.depth < 100
       )
       SELECT id FROM chain`,
      [managerId, tenantId],
    );
    if (rows.length === 0) throw notFound('User', managerId);
    if (rows.some((row) => row.id === userId)) {
      throw badInput('That manager reports to this user; the hierarchy cannot loop', 'managerId');
    }
  }

  /** Contacts of the tenant by name, a page at a time. */
  contacts(actor: Principal, search: string | null | undefined, page: PageRequest): Promise<Page<Contact>> {
    const query = this.dataSource
      .getRepository(Contact)
      .createQueryBuilder('c')
      .where('c."tenantId" = :tenantId', { tenantId: actor.tenantId });
    matchText(query, 'c', search);
    return keysetPage(query, 'c', BY_NAME, page);
  }

  async contact(actor: Principal, id: string): Promise<Contact> {
    if (actor.kind === 'customer' && actor.contactId !== id) throw notFound('Contact', id);
    const contact = await this.dataSource.getRepository(Contact).findOneBy({ id, tenantId: actor.tenantId });
    if (!contact) throw notFound('Contact', id);
    return contact;
  }

  async createContact(actor: StaffPrincipal, input: ContactInput): Promise<Contact> {
    const repository = this.dataSource.getRepository(Contact);
    return repository.save(
      repository.create({
        tenantId: actor.tenantId,
        name: input.name.trim(),
        phone: input.phone ?? null,
        email: input.email?.trim().toLowerCase() ?? null,
        attributes: input.attributes ?? {},
        tags: normalizeTags(input.tags ?? []),
      }),
    );
  }

  async updateContact(actor: StaffPrincipal, id: string, input: Partial<ContactInput>): Promise<Contact> {
    const contact = await this.contact(actor, id);
    if (input.name) contact.name = input.name.trim();
    if (input.phone !== undefined) contact.phone = input.phone ?? null;
    if (input.email !== undefined) contact.email = input.email?.trim().toLowerCase() ?? null;
    if (input.attributes) contact.attributes = input.attributes;
    if (input.tags) contact.tags = normalizeTags(input.tags);
    return this.dataSource.getRepository(Contact).save(contact);
  }
}

function normalizeTags(tags: string[]): string[] {
  return [...new Set(tags.map((tag) => tag.trim().toLowerCase()).filter(Boolean))];
}

export interface UserFilter {
  search?: string | null;
  roles?: Role[] | null;
  active?: boolean | null;
}

/** People are listed by name, then id. */
const BY_NAME = { column: 'name', cast: 'varchar', kind: 'text', direction: 'ASC' } as const;

/** Narrows to rows whose name, e-mail address or phone number contains the text (LIKE wildcards taken literally). */
function matchText<T extends ObjectLiteral>(
  query: SelectQueryBuilder<T>,
  alias: string,
  search: string | null | undefined,
): void {
  const text = search?.trim();
  if (!text) return;
  const pattern = `%${text.replace(/[\\%_]/g, (c) => '\\' + c)}%`;
  query.andWhere(`(${alias}.name ILIKE :pattern OR ${alias}.email ILIKE :pattern OR ${alias}.phone ILIKE :pattern)`, {
    pattern,
  });
}
