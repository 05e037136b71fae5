/**
 * A yardstick for latency on a loaded box: a 16-byte ping that passes through two otherwise idle
 * processes and back (pinger → relay → echo → relay → pinger), stop-and-wait, one every `intervalMs`.
 *
 * A live device's frame takes the same shape of path through the channel (device → channel →
 * broker → channel → device), with real work at every stop. The probe does no work at all, so its
 * round trip during an after-load storm is what the box's scheduling alone costs two hops: a floor
 * under any channel's live latency there, measured in the same run (after-load-bench).
 */
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

const PING_BYTES = 16;

/** Answers every byte it gets. Resolves with its port. */
export function startEcho(): Promise<{ port: number; close(): void }> {
  const server = createServer({ noDelay: true }, (s) => {
    s.on('data', (b) => s.write(b));
    s.on('error', () => s.destroy());
  });
  return listen(server);
}

/** Forwards each connection to `toPort` and the answers back. Resolves with its own port. */
export function startRelay(toPort: number): Promise<{ port: number; close(): void }> {
  const server = createServer({ noDelay: true }, (s) => {
    const up = createConnection({ host: '127.0.0.1', port: toPort, noDelay: true });
    s.on('data', (b) => up.write(b));
    up.on('data', (b) => s.write(b));
    const end = (): void => {
      s.destroy();
      up.destroy();
    };
    s.on('error', end);
    up.on('error', end);
    s.on('close', end);
    up.on('close', end);
  });
  return listen(server);
}

function listen(server: Server): Promise<{ port: number; close(): void }> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve({ port: (server.address() as AddressInfo).port, close: () => server.close() }));
  });
}

export interface Pinger {
  /** Every answered ping: epoch ms it was sent, then its round trip (ms). */
  stop(): [number, number][];
}

/** Pings `port` every `intervalMs` (the next one waits for the answer, as a stop-and-wait device does). */
export async function startPinger(port: number, intervalMs: number): Promise<Pinger> {
  const s: Socket = await new Promise((resolve, reject) => {
    const c = createConnection({ host: '127.0.0.1', port, noDelay: true }, () => resolve(c));
    c.once('error', reject);
  });
  const samples: [number, number][] = [];
  const ping = Buffer.alloc(PING_BYTES, 0x5a);
  let sentAt = 0;
  let sentEpoch = 0;
  let got = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  const send = (): void => {
    timer = null;
    if (stopped) return;
    got = 0;
    sentEpoch = Date.now();
    sentAt = performance.now();
    s.write(ping);
  };
  s.on('data', (b) => {
    got += b.length;
    if (got < PING_BYTES) return;
    samples.push([sentEpoch, performance.now() - sentAt]);
    const wait = Math.max(0, Math.ceil(intervalMs - (performance.now() - sentAt)));
    timer = setTimeout(send, wait);
  });
  s.on('error', () => {});
  send();
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      s.destroy();
      return samples;
    },
  };
}
