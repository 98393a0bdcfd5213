import { randomUUID } from 'node:crypto';
import { ApolloServer, type ApolloServerPlugin, type GraphQLResponse } from '@apollo/server';
import { metricsRoute } from './metrics';
import {
  graphqlDuration,
  graphqlOperations,
  operationLabel,
  tenantLabel,
  wsSockets,
  wsSubscriptions,
} from './services/platform/metrics';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import cors from 'cors';
import express, { type Request, type Response } from 'express';
import { GraphQLError, type GraphQLSchema, Kind, type OperationDefinitionNode, specifiedRules, validate } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ruruHTML, type RuruServerConfig } from 'ruru/server';
import { serveStatic } from 'ruru/static';
import type { DataSource } from 'typeorm';
import { WebSocketServer } from 'ws';
import type { Config } from './config';
import { databaseReady } from './database';
import type { Logger } from './logger';
import { type Context, createContext } from './schema/context';
import { requireAuthentication } from './schema/auth';
import { createErrorFormatter } from './schema/format-error';
import { bearerToken } from './services/directory/auth.service';
import { DomainError } from './services/platform/errors';
import type { Principal } from './services/directory/principal';
import { ApiKeyService, type ApiKeyPrincipal } from './services/events/api-key.service';
import type { Services } from './services';
import { createWebhookRouter } from './webhooks';
import { createIngestionRouter } from './ingestion';
import { createCampaignLinkRouter } from './campaign-links';
import { createCompletionPageRouter } from './completion-page';
import { createFileRouter } from './file-routes';
import { QUERY_LIMITS, QUERY_LIMIT_RULES } from './schema/query-limits';

export interface ApiServer {
  httpServer: Server;
  url: string;
  /** Stops accepting, drains requests, closes sockets. */
  stop(): Promise<void>;
}

interface ApiOptions {
  config: Pick<
    Config,
    | 'host'
    | 'port'
    | 'nodeEnv'
    | 'corsOrigins'
    | 'trustProxyHops'
    | 'shutdownTimeoutMs'
    | 'requestTimeoutMs'
    | 'metaAppSecret'
    | 'metaVerifyToken'
    | 'introspection'
    | 'ide'
    | 'metricsToken'
    | 'completions'
  >;
  schema: GraphQLSchema;
  services: Services;
  dataSource: DataSource;
  logger: Logger;
}

const IDE_STATIC_PATH = '/ruru-static/';
/** graphql-ws close code when a socket's token expires (same as a refused connect: sign in again). */
export const CLOSE_TOKEN_EXPIRED = 4403;
/** setTimeout's limit (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

const IDE_DEFAULT_QUERY = `# Welcome to the Notify Desk API. The Docs panel describes every type and field.
# 1. Run Login (demo admin: admin@demo.test / demo-password): press Run and pick Login.
# 2. In the Headers tab below, enter {"Authorization": "Bearer <the token from step 1>"}.
# 3. Run OpenTickets; or run TicketChanges and keep it open: ticket changes arrive live.

mutation Login {
  login(email: "admin@demo.test", password: "demo-password") { token expiresAt user { name role } }
}

query OpenTickets {
  tickets(first: 10, filter: { statuses: [OPEN, ASSIGNED, IN_PROGRESS] }, orderBy: { field: CREATED_AT, direction: DESC }) {
    totalCount
    edges { node { id reference subject priority status resolutionDueAt assignee { name } } }
  }
}

subscription TicketChanges {
  ticketChanged { kind ticket { reference subject status priority assignee { name } } }
}
`;

export async function startApiServer(options: ApiOptions): Promise<ApiServer> {
  const { config, schema, services, dataSource, logger } = options;
  const production = config.nodeEnv === 'production';
  const app = express();
  app.disable('x-powered-by');
  // API answers are per caller and never revalidated: hashing each body for an ETag is waste.
  app.set('etag', false);
  if (config.trustProxyHops > 0) app.set('trust proxy', config.trustProxyHops);
  const httpServer = createServer(app);
  // Every request has an id: the caller's X-Request-Id when it is sane, or a new one; it is
  // answered in the response and bound to every log line about the request.
  app.use((req, res, next) => {
    const given = req.header('x-request-id');
    const id = given && /^[A-Za-z0-9._:-]{1,128}$/.test(given) ? given : randomUUID();
    req.headers['x-request-id'] = id;
    res.setHeader('X-Request-Id', id);
    next();
  });

  const formatError = createErrorFormatter(logger, production);
  // graphql-ws bypasses Apollo, so its errors get the same formatting here.
  const formatErrors = (errors: readonly GraphQLError[]) =>
    errors.map((error) => {
      const formatted = formatError(error.toJSON(), error);
      return new GraphQLError(formatted.message, {
        nodes: error.nodes,
        source: error.source,
        positions: error.positions,
        path: error.path,
        extensions: formatted.extensions,
      });
    });

  const wsServer = new WebSocketServer({ server: httpServer, path: '/graphql' });
  const wsCleanup = useServer<Record<string, unknown>, { principal?: Principal; operations?: Map<string, WsOperation> }>(
    {
      schema,
      context: (ctx): Context => createContext(services, ctx.extra.principal ?? null),
      validate: (schemaToCheck, document) => validate(schemaToCheck, document, [...specifiedRules, ...QUERY_LIMIT_RULES]),
      // A bad or missing token is refused at connect: graphql-ws closes with 4403.
      onError: (_ctx, _id, _payload, errors) => formatErrors(errors),
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors ? { ...result, errors: formatErrors(result.errors) } : result,
      onOperation: (ctx, id, payload) => {
        wsSubscriptions.inc();
        const operation = { requestId: randomUUID(), started: performance.now(), name: payload.operationName ?? null };
        (ctx.extra.operations ??= new Map()).set(id, operation);
        logger.info('graphql-ws operation started', wsFields(ctx.extra.principal, operation));
      },
      onComplete: (ctx, id) => {
        wsSubscriptions.dec();
        const operation = ctx.extra.operations?.get(id);
        if (!operation) return;
        ctx.extra.operations!.delete(id);
        logger.info('graphql-ws operation ended', {
          ...wsFields(ctx.extra.principal, operation),
          durationMs: Math.round(performance.now() - operation.started),
        });
      },
      onConnect: async (ctx) => {
        const params = ctx.connectionParams ?? {};
        const token = bearerToken(params.authorization ?? params.Authorization);
        if (!token) return false;
        try {
          const { expiresAt, ...principal } = await services.auth.authenticate(token);
          ctx.extra.principal = principal;
          // Sockets stay open for hours: close this one when its token expires, so the
          // client reconnects with a fresh token instead of listening on an expired one.
          const remaining = Math.min(expiresAt.getTime() - services.clock.now().getTime(), MAX_TIMER_MS);
          const timer = setTimeout(() => ctx.extra.socket.close(CLOSE_TOKEN_EXPIRED, 'Token expired'), Math.max(remaining, 0));
          timer.unref();
          ctx.extra.socket.once('close', () => clearTimeout(timer));
          wsSockets.inc();
          ctx.extra.socket.once('close', () => wsSockets.dec());
          return true;
        } catch {
          return false;
        }
      },
    },
    wsServer,
  );

  const apollo = new ApolloServer<Context>({
    schema,
    formatError,
    validationRules: QUERY_LIMIT_RULES,
    parseOptions: { maxTokens: QUERY_LIMITS.tokens },
    includeStacktraceInErrorResponses: !production,
    introspection: true,
    // Apollo's CSRF guard refuses a GET (or a "simple" POST) unless it carries a header a
    // cross-site form or <img> cannot send. Credentials here are bearer tokens only (no
    // cookies), and a cross-origin request with Authorization is always preflighted: so an
    // authenticated GET query, as urql and graphql-request send them, is let through.
    csrfPrevention: { requestHeaders: ['x-apollo-operation-name', 'apollo-require-preflight', 'authorization'] },
    // The process owns shutdown (src/main.ts): Apollo must not race it with its own signal handlers.
    stopOnTerminationSignals: false,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: config.shutdownTimeoutMs }),
      ApolloServerPluginLandingPageDisabled(),
      // Answers are per principal and never HTTP-cached; without this, Apollo wraps every
      // field's resolver to collect cache hints nobody reads.
      ApolloServerPluginCacheControlDisabled(),
      requireAuthentication({ introspection: config.introspection }),
      operationObserver(logger),
      { serverWillStart: async () => ({ drainServer: async () => void (await wsCleanup.dispose()) }) },
    ],
  });
  await apollo.start();

  const ide = ruruHTML({
    endpoint: '/graphql',
    subscriptionEndpoint: '/graphql',
    staticPath: IDE_STATIC_PATH,
    clientConfig: {
      defaultQuery: IDE_DEFAULT_QUERY,
      // No placeholder: a header every request sends must be a real token or nothing.
      initialHeaders: '',
    } as RuruServerConfig['clientConfig'],
  });
  const wantsHtml = (req: Request) => req.method === 'GET' && req.accepts(['application/json', 'text/html']) === 'text/html';

  if (config.ide) {
    app.use(serveStatic(IDE_STATIC_PATH));
    app.get('/', (_req, res) => void res.type('html').send(ide));
  }
  // Browsers ask for it on every IDE load; no icon is not an error.
  app.get('/favicon.ico', (_req, res) => void res.status(204).end());
  app.use('/webhooks', createWebhookRouter(services, { ...config, publicUrl: config.completions.publicUrl }, logger));
  app.use('/v1', createIngestionRouter(services, logger));
  app.use('/c', createCompletionPageRouter(services, logger));
  // Browsers PUT uploads and fetch files from the frontend's origin: the same CORS rules as /graphql.
  app.use(
    '/files',
    cors<cors.CorsRequest>({ origin: config.corsOrigins === '*' ? '*' : config.corsOrigins }),
    createFileRouter(services, logger),
  );
  app.use(createCampaignLinkRouter(services, logger));
  app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  app.get('/metrics', metricsRoute(dataSource, logger, config.metricsToken));
  app.get('/readyz', async (_req, res: Response) => {
    const checks = await databaseReady(dataSource);
    const ready = checks.database && checks.migrations;
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks });
  });
  app.use(
    '/graphql',
    (req, res, next) => (config.ide && wantsHtml(req) ? void res.type('html').send(ide) : next()),
    cors<cors.CorsRequest>({ origin: config.corsOrigins === '*' ? '*' : config.corsOrigins }),
    requestTimeout(config.requestTimeoutMs),
    // Room for a bulk import of 10,000 rows (about 3 MB); anything bigger is refused before parsing.
    express.json({ limit: '8mb' }),
    expressMiddleware(apollo, {
      context: async ({ req }): Promise<Context> => {
        const { principal, apiKey, error } = await principalOf(req, services);
        const idempotencyKey = req.headers['idempotency-key'];
        return createContext(
          services,
          principal,
          req.ip,
          error,
          apiKey,
          typeof idempotencyKey === 'string' ? idempotencyKey : undefined,
        );
      },
    }),
  );

  // Errors outside GraphQL execution (bodies that are not JSON or too large, bugs in a
  // route) answer JSON in GraphQL's shape, never the framework's HTML page or a stack.
  app.use((error: unknown, req: Request, res: Response, _next: express.NextFunction) => {
    // Already answered (a request timeout, then the late operation): nothing to add.
    if (res.headersSent) return;
    const { status, message, code } = httpError(error);
    if (status >= 500) logger.error('request failed', { error, path: req.path });
    res.status(status).json({ errors: [{ message, extensions: { code } }] });
  });

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.port, config.host, () => resolve());
  });
  const address = httpServer.address() as AddressInfo;
  const shownHost = ['0.0.0.0', '::', '127.0.0.1', '::1'].includes(config.host) ? 'localhost' : config.host;
  const url = `http://${shownHost}:${address.port}`;

  return {
    httpServer,
    url,
    stop: async () => {
      await apollo.stop();
    },
  };
}

/**
 * Counts and times every HTTP GraphQL operation by name (bounded), type and outcome, and
 * logs one line for it: request id, tenant and user, operation, outcome and duration.
 */
function operationObserver(logger: Logger): ApolloServerPlugin<Context> {
  return {
    async requestDidStart({ request, contextValue }) {
      const started = performance.now();
      return {
        async willSendResponse({ operation, operationName, response, document }) {
          const code = answeredCode(response.body);
          // A query that failed validation has no resolved operation: its name and type are
          // read from the parsed document (the only one in it, or the one the request named).
          const named =
            operation ??
            document?.definitions.find(
              (definition): definition is OperationDefinitionNode =>
                definition.kind === Kind.OPERATION_DEFINITION &&
                (!request.operationName || definition.name?.value === request.operationName),
            );
          const labels = {
            operation: operationLabel(operationName ?? named?.name?.value),
            type: named?.operation ?? 'unknown',
            outcome: /^[A-Z_]{1,40}$/.test(code) || code === 'ok' ? code : 'error',
          };
          const seconds = (performance.now() - started) / 1000;
          const principal = contextValue.principal;
          const counted = { ...labels, ...tenantLabel(principal?.tenantId ?? contextValue.apiKey?.tenantId) };
          graphqlOperations.inc(counted);
          graphqlDuration.observe(counted, seconds);
          logger.info('graphql operation', {
            requestId: request.http?.headers.get('x-request-id'),
            tenantId: principal?.tenantId ?? contextValue.apiKey?.tenantId,
            userId: principal?.kind === 'staff' ? principal.userId : undefined,
            contactId: principal?.kind === 'customer' ? principal.contactId : undefined,
            operation: operationName ?? named?.name?.value ?? null,
            type: labels.type,
            outcome: labels.outcome,
            durationMs: Math.round(seconds * 1000),
          });
        },
      };
    },
  };
}

/**
 * The outcome as the client reads it: the code of the first error in the answer, after the
 * formatter gave every error its code (the raw errors a plugin sees carry none yet for a
 * domain error, so they used to be counted as INTERNAL_SERVER_ERROR).
 */
export function answeredCode(body: GraphQLResponse['body']): string {
  const errors = body.kind === 'single' ? body.singleResult.errors : body.initialResult.errors;
  return errors?.length ? String(errors[0].extensions?.code ?? 'INTERNAL_SERVER_ERROR') : 'ok';
}

/** A graphql-ws operation in flight: its own request id, start and name, for its log lines. */
interface WsOperation {
  requestId: string;
  started: number;
  name: string | null;
}

function wsFields(principal: Principal | undefined, operation: WsOperation): Record<string, unknown> {
  return {
    requestId: operation.requestId,
    tenantId: principal?.tenantId,
    userId: principal?.kind === 'staff' ? principal.userId : undefined,
    contactId: principal?.kind === 'customer' ? principal.contactId : undefined,
    operation: operation.name,
  };
}

/**
 * Answers a GraphQL request that is still running after `ms` with REQUEST_TIMEOUT (503),
 * so a client is never left hanging on a slow query; the statement timeout then frees its
 * database connection. When the operation answers later, writing fails (headers sent) and
 * the error handler below drops it.
 */
function requestTimeout(ms: number): express.RequestHandler {
  return (_req, res, next) => {
    if (ms <= 0) return next();
    const timer = setTimeout(() => {
      if (res.headersSent) return;
      res.status(503).json({
        errors: [{ message: `The request took longer than ${ms} ms and was stopped`, extensions: { code: 'REQUEST_TIMEOUT' } }],
      });
    }, ms);
    res.once('finish', () => clearTimeout(timer));
    res.once('close', () => clearTimeout(timer));
    next();
  };
}

/** What a failed request answers: the body parser's own errors are the client's; anything else is ours. */
function httpError(error: unknown): { status: number; message: string; code: string } {
  const type = (error as { type?: unknown } | null)?.type;
  if (type === 'entity.parse.failed') return { status: 400, message: 'The request body is not valid JSON', code: 'BAD_REQUEST' };
  if (type === 'entity.too.large') {
    return { status: 413, message: 'The request body is larger than this endpoint accepts', code: 'PAYLOAD_TOO_LARGE' };
  }
  if (typeof type === 'string' && type.startsWith('encoding.')) {
    return { status: 415, message: 'The request body uses an encoding the server does not accept', code: 'BAD_REQUEST' };
  }
  return { status: 500, message: 'Something went wrong on our side; it has been logged', code: 'INTERNAL_SERVER_ERROR' };
}

/**
 * Who sends an HTTP request: a staff or customer token, or a machine client's API key;
 * none without a header; for a header that is not valid, none and the reason
 * (operations that need a principal report it).
 */
async function principalOf(
  req: Request,
  services: Services,
): Promise<{ principal: Principal | null; apiKey?: ApiKeyPrincipal; error?: Error }> {
  const header = req.headers.authorization;
  if (header === undefined || header.trim() === '') return { principal: null };
  const token = bearerToken(header);
  if (!token) return { principal: null, error: new Error('The Authorization header must be "Bearer <token>"') };
  try {
    if (ApiKeyService.isApiKey(token)) return { principal: null, apiKey: await services.apiKeys.authenticate(token) };
    return { principal: await services.auth.authenticate(token) };
  } catch (error) {
    return { principal: null, error: error instanceof DomainError ? error : new Error('The access token is invalid') };
  }
}
