import { type TicketCategory, type TicketPriority } from '../../entities/ticket.entity';
import { type DataSource, In, Not, type ObjectLiteral, type SelectQueryBuilder } from 'typeorm';
import { Contact } from '../../entities/contact.entity';
import { Tenant } from '../../entities/tenant.entity';
import { Availability, type Role, type StaffRole, User } from '../../entities/user.entity';
import type { Clock } from '../platform/clock';
import { DomainError, ErrorCode, badInput, conflict, notFound } from '../platform/errors';
import { type Page, type PageRequest, keysetPage } from '../platform/pagination';
import { isSupportedCountryCode } from '../platform/phone';
import type { Transactor } from '../platform/unit-of-work';
import { generatePassword, hashPassword, verifyPassword } from './password';
import {
  type ContactFields,
  type FieldProblem,
  type UserFields,
  applyContactFields,
  applyUserFields,
  isTimezone,
  normalizeLocale,
} from './person-fields';
import type { Principal, StaffPrincipal } from './principal';

export interface CreateUserInput extends UserFields {
  name: string;
  email: string;
  role: StaffRole;
  managerId?: string | null;
}

export interface UpdateUserInput extends UserFields {
  managerId?: string | null;
}

export type ContactInput = ContactFields;

export interface TenantSettingsInput {
  name?: string | null;
  timezone?: string | null;
  locale?: string | null;
  /** Empty string or null clears it. */
  defaultCountry?: string | null;
  /** Days after which a resolved ticket without a reply closes itself; 0 never. */
  ticketAutoCloseDays?: number | null;
  /** Whether opt-outs also withhold transactional and operational campaigns. */
  optOutCoversAll?: boolean | null;
  stopKeywords?: string[] | null;
  startKeywords?: string[] | null;
  /** What customers may choose when they open a ticket (at least one of each). */
  customerCategories?: TicketCategory[] | null;
  customerPriorities?: TicketPriority[] | null;
}

/** What customers may choose: at least one value, each once. */
function choices<T extends string>(values: T[], field: string): T[] {
  if (!values.length) throw badInput('Leave customers at least one choice', field);
  return [...new Set(values)];
}

/** The people of a tenant: staff users and customer contacts. */
export class DirectoryService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly transactor: Transactor,
    private readonly clock: Clock,
  ) {}

  async tenant(actor: Principal): Promise<Tenant> {
    return this.dataSource.getRepository(Tenant).findOneByOrFail({ id: actor.tenantId });
  }

  /** The tenant's name, time zone, language and phone country (admin). */
  async updateTenantSettings(actor: StaffPrincipal, input: TenantSettingsInput): Promise<Tenant> {
    const tenant = await this.tenant(actor);
    if (input.name != null) {
      if (!input.name.trim() || input.name.trim().length > 200) throw badInput('The name must be 1-200 characters', 'name');
      tenant.name = input.name.trim();
    }
    if (input.timezone != null) {
      if (!isTimezone(input.timezone))
        throw badInput(`"${input.timezone}" is not an IANA time zone such as Asia/Jakarta`, 'timezone');
      tenant.timezone = input.timezone;
    }
    if (input.locale != null) {
      const locale = normalizeLocale(input.locale);
      if (!locale) throw badInput(`"${input.locale}" is not a language tag such as id or en-GB`, 'locale');
      tenant.locale = locale;
    }
    if (input.defaultCountry !== undefined) {
      const country = input.defaultCountry?.trim().toUpperCase() || null;
      if (country && !isSupportedCountryCode(country)) {
        throw badInput(`"${input.defaultCountry}" is not an ISO 3166 country code such as ID`, 'defaultCountry');
      }
      tenant.defaultCountry = country;
    }
    if (input.ticketAutoCloseDays != null) {
      if (!Number.isInteger(input.ticketAutoCloseDays) || input.ticketAutoCloseDays < 0 || input.ticketAutoCloseDays > 365) {
        throw badInput('Auto-close is 0 (never) to 365 days', 'ticketAutoCloseDays');
      }
      tenant.ticketAutoCloseDays = input.ticketAutoCloseDays;
    }
    if (input.optOutCoversAll != null) tenant.optOutCoversAll = input.optOutCoversAll;
    for (const field of ['stopKeywords', 'startKeywords'] as const) {
      const words = input[field];
      if (words == null) continue;
      const cleaned = [...new Set(words.map((word) => word.trim().toUpperCase()))];
      if (cleaned.some((word) => !/^[\p{L}\p{N}]{2,30}$/u.test(word))) {
        throw badInput('Keywords are single words of 2-30 letters or digits', field);
      }
      tenant[field] = cleaned;
    }
    if (input.customerCategories != null) tenant.customerCategories = choices(input.customerCategories, 'customerCategories');
    if (input.customerPriorities != null) tenant.customerPriorities = choices(input.customerPriorities, 'customerPriorities');
    const overlap = tenant.stopKeywords.find((word) => tenant.startKeywords.includes(word));
    if (overlap) throw badInput(`${overlap} cannot both stop and start messages`, 'startKeywords');
    return this.dataSource.getRepository(Tenant).save(tenant);
  }

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
    const repository = this.dataSource.getRepository(User);
    const { managerId, ...fields } = input;
    const user = repository.create({
      tenantId: actor.tenantId,
      managerId: managerId ?? null,
      externalId: null,
      attributes: {},
      maxOpenTickets: 10,
      availability: Availability.AVAILABLE,
    });
    throwProblems(applyUserFields(user, fields, await this.fieldOptions(actor)));
    if (await repository.existsBy({ tenantId: actor.tenantId, email: user.email })) {
      throw conflict(`A user with e-mail ${user.email} already exists`);
    }
    if (user.externalId && (await repository.existsBy({ tenantId: actor.tenantId, externalId: user.externalId }))) {
      throw conflict(`A user with external id ${user.externalId} already exists`);
    }
    if (managerId) await this.user(actor, managerId);
    const password = generatePassword();
    user.passwordHash = await hashPassword(password);
    await this.transactor.run(async (uow) => {
      await uow.manager.save(user);
      await uow.record({
        tenantId: actor.tenantId,
        type: 'user.created',
        subjectType: 'user',
        subjectId: user.id,
        payload: { userId: user.id, externalId: user.externalId, name: user.name, role: user.role, source: 'api' },
        actorId: actor.userId,
      });
    });
    return { user, password };
  }

  /** Gives a staff user a new one-time password, e.g. someone imported from HR (admin). */
  async resetPassword(actor: StaffPrincipal, id: string): Promise<{ user: User; password: string }> {
    const user = await this.user(actor, id);
    const password = generatePassword();
    user.passwordHash = await hashPassword(password);
    await this.dataSource.getRepository(User).update({ id, tenantId: actor.tenantId }, { passwordHash: user.passwordHash });
    return { user, password };
  }

  /** Changes the caller's own password; the current one must be given. */
  async changePassword(actor: StaffPrincipal, current: string, next: string): Promise<User> {
    const user = await this.user(actor, actor.userId);
    if (!(await verifyPassword(user.passwordHash, current))) {
      throw new DomainError(ErrorCode.BadUserInput, 'The current password is wrong', { field: 'currentPassword' });
    }
    if (next.length < 12 || next.length > 200) throw badInput('The new password must be 12-200 characters', 'newPassword');
    user.passwordHash = await hashPassword(next);
    await this.dataSource.getRepository(User).update({ id: user.id }, { passwordHash: user.passwordHash });
    return user;
  }

  /** How people's fields are read in this tenant: its phone country, now, and the source. */
  private async fieldOptions(actor: Principal, nullClears = false) {
    const tenant = await this.tenant(actor);
    return { defaultCountry: tenant.defaultCountry, now: this.clock.now(), source: 'api', nullClears };
  }

  async updateUser(actor: StaffPrincipal, id: string, input: UpdateUserInput): Promise<User> {
    return this.dataSource.transaction(async (manager) => {
      const user = await manager.findOne(User, { where: { id, tenantId: actor.tenantId }, lock: { mode: 'pessimistic_write' } });
      if (!user) throw notFound('User', id);
      if (input.managerId !== undefined && input.managerId !== user.managerId) {
        if (input.managerId !== null) await this.assertValidManager(actor.tenantId, user.id, input.managerId);
        user.managerId = input.managerId;
      }
      if (user.id === actor.userId && input.active === false) throw badInput('You cannot deactivate yourself', 'active');
      const { managerId: _managerId, ...fields } = input;
      // A phone may be cleared with null; name, role and the rest keep their value when null.
      throwProblems(applyUserFields(user, { ...fields, phone: undefined }, await this.fieldOptions(actor)));
      if (input.phone !== undefined)
        throwProblems(applyUserFields(user, { phone: input.phone }, await this.fieldOptions(actor, true)));
      if (
        fields.externalId &&
        (await manager.existsBy(User, { tenantId: actor.tenantId, externalId: user.externalId!, id: Not(user.id) }))
      ) {
        throw conflict(`A user with external id ${user.externalId} already exists`);
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
    const contact = this.dataSource.getRepository(Contact).create({
      tenantId: actor.tenantId,
      phone: null,
      email: null,
      externalId: null,
      attributes: {},
      tags: [],
      consent: {},
    });
    throwProblems(applyContactFields(contact, input, await this.fieldOptions(actor)));
    await this.assertExternalIdFree(actor, contact);
    return this.transactor.run(async (uow) => {
      const saved = await uow.manager.save(contact);
      await uow.record({
        tenantId: actor.tenantId,
        type: 'contact.created',
        subjectType: 'contact',
        subjectId: saved.id,
        payload: { contactId: saved.id, externalId: saved.externalId, name: saved.name, source: 'api' },
        actorId: actor.userId,
      });
      return saved;
    });
  }

  /** Changes the given fields; null clears an optional one. */
  async updateContact(actor: StaffPrincipal, id: string, input: Partial<ContactInput>): Promise<Contact> {
    const contact = await this.contact(actor, id);
    throwProblems(applyContactFields(contact, input, await this.fieldOptions(actor, true)));
    await this.assertExternalIdFree(actor, contact);
    return this.dataSource.getRepository(Contact).save(contact);
  }

  private async assertExternalIdFree(actor: Principal, contact: Contact): Promise<void> {
    if (!contact.externalId) return;
    const taken = await this.dataSource
      .getRepository(Contact)
      .findOneBy({ tenantId: actor.tenantId, externalId: contact.externalId });
    if (taken && taken.id !== contact.id) throw conflict(`A contact with external id ${contact.externalId} already exists`);
  }
}

/** One field's problem as BAD_USER_INPUT naming it; all of them in `problems`. */
function throwProblems(problems: FieldProblem[]): void {
  if (!problems.length) return;
  throw new DomainError(ErrorCode.BadUserInput, problems.map(({ field, problem }) => `${field}: ${problem}`).join('; '), {
    field: problems[0].field,
    problems,
  });
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
