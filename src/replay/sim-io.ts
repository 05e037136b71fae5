import { connect, type Socket } from 'node:net';
import { SPLIT_INVALID, SPLIT_NEED_MORE, type FramePart, type SimSocket, type SimulationIo } from '../protocol/types.js';

/**
 * Sockets for protocol simulations (`ProtocolModule.simulations`, run by `edge-channel replay` with a
 * session file): plain TCP connections whose inbound bytes are cut into frames with the protocol's
 * own splitter, so a simulated device reads what the server sends frame by frame.
 */
export function simulationIo(target: { host: string; port: number }, log: (line: string) => void): SimulationIo {
  return { target, connect: openSimSocket, log };
}

export async function openSimSocket(host: string, port: number): Promise<SimSocket> {
  const socket: Socket = await new Promise((resolve, reject) => {
    const s = connect({ host, port, noDelay: true });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
  let buf: Buffer = Buffer.alloc(0);
  let closed = false;
  let waiter: (() => void) | null = null;
  socket.on('data', (d: Buffer) => {
    buf = buf.length ? Buffer.concat([buf, d]) : d;
    waiter?.();
  });
  socket.on('error', () => {});
  socket.on('close', () => {
    closed = true;
    waiter?.();
  });
  const take = (split: FramePart['split']): Uint8Array | null => {
    for (;;) {
      const n = split(buf, 0, buf.length);
      if (n === SPLIT_NEED_MORE || n === SPLIT_INVALID) return null;
      if (n < 0) {
        buf = buf.subarray(-n);
        continue;
      }
      const f = Uint8Array.from(buf.subarray(0, n));
      buf = buf.subarray(n);
      return f;
    }
  };
  return {
    get closed() {
      return closed;
    },
    write: (b) => {
      if (!closed) socket.write(b);
    },
    drain: () => new Promise<void>((r) => (socket.writableLength === 0 ? r() : socket.once('drain', () => r()))),
    close: () => socket.destroy(),
    nextFrame(split, timeoutMs) {
      return new Promise((resolve) => {
        const finish = (f: Uint8Array | null) => {
          clearTimeout(timer);
          waiter = null;
          resolve(f);
        };
        const timer = setTimeout(() => finish(take(split)), timeoutMs);
        const check = () => {
          const f = take(split);
          if (f) finish(f);
          else if (closed) finish(null);
        };
        waiter = check;
        check();
      });
    },
  };
}
