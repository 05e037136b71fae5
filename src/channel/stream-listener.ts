import { createServer, type Server, type Socket } from 'node:net';
import { IP_FILTER_CLOSE_CODES } from '../guard/ip-filter.js';
import { CLOSE_CODES } from '../net/close-codes.js';
import type { MediaStreamPacket, MediaStreamSpec } from '../protocol/types.js';
import type { ListenerHost, ListenMode } from './listener-host.js';
import { listen } from './tcp-listener.js';

/**
 * A stream connection as the video feature sees it: its packets in arrival order, then its end.
 * `close` ends it from the server's side (the stream was stopped, or it broke a bound).
 */
export interface MediaStreamConnection {
  readonly id: number;
  readonly peer: string;
  close(reason: string): void;
  /** Stops reading (the consumer is behind: e.g. ffmpeg has not taken the last chunk yet) and resumes. */
  pause(): void;
  resume(): void;
}

export interface MediaStreamHandler {
  packets(packets: MediaStreamPacket[], atMs: number): void;
  /** Garbage skipped (counted by the cutter; bounded by the listener). */
  garbage(errors: Error[]): void;
  closed(reason: string): void;
}

/** Opens a handler per stream connection (the video feature; ChannelHooks.mediaStream). */
export type MediaStreamOpen = (channelId: string, conn: MediaStreamConnection) => MediaStreamHandler;

export interface StreamListenerLimits {
  maxConnections: number;
  /** A stream that sends nothing this long is closed (a camera that hung without closing). */
  idleTimeoutS: number;
  /** Garbage skips tolerated per connection before it is closed as not a stream. */
  maxGarbage: number;
}

let nextId = 1;

/**
 * The channel's JT/T 1078 stream port (`stream_tcp_port`): cameras connect here when a 0x9101 or
 * 0x9201 names this server. Not a protocol part: video is not decoded in the pool (bulky, long-lived,
 * no ACKs), it is cut on the main thread by the protocol's `mediaStream` cutter and handed to the
 * video feature. The same guards as every listener: the channel's IP white/blacklist on accept, a cap
 * on stream connections, an idle deadline, a bound on garbage, and memory bounded by the cutter (one
 * incomplete packet) and by pausing the socket while the consumer is behind.
 */
export class StreamListener {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(
    private readonly host: ListenerHost,
    private readonly spec: MediaStreamSpec,
    private readonly open: MediaStreamOpen,
    private readonly limits: StreamListenerLimits,
  ) {}

  get connections(): number {
    return this.sockets.size;
  }

  async start(bindHost: string, port: number, mode?: ListenMode): Promise<void> {
    const server = createServer({ noDelay: true, pauseOnConnect: true }, (s) => this.accept(s));
    await listen(server, port, bindHost, `channel ${this.host.id} stream`, mode);
    this.server = server;
    const a = server.address();
    this.port = typeof a === 'object' && a ? a.port : port;
  }

  stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    const s = this.server;
    return s ? new Promise<void>((r) => s.close(() => r())) : Promise.resolve();
  }

  private accept(socket: Socket): void {
    const host = this.host;
    const address = socket.remoteAddress ?? '';
    const peer = `${address || '?'}:${socket.remotePort ?? 0}`;
    const nowMs = host.now();
    if (host.stopping) {
      socket.destroy();
      return;
    }
    const verdict = host.guards.checkIp(address);
    if (verdict !== 'allow') {
      socket.destroy();
      host.guards.count(verdict, address, 'tcp');
      if (host.guards.mayLogRejection(nowMs)) host.events.rejected(peer, 'tcp', nowMs, IP_FILTER_CLOSE_CODES[verdict], 'stream port');
      return;
    }
    if (this.sockets.size >= this.limits.maxConnections) {
      socket.destroy();
      host.events.rejected(peer, 'tcp', nowMs, CLOSE_CODES.CONNECTION_LIMIT, `stream port: ${this.limits.maxConnections} stream connections`);
      host.log.warn({ peer, max: this.limits.maxConnections }, 'EDGE_CONNECTION_LIMIT: stream connection refused');
      return;
    }
    this.sockets.add(socket);
    const cutter = this.spec.cutter();
    let garbage = 0;
    let closedWhy: string | null = null;
    const conn: MediaStreamConnection = {
      id: nextId++,
      peer,
      close: (reason) => {
        closedWhy ??= reason;
        socket.destroy();
      },
      pause: () => socket.pause(),
      resume: () => socket.resume(),
    };
    const handler = this.open(host.id, conn);
    socket.setTimeout(this.limits.idleTimeoutS * 1000, () => conn.close(`no stream data for ${this.limits.idleTimeoutS} s`));
    socket.on('data', (chunk: Buffer) => {
      const r = cutter.push(chunk);
      if (r.errors.length) {
        garbage += r.errors.length;
        handler.garbage(r.errors);
        if (garbage > this.limits.maxGarbage) {
          conn.close(`not a media stream: ${garbage} stretches of garbage (${r.errors[0]!.message})`);
          return;
        }
      }
      if (r.packets.length) handler.packets(r.packets, host.now());
    });
    socket.on('error', (e: NodeJS.ErrnoException) => (closedWhy ??= `socket error ${e.code ?? e.message}`));
    socket.on('close', () => {
      this.sockets.delete(socket);
      const rest = cutter.end();
      if (rest.errors.length) handler.garbage(rest.errors);
      handler.closed(closedWhy ?? 'closed by the camera');
    });
    socket.resume();
  }
}
