import type { DataSource } from 'typeorm';
import type { GatewayStatusUpdate } from '../../channels/gateway-webhooks';
import type { MetaInboundMessage, MetaStatusUpdate } from '../../channels/meta-webhook';
import { Channel, ProviderKind } from '../../entities/channel';
import { ChannelProvider } from '../../entities/channel-provider.entity';
import { Contact } from '../../entities/contact.entity';
import { type ChannelProviderService, inboundIdentityOf } from './channel-provider.service';
import type { DeliveryService } from './delivery.service';
import { isUuid } from '../platform/ids';
import type { CompletionService } from '../completions/completion.service';
import type { TicketService } from '../tickets/ticket.service';
import type { ConsentService } from '../campaigns/consent.service';

/** What providers tell us: status updates of our messages, and messages customers send. */
export class InboundService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly deliveries: DeliveryService,
    private readonly providers: ChannelProviderService,
    private readonly tickets: TicketService,
    private readonly completions: CompletionService,
    private readonly consent: ConsentService,
  ) {}

  async metaStatus(update: MetaStatusUpdate): Promise<void> {
    await this.deliveries.applyProviderStatus({ providerMessageId: update.wamid }, update.status, {
      providerCode: update.errorCode,
      message: update.errorMessage,
      payload: update.raw,
      at: update.at,
    });
  }

  /**
   * A customer's WhatsApp message: matched to the tenant by the receiving phone
   * number id, to a contact by phone (created when new), then added to their
   * conversation so agents see it live.
   */
  async metaMessage(message: MetaInboundMessage): Promise<boolean> {
    const provider = await this.providers.findByInboundIdentity(
      inboundIdentityOf(ProviderKind.META_WHATSAPP, { phoneNumberId: message.phoneNumberId }) ?? '',
    );
    if (!provider) return false;
    const contacts = this.dataSource.getRepository(Contact);
    const contact =
      (await contacts.findOne({ where: { tenantId: provider.tenantId, phone: message.from }, order: { createdAt: 'ASC' } })) ??
      (await contacts.save(
        contacts.create({
          tenantId: provider.tenantId,
          name: message.senderName ?? message.from,
          phone: message.from,
          attributes: { source: 'whatsapp' },
          tags: [],
        }),
      ));
    await this.consent.noteReply(contact);
    // STOP / START change the contact's consent; YA / TIDAK answer a waiting completion request;
    // anything else joins the conversation.
    if (await this.consent.handleKeyword(contact, message.text, Channel.WHATSAPP, message.messageId)) return true;
    if (!(await this.completions.handleReply(contact, message.text, message.messageId))) {
      await this.tickets.receiveInbound(contact, message.text, message.messageId);
    }
    return true;
  }

  /** Fonnte or Wablas status callback, authenticated by the provider's callback token. */
  async gatewayStatus(
    providerId: string,
    token: unknown,
    update: GatewayStatusUpdate | undefined,
  ): Promise<'ok' | 'unauthorized' | 'ignored' | 'not_found'> {
    const provider = isUuid(providerId)
      ? await this.dataSource.getRepository(ChannelProvider).findOneBy({ id: providerId })
      : null;
    if (!provider || (provider.kind !== ProviderKind.FONNTE && provider.kind !== ProviderKind.WABLAS)) return 'not_found';
    if (!this.providers.acceptsCallbackToken(provider, token)) return 'unauthorized';
    if (!update) return 'ignored';
    await this.deliveries.applyProviderStatus(
      { providerMessageId: update.providerMessageId, providerId: provider.id },
      update.status,
      { payload: update.raw },
    );
    return 'ok';
  }
}
