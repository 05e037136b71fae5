import { createServer, type ListenOptions, type Server, type Socket } from 'node:net';
import { EdgeError, type ErrorInfo } from '../errors.js';
import { IP_FILTER_CLOSE_CODES } from '../guard/ip-filter.js';
import { CLOSE_CODES } from '../net/close-codes.js';
import { Framer } from '../net/framer.js';
import { parseProxyHeader } from '../net/proxy-protocol.js';
import { peerIp } from '../guard/peer-ip.js';
import type { FramePart } from '../protocol/types.js';
import { cappedHex } from '../util/log.js';
import { DeviceLink } from './device-link.js';
import type { ListenerHost, ListenMode } from './listener-host.js';

/**
 * One TCP port of a channel (its main protocol, or one part of a protocol family): accepts
 * connections after the guards saw their address, gives each a DeviceLink whose io is the socket,
 * cuts the stream into frames and hands them to the channel's pipeline.
 */
export class TcpListener {
  private server: Server | null = null;
  port = 0;

  constructor(
    private readonly host: ListenerHost,
    private readonly part: FramePart,
    /** '' for the protocol's main listener, else the part id. */
    readonly partId: string,
    private readonly maxFrameBytes: number,
  ) {}

  async start(host: string, port: number, mode: ListenMode = SINGLE_PROCESS): Promise<void> {
    // pauseOnConnect: nothing is read from a socket before the guards have seen its address.
    const server = createServer({ noDelay: true, pauseOnConnect: true }, (s) => this.accept(s));
    server.maxConnections = this.host.cfg.max_connections + 1024; // hard OS-level ceiling; the soft cap in accept logs
    await listen(server, port, host, `channel ${this.host.id}${this.partId ? ` part ${this.partId}` : ''} TCP`, mode);
    this.server = server;
    const a = server.address();
    this.port = typeof a === 'object' && a ? a.port : port;
  }

  /** Stops accepting; resolves once the server is closed (after its open sockets are gone). */
  stop(): Promise<void> {
    const s = this.server;
    return s ? new Promise<void>((r) => s.close(() => r())) : Promise.resolve();
  }

  private accept(socket: Socket): void {
    if (this.host.stopping) {
      socket.destroy();
      return;
    }
    if (this.host.cfg.proxy_protocol) this.readProxyHeader(socket);
    else this.admit(socket, socket.remoteAddress ?? '', socket.remotePort ?? 0, null);
  }

  /**
   * proxy_protocol: the connection comes from a load balancer, which writes a PROXY header before
   * the device's bytes. Only a trusted source may send one (anyone else could claim any address);
   * until the header is complete no frame is read, and a missing, malformed or slow header closes
   * the connection with close code 24 and the reason. The device's address from the header then
   * goes through the same guards as a direct connection's.
   */
  private readProxyHeader(socket: Socket): void {
    const host = this.host;
    const from = socket.remoteAddress ?? '';
    const via = `${from || '?'}:${socket.remotePort ?? 0}`;
    if (!from) {
      // reset by the peer before it was accepted (a balancer's probe): no address, nothing to report
      socket.destroy();
      return;
    }
    if (!host.guards.trustedProxy(from)) {
      this.refuseProxy(socket, from, via, `source ${from || '?'} is not in trusted_proxies`);
      return;
    }
    let buf: Buffer = Buffer.alloc(0);
    const done = () => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.off('error', onError);
    };
    const timeoutS = host.cfg.proxy_header_timeout_s;
    const timer = setTimeout(() => {
      done();
      this.refuseProxy(socket, from, via, `no complete PROXY header within ${timeoutS} s (${buf.length} bytes received)`);
    }, timeoutS * 1000);
    timer.unref();
    const onData = (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      const r = parseProxyHeader(buf);
      if (r.kind === 'more') return;
      done();
      socket.pause();
      if (r.kind === 'error') {
        this.refuseProxy(socket, from, via, r.reason, buf);
        return;
      }
      // v1 UNKNOWN / v2 LOCAL (health checks): the spec says to use the connection's own endpoints
      const src = r.source ?? { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
      const rest = buf.subarray(r.consumed);
      this.admit(socket, src.address, src.port, rest.length > 0 ? rest : null, via);
    };
    const onClose = () => {
      done();
      // a load balancer's plain TCP health check connects and closes without a byte: not worth an event
      if (buf.length === 0) host.log.debug({ via }, 'connection closed before its PROXY header');
      else this.refuseProxy(socket, from, via, `closed after ${buf.length} bytes of an incomplete PROXY header`, buf);
    };
    const onError = (e: NodeJS.ErrnoException) => host.log.debug({ via, err: e.code ?? e.message }, 'socket error before the PROXY header');
    socket.on('data', onData);
    socket.on('close', onClose);
    socket.on('error', onError);
    socket.resume();
  }

  /** `from`: the socket's address, kept (a closed socket no longer reports it). */
  private refuseProxy(socket: Socket, from: string, via: string, detail: string, bytes?: Buffer): void {
    const host = this.host;
    const nowMs = host.now();
    socket.destroy();
    host.guards.count('proxy', peerIp(from), 'tcp');
    if (!host.guards.mayLogRejection(nowMs)) return;
    host.events.rejected(via, 'tcp', nowMs, CLOSE_CODES.PROXY_HEADER, detail);
    host.log.warn({ peer: via, reason: detail, ...(bytes ? { hex: cappedHex(bytes) } : {}) }, 'EDGE_PROXY_HEADER: connection refused');
  }

  /**
   * A connection past the PROXY header (when there is one): `address`/`port` are the device's,
   * `first` the device bytes that came with the header, `via` the load balancer's address.
   */
  private admit(socket: Socket, address: string, port: number, first: Buffer | null, via?: string): void {
    const host = this.host;
    const nowMs = host.now();
    const peer = `${address || '?'}:${port}`;
    const verdict = host.guards.checkIp(address);
    if (verdict !== 'allow') {
      socket.destroy();
      host.guards.count(verdict, address, 'tcp');
      if (host.guards.mayLogRejection(nowMs)) host.events.rejected(peer, 'tcp', nowMs, IP_FILTER_CLOSE_CODES[verdict], via ? `via ${via}` : undefined);
      return;
    }
    if (host.connectionCount >= host.cfg.max_connections) {
      socket.destroy();
      host.events.rejected(peer, 'tcp', nowMs, CLOSE_CODES.CONNECTION_LIMIT);
      host.log.warn({ peer, max_connections: host.cfg.max_connections }, 'EDGE_CONNECTION_LIMIT: connection refused');
      return;
    }
    const framer = new Framer(this.part, this.maxFrameBytes);
    const link = new DeviceLink(
      'tcp',
      peer,
      address,
      {
        write: (b) => {
          if (!socket.destroyed) socket.write(b);
        },
        pendingBytes: () => socket.writableLength,
        pause: () => socket.pause(),
        resume: () => socket.resume(),
        end: () => {
          if (socket.destroyed) return;
          socket.destroySoon();
          // a peer that does not take the last bytes would keep the socket (and its buffers) forever
          setTimeout(() => socket.destroy(), host.closeLingerMs).unref();
        },
        destroy: () => socket.destroy(),
      },
      nowMs,
      this.partId,
      host.cfg.max_outbound_bytes,
    );
    link.localAddress = socket.localAddress ?? '';
    link.onOverCap = (l) => host.outboundOverCap(l, () => socket.once('drain', () => host.outboundDrained(l)));
    host.opened(link);
    if (via) host.linkLog(link).debug({ via }, 'device address from the PROXY header');
    socket.setTimeout(host.cfg.idle_timeout_s * 1000, () => host.close(link, CLOSE_CODES.INACTIVITY_TIMEOUT, `no data for ${host.cfg.idle_timeout_s} s`));
    const onData = (chunk: Buffer) => {
      if (link.closing || link.closed) return;
      link.bytesIn += chunk.length;
      // the chunk as read, before framing: a capture holds what a framing bug saw
      link.tap?.inbound(chunk);
      const at = host.now();
      const frames: Buffer[] = [];
      try {
        framer.push(chunk, (f) => frames.push(f));
        host.partialFrame(link, framer.buffered > 0, at);
      } catch (e) {
        if (frames.length) host.pipeline.enqueue(link, frames, at);
        const info: ErrorInfo = e instanceof EdgeError ? e.toInfo() : { code: 'EDGE_FRAME_LENGTH', reason: String(e) };
        host.errorEvent(link, at, info, chunk);
        host.linkLog(link).debug({ code: info.code, hex: cappedHex(chunk) }, 'framing error');
        host.pipeline.fail(link, null, info, CLOSE_CODES.PROTOCOL_VIOLATION);
        return;
      }
      if (frames.length) host.pipeline.enqueue(link, frames, at);
    };
    socket.on('data', onData);
    // device bytes that arrived in the same segment as the PROXY header
    if (first) onData(first);
    if (!host.readingPaused && !link.closing && !link.closed) socket.resume();
    socket.on('error', (e: NodeJS.ErrnoException) => host.linkLog(link).debug({ err: e.code ?? e.message }, 'socket error'));
    socket.on('close', () => host.finalize(link, link.closing?.code ?? CLOSE_CODES.BY_DEVICE, link.closing?.reason ?? ''));
  }
}

/** The one process on its ports (no `processes`): what every listener does unless told otherwise. */
export const SINGLE_PROCESS: ListenMode = { reusePort: false, udp: true };

/**
 * Binds a channel's TCP server; a port in use is EDGE_PORT_IN_USE naming the listener (`what`).
 * `mode.reusePort` (one of several processes on the port, src/processes/): the socket is this
 * process's own, bound with SO_REUSEPORT, and the kernel spreads new connections over the
 * processes' sockets; without it, a cluster worker's listen() is served by the cluster primary,
 * which accepts and hands connections out round-robin (Node's default).
 */
export function listen(server: Server, port: number, host: string, what: string, mode: ListenMode = SINGLE_PROCESS): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(new EdgeError('EDGE_PORT_IN_USE', `${what} cannot listen on ${host}:${port}: ${e.code === 'EADDRINUSE' ? 'the port is in use' : e.message}`)),
    );
    // A large accept backlog: with Node's default (511) an after-load storm of simultaneous
    // connects overflows it and the kernel makes the dropped ones retry a second later.
    // reusePort is Node 22.12+/23.1+ (the types here are Node 20's); exclusive keeps a cluster
    // worker's socket its own instead of asking the primary for a shared one.
    const options: ListenOptions & { reusePort?: boolean } = mode.reusePort ? { port, host, backlog: 4096, reusePort: true, exclusive: true } : { port, host, backlog: 4096 };
    server.listen(options, () => resolve());
  });
}
