import { registerEnumType } from 'type-graphql';

/** How a message reaches its recipient. */
export enum Channel {
  WHATSAPP = 'whatsapp',
  SMS = 'sms',
  EMAIL = 'email',
  WEBHOOK = 'webhook',
}

registerEnumType(Channel, {
  name: 'Channel',
  description: 'How a message reaches its recipient.',
  valuesConfig: {
    WHATSAPP: { description: 'WhatsApp, through the Meta Cloud API or a local gateway (Fonnte, Wablas).' },
    SMS: { description: 'Text message through an SMS API (Twilio-compatible).' },
    EMAIL: { description: 'E-mail over SMTP.' },
    WEBHOOK: { description: 'A signed JSON POST to a URL.' },
  },
});

/** The provider integrations, each speaking one provider's API. */
export enum ProviderKind {
  META_WHATSAPP = 'meta_whatsapp',
  FONNTE = 'fonnte',
  WABLAS = 'wablas',
  TWILIO_SMS = 'twilio_sms',
  SMTP = 'smtp',
  WEBHOOK = 'webhook',
}

registerEnumType(ProviderKind, {
  name: 'ProviderKind',
  description: 'Which provider API a channel provider speaks.',
  valuesConfig: {
    META_WHATSAPP: { description: 'Meta WhatsApp Cloud API (graph.facebook.com).' },
    FONNTE: { description: 'Fonnte WhatsApp gateway.' },
    WABLAS: { description: 'Wablas WhatsApp gateway.' },
    TWILIO_SMS: { description: "Twilio's Messages API (or a compatible SMS API)." },
    SMTP: { description: 'An SMTP server.' },
    WEBHOOK: { description: 'Generic outbound webhook signed with HMAC-SHA256.' },
  },
});

export const CHANNEL_OF: Record<ProviderKind, Channel> = {
  [ProviderKind.META_WHATSAPP]: Channel.WHATSAPP,
  [ProviderKind.FONNTE]: Channel.WHATSAPP,
  [ProviderKind.WABLAS]: Channel.WHATSAPP,
  [ProviderKind.TWILIO_SMS]: Channel.SMS,
  [ProviderKind.SMTP]: Channel.EMAIL,
  [ProviderKind.WEBHOOK]: Channel.WEBHOOK,
};

export enum DeliveryStatus {
  QUEUED = 'queued',
  SENDING = 'sending',
  SENT = 'sent',
  DELIVERED = 'delivered',
  READ = 'read',
  FAILED = 'failed',
  DEAD = 'dead',
  CANCELLED = 'cancelled',
  EXPIRED = 'expired',
}

registerEnumType(DeliveryStatus, {
  name: 'DeliveryStatus',
  description: 'Where an outbound message is, from queued to read.',
  valuesConfig: {
    QUEUED: { description: 'Waiting for the dispatcher (also between retries).' },
    SENDING: { description: 'Claimed by a dispatcher and being handed to a provider.' },
    SENT: { description: 'Accepted by the provider.' },
    DELIVERED: { description: "Reached the recipient's device or mailbox." },
    READ: { description: 'Read by the recipient.' },
    FAILED: { description: 'Refused for good (invalid recipient, template, credentials); an operator may retry.' },
    DEAD: { description: 'Every attempt failed: in the dead-letter queue until an operator retries or discards it.' },
    CANCELLED: { description: 'Not sent on purpose (opt-out, discarded); the reason is recorded.' },
    EXPIRED: {
      description:
        'Not sent: its validity (validUntil) ended first, e.g. while every provider was down; never sent late. An operator may resend it.',
    },
  },
});
