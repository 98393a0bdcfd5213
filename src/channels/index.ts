import { ProviderKind } from '../entities/channel';
import { FonnteAdapter, WablasAdapter } from './gateway.adapters';
import { MetaWhatsAppAdapter } from './meta-whatsapp.adapter';
import { SmtpAdapter } from './smtp.adapter';
import { TwilioSmsAdapter } from './twilio-sms.adapter';
import type { ChannelSettings } from './http';
import type { ChannelAdapter } from './types';
import { WebhookAdapter } from './webhook.adapter';

export type AdapterRegistry = Record<ProviderKind, ChannelAdapter>;

export function createAdapters(settings: ChannelSettings): AdapterRegistry {
  return {
    [ProviderKind.META_WHATSAPP]: new MetaWhatsAppAdapter(settings),
    [ProviderKind.FONNTE]: new FonnteAdapter(settings),
    [ProviderKind.WABLAS]: new WablasAdapter(settings),
    [ProviderKind.TWILIO_SMS]: new TwilioSmsAdapter(settings),
    [ProviderKind.SMTP]: new SmtpAdapter(settings),
    [ProviderKind.WEBHOOK]: new WebhookAdapter(settings),
  };
}
