// first: mqtt-packet's loggers are created when mqtt / aedes load (quiet-packet-debug.ts)
import './quiet-packet-debug.js';
import { createServer, type Server, type Socket } from 'node:net';
import { Aedes, type AuthenticateHandler, type AuthorizePublishHandler } from 'aedes';
import { EdgeError } from '../errors.js';

/**
 * The embedded MQTT broker (aedes) used when no external broker URL is configured, so a fresh
 * machine runs end to end with `npm start`. Sockets use TCP_NODELAY: a QoS 1 window with Nagle
 * on waits on delayed ACKs (tens of ms per PUBACK round trip).
 */
export interface EmbeddedBroker {
  aedes: Aedes;
  host: string;
  port: number;
  url: string;
  close(): Promise<void>;
}

export async function startEmbeddedBroker(opts: { host: string; port: number; authorizePublish?: AuthorizePublishHandler; authenticate?: AuthenticateHandler }): Promise<EmbeddedBroker> {
  const aedes = await Aedes.createBroker({
    ...(opts.authorizePublish ? { authorizePublish: opts.authorizePublish } : {}),
    ...(opts.authenticate ? { authenticate: opts.authenticate } : {}),
  });
  const sockets = new Set<Socket>();
  const server: Server = createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    aedes.handle(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      aedes.close();
      if (e.code === 'EADDRINUSE') {
        reject(new EdgeError('EDGE_PORT_IN_USE', `the embedded MQTT broker cannot listen on ${opts.host}:${opts.port}: the port is in use (another broker such as Mosquitto?). Point mqtt.url or --mqtt-url at that broker (e.g. mqtt://${opts.host}:${opts.port}) or set mqtt.embedded.port to a free port.`));
      } else reject(new EdgeError('EDGE_PORT_IN_USE', `the embedded MQTT broker cannot listen on ${opts.host}:${opts.port}: ${e.message}`));
    });
    server.listen(opts.port, opts.host, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  const hostForUrl = opts.host === '0.0.0.0' ? '127.0.0.1' : opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    aedes,
    host: opts.host,
    port,
    url: `mqtt://${hostForUrl}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => aedes.close(() => resolve()));
      }),
  };
}
