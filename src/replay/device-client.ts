import { TcpInbox } from './tcp-inbox.js';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';

/**
 * A simulated device for replay and benchmarks: sends a frame and waits for the exact reply
 * bytes (stop-and-wait, like real trackers). Outcome per frame: acked, mismatch (other bytes),
 * rejected (connection closed or no reply in time).
 */
export type SendOutcome = { kind: 'acked'; latencyMs: number } | { kind: 'mismatch'; got: string; latencyMs: number } | { kind: 'rejected'; reason: string };

export interface DeviceClient {
  send(frame: Uint8Array, expected: Uint8Array | null, timeoutMs: number): Promise<SendOutcome>;
  /** Waits for bytes the server sends on its own (a command, a relayed answer), sending nothing. */
  receive(expected: Uint8Array, timeoutMs: number): Promise<SendOutcome>;
  close(): void;
  readonly closed: boolean;
}

export async function openTcpDevice(host: string, port: number, localAddress?: string): Promise<DeviceClient> {
  const inbox = await TcpInbox.open(host, port, localAddress);
  const receiveFrom = (t0: number, expected: Uint8Array, timeoutMs: number) =>
    awaitReply(t0, expected, timeoutMs, (w) => (inbox.onChange = w), () => (inbox.buf.length >= expected.length ? inbox.take(expected.length) : inbox.closed ? 'closed' : null));
  return {
    get closed() {
      return inbox.closed;
    },
    close: () => inbox.socket.destroy(),
    send(frame, expected, timeoutMs) {
      if (inbox.closed) return Promise.resolve({ kind: 'rejected', reason: 'connection closed' });
      const t0 = performance.now();
      inbox.socket.write(frame);
      if (!expected || expected.length === 0) return Promise.resolve({ kind: 'acked', latencyMs: 0 });
      return receiveFrom(t0, expected, timeoutMs);
    },
    receive(expected, timeoutMs) {
      return receiveFrom(performance.now(), expected, timeoutMs);
    },
  };
}

export async function openUdpDevice(host: string, port: number): Promise<DeviceClient> {
  const sock: UdpSocket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  await new Promise<void>((r) => sock.bind(0, r));
  const inbox: Buffer[] = [];
  let waiter: (() => void) | null = null;
  let closed = false;
  sock.on('message', (m) => {
    inbox.push(m);
    waiter?.();
  });
  return {
    get closed() {
      return closed;
    },
    close: () => {
      closed = true;
      sock.close();
    },
    send(frame, expected, timeoutMs) {
      const t0 = performance.now();
      sock.send(frame, port, host);
      if (!expected || expected.length === 0) return Promise.resolve({ kind: 'acked', latencyMs: 0 });
      return awaitReply(t0, expected, timeoutMs, (w) => (waiter = w), () => inbox.shift() ?? null);
    },
    receive(expected, timeoutMs) {
      return awaitReply(performance.now(), expected, timeoutMs, (w) => (waiter = w), () => inbox.shift() ?? null);
    },
  };
}

/**
 * Waits for one reply: `take` returns the reply bytes when they are complete, 'closed' when none
 * can come any more, or null to keep waiting (it is called again whenever data arrives).
 */
function awaitReply(t0: number, expected: Uint8Array, timeoutMs: number, setWaiter: (w: (() => void) | null) => void, take: () => Buffer | 'closed' | null): Promise<SendOutcome> {
  return new Promise<SendOutcome>((resolve) => {
    const timer = setTimeout(() => finish({ kind: 'rejected', reason: `no reply within ${timeoutMs} ms` }), timeoutMs);
    const finish = (o: SendOutcome) => {
      clearTimeout(timer);
      setWaiter(null);
      resolve(o);
    };
    const check = () => {
      const got = take();
      if (got === null) return;
      if (got === 'closed') return finish({ kind: 'rejected', reason: 'connection closed by the server' });
      const latencyMs = performance.now() - t0;
      finish(Buffer.compare(got, expected) === 0 ? { kind: 'acked', latencyMs } : { kind: 'mismatch', got: got.toString('hex'), latencyMs });
    };
    setWaiter(check);
    check();
  });
}
