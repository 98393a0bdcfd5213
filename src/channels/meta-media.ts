import { isAxiosError } from 'axios';
import { MetaApiError, metaUnreachable } from './meta-templates';
import { META_API_VERSION } from './meta-whatsapp.adapter';
import { type ChannelSettings, createHttp } from './http';
import { type ProviderAccount, credential } from './types';

/** A customer's media as received: its bytes and Meta's word on its type. */
export interface MetaMedia {
  bytes: Buffer;
  contentType: string;
}

/** Meta's media ids are numeric; anything else is not asked for. */
const MEDIA_ID = /^[\w.-]{1,100}$/;
/** Where Meta serves media bytes (its lookaside hosts). */
const META_MEDIA_HOSTS = /(^|\.)(fbsbx\.com|facebook\.com|whatsapp\.net|fbcdn\.net)$/;

/**
 * Downloads what customers send on WhatsApp: GET /{media-id} answers a short-lived URL, its
 * type and size; the bytes come from that URL with the same token. The URL is followed only
 * to Meta's own media hosts over https (or the provider's configured base URL), never
 * anywhere a webhook could point, and never more than `maxBytes`.
 */
export class MetaMediaApi {
  private readonly http;

  constructor(settings: ChannelSettings) {
    this.http = createHttp(settings);
  }

  async download(account: ProviderAccount, mediaId: string, maxBytes: number): Promise<MetaMedia> {
    if (!MEDIA_ID.test(mediaId)) throw new MetaApiError('META_BAD_MEDIA_ID', 'Not a Meta media id', false);
    const base = account.baseUrl ?? 'https://graph.facebook.com';
    const headers = { Authorization: `Bearer ${credential(account, 'accessToken')}` };
    try {
      const info = await this.http.get(`${base}/${META_API_VERSION}/${encodeURIComponent(mediaId)}`, { headers });
      const media = info.data as {
        url?: unknown;
        mime_type?: unknown;
        file_size?: unknown;
        error?: { code?: number; message?: string };
      };
      if (info.status < 200 || info.status >= 300 || typeof media?.url !== 'string') {
        const code = media?.error?.code;
        throw new MetaApiError(
          typeof code === 'number' ? String(code) : `HTTP_${info.status}`,
          media?.error?.message ?? 'Meta did not give the media URL',
          info.status === 401 || code === 190,
        );
      }
      if (typeof media.file_size === 'number' && media.file_size > maxBytes)
        throw new MetaApiError('MEDIA_TOO_LARGE', `The file is ${media.file_size} bytes; at most ${maxBytes} are kept`, false);
      const target = new URL(media.url);
      const sameAsBase = target.origin === new URL(base).origin;
      if (!sameAsBase && !(target.protocol === 'https:' && META_MEDIA_HOSTS.test(target.hostname)))
        throw new MetaApiError('META_BAD_MEDIA_URL', `Meta's media URL is not on a Meta host (${target.hostname})`, false);
      const file = await this.http.get(target.toString(), { headers, responseType: 'arraybuffer', maxContentLength: maxBytes });
      if (file.status < 200 || file.status >= 300)
        throw new MetaApiError(`HTTP_${file.status}`, 'Meta did not serve the media', file.status === 401);
      return {
        bytes: Buffer.from(file.data as ArrayBuffer),
        contentType: typeof media.mime_type === 'string' ? media.mime_type : String(file.headers['content-type'] ?? ''),
      };
    } catch (error) {
      if (error instanceof MetaApiError) throw error;
      if (isAxiosError(error) && error.message.includes('maxContentLength'))
        throw new MetaApiError('MEDIA_TOO_LARGE', `The file is larger than the ${maxBytes} bytes kept`, false);
      throw metaUnreachable(error);
    }
  }
}
