import { randomBytes } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * One local HTTP server that speaks the request and response formats of the
 * providers the adapters call (Meta Cloud API, Fonnte, Wablas, Twilio) and
 * receives outbound webhooks. Each provider's behaviour is scripted per test:
 * answer normally, answer with the provider's own error, go down, or delay.
 */
/** `metaTemplates`: the WhatsApp Business Management API's message_templates of a business account. */
export type FakeProvider = 'meta' | 'metaTemplates' | 'metaMedia' | 'fonnte' | 'wablas' | 'twilio' | 'webhook';

/** A template of a WhatsApp Business Account as the fake Meta keeps it. */
export interface FakeMetaTemplate {
  id: string;
  businessAccountId: string;
  name: string;
  language: string;
  category: string;
  status: string;
  components: unknown[];
  rejected_reason?: string;
}

export interface ReceivedRequest {
  provider: FakeProvider;
  path: string;
  headers: IncomingMessage['headers'];
  rawBody: string;
  /** Parsed JSON or form body. */
  body: Record<string, any>;
  /** Recipient as the provider saw it. */
  to: string;
  at: number;
}

export type Behaviour =
  | { kind: 'ok' }
  | { kind: 'error'; status: number; body: unknown; headers?: Record<string, string> }
  | { kind: 'down' }
  | { kind: 'delay'; ms: number }
  /** A body that is not what the provider documents (an HTML error page, truncated JSON). */
  | { kind: 'garbage'; status: number; body: string };

export const ok: Behaviour = { kind: 'ok' };
export const down: Behaviour = { kind: 'down' };

/** Meta's error envelope, e.g. metaError(131026, 'Message undeliverable'). */
export function metaError(code: number, message: string, status = 400, headers?: Record<string, string>): Behaviour {
  return {
    kind: 'error',
    status,
    headers,
    body: {
      error: {
        message,
        type: 'OAuthException',
        code,
        error_data: { messaging_product: 'whatsapp', details: message },
        fbtrace_id: 'AbC123',
      },
    },
  };
}

export function twilioError(code: number, message: string, status = 400): Behaviour {
  return { kind: 'error', status, body: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status } };
}

/** Fonnte answers HTTP 200 with status false and a reason. */
export function fonnteRefusal(reason: string): Behaviour {
  return { kind: 'error', status: 200, body: { status: false, reason } };
}

export class ProviderFake {
  readonly requests: ReceivedRequest[] = [];
  private readonly server: Server;
  private readonly scripts = new Map<FakeProvider, Behaviour[]>();
  private readonly defaults = new Map<FakeProvider, Behaviour>();
  /** Answers about one recipient (as the provider sees the number), ahead of scripts and defaults. */
  private readonly perRecipient = new Map<string, Behaviour>();
  private readonly sockets = new Set<Socket>();
  private readonly delays = new Set<NodeJS.Timeout>();
  private waiters: Array<() => void> = [];
  /**
   * Meta as it runs: when on, free text reaches only numbers whose customer-service window
   * is open (they wrote within 24 hours), otherwise 131047; templates must be approved ones
   * with their body parameters.
   */
  private metaRules: { windows: Map<string, number>; templates: Map<string, { parameters: number; status: string }> } | undefined;
  /** Customers' media as Meta keeps them: GET /{media-id} answers the URL, GET of the URL the bytes (both with the token). */
  private readonly media = new Map<string, { bytes: Buffer; mimeType: string; declaredSize?: number }>();
  /** Business accounts' templates, served by GET and added by POST /{waba-id}/message_templates. */
  readonly accountTemplates: FakeMetaTemplate[] = [];
  url = '';

  constructor(
    private readonly tokens = {
      meta: 'meta-token',
      fonnte: 'fonnte-token',
      wablas: 'wablas-token.wablas-secret',
      twilio: ['AC123', 'twilio-secret'],
    },
  ) {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    for (const timer of this.delays) clearTimeout(timer);
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Cuts every open connection, as a gateway that hung and then went away: requests still out fail at once. */
  dropConnections(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  /** The next responses of a provider, in order; after them it answers with its default. */
  script(provider: FakeProvider, ...behaviours: Behaviour[]): void {
    this.scripts.set(provider, [...(this.scripts.get(provider) ?? []), ...behaviours]);
  }

  /** What a provider answers once its script is used up. */
  always(provider: FakeProvider, behaviour: Behaviour): void {
    this.defaults.set(provider, behaviour);
  }

  /** What a provider answers every request to one recipient (e.g. Meta's pair rate limit for one number). */
  forRecipient(provider: FakeProvider, to: string, behaviour: Behaviour): void {
    this.perRecipient.set(`${provider}:${to}`, behaviour);
  }

  /** Meta's clock, for its 24-hour windows: a test's manual clock, so moving time closes them. */
  metaNow: () => number = () => Date.now();

  /** Turns Meta's window and template rules on (see metaRules). */
  enforceMetaRules(): void {
    this.metaRules ??= { windows: new Map(), templates: new Map() };
  }

  /** The customer at `to` (as Meta writes numbers: digits only) wrote to the business at `atMs`. */
  customerWrote(to: string, atMs = this.metaNow()): void {
    this.enforceMetaRules();
    this.metaRules!.windows.set(to.replace(/^\+/, ''), atMs);
  }

  /** An approved (or other `status`) template of the WhatsApp Business Account, with its body's parameter count. */
  metaTemplate(name: string, language: string, parameters: number, status = 'APPROVED'): void {
    this.enforceMetaRules();
    this.metaRules!.templates.set(`${name}:${language}`, { parameters, status });
  }

  /** A template already in a business account (as if made in Meta's own tools). */
  addAccountTemplate(template: Omit<FakeMetaTemplate, 'id'> & { id?: string }): FakeMetaTemplate {
    const stored = { id: template.id ?? String(100000 + this.accountTemplates.length), ...template };
    this.accountTemplates.push(stored);
    return stored;
  }

  reset(): void {
    this.metaRules = undefined;
    this.accountTemplates.length = 0;
    this.metaNow = () => Date.now();
    this.requests.length = 0;
    this.scripts.clear();
    this.defaults.clear();
    this.perRecipient.clear();
  }

  received(provider: FakeProvider): ReceivedRequest[] {
    return this.requests.filter((request) => request.provider === provider);
  }

  async waitForRequests(count: number, timeoutMs = 5000): Promise<ReceivedRequest[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.requests.length < count) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`expected ${count} provider requests, got ${this.requests.length}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.requests;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawBody = await new Promise<string>((resolve) => {
      let data = '';
      req.on('data', (chunk) => (data += chunk));
      req.on('end', () => resolve(data));
    });
    const route = this.route(req);
    if (!route) return this.json(res, 404, { error: 'unknown route' });
    const { provider, authorized } = route;
    const body = parseBody(req.headers['content-type'], rawBody);
    const to = String(body.to ?? body.target ?? body.phone ?? body.To ?? req.url);
    const behaviour =
      this.perRecipient.get(`${provider}:${to}`) ?? this.scripts.get(provider)?.shift() ?? this.defaults.get(provider) ?? ok;
    if (behaviour.kind === 'down') {
      req.socket.destroy();
      return;
    }
    this.requests.push({ provider, path: req.url ?? '', headers: req.headers, rawBody, body, to, at: performance.now() });
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
    if (behaviour.kind === 'delay') {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.delays.delete(timer);
          resolve();
        }, behaviour.ms);
        this.delays.add(timer);
      });
      if (res.destroyed) return;
    }
    if (behaviour.kind === 'error') return this.json(res, behaviour.status, behaviour.body, behaviour.headers);
    if (behaviour.kind === 'garbage') {
      res.writeHead(behaviour.status, { 'content-type': 'application/json' });
      return void res.end(behaviour.body);
    }
    if (!authorized) return this.unauthorized(provider === 'metaTemplates' ? 'meta' : provider, res);
    if (provider === 'metaTemplates') return this.templates(req, res, body);
    if (provider === 'metaMedia') return this.mediaAnswer(req, res);
    const refusal = provider === 'meta' ? (this.interactiveRefusal(body) ?? this.metaRefusal(body)) : undefined;
    if (refusal?.kind === 'error') return this.json(res, refusal.status, refusal.body);
    return this.success(provider, res, body);
  }

  private route(req: IncomingMessage): { provider: FakeProvider; authorized: boolean } | undefined {
    const url = req.url ?? '';
    const auth = req.headers.authorization ?? '';
    if (/^\/v\d+\.\d+\/[^/]+\/message_templates(\?|$)/.test(url))
      return { provider: 'metaTemplates', authorized: auth === `Bearer ${this.tokens.meta}` };
    if (/^\/v\d+\.\d+\/media-[\w.-]+$/.test(url) || url.startsWith('/whatsapp_business/attachments/'))
      return { provider: 'metaMedia', authorized: auth === `Bearer ${this.tokens.meta}` };
    if (/^\/v\d+\.\d+\/[^/]+\/messages$/.test(url))
      return { provider: 'meta', authorized: auth === `Bearer ${this.tokens.meta}` };
    if (url === '/send') return { provider: 'fonnte', authorized: auth === this.tokens.fonnte };
    if (url === '/api/send-message') return { provider: 'wablas', authorized: auth === this.tokens.wablas };
    const twilio = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/.exec(url);
    if (twilio) {
      const expected = 'Basic ' + Buffer.from(this.tokens.twilio.join(':')).toString('base64');
      return { provider: 'twilio', authorized: auth === expected && twilio[1] === this.tokens.twilio[0] };
    }
    if (url.startsWith('/hooks/')) return { provider: 'webhook', authorized: true };
    return undefined;
  }

  /** A customer's photo, document or voice note Meta holds for a webhook's media id (ids start with `media-`). */
  addMedia(id: string, bytes: Buffer, mimeType: string, declaredSize?: number): void {
    this.media.set(id, { bytes, mimeType, declaredSize });
  }

  /** GET /{version}/{media-id}: the media's URL, type and size; GET of that URL: the bytes (Meta's lookaside host). */
  private mediaAnswer(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '';
    const lookaside = /^\/whatsapp_business\/attachments\/\?mid=([\w.-]+)$/.exec(url);
    const id = lookaside ? lookaside[1] : url.split('/').pop()!;
    const media = this.media.get(id);
    if (!media) {
      const refusal = metaError(100, 'Unsupported get request. Object does not exist', 400);
      return this.json(res, 400, refusal.kind === 'error' ? refusal.body : {});
    }
    if (lookaside) {
      res.writeHead(200, { 'content-type': media.mimeType, 'content-length': media.bytes.length });
      return void res.end(media.bytes);
    }
    return this.json(res, 200, {
      messaging_product: 'whatsapp',
      url: `${this.url}/whatsapp_business/attachments/?mid=${id}`,
      mime_type: media.mimeType,
      sha256: 'fake',
      file_size: media.declaredSize ?? media.bytes.length,
      id,
    });
  }

  /** GET (paged by `after`, `limit`) or POST (a new template, PENDING) of /{waba-id}/message_templates, as Meta answers. */
  private templates(req: IncomingMessage, res: ServerResponse, body: Record<string, any>): void {
    const url = new URL(req.url ?? '', 'http://fake');
    const businessAccountId = decodeURIComponent(url.pathname.split('/')[2]);
    const mine = this.accountTemplates.filter((template) => template.businessAccountId === businessAccountId);
    if (req.method === 'GET') {
      const limit = Number(url.searchParams.get('limit') ?? 25);
      const start = Number(Buffer.from(url.searchParams.get('after') ?? '', 'base64').toString() || 0);
      const page = mine.slice(start, start + limit).map(({ businessAccountId: _, ...template }) => template);
      const more = start + limit < mine.length;
      const after = Buffer.from(String(start + limit)).toString('base64');
      return this.json(res, 200, {
        data: page,
        paging: {
          cursors: { before: Buffer.from(String(start)).toString('base64'), after },
          ...(more ? { next: `https://graph.facebook.com/v21.0/${businessAccountId}/message_templates?after=${after}` } : {}),
        },
      });
    }
    const invalid = (message: string, subcode = 2388043) =>
      this.json(res, 400, {
        error: {
          message: 'Invalid parameter',
          type: 'OAuthException',
          code: 100,
          error_subcode: subcode,
          error_user_title: 'Invalid parameter',
          error_user_msg: message,
          fbtrace_id: 'AbC123',
        },
      });
    if (!/^[a-z0-9_]{1,512}$/.test(String(body.name ?? '')))
      return invalid('Template name can only have lowercase letters, numbers and underscores.');
    if (!['UTILITY', 'MARKETING', 'AUTHENTICATION'].includes(body.category)) return invalid('Invalid category.');
    const text: string = body.components?.find((component: any) => component.type === 'BODY')?.text ?? '';
    if (!text) return invalid('A template needs a BODY component.');
    const numbers = [...text.matchAll(/\{\{(\d+)\}\}/g)].map((match) => Number(match[1]));
    const examples = body.components.find((component: any) => component.type === 'BODY')?.example?.body_text?.[0] ?? [];
    if (numbers.some((number, index) => number !== index + 1))
      return invalid('Variable parameters must be numbered in order: {{1}}, {{2}}, ...');
    if (numbers.length && examples.length !== numbers.length)
      return invalid('Add a sample for each variable parameter in the body.', 2388044);
    if (mine.some((template) => template.name === body.name && template.language === body.language))
      return invalid(`There is already ${body.language} content for this template.`, 2388024);
    const created = this.addAccountTemplate({
      businessAccountId,
      name: body.name,
      language: body.language,
      category: body.category,
      status: 'PENDING',
      components: body.components,
    });
    return this.json(res, 200, { id: created.id, status: 'PENDING', category: created.category });
  }

  /**
   * Meta's format rules for an interactive message, enforced always as the Cloud API does:
   * body at most 1,024 characters; 1-3 reply buttons with unique ids and titles of at most
   * 20 characters; or a list of at most 10 rows (titles at most 24) behind a label of at
   * most 20. Anything else is 131009 (parameter value is not valid).
   */
  private interactiveRefusal(body: Record<string, any>): Behaviour | undefined {
    const invalid = (details: string) => metaError(131009, `(#131009) Parameter value is not valid: ${details}`);
    if (['image', 'video', 'document', 'audio'].includes(body.type)) {
      const media = body[body.type];
      if (!/^https?:\/\//.test(String(media?.link ?? '')) && !media?.id) return invalid(`${body.type} needs a link or an id`);
      if (media.caption !== undefined && (body.type === 'audio' || String(media.caption).length > 1024))
        return invalid('caption at most 1024 characters, none on audio');
      return undefined;
    }
    if (body.type !== 'interactive') return undefined;
    const interactive = body.interactive ?? {};
    const text = interactive.body?.text;
    if (typeof text !== 'string' || !text || text.length > 1024) return invalid('body text must be 1-1024 characters');
    if (interactive.type === 'button') {
      const buttons: any[] = interactive.action?.buttons ?? [];
      if (buttons.length < 1 || buttons.length > 3) return invalid('1-3 buttons');
      const ids = buttons.map((button) => button.reply?.id);
      if (new Set(ids).size !== ids.length || buttons.some((button) => button.type !== 'reply' || !button.reply?.id))
        return invalid('buttons need unique reply ids');
      if (buttons.some((button) => !button.reply?.title || String(button.reply.title).length > 20))
        return invalid('button title at most 20 characters');
      return undefined;
    }
    if (interactive.type === 'list') {
      const rows: any[] = (interactive.action?.sections ?? []).flatMap((section: any) => section.rows ?? []);
      const label = interactive.action?.button;
      if (!label || String(label).length > 20) return invalid('list button label at most 20 characters');
      if (rows.length < 1 || rows.length > 10) return invalid('1-10 rows');
      if (rows.some((row) => !row.id || !row.title || String(row.title).length > 24))
        return invalid('row title at most 24 characters');
      return undefined;
    }
    return invalid(`unsupported interactive type ${interactive.type}`);
  }

  /** Meta's own answer to a message its rules refuse, in its documented error format. */
  private metaRefusal(body: Record<string, any>): Behaviour | undefined {
    const rules = this.metaRules;
    if (!rules) return undefined;
    // Free-form messages (text, reply buttons, lists, media) only inside the customer's window.
    if (['text', 'interactive', 'image', 'video', 'document', 'audio'].includes(body.type)) {
      const wrote = rules.windows.get(String(body.to));
      if (wrote === undefined || this.metaNow() - wrote >= 24 * 60 * 60 * 1000)
        return metaError(131047, 'Re-engagement message', 400);
      return undefined;
    }
    if (body.type === 'template') {
      const account = this.accountTemplates.find(
        (candidate) => candidate.name === body.template?.name && candidate.language === body.template?.language?.code,
      );
      const template =
        rules.templates.get(`${body.template?.name}:${body.template?.language?.code}`) ??
        (account
          ? {
              status: account.status,
              parameters: [
                ...String((account.components as any[]).find((component) => component.type === 'BODY')?.text ?? '').matchAll(
                  /\{\{\d+\}\}/g,
                ),
              ].length,
            }
          : undefined);
      if (!template || template.status !== 'APPROVED')
        return metaError(132001, 'Template name does not exist in the translation');
      // A media header parameter must match the template's header format, and one is needed when it has one.
      const headerFormat = String(
        ((account?.components ?? []) as any[]).find((component) => component.type === 'HEADER')?.format ?? 'NONE',
      ).toLowerCase();
      const header = (body.template.components ?? []).find((component: any) => component.type === 'header');
      const headerType = header?.parameters?.[0]?.type ?? 'none';
      if (['image', 'document', 'video'].includes(headerFormat) || headerType !== 'none')
        if (headerType !== headerFormat || !header.parameters[0][headerType]?.link)
          return metaError(132012, 'Parameter format does not match format in the created template');
      const given = (body.template.components ?? [])
        .filter((component: any) => component.type === 'body')
        .flatMap((component: any) => component.parameters ?? []);
      if (given.length !== template.parameters || given.some((parameter: any) => parameter.type !== 'text' || !parameter.text))
        return metaError(132000, 'Number of parameters does not match the expected number of params');
    }
    return undefined;
  }

  private success(provider: FakeProvider, res: ServerResponse, body: Record<string, any>): void {
    const id = randomBytes(8).toString('hex');
    switch (provider) {
      case 'meta':
        return this.json(res, 200, {
          messaging_product: 'whatsapp',
          contacts: [{ input: body.to, wa_id: body.to }],
          messages: [{ id: `wamid.${id}` }],
        });
      case 'fonnte':
        return this.json(res, 200, {
          detail: 'success! message in queue',
          id: [String(parseInt(id.slice(0, 8), 16))],
          process: 'pending',
          status: true,
          target: [body.target],
        });
      case 'wablas':
        return this.json(res, 200, {
          status: true,
          message: 'Message is pending and waiting to be processed',
          data: {
            device_id: 'DEV1',
            quota: 100,
            messages: [{ id: `wablas-${id}`, phone: body.phone, message: body.message, status: 'pending' }],
          },
        });
      case 'twilio':
        return this.json(res, 201, { sid: `SM${id}${id}`, status: 'queued', to: body.To, from: body.From, body: body.Body });
      case 'webhook':
        return this.json(res, 200, { received: true });
    }
  }

  private unauthorized(provider: FakeProvider, res: ServerResponse): void {
    switch (provider) {
      case 'meta':
        return this.json(res, 401, {
          error: { message: 'Error validating access token', type: 'OAuthException', code: 190, fbtrace_id: 'x' },
        });
      case 'fonnte':
        return this.json(res, 200, { status: false, reason: 'invalid token' });
      case 'wablas':
        return this.json(res, 401, { status: false, message: 'token invalid' });
      case 'twilio':
        return this.json(res, 401, {
          code: 20003,
          message: 'Authenticate',
          more_info: 'https://www.twilio.com/docs/errors/20003',
          status: 401,
        });
      case 'webhook':
        return this.json(res, 401, {});
    }
  }

  private json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  }
}

function parseBody(contentType: string | undefined, raw: string): Record<string, any> {
  if (!raw) return {};
  if (contentType?.includes('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(raw));
  try {
    return JSON.parse(raw) as Record<string, any>;
  } catch {
    return { raw };
  }
}
