import { ProviderKind } from '../entities/channel';
import { FonnteAdapter, WablasAdapter } from './gateway.adapters';
import { MetaWhatsAppAdapter } from './meta-whatsapp.adapter';
import { SmtpAdapter } from './smtp.adapter';
import { TwilioSmsAdapter } from './twilio-sms.adapter';
import type { ChannelAdapter } from './types';
import { WebhookAdapter } from './webhook.adapter';

export type AdapterRegistry = Record<ProviderKind, ChannelAdapter>;

export function createAdapters(): AdapterRegistry {
  return {
    [ProviderKind.META_WHATSAPP]: new MetaWhatsAppAdapter(),
    [ProviderKind.FONNTE]: new FonnteAdapter(),
    [ProviderKind.WABLAS]: new WablasAdapter(),
    [ProviderKind.TWILIO_SMS]: new TwilioSmsAdapter(),
    [ProviderKind.SMTP]: new SmtpAdapter(),
    [ProviderKind.WEBHOOK]: new WebhookAdapter(),
  };
}
