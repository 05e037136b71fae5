import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { EdgeError } from '../errors.js';
import { projectRoot } from '../util/paths.js';
import { TcpInbox } from './tcp-inbox.js';
import { SPLIT_INVALID, SPLIT_NEED_MORE, type FramePart, type SimSocket, type SimulationIo } from '../protocol/types.js';

/**
 * Sockets for protocol simulations (`ProtocolModule.simulations`, run by `edge-channel replay` with a
 * session file): plain TCP connections whose inbound bytes are cut into frames with the protocol's
 * own splitter, so a simulated device reads what the server sends frame by frame.
 */
export function simulationIo(target: { host: string; port: number }, log: (line: string) => void, baseDir?: string): SimulationIo {
  return {
    target,
    connect: openSimSocket,
    log,
    // a session's files: next to the session file, else from the project root (fixtures/video/...)
    readFile: async (path) => {
      const tries = isAbsolute(path) ? [path] : [...(baseDir ? [resolve(baseDir, path)] : []), resolve(projectRoot(), path)];
      for (const p of tries) if (existsSync(p)) return new Uint8Array(await readFile(p));
      throw new EdgeError('EDGE_CLI_USAGE', `the session names ${path}, which is not at ${tries.join(' or ')}`);
    },
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  };
}

export async function openSimSocket(host: string, port: number): Promise<SimSocket> {
  const inbox = await TcpInbox.open(host, port);
  const take = (split: FramePart['split']): Uint8Array | null => {
    for (;;) {
      const n = split(inbox.buf, 0, inbox.buf.length);
      if (n === SPLIT_NEED_MORE || n === SPLIT_INVALID) return null;
      if (n < 0) {
        inbox.take(-n);
        continue;
      }
      return Uint8Array.from(inbox.take(n));
    }
  };
  return {
    get closed() {
      return inbox.closed;
    },
    write: (b) => {
      if (!inbox.closed) inbox.socket.write(b);
    },
    drain: () => new Promise<void>((r) => (inbox.socket.writableLength === 0 ? r() : inbox.socket.once('drain', () => r()))),
    close: () => inbox.socket.destroy(),
    nextFrame(split, timeoutMs) {
      return new Promise((resolve) => {
        const finish = (f: Uint8Array | null) => {
          clearTimeout(timer);
          inbox.onChange = null;
          resolve(f);
        };
        const timer = setTimeout(() => finish(take(split)), timeoutMs);
        const check = () => {
          const f = take(split);
          if (f) finish(f);
          else if (inbox.closed) finish(null);
        };
        inbox.onChange = check;
        check();
      });
    },
  };
}
