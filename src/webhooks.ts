import { webhookRequests } from './services/platform/metrics';
import express, { type Request, type Response, Router } from 'express';
import { parseFonnteStatus, parseWablasStatus } from './channels/gateway-webhooks';
import { parseMetaWebhook, verifyMetaSignature } from './channels/meta-webhook';
import type { Config } from './config';
import type { Logger } from './logger';
import type { Services } from './services';

/** HTTP status of each gateway callback outcome: an unknown or malformed provider id is simply not found. */
const GATEWAY_STATUS = { ok: 200, ignored: 200, unauthorized: 401, not_found: 404 } as const;

/**
 * Provider webhooks: the only unauthenticated routes besides login, each verified as its
 * provider allows (Meta: HMAC signature; Twilio: its signature over the URL and parameters;
 * Fonnte and Wablas: a secret token in the callback URL). A request that fails
 * verification changes nothing.
 */
export function createWebhookRouter(
  services: Services,
  config: Pick<Config, 'metaAppSecret' | 'metaVerifyToken'> & { publicUrl: string },
  logger: Logger,
): Router {
  const router = Router();

  // Meta's subscription handshake: echo hub.challenge when hub.verify_token is ours.
  router.get('/whatsapp/meta', (req: Request, res: Response) => {
    const token = req.query['hub.verify_token'];
    if (req.query['hub.mode'] === 'subscribe' && config.metaVerifyToken && token === config.metaVerifyToken) {
      res.type('text/plain').send(String(req.query['hub.challenge'] ?? ''));
      return;
    }
    res.sendStatus(403);
  });

  // The raw body is what Meta signed, so it is read before any JSON parsing.
  router.post('/whatsapp/meta', express.raw({ type: '*/*', limit: '1mb' }), async (req: Request, res: Response) => {
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    if (!verifyMetaSignature(config.metaAppSecret, raw, req.headers['x-hub-signature-256'])) {
      webhookRequests.inc({ provider: 'meta', result: 'unauthorized' });
      res.sendStatus(401);
      return;
    }
    let payload: unknown;
    try {
      payload = JSON.parse(raw.toString('utf8'));
    } catch {
      webhookRequests.inc({ provider: 'meta', result: 'bad_request' });
      res.sendStatus(400);
      return;
    }
    const { statuses, messages, templates } = parseMetaWebhook(payload);
    try {
      for (const status of statuses) await services.inbound.metaStatus(status);
      for (const template of templates) await services.metaTemplates.applyStatusUpdate(template);
      for (const message of messages) {
        if (!(await services.inbound.metaMessage(message)))
          logger.warn('WhatsApp message for an unknown phone number id', { phoneNumberId: message.phoneNumberId });
      }
      webhookRequests.inc({ provider: 'meta', result: 'ok' });
      res.sendStatus(200);
    } catch (error) {
      // Not 200: Meta delivers the webhook again, and applying it twice is harmless.
      logger.error('processing a Meta webhook failed', { error });
      webhookRequests.inc({ provider: 'meta', result: 'failed' });
      res.sendStatus(500);
    }
  });

  const gateway =
    (provider: string, parse: (body: Record<string, unknown>) => ReturnType<typeof parseFonnteStatus>) =>
    async (req: Request, res: Response) => {
      const body = (req.body ?? {}) as Record<string, unknown>;
      const outcome = await services.inbound.gatewayStatus(String(req.params.providerId), req.query.token, parse(body));
      webhookRequests.inc({ provider, result: outcome });
      res.status(GATEWAY_STATUS[outcome]).json({ status: outcome });
    };
  const bodies = [express.json({ limit: '256kb' }), express.urlencoded({ extended: false, limit: '256kb' })];
  router.post('/whatsapp/fonnte/:providerId', ...bodies, gateway('fonnte', parseFonnteStatus));
  router.post('/whatsapp/wablas/:providerId', ...bodies, gateway('wablas', parseWablasStatus));
  // Twilio signs the URL it called: ours as the public see it (PUBLIC_URL), path and query included.
  router.post(
    '/sms/twilio/:providerId',
    express.urlencoded({ extended: false, limit: '256kb' }),
    async (req: Request, res: Response) => {
      const params = Object.fromEntries(
        Object.entries((req.body ?? {}) as Record<string, unknown>).map(([name, value]) => [name, String(value)]),
      );
      const url = `${config.publicUrl.replace(/\/+$/, '')}${req.originalUrl}`;
      const outcome = await services.inbound.twilioCallback(
        String(req.params.providerId),
        url,
        params,
        req.headers['x-twilio-signature'],
      );
      webhookRequests.inc({ provider: 'twilio', result: outcome });
      // An empty TwiML answer: no automatic reply (a STOP confirmation goes out as our own message).
      res.status(GATEWAY_STATUS[outcome]).type('text/xml').send('<?xml version="1.0" encoding="UTF-8"?><Response></Response>');
    },
  );
  // Anything else under /webhooks: JSON, never the framework's HTML page.
  router.use((_req: Request, res: Response) => void res.status(404).json({ status: 'not_found' }));
  return router;
}
