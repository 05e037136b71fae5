import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of the broker that can be cut: while cut, existing connections are
 * destroyed and new ones refused at once. The channel sees its broker go away and come back
 * while the broker itself (and the subscriber connected to it directly) keeps running.
 */
export interface CutProxy {
  url: string;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startCutProxy(target: { host: string; port: number }): Promise<CutProxy> {
  let down = false;
  const sockets = new Set<Socket>();
  const server: Server = createServer({ noDelay: true }, (client) => {
    if (down) {
      client.destroy();
      return;
    }
    const upstream = connect({ host: target.host, port: target.port, noDelay: true });
    sockets.add(client);
    sockets.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  const port = typeof a === 'object' && a ? a.port : 0;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    cut() {
      down = true;
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    restore() {
      down = false;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
