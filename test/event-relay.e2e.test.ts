import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../ormconfig';
import { Channel } from '../src/entities/channel';
import { Delivery } from '../src/entities/delivery.entity';
import type { DomainEvent } from '../src/entities/domain-event.entity';
import { EventHandling } from '../src/entities/event-handling.entity';
import { type Tenant } from '../src/entities/tenant.entity';
import { Role } from '../src/entities/user.entity';
import { EventConsumerRegistry, type EventConsumer } from '../src/services/events/event-consumers';
import { EventRelayService } from '../src/services/events/event-relay.service';
import type { StaffPrincipal } from '../src/services/directory/principal';
import { Transactor, type UnitOfWork } from '../src/services/platform/unit-of-work';
import { PASSWORD, makeContact, makeTenant, makeUser } from './helpers/factories';
import { type TestApp, errorCode, gql, gqlOk, startTestApp } from './helpers/test-app';
import { until } from './helpers/wait';

/**
 * The outbox relay with consumers of the kind features register: each sends a WhatsApp
 * message about a ticket event, through the delivery pipeline, inside the transaction the
 * relay gives it. Handling an event twice would queue a second message.
 */
describe('outbox relay', () => {
  let t: TestApp;
  /** Per consumer: the events it was given, in the order it got them (a failed try included). */
  const seen = new Map<string, Array<{ tenantId: string; id: string; type: string }>>();
  /** Events that make a consumer throw, and how many more times. */
  const poison = new Map<string, number>();

  function notifier(name: string, types: string[]): EventConsumer {
    return {
      name,
      description: `Tells the requester about ${types.join(', ')}`,
      types,
      async handle(event: DomainEvent, uow: UnitOfWork) {
        if (!seen.has(name)) seen.set(name, []);
        seen.get(name)!.push({ tenantId: event.tenantId, id: event.id, type: event.type });
        const left = poison.get(`${name}:${event.id}`);
        if (left) {
          poison.set(`${name}:${event.id}`, left - 1);
          throw new Error(`consumer ${name} cannot handle event ${event.id}`);
        }
        await t.app.services.deliveries.enqueue(
          event.tenantId,
          {
            channel: Channel.WHATSAPP,
            contactId: String(event.payload.requesterId ?? ''),
            text: `${name}: ${event.type}`,
            // Deliberately not idempotent: handling an event twice would show as a second message.
            idempotencyKey: `${name}:${event.id}:${Math.random()}`,
            notificationType: name,
          },
          uow,
        );
      },
    };
  }

  beforeAll(async () => {
    t = await startTestApp(undefined, { EVENT_CONSUMER_MAX_ATTEMPTS: '3', EVENT_CONSUMER_BACKOFF_MS: '1000' });
    t.app.services.eventConsumers.register(notifier('welcome', ['ticket.created']));
    t.app.services.eventConsumers.register(notifier('audit', ['ticket.*']));
  });
  afterAll(() => t.stop());
  beforeEach(() => {
    seen.clear();
    poison.clear();
  });

  async function tenantWithTickets(count: number) {
    const tenant = await makeTenant(t.app.dataSource);
    const admin = await makeUser(t.app.dataSource, tenant, { role: Role.ADMIN });
    const contact = await makeContact(t.app.dataSource, tenant, { phone: '+6281234560000' });
    const actor: StaffPrincipal = { kind: 'staff', tenantId: tenant.id, userId: admin.id, role: Role.ADMIN, name: admin.name };
    const tickets = [];
    for (let i = 0; i < count; i++) {
      tickets.push(
        await t.app.services.tickets.create(actor, {
          subject: `Ticket ${i}`,
          category: 'other' as never,
          priority: 'medium' as never,
          requesterId: contact.id,
        }),
      );
    }
    return { tenant, admin, tickets, token: (await t.app.services.auth.login(admin.email, PASSWORD)).token };
  }

  const drain = async () => {
    for (let pass = await t.app.services.events.runOnce(); pass.handedOn || pass.handled;) {
      pass = await t.app.services.events.runOnce();
    }
  };
  const messages = (tenant: Tenant, consumer: string) =>
    t.app.dataSource.getRepository(Delivery).countBy({ tenantId: tenant.id, notificationType: consumer });

  it('hands each event to the consumers that want its type, once, with their effects', async () => {
    const { tenant, tickets } = await tenantWithTickets(3);
    await drain();
    await drain();
    expect(await messages(tenant, 'welcome')).toBe(3);
    expect(await messages(tenant, 'audit')).toBe(3);
    const handled = await t.app.dataSource.getRepository(EventHandling).findBy({ tenantId: tenant.id, status: 'done' as never });
    // The rules engine, registered in every process, handled them too.
    expect(handled.filter((row) => row.consumer !== 'rules')).toHaveLength(6);
    expect(handled.filter((row) => row.consumer === 'rules')).toHaveLength(3);
    expect(seen.get('welcome')!.filter((e) => e.tenantId === tenant.id)).toHaveLength(tickets.length);
  });

  it('retries a failing event with backoff, holding back only its own consumer and tenant, then parks it', async () => {
    const stuck = await tenantWithTickets(2);
    const other = await tenantWithTickets(2);
    const [first] = (await t.app.dataSource.query(`SELECT id FROM domain_event WHERE "tenantId" = $1 ORDER BY id LIMIT 1`, [
      stuck.tenant.id,
    ])) as Array<{ id: string }>;
    poison.set(`welcome:${first.id}`, 100);
    await drain();
    // The poison event blocks the rest of its lane (order), nothing else.
    expect(await messages(stuck.tenant, 'welcome')).toBe(0);
    expect(await messages(stuck.tenant, 'audit')).toBe(2);
    expect(await messages(other.tenant, 'welcome')).toBe(2);
    // Backoff: 1 s, then 2 s; the third failure parks it and the lane moves on.
    t.clock.advance(1_001);
    await drain();
    expect(await messages(stuck.tenant, 'welcome')).toBe(0);
    t.clock.advance(2_001);
    await drain();
    expect(await messages(stuck.tenant, 'welcome')).toBe(1);
    expect(seen.get('welcome')!.filter((e) => e.id === first.id)).toHaveLength(3);

    const status = async () =>
      (await gqlOk(t.url, '{ eventConsumers { consumer lag parked lastError } }', {}, stuck.token)).eventConsumers;
    expect(await status()).toEqual([
      { consumer: 'rules', lag: 0, parked: 0, lastError: null },
      { consumer: 'escalations', lag: 0, parked: 0, lastError: null },
      { consumer: 'welcome', lag: 0, parked: 1, lastError: `consumer welcome cannot handle event ${first.id}` },
      { consumer: 'audit', lag: 0, parked: 0, lastError: null },
    ]);
    // The operator fixes the cause and retries: handled now, once.
    poison.delete(`welcome:${first.id}`);
    const retried = await gqlOk(t.url, 'mutation { retryParkedEvents(consumer: "welcome") }', {}, stuck.token);
    expect(retried.retryParkedEvents).toBe(1);
    await drain();
    expect(await messages(stuck.tenant, 'welcome')).toBe(2);
    expect((await status())[0]).toMatchObject({ parked: 0, lag: 0 });
    expect(errorCode(await gql(t.url, 'mutation { retryParkedEvents(consumer: "nope") }', {}, stuck.token))).toBe(
      'BAD_USER_INPUT',
    );
  });

  it('shares the work between workers: every event once per consumer, each tenant in commit order', async () => {
    const tenants = await Promise.all([tenantWithTickets(15), tenantWithTickets(15), tenantWithTickets(15)]);
    // A second worker: its own connections and relay, the same database and consumers.
    const second = new DataSource(dataSourceOptions(t.databaseUrl, 4));
    await second.initialize();
    try {
      const otherRelay = new EventRelayService(second, new Transactor(second, t.clock), t.app.services.eventConsumers, t.clock, {
        batchSize: 7,
        maxAttempts: 3,
        backoffBaseMs: 1000,
        retentionMs: 0,
      });
      const work = async (relay: EventRelayService) => {
        for (let idle = 0; idle < 3;) {
          const pass = await relay.runOnce();
          idle = pass.handedOn || pass.handled ? 0 : idle + 1;
        }
      };
      await Promise.all([work(t.app.services.events), work(otherRelay), work(t.app.services.events), work(otherRelay)]);
    } finally {
      await second.destroy();
    }
    for (const { tenant } of tenants) {
      const given = seen.get('audit')!.filter((event) => event.tenantId === tenant.id);
      const ids = given.map((event) => BigInt(event.id));
      expect(ids).toHaveLength(15);
      expect(new Set(ids.map(String)).size).toBe(15);
      expect([...ids].sort((a, b) => (a < b ? -1 : 1))).toEqual(ids);
      expect(await messages(tenant, 'audit')).toBe(15);
    }
  });

  it('prunes handled events after the retention period, keeping parked ones', async () => {
    const { tenant } = await tenantWithTickets(2);
    const [first] = (await t.app.dataSource.query(`SELECT id FROM domain_event WHERE "tenantId" = $1 ORDER BY id LIMIT 1`, [
      tenant.id,
    ])) as Array<{ id: string }>;
    poison.set(`welcome:${first.id}`, 100);
    for (let i = 0; i < 4; i++) {
      await drain();
      t.clock.advance(5_000);
    }
    t.clock.advance(8 * 24 * 3_600_000);
    while ((await t.app.services.events.prune(1)) > 0);
    const left = (await t.app.dataSource.query(`SELECT id FROM domain_event WHERE "tenantId" = $1`, [tenant.id])) as Array<{
      id: string;
    }>;
    expect(left.map((row) => row.id)).toEqual([first.id]);
  });

  it('is woken by the commit in a running worker, without waiting for a sweep', async () => {
    const worker = await startTestApp(undefined, { ROLE: 'all', EVENT_RELAY_SWEEP_MS: '600000' });
    try {
      const calls: string[] = [];
      worker.app.services.eventConsumers.register({
        name: 'live',
        description: 'Records ticket events',
        types: ['ticket.created'],
        handle: async (event) => void calls.push(event.id),
      });
      const tenant = await makeTenant(worker.app.dataSource);
      const admin = await makeUser(worker.app.dataSource, tenant, { role: Role.ADMIN });
      const contact = await makeContact(worker.app.dataSource, tenant);
      const started = Date.now();
      await worker.app.services.tickets.create(
        { kind: 'staff', tenantId: tenant.id, userId: admin.id, role: Role.ADMIN, name: admin.name },
        { subject: 'Live', category: 'other' as never, priority: 'low' as never, requesterId: contact.id },
      );
      await until('the consumer to be called', async () => calls.length === 1, 3000);
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      await worker.stop();
    }
  });

  it('refuses the consumer API to non-admins', async () => {
    const { tenant } = await tenantWithTickets(0);
    const agent = await makeUser(t.app.dataSource, tenant, { role: Role.AGENT });
    const token = (await t.app.services.auth.login(agent.email, PASSWORD)).token;
    expect(errorCode(await gql(t.url, '{ eventConsumers { consumer } }', {}, token))).toBe('FORBIDDEN');
    expect(errorCode(await gql(t.url, 'mutation { retryParkedEvents(consumer: "welcome") }', {}, token))).toBe('FORBIDDEN');
  });
});

describe(EventConsumerRegistry.name, () => {
  it('refuses two consumers of one name, since progress is recorded under it', () => {
    const registry = new EventConsumerRegistry();
    const consumer = { name: 'rules', description: 'x', types: ['*'], handle: async () => undefined };
    registry.register(consumer);
    expect(() => registry.register(consumer)).toThrow(/already registered/);
  });
});
