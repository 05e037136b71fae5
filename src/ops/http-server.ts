import { createServer, type Server } from 'node:http';
import { EdgeError } from '../errors.js';

/**
 * The optional HTTP listener (config `http`): health for orchestrators and metrics for Prometheus.
 *
 *   GET /healthz   200 while the process serves requests (liveness: restart it if this fails)
 *   GET /readyz    200 when devices can be served: every listener bound and the broker connected
 *                  or the spool accepting messages; 503 with the reasons otherwise (and while
 *                  starting or stopping)
 *   GET /metrics   Prometheus text format (src/ops/metrics.ts)
 *
 * Plain node:http: three read-only routes do not need a framework.
 */
export interface Readiness {
  ready: boolean;
  /** Why not ready (empty when ready). */
  reasons: string[];
}

export interface OpsServerOptions {
  host: string;
  port: number;
  readiness: () => Readiness;
  metrics: { text(): Promise<string>; contentType: string };
}

export interface OpsServer {
  host: string;
  port: number;
  close(): Promise<void>;
}

export async function startOpsServer(o: OpsServerOptions): Promise<OpsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path === '/readyz') {
      const r = o.readiness();
      res.writeHead(r.ready ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(r) + '\n');
    } else if (path === '/metrics') {
      o.metrics.text().then(
        (text) => res.writeHead(200, { 'content-type': o.metrics.contentType }).end(text),
        (e: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${(e as Error).message}\n`),
      );
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: /healthz, /readyz, /metrics\n');
    }
  });
  // a scraper that keeps its connection open must not hold a shutdown
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(new EdgeError('EDGE_PORT_IN_USE', `http (health and metrics) cannot listen on ${o.host}:${o.port}: ${e.code === 'EADDRINUSE' ? 'the port is in use; set http.port to a free port' : e.message}`)),
    );
    server.listen(o.port, o.host, () => resolve());
  });
  const a = server.address();
  return {
    host: o.host,
    port: typeof a === 'object' && a ? a.port : o.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
