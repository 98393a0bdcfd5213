import express, { type Request, type Response, Router } from 'express';
import type { Logger } from './logger';
import type { Services } from './services';
import { DomainError, ErrorCode } from './services/platform/errors';

export const escape = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export const page = (title: string, body: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem;line-height:1.5}
button{font-size:1rem;padding:.6rem 1.2rem;margin:.3rem .3rem .3rem 0}textarea{width:100%;min-height:5rem}</style>
</head><body>${body}</body></html>`;

/**
 * The confirmation page a completion request's message links to: no sign-in, the link's
 * single-use token is the key. GET shows the job and the two answers; POST records one.
 * A forged token answers 404; a second answer 409; both as a page, never a stack.
 */
export function createCompletionPageRouter(services: Services, logger: Logger): Router {
  const router = Router();
  const fail = (res: Response, error: unknown) => {
    if (error instanceof DomainError && error.code === ErrorCode.NotFound) {
      return void res
        .status(404)
        .type('html')
        .send(page('Link not valid', '<h1>This link is not valid</h1><p>Check the message you received.</p>'));
    }
    if (error instanceof DomainError && error.code === ErrorCode.InvalidTransition) {
      return void res
        .status(409)
        .type('html')
        .send(page('Already answered', '<h1>Thank you</h1><p>This job was already answered.</p>'));
    }
    if (error instanceof DomainError)
      return void res
        .status(400)
        .type('html')
        .send(page('Not accepted', `<p>${escape(error.message)}</p>`));
    logger.error('completion page failed', { error });
    return void res
      .status(500)
      .type('html')
      .send(page('Something went wrong', '<p>Something went wrong on our side; please try again.</p>'));
  };
  router.get('/:token', async (req: Request, res: Response) => {
    try {
      const request = await services.completions.byLink(String(req.params.token));
      res.setHeader('Cache-Control', 'no-store');
      res.setHeader('Referrer-Policy', 'no-referrer');
      if (request.status !== 'pending') {
        return void res.type('html').send(page('Already answered', '<h1>Thank you</h1><p>This job was already answered.</p>'));
      }
      res.type('html').send(
        page(
          'Confirm the job',
          `<h1>Hi ${escape(request.customerName)}</h1>
<p>Your technician has finished <strong>${escape(request.jobTitle ?? 'the job')}</strong>.</p>
${request.note ? `<p>${escape(request.note)}</p>` : ''}
<form method="post"><textarea name="comment" maxlength="2000" placeholder="Anything to add? (optional)"></textarea>
<button name="answer" value="confirm">Yes, it is done</button><button name="answer" value="dispute">No, something is wrong</button></form>`,
        ),
      );
    } catch (error) {
      fail(res, error);
    }
  });
  router.post('/:token', express.urlencoded({ extended: false, limit: '16kb' }), async (req: Request, res: Response) => {
    const answer = (req.body as Record<string, unknown> | undefined)?.answer;
    if (answer !== 'confirm' && answer !== 'dispute') {
      return void res.status(400).type('html').send(page('Not accepted', '<p>Choose one of the two answers.</p>'));
    }
    const comment = (req.body as Record<string, unknown>).comment;
    try {
      await services.completions.respondByLink(
        String(req.params.token),
        answer === 'confirm',
        typeof comment === 'string' && comment.trim() ? comment : null,
      );
      res.setHeader('Cache-Control', 'no-store');
      res
        .type('html')
        .send(
          page(
            'Thank you',
            answer === 'confirm'
              ? '<h1>Thank you</h1><p>We are glad the job is done.</p>'
              : '<h1>Thank you</h1><p>We are sorry. Our support team will contact you.</p>',
          ),
        );
    } catch (error) {
      fail(res, error);
    }
  });
  return router;
}
