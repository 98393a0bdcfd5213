import { type AddressGuard, AddressNotAllowedError } from '../../channels/address-guard';
import { type DataSource, type EntityManager, In, type SelectQueryBuilder } from 'typeorm';
import { Channel, DeliveryStatus } from '../../entities/channel';
import { Contact } from '../../entities/contact.entity';
import { DeliveryEvent, DeliveryEventType } from '../../entities/delivery-event.entity';
import { Delivery, type FallbackMessage, type MetaTemplateMessage } from '../../entities/delivery.entity';
import { MessageTemplate } from '../../entities/message-template.entity';
import { Tenant } from '../../entities/tenant.entity';
import type { Attachment } from '../../entities/ticket-message.entity';
import { Ticket } from '../../entities/ticket.entity';
import { User } from '../../entities/user.entity';
import type { Clock } from '../platform/clock';
import { DomainError, ErrorCode, badInput, notFound } from '../platform/errors';
import { DELIVERY_WAKE_CHANNEL, type DeliveryHistory } from './delivery-history';
import { validUntil, validityMinutes } from './validity';
import { type CustomerNotice, type NoticeSubject, customerNotice, noticeRows } from './customer-notices';
import { type Page, type PageRequest, newestFirstPage } from '../platform/pagination';
import type { Principal } from '../directory/principal';
import { renderTemplate, templateParameters, templateCandidates } from './template-rendering';
import type { Transactor, UnitOfWork } from '../platform/unit-of-work';

export { DELIVERY_WAKE_CHANNEL };

export interface EnqueueInput {
  channel: Channel;
  /** Raw address; otherwise the contact's or user's address for the channel. */
  to?: string | null;
  contactId?: string | null;
  userId?: string | null;
  templateName?: string | null;
  variables?: Record<string, unknown> | null;
  text?: string | null;
  subject?: string | null;
  notificationType?: string;
  idempotencyKey: string;
  ticketId?: string | null;
  /** The thread message this delivery carries, whose status the thread then shows. */
  ticketMessageId?: string | null;
  escalationId?: string | null;
  ruleExecutionId?: string | null;
  campaignId?: string | null;
  completionRequestId?: string | null;
  parentDeliveryId?: string | null;
  /** The staff member who sent it by hand. */
  sentById?: string | null;
  /** A stored file it carries (FileService.describe or a thread message's attachment). */
  attachment?: Attachment | null;
  /** How long it is worth sending, in minutes; otherwise its template's, its notification type's or the default. */
  validForMinutes?: number | null;
  /**
   * Channels to go on next, in order, if it dies on its own (failed or dead): the message is
   * rendered for each now (its template of that channel, the person's address there), and
   * one the person cannot be reached on, or has no template for, is left out.
   */
  fallbackChannels?: Channel[] | null;
}

export interface DeliveryFilter {
  tenantId?: string | null;
  statuses?: DeliveryStatus[] | null;
  channels?: Channel[] | null;
  providerId?: string | null;
  ticketId?: string | null;
  campaignId?: string | null;
  escalationId?: string | null;
  completionRequestId?: string | null;
  contactId?: string | null;
  recipient?: string | null;
  notificationType?: string | null;
  minAttempts?: number | null;
  from?: Date | null;
  to?: Date | null;
  /** Only these deliveries (those an escalation, alert or rule execution queued). */
  ids?: readonly string[] | null;
}

/** The history step of each provider report. */
const REPORT_STEP = {
  [DeliveryStatus.SENT]: DeliveryEventType.SENT,
  [DeliveryStatus.DELIVERED]: DeliveryEventType.DELIVERED,
  [DeliveryStatus.READ]: DeliveryEventType.READ,
  [DeliveryStatus.FAILED]: DeliveryEventType.FAILED,
} as const;

/** Status precedence: a provider status never moves a delivery backwards. */
const RANK: Record<DeliveryStatus, number> = {
  queued: 0,
  sending: 1,
  sent: 2,
  delivered: 3,
  read: 4,
  failed: 5,
  dead: 5,
  cancelled: 5,
  expired: 5,
};

const ADDRESS: Record<Channel, { pattern: RegExp; example: string }> = {
  whatsapp: {
    pattern: /^(\+[1-9]\d{6,14}|\d{10,30}(-\d+)?@g\.us)$/,
    example: 'a phone number in E.164 form (e.g. +6281234567890) or a group id',
  },
  sms: { pattern: /^\+[1-9]\d{6,14}$/, example: 'a phone number in E.164 form, e.g. +6281234567890' },
  email: { pattern: /^[^@\s]+@[^@\s]+\.[^@\s]+$/, example: 'an e-mail address' },
  webhook: { pattern: /^https?:\/\/\S+$/, example: 'an http(s) URL' },
};

/** A person's address on a channel (none for webhooks, which go to URLs). */
export function addressOf(person: { email: string | null; phone: string | null }, channel: Channel): string | null {
  if (channel === Channel.EMAIL) return person.email;
  return channel === Channel.WEBHOOK ? null : person.phone;
}

export function assertAddress(channel: Channel, address: string): void {
  if (!ADDRESS[channel].pattern.test(address)) throw badInput(`A ${channel} recipient must be ${ADDRESS[channel].example}`, 'to');
}

/**
 * Outbound messages as rows: every message is first a queued Delivery (idempotent
 * by key), its history an append-only DeliveryEvent log, its current status derived
 * by precedence. The dispatcher (DispatchService) does the sending.
 */
export class DeliveryService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly transactor: Transactor,
    private readonly history: DeliveryHistory,
    private readonly clock: Clock,
    private readonly guard: AddressGuard,
    private readonly settings: { maxAttempts: number; defaultValidityMinutes: number },
  ) {}

  /**
   * Queues one message, or returns the existing delivery for the same idempotency key.
   * Rendering, addressing and opt-out are settled here, before anything is queued: a
   * missing variable or a bad address is an error and queues nothing; an opted-out
   * contact gets a cancelled delivery that records why.
   */
  async enqueue(tenantId: string, input: EnqueueInput, uow?: UnitOfWork): Promise<Delivery> {
    // Resolved before a transaction of our own starts: a slow DNS answer should not hold a connection.
    await this.assertWebhookReachable(input);
    return uow ? this.enqueueIn(uow, tenantId, input) : this.transactor.run((own) => this.enqueueIn(own, tenantId, input));
  }

  private async enqueueIn(uow: UnitOfWork, tenantId: string, input: EnqueueInput): Promise<Delivery> {
    const { manager } = uow;
    const existing = await manager.findOneBy(Delivery, { tenantId, idempotencyKey: input.idempotencyKey });
    if (existing) return existing;

    // Every reference must resolve in this tenant: another tenant's id is as unknown as a made-up one.
    if (input.ticketId && !(await manager.existsBy(Ticket, { id: input.ticketId, tenantId }))) {
      throw notFound('Ticket', input.ticketId);
    }
    const { recipient, contact, user } = await this.resolveRecipient(manager, tenantId, input);
    const content = await this.render(manager, tenantId, input.channel, input, { contact, user });
    const now = this.clock.now();
    const optedOut = contact?.optedOutChannels.includes(input.channel) ?? false;
    const notificationType = input.notificationType ?? 'ad_hoc';
    const validity = validityMinutes({
      requested: input.validForMinutes,
      template: content.validForMinutes,
      notificationType,
      defaultMinutes: this.settings.defaultValidityMinutes,
    });
    const fallbacks = optedOut ? [] : await this.fallbacksFor(manager, tenantId, input, { contact, user });
    const values = {
      tenantId,
      channel: input.channel,
      recipient,
      originalRecipient: null,
      contactId: contact?.id ?? null,
      userId: user?.id ?? null,
      templateId: content.templateId,
      subject: content.subject,
      body: content.body,
      metaTemplate: content.metaTemplate,
      notificationType,
      ticketId: input.ticketId ?? null,
      ticketMessageId: input.ticketId ? (input.ticketMessageId ?? null) : null,
      escalationId: input.escalationId ?? null,
      ruleExecutionId: input.ruleExecutionId ?? null,
      campaignId: input.campaignId ?? null,
      completionRequestId: input.completionRequestId ?? null,
      parentDeliveryId: input.parentDeliveryId ?? null,
      sentById: input.sentById ?? null,
      attachment: input.attachment?.fileId ? input.attachment : null,
      status: optedOut ? DeliveryStatus.CANCELLED : DeliveryStatus.QUEUED,
      lastErrorCode: optedOut ? 'OPTED_OUT' : null,
      lastErrorMessage: optedOut ? `The contact opted out of ${input.channel}` : null,
      maxAttempts: this.settings.maxAttempts,
      nextAttemptAt: now,
      validUntil: validUntil(now, validity),
      fallbacks,
      idempotencyKey: input.idempotencyKey,
      createdAt: now,
      updatedAt: now,
    };
    // ON CONFLICT DO NOTHING: of two concurrent enqueues with one key, exactly one inserts.
    const inserted = await manager
      .createQueryBuilder()
      .insert()
      .into(Delivery)
      .values(values)
      .orIgnore()
      .returning('*')
      .execute();
    const row = inserted.raw[0] as Record<string, unknown> | undefined;
    if (!row) return manager.findOneByOrFail(Delivery, { tenantId, idempotencyKey: input.idempotencyKey });
    const delivery = manager.create(Delivery, row as Partial<Delivery>);
    await this.history.append(manager, delivery, {
      type: optedOut ? DeliveryEventType.CANCELLED : DeliveryEventType.QUEUED,
      message: optedOut ? `Not sent: the contact opted out of ${input.channel}` : null,
    });
    // NOTIFY is delivered on commit: the dispatcher wakes as soon as the row is visible.
    if (!optedOut) await manager.query(`SELECT pg_notify($1, '')`, [DELIVERY_WAKE_CHANNEL]);
    this.history.publishAfterCommit(uow, delivery);
    return delivery;
  }

  /** The message rendered for each fallback channel the person can be reached on and has a template for. */
  private async fallbacksFor(
    manager: EntityManager,
    tenantId: string,
    input: EnqueueInput,
    people: { contact: Contact | null; user: User | null },
  ): Promise<FallbackMessage[]> {
    const fallbacks: FallbackMessage[] = [];
    const person = people.contact ?? people.user;
    for (const channel of new Set(input.fallbackChannels ?? [])) {
      if (channel === input.channel || people.contact?.optedOutChannels.includes(channel)) continue;
      const given = input.to?.trim();
      const recipient = (person && addressOf(person, channel)) || (given && ADDRESS[channel].pattern.test(given) ? given : null);
      if (!recipient || !ADDRESS[channel].pattern.test(recipient)) continue;
      try {
        const content = await this.render(manager, tenantId, channel, input, people);
        fallbacks.push({
          channel,
          recipient,
          templateId: content.templateId,
          subject: content.subject,
          body: content.body,
          metaTemplate: content.metaTemplate,
        });
      } catch (error) {
        // No template on that channel, or one that misses a value: that channel is left out.
        if (!(error instanceof DomainError)) throw error;
      }
    }
    return fallbacks;
  }

  /** A webhook URL must not point at a loopback, private or link-local address (checked again at connect time). */
  private async assertWebhookReachable(input: EnqueueInput): Promise<void> {
    if (input.channel !== Channel.WEBHOOK || !input.to) return;
    assertAddress(input.channel, input.to.trim());
    try {
      await this.guard.assertUrlAllowed(input.to.trim());
    } catch (error) {
      if (error instanceof AddressNotAllowedError) throw badInput(error.message, 'to');
      throw error;
    }
  }

  /**
   * Figures over [from, to) for one tenant, or all tenants when tenantId is null; with
   * `staffId`, only that staff member's own: what they sent by hand and what went out
   * for their completion requests (a technician's figures).
   */
  stats(tenantId: string | null, from: Date, to: Date, staffId: string | null = null): Promise<DeliveryStats> {
    return deliveryStats(this.dataSource, tenantId, from, to, staffId);
  }

  async get(actor: Principal, id: string, crossTenant = false): Promise<Delivery> {
    const delivery = await this.dataSource
      .getRepository(Delivery)
      .findOneBy(crossTenant ? { id } : { id, tenantId: actor.tenantId });
    if (!delivery) throw notFound('Delivery', id);
    return delivery;
  }

  events(deliveryId: string): Promise<DeliveryEvent[]> {
    return this.eventsOf([deliveryId]);
  }

  /** Deliveries of the tenant by id, in the order asked (missing ones left out). */
  async byIds(tenantId: string, ids: readonly string[]): Promise<Delivery[]> {
    if (!ids.length) return [];
    const rows = await this.dataSource.getRepository(Delivery).findBy({ tenantId, id: In([...ids]) });
    return ids.flatMap((id) => rows.find((row) => row.id === id) ?? []);
  }

  /**
   * What the customers of each ticket or completion request were sent, as they may know it
   * (newest first, at most NOTICES_PER_SUBJECT each); a customer sees only their own.
   */
  async customerNotices(
    actor: Principal,
    subject: NoticeSubject,
    ids: readonly string[],
  ): Promise<Map<string, CustomerNotice[]>> {
    const contactId = actor.kind === 'customer' ? actor.contactId : null;
    const notices = new Map<string, CustomerNotice[]>(ids.map((id) => [id, []]));
    for (const row of await noticeRows(this.dataSource.manager, actor.tenantId, subject, ids, contactId)) {
      const notice = customerNotice(row);
      if (notice) notices.get(row.subjectId)?.push(notice);
    }
    return notices;
  }

  /** The histories of several deliveries (already visible to the caller), oldest event first. */
  eventsOf(deliveryIds: readonly string[]): Promise<DeliveryEvent[]> {
    return this.dataSource
      .getRepository(DeliveryEvent)
      .find({ where: { deliveryId: In([...deliveryIds]) }, order: { id: 'ASC' } });
  }

  list(actor: Principal, filter: DeliveryFilter, page: PageRequest, crossTenant = false): Promise<Page<Delivery>> {
    return newestFirstPage(this.filtered(actor, filter, crossTenant), 'd', page);
  }

  /** Operator resend: a new delivery with the same content, linked to the original. */
  async retry(actor: Principal, id: string): Promise<Delivery> {
    return this.transactor.run(async (uow) => {
      const original = await uow.manager.findOne(Delivery, {
        where: { id, tenantId: actor.tenantId },
        lock: { mode: 'pessimistic_write' },
      });
      if (!original) throw notFound('Delivery', id);
      return this.resend(uow, original);
    });
  }

  /** Resends every dead (or failed) delivery that matches; returns how many were queued again. */
  async retryDead(actor: Principal, filter: DeliveryFilter): Promise<number> {
    return this.transactor.run(async (uow) => {
      const query = this.filtered(actor, { ...filter, statuses: deadLetterStatuses(filter) }, false, uow.manager)
        .setLock('pessimistic_write')
        .limit(10_000);
      const dead = await query.getMany();
      for (const delivery of dead) await this.resend(uow, delivery);
      return dead.length;
    });
  }

  /** Cancels dead (or failed) deliveries that match, recording who discarded them. */
  async discardDead(actor: Principal, filter: DeliveryFilter): Promise<number> {
    return this.transactor.run(async (uow) => {
      const dead = await this.filtered(actor, { ...filter, statuses: deadLetterStatuses(filter) }, false, uow.manager)
        .setLock('pessimistic_write')
        .limit(10_000)
        .getMany();
      for (const delivery of dead) {
        await this.history.transition(
          uow,
          delivery,
          { status: DeliveryStatus.CANCELLED, lastErrorCode: 'DISCARDED' },
          { type: DeliveryEventType.CANCELLED, message: 'Discarded by an operator' },
        );
      }
      return dead.length;
    });
  }

  /**
   * A provider status webhook (sent, delivered, read, failed) for a provider message id.
   * Each report appears once in the history however often it is delivered; the status
   * only moves forward, so late and out-of-order reports are harmless.
   */
  async applyProviderStatus(
    match: { providerMessageId: string; providerId?: string },
    status: DeliveryStatus.DELIVERED | DeliveryStatus.READ | DeliveryStatus.FAILED | DeliveryStatus.SENT,
    details: {
      providerCode?: string | null;
      message?: string | null;
      payload?: Record<string, unknown> | null;
      at?: Date | null;
    },
  ): Promise<Delivery | undefined> {
    return this.transactor.run(async (uow) => {
      const delivery = await uow.manager.findOne(Delivery, { where: match, lock: { mode: 'pessimistic_write' } });
      if (!delivery) return undefined;
      const type = REPORT_STEP[status];
      if (await this.history.has(uow.manager, delivery.id, type)) return delivery;
      const at = details.at ?? this.clock.now();
      const changes: Partial<Delivery> = {};
      if (status === DeliveryStatus.DELIVERED || status === DeliveryStatus.READ) {
        if (!delivery.deliveredAt) changes.deliveredAt = at;
        if (status === DeliveryStatus.READ && !delivery.readAt) changes.readAt = at;
      }
      const advances =
        status === DeliveryStatus.FAILED
          ? delivery.status === DeliveryStatus.SENT || delivery.status === DeliveryStatus.SENDING
          : RANK[status] > RANK[delivery.status] && RANK[delivery.status] < RANK.failed;
      if (advances) changes.status = status;
      if (status === DeliveryStatus.FAILED && advances) {
        changes.lastErrorCode = details.providerCode ?? 'PROVIDER_FAILED';
        changes.lastErrorMessage = details.message ?? 'The provider reported the message as failed';
      }
      await this.history.transition(
        uow,
        delivery,
        changes,
        {
          type,
          providerId: delivery.providerId,
          providerCode: details.providerCode ?? null,
          message: details.message ?? null,
          payload: details.payload ?? null,
          occurredAt: at,
        },
        Object.keys(changes).length > 0,
      );
      // Failed after the provider took it (e.g. not on WhatsApp): the next channel, if it has one.
      if (changes.status === DeliveryStatus.FAILED) await this.history.fallBackFrom(uow, [delivery.id]);
      return delivery;
    });
  }

  private async resend(uow: UnitOfWork, original: Delivery): Promise<Delivery> {
    const { manager } = uow;
    if (
      ![DeliveryStatus.DEAD, DeliveryStatus.FAILED, DeliveryStatus.CANCELLED, DeliveryStatus.EXPIRED].includes(original.status)
    ) {
      throw new DomainError(
        ErrorCode.InvalidTransition,
        `Only dead, failed, cancelled or expired deliveries can be resent (this one is ${original.status.toUpperCase()})`,
        {
          status: original.status.toUpperCase(),
        },
      );
    }
    const [{ count }] = await manager.query(`SELECT count(*)::int AS count FROM delivery WHERE "parentDeliveryId" = $1`, [
      original.id,
    ]);
    const now = this.clock.now();
    const copy = manager.create(Delivery, {
      ...original,
      id: undefined,
      status: DeliveryStatus.QUEUED,
      recipient: original.originalRecipient ?? original.recipient,
      originalRecipient: null,
      providerId: null,
      providerMessageId: null,
      failedOver: false,
      attempts: 0,
      maxAttempts: this.settings.maxAttempts,
      nextAttemptAt: now,
      // Sent again now, on purpose: worth its type's time from now, on its own channel only.
      validUntil: validUntil(
        now,
        validityMinutes({ notificationType: original.notificationType, defaultMinutes: this.settings.defaultValidityMinutes }),
      ),
      fallbacks: [],
      leaseUntil: null,
      lastErrorCode: null,
      lastErrorMessage: null,
      parentDeliveryId: original.id,
      idempotencyKey: `resend:${original.id}:${count + 1}`,
      createdAt: now,
      updatedAt: now,
      sentAt: null,
      deliveredAt: null,
      readAt: null,
    });
    await manager.save(copy);
    await this.history.append(manager, original, {
      type: DeliveryEventType.RESENT,
      message: `Resent as delivery ${copy.id}`,
    });
    await this.history.append(manager, copy, {
      type: DeliveryEventType.QUEUED,
      message: `Resend of delivery ${original.id}`,
    });
    await manager.query(`SELECT pg_notify($1, '')`, [DELIVERY_WAKE_CHANNEL]);
    this.history.publishAfterCommit(uow, copy);
    return copy;
  }

  private filtered(
    actor: Principal,
    filter: DeliveryFilter,
    crossTenant: boolean,
    manager: EntityManager = this.dataSource.manager,
  ): SelectQueryBuilder<Delivery> {
    const query = manager.getRepository(Delivery).createQueryBuilder('d');
    query.where(crossTenant ? 'TRUE' : 'd."tenantId" = :tenantId', { tenantId: actor.tenantId });
    if (filter.statuses?.length) query.andWhere('d.status IN (:...statuses)', { statuses: filter.statuses });
    if (filter.channels?.length) query.andWhere('d.channel IN (:...channels)', { channels: filter.channels });
    for (const field of [
      'tenantId',
      'providerId',
      'ticketId',
      'campaignId',
      'escalationId',
      'completionRequestId',
      'contactId',
      'recipient',
      'notificationType',
    ] as const) {
      if (filter[field]) query.andWhere(`d."${field}" = :${field}`, { [field]: filter[field] });
    }
    if (filter.ids) query.andWhere('d.id = ANY(CAST(:ids AS uuid[]))', { ids: [...filter.ids] });
    if (filter.minAttempts) query.andWhere('d.attempts >= :minAttempts', { minAttempts: filter.minAttempts });
    if (filter.from) query.andWhere('d."createdAt" >= :from', { from: filter.from });
    if (filter.to) query.andWhere('d."createdAt" < :to', { to: filter.to });
    return query;
  }

  private async resolveRecipient(
    manager: EntityManager,
    tenantId: string,
    input: EnqueueInput,
  ): Promise<{ recipient: string; contact: Contact | null; user: User | null }> {
    const contact = input.contactId ? await manager.findOneBy(Contact, { id: input.contactId, tenantId }) : null;
    if (input.contactId && !contact) throw notFound('Contact', input.contactId);
    const user = input.userId ? await manager.findOneBy(User, { id: input.userId, tenantId }) : null;
    if (input.userId && !user) throw notFound('User', input.userId);
    const person = contact ?? user;
    const recipient = input.to?.trim() || (person && addressOf(person, input.channel)) || undefined;
    if (!recipient) {
      throw badInput(
        person ? `${person.name} has no address for ${input.channel}` : 'Say who receives the message: to, contactId or userId',
        'to',
      );
    }
    assertAddress(input.channel, recipient);
    return { recipient, contact, user };
  }

  /**
   * The template by name in the recipient's language: `name.<locale>` (e.g. payment_reminder.id),
   * then `name.<language>`, then `name`, then `name.en`; the locale is the contact's, or the tenant's.
   */
  private async templateFor(
    manager: EntityManager,
    tenantId: string,
    channel: Channel,
    name: string,
    contactLocale: string | null,
  ): Promise<MessageTemplate | null> {
    const locale = contactLocale ?? (await manager.findOneBy(Tenant, { id: tenantId }))?.locale ?? 'en';
    const candidates = templateCandidates(name, locale);
    const found = await manager.findBy(MessageTemplate, { tenantId, channel, name: In(candidates) });
    return candidates.map((candidate) => found.find((template) => template.name === candidate)).find(Boolean) ?? null;
  }

  private async render(
    manager: EntityManager,
    tenantId: string,
    channel: Channel,
    input: EnqueueInput,
    people: { contact: Contact | null; user: User | null },
  ): Promise<{
    templateId: string | null;
    subject: string | null;
    body: string;
    metaTemplate: MetaTemplateMessage | null;
    validForMinutes: number | null;
  }> {
    if (!input.templateName) {
      if (!input.text?.trim()) throw badInput('Give the message text or a template name', 'text');
      return { templateId: null, subject: input.subject ?? null, body: input.text, metaTemplate: null, validForMinutes: null };
    }
    const template = await this.templateFor(manager, tenantId, channel, input.templateName, people.contact?.locale ?? null);
    if (!template) throw notFound(`${channel} template`, input.templateName);
    const variables = { contact: people.contact ?? undefined, user: people.user ?? undefined, ...(input.variables ?? {}) };
    const body = renderTemplate(template.body, variables);
    const metaTemplate =
      template.metaTemplateName && channel === Channel.WHATSAPP
        ? {
            name: template.metaTemplateName,
            language: template.metaLanguage ?? 'en_US',
            parameters: templateParameters(template.body, variables),
          }
        : null;
    return {
      templateId: template.id,
      subject: template.subject ? renderTemplate(template.subject, variables) : (input.subject ?? null),
      body,
      metaTemplate,
      validForMinutes: template.validForMinutes,
    };
  }
}

function deadLetterStatuses(filter: DeliveryFilter): DeliveryStatus[] {
  const allowed = [DeliveryStatus.DEAD, DeliveryStatus.FAILED, DeliveryStatus.EXPIRED];
  const wanted = filter.statuses?.filter((status) => allowed.includes(status));
  return wanted?.length ? wanted : [DeliveryStatus.DEAD];
}

export interface DeliveryStats {
  total: number;
  byStatus: Array<{ key: string; count: number }>;
  byChannel: Array<{ key: string; count: number }>;
  byProvider: Array<{ key: string; count: number }>;
  byNotificationType: Array<{ key: string; count: number }>;
  successRate: number | null;
  failoverRate: number | null;
  failureRate: number | null;
  retried: number;
  retries: number;
  resent: number;
  failuresByReason: Array<{ key: string; count: number }>;
  byTenant: TenantDeliveryStats[];
}

export interface TenantDeliveryStats {
  tenantId: string;
  tenantSlug: string;
  tenantName: string;
  total: number;
  succeeded: number;
  failed: number;
  successRate: number | null;
  retried: number;
  retries: number;
  failuresByReason: Array<{ key: string; count: number }>;
}

const SUCCEEDED = `status IN ('sent', 'delivered', 'read')`;
const FAILED = `status IN ('failed', 'dead', 'expired')`;

/** A percentage with one decimal, or null when there is nothing to divide by. */
const rate = (part: number, whole: number) => (whole ? Math.round((part / whole) * 1000) / 10 : null);

/**
 * Totals and rates over deliveries created in [from, to) of one tenant, or of all tenants
 * when tenantId is null; rates are over finished deliveries. Also per business: totals,
 * success rate, failures by reason and retries.
 */
async function deliveryStats(
  dataSource: DataSource,
  tenantId: string | null,
  from: Date,
  to: Date,
  staffId: string | null,
): Promise<DeliveryStats> {
  const own = `d."sentById" = $4 OR d."completionRequestId" IN
                 (SELECT r.id FROM completion_request r WHERE r."tenantId" = d."tenantId" AND r."technicianId" = $4)`;
  const where = `d."createdAt" >= $1 AND d."createdAt" < $2 AND ($3::uuid IS NULL OR d."tenantId" = $3)
                 AND ($4::uuid IS NULL OR ${own})`;
  const params = [from, to, tenantId, staffId];
  const keyCounts = async (sql: string) =>
    ((await dataSource.query(sql, params)) as Array<{ key: string; count: number }>).map((row) => ({
      key: row.key,
      count: row.count,
    }));
  const grouped = (column: string) =>
    keyCounts(
      `SELECT coalesce(d.${column}::text, 'none') AS key, count(*)::int AS count FROM delivery d WHERE ${where} GROUP BY 1 ORDER BY 2 DESC, 1`,
    );
  const tenants = (await dataSource.query(
    `SELECT d."tenantId" AS "tenantId", t.slug AS "tenantSlug", t.name AS "tenantName",
            count(*)::int AS total,
            count(*) FILTER (WHERE ${SUCCEEDED})::int AS succeeded,
            count(*) FILTER (WHERE ${FAILED})::int AS failed,
            count(*) FILTER (WHERE "failedOver" AND ${SUCCEEDED})::int AS "failedOver",
            count(*) FILTER (WHERE attempts > 1)::int AS retried,
            coalesce(sum(greatest(attempts - 1, 0)), 0)::int AS retries,
            count(*) FILTER (WHERE "parentDeliveryId" IS NOT NULL)::int AS resent
       FROM delivery d JOIN tenant t ON t.id = d."tenantId"
      WHERE ${where}
      GROUP BY 1, 2, 3
      ORDER BY total DESC, 2`,
    params,
  )) as Array<Omit<TenantDeliveryStats, 'successRate' | 'failuresByReason'> & { failedOver: number; resent: number }>;
  const reasons = (await dataSource.query(
    `SELECT d."tenantId" AS "tenantId", coalesce(d."lastErrorCode", 'UNKNOWN') AS key, count(*)::int AS count
       FROM delivery d WHERE ${where} AND d.${FAILED}
      GROUP BY 1, 2 ORDER BY 3 DESC, 2`,
    params,
  )) as Array<{ tenantId: string; key: string; count: number }>;
  const sum = (pick: (row: (typeof tenants)[number]) => number) => tenants.reduce((total, row) => total + pick(row), 0);
  const failuresByReason = new Map<string, number>();
  for (const reason of reasons) failuresByReason.set(reason.key, (failuresByReason.get(reason.key) ?? 0) + reason.count);
  const succeeded = sum((row) => row.succeeded);
  const failed = sum((row) => row.failed);
  const byProvider = await keyCounts(
    `SELECT coalesce(p.name, 'none') AS key, count(*)::int AS count FROM delivery d LEFT JOIN channel_provider p ON p.id = d."providerId"
      WHERE ${where} GROUP BY 1 ORDER BY 2 DESC, 1`,
  );
  return {
    total: sum((row) => row.total),
    byStatus: await grouped('status'),
    byChannel: await grouped('channel'),
    byProvider,
    byNotificationType: await grouped('"notificationType"'),
    successRate: rate(succeeded, succeeded + failed),
    failoverRate: rate(
      sum((row) => row.failedOver),
      succeeded,
    ),
    failureRate: rate(failed, succeeded + failed),
    retried: sum((row) => row.retried),
    retries: sum((row) => row.retries),
    resent: sum((row) => row.resent),
    failuresByReason: [...failuresByReason].map(([key, count]) => ({ key, count })).sort((a, b) => b.count - a.count),
    byTenant: tenants.map((row) => ({
      tenantId: row.tenantId,
      tenantSlug: row.tenantSlug,
      tenantName: row.tenantName,
      total: row.total,
      succeeded: row.succeeded,
      failed: row.failed,
      successRate: rate(row.succeeded, row.succeeded + row.failed),
      retried: row.retried,
      retries: row.retries,
      failuresByReason: reasons.filter((reason) => reason.tenantId === row.tenantId).map(({ key, count }) => ({ key, count })),
    })),
  };
}
