import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { FileService } from '../files/file.service';
import type { AdapterRegistry } from '../../channels';
import type { SendOutcome } from '../../channels/types';
import { Channel } from '../../entities/channel';
import { Contact } from '../../entities/contact.entity';
import type { Delivery } from '../../entities/delivery.entity';
import { MessageTemplate } from '../../entities/message-template.entity';
import { Tenant } from '../../entities/tenant.entity';
import { User } from '../../entities/user.entity';
import type { ChannelProviderService } from './channel-provider.service';
import { type DeliveryService, type EnqueueInput, addressOf, assertAddress } from './delivery.service';
import { badInput, conflict, forbidden, notFound } from '../platform/errors';
import { notificationRefusal } from './notification-roles';
import type { Principal, StaffPrincipal } from '../directory/principal';
import type { Transactor, UnitOfWork } from '../platform/unit-of-work';

/** An ad-hoc message: what enqueue takes, with the caller's own idempotency key optional. */
export type SendMessageInput = Pick<
  EnqueueInput,
  'channel' | 'to' | 'contactId' | 'userId' | 'templateName' | 'variables' | 'text' | 'subject' | 'ticketId' | 'validForMinutes'
> & {
  idempotencyKey?: string | null;
  /** A stored file of the tenant to send with it (createUpload, or one attached to a message). */
  fileId?: string | null;
  /** The kind it is counted under in deliveryStats, e.g. payment_reminder; ad_hoc when omitted. */
  notificationType?: string | null;
};

export interface TemplateInput {
  channel: Channel;
  name: string;
  subject?: string | null;
  body: string;
  metaTemplateName?: string | null;
  metaLanguage?: string | null;
  validForMinutes?: number | null;
}

export interface DeliverySettingsInput {
  testMode?: boolean | null;
  testRecipients?: Partial<Record<Channel, string | null>> | null;
  emergencyWhatsAppGroups?: string[] | null;
}

export interface DeliverySettings {
  testMode: boolean;
  testRecipients: Partial<Record<Channel, string>>;
  emergencyWhatsAppGroups: string[];
}

/** What operators and other features ask of the messaging layer; everything ends up as Delivery rows. */
export class MessagingService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly transactor: Transactor,
    private readonly deliveries: DeliveryService,
    private readonly providers: ChannelProviderService,
    private readonly adapters: AdapterRegistry,
    private readonly files: FileService,
  ) {}

  /**
   * An ad-hoc message from staff, of a notification type the sender's role may send
   * (notification-roles.ts). Without an idempotency key every call queues a new one.
   */
  async sendMessage(actor: StaffPrincipal, input: SendMessageInput): Promise<Delivery> {
    const { idempotencyKey, fileId, ...rest } = input;
    const notificationType = input.notificationType ?? 'ad_hoc';
    const refusal = notificationRefusal(actor.role, notificationType);
    if (refusal) throw forbidden(refusal);
    const enqueue: EnqueueInput = {
      ...rest,
      attachment: fileId ? await this.files.describe(actor, fileId) : null,
      notificationType,
      sentById: actor.userId,
      idempotencyKey: `send:${idempotencyKey ?? randomUUID()}`,
    };
    return this.deliveries.enqueue(actor.tenantId, enqueue);
  }

  /**
   * Sends one alert to every active staff member with an address on each channel,
   * and to the tenant's WhatsApp groups, in one transaction: all are queued or none.
   */
  async broadcastEmergencyAlert(
    actor: StaffPrincipal,
    message: string,
    channels: Channel[],
  ): Promise<{ alertId: string; queued: number; deliveryIds: string[] }> {
    const refusal = notificationRefusal(actor.role, 'emergency');
    if (refusal) throw forbidden(refusal);
    const alertId = randomUUID();
    const deliveries = await this.transactor.run(async (uow) => {
      const tenant = await uow.manager.findOneByOrFail(Tenant, { id: actor.tenantId });
      const staff = await uow.manager.find(User, { where: { tenantId: actor.tenantId, active: true }, order: { name: 'ASC' } });
      const queued: Delivery[] = [];
      const base = { text: `EMERGENCY: ${message}`, subject: 'Emergency alert', notificationType: 'emergency' };
      for (const channel of channels) {
        for (const user of staff) {
          const address = addressOf(user, channel);
          if (!address) continue;
          queued.push(
            await this.deliveries.enqueue(
              actor.tenantId,
              {
                ...base,
                channel,
                userId: user.id,
                to: address,
                idempotencyKey: `emergency:${alertId}:${channel}:user:${user.id}`,
              },
              uow,
            ),
          );
        }
        if (channel === Channel.WHATSAPP) {
          for (const group of tenant.emergencyWhatsAppGroups) {
            queued.push(
              await this.deliveries.enqueue(
                actor.tenantId,
                { ...base, channel, to: group, idempotencyKey: `emergency:${alertId}:group:${group}` },
                uow,
              ),
            );
          }
        }
      }
      return queued;
    });
    return { alertId, queued: deliveries.length, deliveryIds: deliveries.map((delivery) => delivery.id) };
  }

  /** Sends one message straight through one provider and reports what it answered (nothing is queued). */
  async testProvider(actor: Principal, providerId: string, to: string, text: string): Promise<SendOutcome> {
    const provider = await this.providers.get(actor, providerId);
    assertAddress(provider.channel, to);
    return this.adapters[provider.kind].send(this.providers.account(provider), {
      deliveryId: `test-${randomUUID()}`,
      to,
      subject: 'Test message',
      body: text,
      metaTemplate: null,
    });
  }

  templates(actor: Principal, channel?: Channel | null): Promise<MessageTemplate[]> {
    return this.dataSource
      .getRepository(MessageTemplate)
      .find({ where: { tenantId: actor.tenantId, ...(channel ? { channel } : {}) }, order: { channel: 'ASC', name: 'ASC' } });
  }

  async saveTemplate(actor: Principal, input: TemplateInput, id?: string): Promise<MessageTemplate> {
    const repository = this.dataSource.getRepository(MessageTemplate);
    const template = id
      ? await repository.findOneBy({ id, tenantId: actor.tenantId })
      : repository.create({ tenantId: actor.tenantId });
    if (!template) throw notFound('Template', id ?? '');
    const clash = await repository.findOneBy({ tenantId: actor.tenantId, channel: input.channel, name: input.name });
    if (clash && clash.id !== template.id) throw conflict(`A ${input.channel} template named "${input.name}" already exists`);
    if (input.metaTemplateName && input.channel !== Channel.WHATSAPP)
      throw badInput('Meta templates exist only for WhatsApp', 'metaTemplateName');
    Object.assign(template, {
      channel: input.channel,
      name: input.name,
      subject: input.subject ?? null,
      body: input.body,
      metaTemplateName: input.metaTemplateName ?? null,
      metaLanguage: input.metaTemplateName ? (input.metaLanguage ?? 'en_US') : null,
      validForMinutes: input.validForMinutes ?? null,
    });
    return repository.save(template);
  }

  /** The tenant's WhatsApp template, for submitting it to Meta. */
  whatsappTemplate(actor: Principal, id: string): Promise<MessageTemplate | null> {
    return this.dataSource.getRepository(MessageTemplate).findOneBy({ id, tenantId: actor.tenantId, channel: Channel.WHATSAPP });
  }

  /** The template now sends through Meta as this approved (or submitted) Meta template, in the caller's transaction. */
  async mapToMetaTemplate(uow: UnitOfWork, template: MessageTemplate, name: string, language: string): Promise<void> {
    await uow.manager.update(
      MessageTemplate,
      { id: template.id, tenantId: template.tenantId },
      { metaTemplateName: name, metaLanguage: language },
    );
  }

  async deleteTemplate(actor: Principal, id: string): Promise<boolean> {
    const result = await this.dataSource.getRepository(MessageTemplate).delete({ id, tenantId: actor.tenantId });
    if (!result.affected) throw notFound('Template', id);
    return true;
  }

  async settings(actor: Principal): Promise<DeliverySettings> {
    const tenant = await this.dataSource.getRepository(Tenant).findOneByOrFail({ id: actor.tenantId });
    return {
      testMode: tenant.testMode,
      testRecipients: tenant.testRecipients,
      emergencyWhatsAppGroups: tenant.emergencyWhatsAppGroups,
    };
  }

  async updateSettings(actor: Principal, input: DeliverySettingsInput): Promise<DeliverySettings> {
    const repository = this.dataSource.getRepository(Tenant);
    const tenant = await repository.findOneByOrFail({ id: actor.tenantId });
    if (input.testRecipients) {
      const recipients = { ...tenant.testRecipients };
      for (const [channel, address] of Object.entries(input.testRecipients) as Array<[Channel, string | null]>) {
        if (address) {
          assertAddress(channel, address);
          recipients[channel] = address;
        } else delete recipients[channel];
      }
      tenant.testRecipients = recipients;
    }
    if (input.emergencyWhatsAppGroups) {
      for (const group of input.emergencyWhatsAppGroups) assertAddress(Channel.WHATSAPP, group);
      tenant.emergencyWhatsAppGroups = input.emergencyWhatsAppGroups;
    }
    if (input.testMode != null) tenant.testMode = input.testMode;
    await repository.save(tenant);
    return this.settings(actor);
  }

  /** Records a contact's choice for a channel; an opted-out contact is never sent to there. */
  async setOptOut(actor: Principal, contactId: string, channel: Channel, optedOut: boolean): Promise<Contact> {
    const repository = this.dataSource.getRepository(Contact);
    const contact = await repository.findOneBy({ id: contactId, tenantId: actor.tenantId });
    if (!contact) throw notFound('Contact', contactId);
    const channels = new Set(contact.optedOutChannels);
    if (optedOut) channels.add(channel);
    else channels.delete(channel);
    contact.optedOutChannels = [...channels];
    return repository.save(contact);
  }
}
