import { isAxiosError } from 'axios';
import { META_API_VERSION } from './meta-whatsapp.adapter';
import { type ChannelSettings, createHttp } from './http';
import { MissingSettingError, type ProviderAccount, credential, setting } from './types';

/** A message template as the Graph API returns it (GET /{waba-id}/message_templates). */
export interface MetaTemplateRecord {
  id: string;
  name: string;
  language: string;
  category: string;
  status: string;
  components: unknown[];
  rejected_reason?: string;
}

/** A template to create at Meta (POST /{waba-id}/message_templates). */
export interface NewMetaTemplate {
  name: string;
  language: string;
  category: string;
  components: unknown[];
}

/** Meta refused or could not be reached: its code and words, or the transport's. */
export class MetaApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** Whether the account's own setup or credentials are at fault (as opposed to the request). */
    readonly accountFault: boolean,
  ) {
    super(message);
  }
}

/** A request that never got Meta's answer (network, timeout, refused address), as a MetaApiError. */
export function metaUnreachable(error: unknown): MetaApiError {
  const message = isAxiosError(error) ? (error.code ?? error.message) : error instanceof Error ? error.message : String(error);
  return new MetaApiError('META_UNREACHABLE', `Meta could not be reached: ${message}`, false);
}

/** Pages read at most per sync: 100 templates each (Meta allows 250 a business account by default). */
const MAX_PAGES = 20;

/**
 * The WhatsApp Business Management API for message templates of the provider's business
 * account (`settings.businessAccountId`), with the provider's access token.
 */
export class MetaTemplateApi {
  private readonly http;

  constructor(settings: ChannelSettings) {
    this.http = createHttp(settings);
  }

  /** Every template of the account, page after page by Meta's `after` cursor (never by a URL Meta hands back). */
  async list(account: ProviderAccount): Promise<MetaTemplateRecord[]> {
    const templates: MetaTemplateRecord[] = [];
    let after: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const data = (await this.call(account, 'get', {
        params: {
          fields: 'id,name,language,category,status,components,rejected_reason',
          limit: 100,
          ...(after ? { after } : {}),
        },
      })) as { data?: MetaTemplateRecord[]; paging?: { cursors?: { after?: string }; next?: string } };
      if (!Array.isArray(data.data)) throw new MetaApiError('META_BAD_ANSWER', 'Meta answered without a template list', false);
      templates.push(...data.data.filter((template) => template && typeof template.name === 'string'));
      after = data.paging?.next ? data.paging.cursors?.after : undefined;
      if (!after) return templates;
    }
    return templates;
  }

  /** Submits a template for review; Meta answers its id and first status (usually PENDING). */
  async create(account: ProviderAccount, template: NewMetaTemplate): Promise<{ id: string; status: string; category: string }> {
    const data = (await this.call(account, 'post', { data: template })) as { id?: string; status?: string; category?: string };
    if (!data.id) throw new MetaApiError('META_BAD_ANSWER', 'Meta accepted the template but returned no id', false);
    return { id: String(data.id), status: data.status ?? 'PENDING', category: data.category ?? template.category };
  }

  private async call(
    account: ProviderAccount,
    method: 'get' | 'post',
    options: { params?: Record<string, unknown>; data?: unknown },
  ): Promise<unknown> {
    const base = account.baseUrl ?? 'https://graph.facebook.com';
    const url = `${base}/${META_API_VERSION}/${encodeURIComponent(setting(account, 'businessAccountId'))}/message_templates`;
    try {
      const response = await this.http.request({
        url,
        method,
        params: options.params,
        data: options.data,
        headers: { Authorization: `Bearer ${credential(account, 'accessToken')}` },
      });
      if (response.status >= 200 && response.status < 300 && response.data && typeof response.data === 'object')
        return response.data;
      const error = (response.data as { error?: { code?: number; message?: string; error_user_msg?: string } } | null)?.error;
      if (typeof error?.code !== 'number') {
        const ok = response.status >= 200 && response.status < 300;
        throw new MetaApiError(
          ok ? 'META_BAD_ANSWER' : `HTTP_${response.status}`,
          ok
            ? 'Meta answered with something that is not its JSON'
            : `Meta answered HTTP ${response.status} without an error body`,
          response.status === 401 || response.status === 403,
        );
      }
      const code = error.code;
      // 190 token, 10 and 200-299 permissions: the account's setup, not the request.
      throw new MetaApiError(
        String(code),
        error.error_user_msg ?? error.message ?? 'Meta refused the request',
        code === 190 || code === 10 || (code >= 200 && code < 300),
      );
    } catch (error) {
      if (error instanceof MetaApiError) throw error;
      if (error instanceof MissingSettingError) throw new MetaApiError('PROVIDER_MISCONFIGURED', error.message, true);
      throw metaUnreachable(error);
    }
  }
}
