/**
 * Small probes the benches and the integration tests share: a free loopback port to hand to a
 * broker or a channel started next, and whether a Redis answers PING.
 */
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

/** A free loopback TCP port (closed again; the caller binds it next). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Why no Redis answers PING at `url` within a second (the error's message), or null when one does.
 * A PING, not just a TCP connect, so a port held by something else does not count as Redis.
 */
export async function redisPingError(url: string): Promise<string | null> {
  const r = new Redis(url, { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => {});
  try {
    await r.connect();
    await r.ping();
    return null;
  } catch (e) {
    return (e as Error).message;
  } finally {
    r.disconnect();
  }
}
