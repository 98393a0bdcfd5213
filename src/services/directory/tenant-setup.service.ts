import type { DataSource } from 'typeorm';
import { Contact } from '../../entities/contact.entity';
import { Tenant } from '../../entities/tenant.entity';
import { TicketCategory, TicketPriority } from '../../entities/ticket.entity';
import { Role, type StaffRole, User } from '../../entities/user.entity';
import { badInput, conflict } from '../platform/errors';
import { generatePassword, hashPassword } from './password';
import type { StaffPrincipal } from './principal';
import { installNotificationPack } from '../rules/notification-pack';
import type { TicketService } from '../tickets/ticket.service';

export const DEMO_TENANT = 'demo';
export const DEMO_PASSWORD = 'demo-password';

export interface DemoAccounts {
  tenant: string;
  password: string;
  admin: string;
}

/** Creating tenants: the demo data of a first development start, and production admins. */
export class TenantSetupService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly tickets: TicketService,
  ) {}

  /**
   * Creates the tenant when it is new, and an admin in it with a one-time password.
   * Used by `npm run create-admin` in production. With `platformAdmin` the admin also
   * gets platform rights (cross-tenant reads); an existing user is then granted them
   * instead of refused. Nothing reachable over the API sets that flag.
   */
  async createAdmin(input: {
    tenantSlug: string;
    tenantName?: string;
    email: string;
    name?: string;
    platformAdmin?: boolean;
  }): Promise<{ user: User; password: string | null }> {
    const slug = input.tenantSlug.trim().toLowerCase();
    if (!/^[a-z0-9][a-z0-9-]{1,62}$/.test(slug)) {
      throw badInput('The tenant must be 2-63 lower-case letters, digits or dashes', 'tenant');
    }
    const email = input.email.trim().toLowerCase();
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) throw badInput('The e-mail address is not valid', 'email');
    const password = generatePassword();
    const passwordHash = await hashPassword(password);
    return this.dataSource.transaction(async (manager) => {
      const existed = await manager.existsBy(Tenant, { slug });
      await manager
        .createQueryBuilder()
        .insert()
        .into(Tenant)
        .values({ slug, name: input.tenantName ?? slug })
        .orIgnore()
        .execute();
      const tenant = await manager.findOneByOrFail(Tenant, { slug });
      // A new tenant starts with the built-in notifications, as rules it can change or switch off.
      if (!existed) await installNotificationPack(manager, tenant.id);
      const existing = await manager.findOneBy(User, { tenantId: tenant.id, email });
      if (existing && input.platformAdmin) {
        await manager.update(User, { id: existing.id }, { platformAdmin: true });
        return { user: Object.assign(existing, { platformAdmin: true }), password: null };
      }
      if (existing) throw conflict(`${email} already has an account in ${slug}`);
      const user = await manager.save(
        manager.create(User, {
          tenantId: tenant.id,
          email,
          name: input.name ?? email.split('@')[0],
          role: Role.ADMIN,
          passwordHash,
          platformAdmin: input.platformAdmin ?? false,
        }),
      );
      return { user, password };
    });
  }

  /** Seeds the demo tenant when the database has no tenant at all. Returns undefined otherwise. */
  async seedDemoIfEmpty(): Promise<DemoAccounts | undefined> {
    if ((await this.dataSource.getRepository(Tenant).count()) > 0) return undefined;
    const passwordHash = await hashPassword(DEMO_PASSWORD);
    const { tenant, people, customers } = await this.dataSource.transaction(async (manager) => {
      const tenant = await manager.save(manager.create(Tenant, { slug: DEMO_TENANT, name: 'Demo Company' }));
      await installNotificationPack(manager, tenant.id);
      const person = (name: string, email: string, role: StaffRole, phone: string, managerId: string | null = null) =>
        manager.save(manager.create(User, { tenantId: tenant.id, name, email, role, phone, managerId, passwordHash }));
      const admin = await person('Ada Admin', 'admin@demo.test', Role.ADMIN, '+15550000001');
      const manager1 = await person('Max Manager', 'manager@demo.test', Role.MANAGER, '+15550000002', admin.id);
      const agent1 = await person('Alice Agent', 'alice@demo.test', Role.AGENT, '+15550000003', manager1.id);
      const agent2 = await person('Bob Agent', 'bob@demo.test', Role.AGENT, '+15550000004', manager1.id);
      const technician = await person('Tara Technician', 'tara@demo.test', Role.TECHNICIAN, '+15550000005', manager1.id);
      const contact = (name: string, email: string, phone: string, tags: string[]) =>
        manager.save(
          manager.create(Contact, { tenantId: tenant.id, name, email, phone, tags, attributes: { plan: 'standard' } }),
        );
      const customers = [
        await contact('Carol Customer', 'carol@example.com', '+15551230001', ['vip']),
        await contact('Dan Customer', 'dan@example.com', '+15551230002', []),
      ];
      return { tenant, people: { admin, manager1, agent1, agent2, technician }, customers };
    });
    const actor: StaffPrincipal = {
      kind: 'staff',
      tenantId: tenant.id,
      userId: people.admin.id,
      role: Role.ADMIN,
      name: people.admin.name,
    };
    const demoTickets = [
      {
        subject: 'Cannot sign in to my account',
        category: TicketCategory.ACCOUNT,
        priority: TicketPriority.HIGH,
        requesterId: customers[0].id,
        assigneeId: people.agent1.id,
      },
      {
        subject: 'Double charge on my last invoice',
        category: TicketCategory.BILLING,
        priority: TicketPriority.URGENT,
        requesterId: customers[1].id,
        assigneeId: people.agent2.id,
      },
      {
        subject: 'Change my booking to next week',
        category: TicketCategory.BOOKING,
        priority: TicketPriority.MEDIUM,
        requesterId: customers[0].id,
      },
      {
        subject: 'Router installation left unfinished',
        category: TicketCategory.TECHNICAL,
        priority: TicketPriority.LOW,
        requesterId: customers[1].id,
      },
    ];
    for (const input of demoTickets) {
      await this.tickets.create(actor, { ...input, description: `${input.subject}. (demo ticket)` });
    }
    return { tenant: tenant.slug, password: DEMO_PASSWORD, admin: people.admin.email };
  }
}
