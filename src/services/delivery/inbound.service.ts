import type { DataSource } from 'typeorm';
import type { GatewayStatusUpdate } from '../../channels/gateway-webhooks';
import { parseTwilioCallback, verifyTwilioSignature } from '../../channels/twilio-webhook';
import type { MetaInboundMessage, MetaStatusUpdate } from '../../channels/meta-webhook';
import { Channel, ProviderKind } from '../../entities/channel';
import { ChannelProvider } from '../../entities/channel-provider.entity';
import { Contact } from '../../entities/contact.entity';
import { type ChannelProviderService, inboundIdentityOf } from './channel-provider.service';
import type { DeliveryService } from './delivery.service';
import type { ServiceWindowService } from './service-window';
import { isUuid } from '../platform/ids';
import { toE164 } from '../platform/phone';
import type { CompletionService } from '../completions/completion.service';
import type { TicketService } from '../tickets/ticket.service';
import type { ConsentService } from '../campaigns/consent.service';
import { type MetaMediaApi } from '../../channels/meta-media';
import { MetaApiError } from '../../channels/meta-templates';
import type { ReceivedFile } from '../files/file.service';
import { keepRefusal, typeRefusal } from '../files/file-types';

/** What providers tell us: status updates of our messages, and messages customers send. */
export class InboundService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly deliveries: DeliveryService,
    private readonly providers: ChannelProviderService,
    private readonly windows: ServiceWindowService,
    private readonly tickets: TicketService,
    private readonly completions: CompletionService,
    private readonly consent: ConsentService,
    private readonly media: MetaMediaApi,
    private readonly maxFileBytes: number,
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
   * conversation so agents see it live. Whatever it says, it opens the customer's 24-hour
   * service window on that number.
   */
  async metaMessage(message: MetaInboundMessage): Promise<boolean> {
    const provider = await this.providers.findByInboundIdentity(
      inboundIdentityOf(ProviderKind.META_WHATSAPP, { phoneNumberId: message.phoneNumberId }) ?? '',
    );
    if (!provider) return false;
    await this.windows.noteInbound(provider, message.from, message.at);
    const contact = await this.contactFor(provider.tenantId, message.from, message.senderName, 'whatsapp');
    const { text, received } = await this.withMedia(provider, message);
    await this.customerSaid(contact, text, Channel.WHATSAPP, message.messageId, received);
    return true;
  }

  /**
   * A photo, document, voice note or video is fetched from Meta (size-capped) and kept with
   * the message; when it cannot be (too large, a type not kept, Meta failing), the message
   * still lands, saying so, for an agent to ask again.
   */
  private async withMedia(
    provider: ChannelProvider,
    message: MetaInboundMessage,
  ): Promise<{ text: string; received: ReceivedFile[] }> {
    // A webhook delivered again is the message already kept: its media is not fetched twice.
    if (!message.media || (await this.tickets.inboundMessage(provider.tenantId, message.messageId)))
      return { text: message.text, received: [] };
    const failed = (why: string) => ({
      text: `${message.text}\n(The ${message.media!.kind} could not be received: ${why}.)`,
      received: [],
    });
    const declared = typeRefusal(message.media.mimeType);
    if (declared) return failed(declared);
    try {
      const media = await this.media.download(this.providers.account(provider), message.media.id, this.maxFileBytes);
      const contentType = media.contentType || message.media.mimeType;
      const refusal = keepRefusal(contentType, media.bytes, this.maxFileBytes);
      if (refusal) return failed(refusal);
      return { text: message.text, received: [{ bytes: media.bytes, fileName: message.media.fileName, contentType }] };
    } catch (error) {
      if (error instanceof MetaApiError)
        return failed(error.code === 'MEDIA_TOO_LARGE' ? 'it is too large' : `Meta answered ${error.code}`);
      throw error;
    }
  }

  /**
   * A Twilio SMS webhook for one of our providers, verified by Twilio's signature over the
   * public URL it called: a status of one of our messages, or a customer's text (STOP and
   * START change their SMS consent; anything else joins their conversation).
   */
  async twilioCallback(
    providerId: string,
    url: string,
    params: Record<string, string>,
    signature: unknown,
  ): Promise<'ok' | 'unauthorized' | 'ignored' | 'not_found'> {
    const provider = isUuid(providerId)
      ? await this.dataSource.getRepository(ChannelProvider).findOneBy({ id: providerId })
      : null;
    if (!provider || provider.kind !== ProviderKind.TWILIO_SMS) return 'not_found';
    if (!verifyTwilioSignature(this.providers.credentialOf(provider, 'authToken'), url, params, signature)) {
      return 'unauthorized';
    }
    const callback = parseTwilioCallback(params);
    if (!callback) return 'ignored';
    if (callback.kind === 'status') {
      await this.deliveries.applyProviderStatus(
        { providerMessageId: callback.messageSid, providerId: provider.id },
        callback.status,
        {
          providerCode: callback.errorCode ?? undefined,
          payload: callback.raw,
        },
      );
      return 'ok';
    }
    // Twilio sends E.164 already; the project's one phone rule says whether it is a number.
    const from = toE164(callback.from);
    if (!from) return 'ignored';
    const contact = await this.contactFor(provider.tenantId, from, null, 'sms');
    await this.customerSaid(contact, callback.text, Channel.SMS, callback.messageSid);
    return 'ok';
  }

  /** The tenant's contact with this phone number, created when new. */
  private async contactFor(tenantId: string, phone: string, name: string | null, source: string): Promise<Contact> {
    const contacts = this.dataSource.getRepository(Contact);
    return (
      (await contacts.findOne({ where: { tenantId, phone }, order: { createdAt: 'ASC' } })) ??
      (await contacts.save(contacts.create({ tenantId, name: name ?? phone, phone, attributes: { source }, tags: [] })))
    );
  }

  /**
   * What a customer wrote on a channel: STOP / START change their consent on it; YA /
   * TIDAK answer a waiting completion request; anything else joins the conversation.
   */
  private async customerSaid(
    contact: Contact,
    text: string,
    channel: Channel,
    messageId: string,
    received: ReceivedFile[] = [],
  ): Promise<void> {
    // A stop or start keyword is a consent change, not a reply to a campaign.
    if (await this.consent.handleKeyword(contact, text, channel, messageId)) return;
    await this.consent.noteReply(contact);
    if (received.length || !(await this.completions.handleReply(contact, text, messageId))) {
      await this.tickets.receiveInbound(contact, text, messageId, received);
    }
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
