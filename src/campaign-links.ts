import express, { type Request, type Response, Router } from 'express';
import { escape, page } from './completion-page';
import type { Logger } from './logger';
import type { Services } from './services';

const TOKEN = /^[A-Za-z0-9_-]{16,64}$/;

const notValid = (res: Response) =>
  void res
    .status(404)
    .type('html')
    .send(page('Link not valid', '<h1>This link is not valid</h1><p>Check the message you received.</p>'));

/**
 * The links campaign messages carry, without sign-in: `/r/<token>/<n>` records the
 * first click and redirects to the n-th link of that recipient's message; `/u/<token>`
 * unsubscribes. A GET on /u shows a button (link scanners must not unsubscribe anyone);
 * a POST unsubscribes, which is also the RFC 8058 one-click request mail clients send.
 * Tokens are random per recipient and stored only as hashes: one cannot be made up.
 */
export function createCampaignLinkRouter(services: Services, logger: Logger): Router {
  const router = Router();
  router.get('/r/:token/:index', async (req: Request, res: Response) => {
    const token = String(req.params.token);
    const index = Number(req.params.index);
    if (!TOKEN.test(token) || !Number.isInteger(index) || index < 0 || index > 100) return notValid(res);
    try {
      const target = await services.consent.click(token, index);
      if (!target) return notValid(res);
      res.setHeader('Cache-Control', 'no-store');
      res.setHeader('Referrer-Policy', 'no-referrer');
      res.redirect(302, target);
    } catch (error) {
      logger.error('tracked link failed', { error });
      res.status(500).type('html').send(page('Something went wrong', '<p>Something went wrong on our side.</p>'));
    }
  });
  router.get('/u/:token', async (req: Request, res: Response) => {
    const token = String(req.params.token);
    if (!TOKEN.test(token)) return notValid(res);
    try {
      // A made-up token gets the same answer as the POST would give it, not a form.
      const target = await services.consent.unsubscribeTarget(token);
      if (!target) return notValid(res);
      res.setHeader('Cache-Control', 'no-store');
      res
        .type('html')
        .send(
          page(
            'Unsubscribe',
            `<h1>Unsubscribe</h1><p>Stop receiving promotional messages from ${escape(target.tenantName)} on ${escape(
              target.channel,
            )}?</p>` + '<form method="post"><button name="confirm" value="yes">Unsubscribe</button></form>',
          ),
        );
    } catch (error) {
      logger.error('unsubscribe page failed', { error });
      res.status(500).type('html').send(page('Something went wrong', '<p>Something went wrong on our side.</p>'));
    }
  });
  router.post('/u/:token', express.urlencoded({ extended: false, limit: '4kb' }), async (req: Request, res: Response) => {
    const token = String(req.params.token);
    if (!TOKEN.test(token)) return notValid(res);
    const oneClick = (req.body as Record<string, unknown> | undefined)?.['List-Unsubscribe'] === 'One-Click';
    try {
      const done = await services.consent.unsubscribe(token, oneClick ? 'list_unsubscribe' : 'unsubscribe_link');
      if (!done) return notValid(res);
      res.setHeader('Cache-Control', 'no-store');
      res
        .type('html')
        .send(
          page(
            'Unsubscribed',
            `<h1>You are unsubscribed</h1><p>${escape(done.tenantName)} will not send you promotional messages on ${escape(
              done.channel,
            )} any more.</p>`,
          ),
        );
    } catch (error) {
      logger.error('unsubscribe failed', { error });
      res.status(500).type('html').send(page('Something went wrong', '<p>Something went wrong on our side.</p>'));
    }
  });
  return router;
}
