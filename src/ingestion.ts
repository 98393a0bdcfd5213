import express, { type Request, type Response, Router } from 'express';
import { ApiScope } from './entities/api-key.entity';
import type { Logger } from './logger';
import type { Services } from './services';
import { bearerToken } from './services/directory/auth.service';
import { ApiKeyService } from './services/events/api-key.service';
import { MAX_EVENTS_PER_BATCH } from './services/events/event-ingestion.service';
import { DomainError, ErrorCode } from './services/platform/errors';
import { IdempotencyKeyReusedError, checkedIdempotencyKey } from './services/platform/idempotent-requests';

/**
 * The HTTP ingestion API for other systems: `POST /v1/events` with an API key
 * (`Authorization: Bearer nd_...`, scope events:write). The body is one event, an array,
 * or `{ "events": [...] }`, at most 1,000. An `Idempotency-Key` header makes the request
 * safe to retry: the same key with the same body answers the first answer again
 * (`Idempotent-Replayed: true`) and stores nothing; with another body, 422
 * IDEMPOTENCY_KEY_REUSED. Events without a key of their own take the request's
 * (`<key>:<index>` in a batch). Answers 202 with what became of each event; a bad API key
 * 401, a missing scope 403, a bad event 400 naming its path, too many 413. A refused
 * request writes nothing.
 */
export function createIngestionRouter(services: Services, logger: Logger): Router {
  const router = Router();
  const fail = (res: Response, status: number, code: string, message: string, extra: Record<string, unknown> = {}) =>
    void res.status(status).json({ error: { code, message, ...extra } });

  router.post('/events', express.json({ limit: '10mb' }), async (req: Request, res: Response) => {
    const token = bearerToken(req.headers.authorization);
    if (!token || !ApiKeyService.isApiKey(token)) {
      return fail(res, 401, 'UNAUTHENTICATED', 'Send an API key: Authorization: Bearer nd_...');
    }
    let tenantId: string;
    try {
      const key = await services.apiKeys.authenticate(token);
      if (!key.scopes.includes(ApiScope.EVENTS_WRITE)) {
        return fail(res, 403, 'FORBIDDEN', 'This API key lacks the events:write scope');
      }
      tenantId = key.tenantId;
    } catch (error) {
      if (error instanceof DomainError) return fail(res, 401, 'UNAUTHENTICATED', error.message);
      throw error;
    }
    const body: unknown = req.body;
    const single = !!body && typeof body === 'object' && !Array.isArray(body) && !('events' in body);
    const events: unknown = Array.isArray(body) ? body : single ? [body] : (body as { events?: unknown } | null)?.events;
    if (!Array.isArray(events)) {
      return fail(res, 400, 'BAD_USER_INPUT', 'Send one event, an array of events, or { "events": [...] }', {
        problems: [{ path: 'events', problem: 'must be an array' }],
      });
    }
    if (events.length > MAX_EVENTS_PER_BATCH) {
      return fail(res, 413, 'PAYLOAD_TOO_LARGE', `A batch holds at most ${MAX_EVENTS_PER_BATCH} events (got ${events.length})`);
    }
    let requestKey: string | null;
    try {
      requestKey = checkedIdempotencyKey(req.headers['idempotency-key']);
    } catch (error) {
      return fail(res, 400, 'BAD_USER_INPUT', (error as Error).message);
    }
    try {
      const { result, replayed } = await services.requests.once(
        requestKey ? { tenantId, scope: 'POST /v1/events', key: requestKey, body: events } : null,
        (within) => services.ingestion.ingest(tenantId, events, 'api', { requestKey, within }),
      );
      if (replayed) res.setHeader('Idempotent-Replayed', 'true');
      res.status(202).json(result);
    } catch (error) {
      if (error instanceof IdempotencyKeyReusedError) return fail(res, 422, error.code, error.message);
      if (error instanceof DomainError && error.code === ErrorCode.BadUserInput) {
        return fail(res, 400, error.code, error.message, error.details);
      }
      logger.error('ingesting events failed', { error });
      return fail(res, 500, 'INTERNAL_SERVER_ERROR', 'Something went wrong on our side; it has been logged');
    }
  });
  return router;
}
