import type { OutboundMedia, OutboundMessage } from '../../channels/types';
import type { Attachment } from '../../entities/ticket-message.entity';

/** How long the link a provider fetches a delivery's file by works (Meta fetches at once; an SMS reader may tap it days later). */
export const MEDIA_LINK_TTL_SECONDS = 7 * 24 * 3600;

/** WhatsApp shows JPEG and PNG photos and MP4/3GPP videos inline; anything else goes as a document. */
export function mediaKind(contentType: string): OutboundMedia['kind'] {
  if (contentType === 'image/jpeg' || contentType === 'image/png') return 'image';
  if (contentType === 'video/mp4' || contentType === 'video/3gpp') return 'video';
  return 'document';
}

export function outboundMedia(attachment: Attachment, link: string): OutboundMedia {
  return { link, contentType: attachment.contentType, fileName: attachment.filename, kind: mediaKind(attachment.contentType) };
}

/** The message for a provider without media: the file's name and link at the end of the text. */
export function withLinkInText(message: OutboundMessage): OutboundMessage {
  if (!message.media) return message;
  return { ...message, body: `${message.body}\n\n${message.media.fileName}: ${message.media.link}`, media: null };
}
