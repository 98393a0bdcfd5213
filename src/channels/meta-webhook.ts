import { createHmac, timingSafeEqual } from 'node:crypto';
import { DeliveryStatus } from '../entities/channel';

/** X-Hub-Signature-256 is `sha256=` + HMAC-SHA256 of the raw body with the app secret; compared in constant time. */
export function verifyMetaSignature(appSecret: string | undefined, rawBody: Buffer, header: unknown): boolean {
  if (!appSecret || typeof header !== 'string' || !header.startsWith('sha256=')) return false;
  const expected = Buffer.from(createHmac('sha256', appSecret).update(rawBody).digest('hex'), 'utf8');
  const given = Buffer.from(header.slice('sha256='.length), 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export interface MetaStatusUpdate {
  wamid: string;
  status: DeliveryStatus.SENT | DeliveryStatus.DELIVERED | DeliveryStatus.READ | DeliveryStatus.FAILED;
  at: Date | null;
  errorCode: string | null;
  errorMessage: string | null;
  raw: Record<string, unknown>;
}

export interface MetaInboundMessage {
  phoneNumberId: string;
  messageId: string;
  /** Sender in E.164 form. */
  from: string;
  senderName: string | null;
  text: string;
  at: Date | null;
  /** A photo, document, voice note, video or sticker the customer sent, to fetch from Meta's media endpoint. */
  media: InboundMedia | null;
}

export interface InboundMedia {
  id: string;
  kind: 'image' | 'document' | 'audio' | 'video' | 'sticker';
  mimeType: string;
  fileName: string;
}

/** Meta's `message_template_status_update`: a template of a business account was approved, rejected, paused... */
export interface MetaTemplateStatusUpdate {
  businessAccountId: string;
  metaId: string | null;
  name: string;
  language: string;
  /** Meta's event, upper case (APPROVED, REJECTED, PAUSED, DISABLED, ...). */
  status: string;
  reason: string | null;
}

const STATUS: Record<string, MetaStatusUpdate['status']> = {
  sent: DeliveryStatus.SENT,
  delivered: DeliveryStatus.DELIVERED,
  read: DeliveryStatus.READ,
  failed: DeliveryStatus.FAILED,
};

interface MetaChangeValue {
  metadata?: { phone_number_id?: string };
  contacts?: Array<{ wa_id?: string; profile?: { name?: string } }>;
  statuses?: Array<{
    id?: string;
    status?: string;
    timestamp?: string;
    errors?: Array<{ code?: number; title?: string; message?: string; error_data?: { details?: string } }>;
  }>;
  messages?: Array<{
    id?: string;
    from?: string;
    timestamp?: string;
    type?: string;
    text?: { body?: string };
    button?: { text?: string; payload?: string };
    interactive?: { button_reply?: { id?: string; title?: string }; list_reply?: { id?: string; title?: string } };
    image?: MetaMediaField;
    document?: MetaMediaField;
    audio?: MetaMediaField;
    video?: MetaMediaField;
    sticker?: MetaMediaField;
    location?: { latitude?: number; longitude?: number; name?: string; address?: string };
  }>;
}

interface MetaMediaField {
  id?: string;
  mime_type?: string;
  filename?: string;
  caption?: string;
  voice?: boolean;
}

const MEDIA_KINDS = ['image', 'document', 'audio', 'video', 'sticker'] as const;
const EXTENSIONS: Record<string, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/webp': 'webp',
  'audio/ogg': 'ogg',
  'audio/mpeg': 'mp3',
  'audio/mp4': 'm4a',
  'audio/amr': 'amr',
  'audio/aac': 'aac',
  'video/mp4': 'mp4',
  'video/3gpp': '3gp',
  'application/pdf': 'pdf',
};

/** The media of a message, if it carries one: Meta's id, its kind, type and a file name (the customer's for documents). */
export function mediaOf(message: NonNullable<MetaChangeValue['messages']>[number]): InboundMedia | null {
  for (const kind of MEDIA_KINDS) {
    const field = message[kind];
    if (!field?.id) continue;
    const mimeType = (field.mime_type ?? 'application/octet-stream').split(';')[0].trim();
    const fileName =
      field.filename ?? `${kind === 'audio' && field.voice ? 'voice-note' : kind}.${EXTENSIONS[mimeType] ?? 'bin'}`;
    return { id: field.id, kind, mimeType, fileName };
  }
  return null;
}

/** The words a message stands for in the thread: its text, tapped answer, caption, place, or what kind it is. */
function textOf(message: NonNullable<MetaChangeValue['messages']>[number]): string {
  // A tapped reply button or list row answers with the option's id (the word it stands
  // for, e.g. YA or 4); a template's quick-reply button with its payload (its text by default).
  const reply = message.interactive?.button_reply ?? message.interactive?.list_reply;
  const text = message.text?.body ?? reply?.id ?? reply?.title ?? message.button?.payload ?? message.button?.text;
  if (text !== undefined) return text;
  const media = MEDIA_KINDS.map((kind) => ({ kind, field: message[kind] })).find(({ field }) => field?.id);
  if (media) return media.field?.caption ?? `[${media.kind === 'audio' && media.field?.voice ? 'voice note' : media.kind}]`;
  const place = message.location;
  if (place && typeof place.latitude === 'number' && typeof place.longitude === 'number') {
    const where = [place.name, place.address].filter(Boolean).join(', ');
    const at = `${place.latitude},${place.longitude}`;
    return `[location] ${where ? `${where} ` : ''}(${at}) https://maps.google.com/?q=${at}`;
  }
  return `[${message.type ?? 'unsupported'} message]`;
}

interface MetaTemplateChange {
  event?: string;
  message_template_id?: number | string;
  message_template_name?: string;
  message_template_language?: string;
  reason?: string;
}

const time = (seconds: string | undefined) => (seconds && /^\d+$/.test(seconds) ? new Date(Number(seconds) * 1000) : null);

/** Reads the statuses and customer messages out of a WhatsApp Business Account webhook payload. */
export function parseMetaWebhook(payload: unknown): {
  statuses: MetaStatusUpdate[];
  messages: MetaInboundMessage[];
  templates: MetaTemplateStatusUpdate[];
} {
  const statuses: MetaStatusUpdate[] = [];
  const messages: MetaInboundMessage[] = [];
  const templates: MetaTemplateStatusUpdate[] = [];
  const entries =
    (payload as { entry?: Array<{ id?: string; changes?: Array<{ field?: string; value?: MetaChangeValue }> }> })?.entry ?? [];
  for (const { entry, change } of entries.flatMap((entry) => (entry.changes ?? []).map((change) => ({ entry, change })))) {
    const value = change.value;
    if (change.field === 'message_template_status_update' && value) {
      const update = value as MetaTemplateChange;
      if (entry.id && update.event && update.message_template_name && update.message_template_language)
        templates.push({
          businessAccountId: String(entry.id),
          metaId: update.message_template_id !== undefined ? String(update.message_template_id) : null,
          name: String(update.message_template_name),
          language: String(update.message_template_language),
          status: String(update.event).toUpperCase(),
          reason: update.reason && update.reason !== 'NONE' ? String(update.reason).slice(0, 300) : null,
        });
      continue;
    }
    if (change.field !== 'messages' || !value) continue;
    for (const status of value.statuses ?? []) {
      const mapped = status.status ? STATUS[status.status] : undefined;
      if (!status.id || !mapped) continue;
      const error = status.errors?.[0];
      statuses.push({
        wamid: status.id,
        status: mapped,
        at: time(status.timestamp),
        errorCode: error?.code !== undefined ? String(error.code) : null,
        errorMessage: error ? [error.title ?? error.message, error.error_data?.details].filter(Boolean).join(': ') : null,
        raw: status as Record<string, unknown>,
      });
    }
    for (const message of value.messages ?? []) {
      if (!message.id || !message.from || !value.metadata?.phone_number_id) continue;
      const sender = value.contacts?.find((contact) => contact.wa_id === message.from) ?? value.contacts?.[0];
      messages.push({
        phoneNumberId: value.metadata.phone_number_id,
        messageId: message.id,
        from: `+${message.from.replace(/^\+/, '')}`,
        senderName: sender?.profile?.name ?? null,
        text: textOf(message),
        at: time(message.timestamp),
        media: mediaOf(message),
      });
    }
  }
  return { statuses, messages, templates };
}
