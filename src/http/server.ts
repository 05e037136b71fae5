import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import { EdgeError } from '../errors.js';
import type { MediaCatalog, MediaEntry } from '../media/media-catalog.js';
import type { MediaLinks } from '../media/media-links.js';
import type { Readiness } from '../ops/readiness.js';
import { sendError } from './errors.js';
import { liveRoutes, type LiveSource } from './live-routes.js';
import { mediaRoutes } from './media-routes.js';
import { retentionRoutes, type RetentionRoutesOptions } from './retention-routes.js';
import { stateRoutes, type StateSources } from './state-routes.js';
import { consoleRoutes } from './console-routes.js';
import { consoleApiRoutes, type ConsoleSources } from './console-api-routes.js';
import { OPENAPI } from './openapi.js';
import type { Scope, TokenSet } from './tokens.js';

export interface HttpServerOptions {
  host: string;
  port: number;
  /** Bind the socket in this process even in a cluster worker (one of several processes: only process 0 listens). */
  exclusive?: boolean;
  readiness: () => Readiness | Promise<Readiness>;
  metrics: { text(): Promise<string>; contentType: string };
  /** Stored files: the signed /media/{id} links always, the /api/v1/media routes with tokens. */
  media?: { catalog: MediaCatalog; links: MediaLinks; maxPropertiesBytes: number } | undefined;
  /** The API's bearer tokens (null: no API; health, metrics and signed links only). */
  tokens: TokenSet | null;
  /** A file was deleted over the API (the owner publishes the `deleted` media event). */
  deleted(entry: MediaEntry, reason: string): void;
  /** Per-device retention over the API (with the media routes). */
  retention?: Omit<RetentionRoutesOptions, 'scopeOf'> | undefined;
  /** The read APIs of instance, channel, device, command and asset state. */
  state?: StateSources | undefined;
  /** Live video (with the API): the stream route and the player page. */
  live?: LiveSource | undefined;
  /** The web console's routes (live feed, device and command lists, commands, asset requests); with tokens, the console at `/`. */
  console?: ConsoleSources | undefined;
}

export interface HttpServer {
  host: string;
  port: number;
  close(): Promise<void>;
}

const OPS = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * The HTTP listener (config `http`), on fastify (README "HTTP API" says why): health and metrics for
 * orchestrators and Prometheus, and, with `http.tokens`, the API.
 *
 *   GET /healthz   200 while the process serves requests (liveness)
 *   GET /readyz    200 when devices can be served; 503 with the reasons otherwise
 *   GET /metrics   Prometheus text format (src/ops/metrics.ts)
 *   /api/v1/...    bearer token (read or full scope); typed JSON errors with the request id
 *   /media/{id}    signed download links (no token)
 *   /, /console/*  the web console's files (with the API; its requests carry a token)
 */
export async function startHttpServer(o: HttpServerOptions): Promise<HttpServer> {
  const app: FastifyInstance = Fastify({
    logger: false,
    // a scraper that keeps its connection open must not hold a shutdown
    keepAliveTimeout: 5000,
    forceCloseConnections: true,
    bodyLimit: 64 * 1024,
    genReqId: () => randomUUID(),
  });
  const scopes = new WeakMap<FastifyRequest, Scope>();
  app.addHook('onRequest', async (req, reply) => {
    const path = req.url.split('?')[0]!;
    if (OPS.has(path) && req.method !== 'GET' && req.method !== 'HEAD') return reply.code(405).header('allow', 'GET, HEAD').type('text/plain').send('method not allowed\n');
    if (!path.startsWith('/api/') || path === '/api/v1/openapi.json') return;
    if (!o.tokens) throw new EdgeError('EDGE_HTTP_NOT_FOUND', 'the API is off: set http.tokens to turn it on');
    const auth = req.headers.authorization;
    const m = typeof auth === 'string' ? /^Bearer\s+(\S+)$/i.exec(auth) : null;
    const scope = m ? o.tokens.scopeOf(m[1]!) : null;
    if (!scope) throw new EdgeError('EDGE_HTTP_UNAUTHORIZED', m ? 'the bearer token is not one of http.tokens' : 'send Authorization: Bearer <token> (config http.tokens)');
    scopes.set(req, scope);
  });
  app.setErrorHandler((e, req, reply) => sendError(req, reply, fastifyError(e)));
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0]!;
    if (path.startsWith('/api/') || path.startsWith('/media/')) return sendError(req, reply, new EdgeError('EDGE_HTTP_NOT_FOUND', `no route ${req.method} ${path.slice(0, 120)}`));
    return reply.code(404).type('text/plain').send(`not found: /healthz, /readyz, /metrics, /api/v1/openapi.json${o.tokens ? ', / (the web console)' : ''}\n`);
  });

  app.get('/healthz', async (_req, reply) => reply.type('text/plain').send('ok\n'));
  app.get('/readyz', async (_req, reply) => {
    const r = await o.readiness();
    return reply.code(r.ready ? 200 : 503).type('application/json').send(JSON.stringify(r) + '\n');
  });
  app.get('/metrics', async (_req, reply) => {
    try {
      return reply.type(o.metrics.contentType).send(await o.metrics.text());
    } catch (e) {
      return reply.code(500).type('text/plain').send(`metrics failed: ${(e as Error).message}\n`);
    }
  });
  app.get('/api/v1/openapi.json', async () => OPENAPI);
  if (o.media) mediaRoutes(app, { ...o.media, deleted: o.deleted, scopeOf: (req) => scopes.get(req) ?? null });
  if (o.retention) retentionRoutes(app, { ...o.retention, scopeOf: (req) => scopes.get(req) ?? null });
  if (o.state) stateRoutes(app, o.state);
  if (o.live) liveRoutes(app, o.live);
  if (o.console && o.tokens) {
    const hub = o.console.hub;
    consoleApiRoutes(app, o.console, (req) => scopes.get(req) ?? null);
    consoleRoutes(app);
    app.addHook('onClose', async () => hub.close());
  }

  try {
    await app.listen({ host: o.host, port: o.port, ...(o.exclusive ? { exclusive: true } : {}) });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new EdgeError('EDGE_PORT_IN_USE', `http cannot listen on ${o.host}:${o.port}: ${err.code === 'EADDRINUSE' ? 'the port is in use; set http.port to a free port' : err.message}`);
  }
  const a = app.server.address();
  return { host: o.host, port: typeof a === 'object' && a ? a.port : o.port, close: () => app.close() };
}

/** Fastify's own errors (a body that is not JSON, too large) as the API's typed ones. */
function fastifyError(e: unknown): unknown {
  if (e instanceof EdgeError) return e;
  const f = e as { statusCode?: number; message?: string };
  if (typeof f.statusCode === 'number' && f.statusCode < 500) return new EdgeError('EDGE_HTTP_BAD_REQUEST', f.message ?? 'bad request');
  return e;
}
