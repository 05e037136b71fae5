import { createSocket, type RemoteInfo, type SocketOptions, type Socket as UdpSocket } from 'node:dgram';
import { EdgeError } from '../errors.js';
import type { UdpRateVerdict } from '../guard/udp-rate-limit.js';
import { checkDatagram } from '../net/frame-cutter.js';
import { udpKernelDrops } from '../net/udp-kernel-drops.js';
import type { FramePart } from '../protocol/types.js';
import { DeviceLink } from './device-link.js';
import type { ListenerHost } from './listener-host.js';

/** UDP peers without traffic for this long are forgotten (their session with them). */
const UDP_PEER_TTL_MS = 10 * 60_000;

/**
 * One UDP port of a channel. A datagram must be exactly one frame. Each source ip:port is a
 * DeviceLink kept in a peer table (bounded by max_connections, idle peers forgotten after 10 min),
 * so UDP devices get the same ordered pipeline, session and ident ownership as TCP ones.
 */
export class UdpListener {
  private socket: UdpSocket | null = null;
  private sweep: NodeJS.Timeout | null = null;
  private readonly peers = new Map<string, DeviceLink>();
  private kernelDropsAtStart: number | null = null;
  port = 0;

  constructor(
    private readonly host: ListenerHost,
    private readonly part: FramePart,
    readonly partId: string,
    private readonly maxFrameBytes: number,
    /** A peer forgotten by the table: its ident ownership goes with it. */
    private readonly forgotten: (link: DeviceLink) => void,
  ) {}

  async start(host: string, port: number, reusePort = false): Promise<void> {
    const type = host.includes(':') ? 'udp6' : 'udp4';
    // reusePort (Node 22.12+/23.1+; the types here are Node 20's): one socket per process on the
    // port, and Linux hashes each source address:port to one of them, so a device stays with one
    // process. exclusive: a cluster worker binds its own socket, never one shared by the primary.
    const options: SocketOptions & { reusePort?: boolean } = reusePort ? { type, reuseAddr: false, reusePort: true } : { type, reuseAddr: false };
    const sock = createSocket(options);
    await new Promise<void>((resolve, reject) => {
      sock.once('error', (e: NodeJS.ErrnoException) => reject(new EdgeError('EDGE_PORT_IN_USE', `channel ${this.host.id} UDP cannot bind ${host}:${port}: ${e.message}`)));
      sock.bind({ port, address: host, exclusive: true }, () => resolve());
    });
    sock.on('message', (msg, rinfo) => this.datagram(msg, rinfo));
    sock.on('error', (e) => this.host.log.error({ err: e }, 'UDP socket error'));
    this.socket = sock;
    this.port = sock.address().port;
    this.setReceiveBuffer(sock);
    this.kernelDropsAtStart = await udpKernelDrops(this.port);
    this.sweep = setInterval(() => this.sweepPeers(), 60_000);
    this.sweep.unref();
  }

  get links(): IterableIterator<DeviceLink> {
    return this.peers.values();
  }

  private datagram(msg: Buffer, rinfo: RemoteInfo): void {
    const host = this.host;
    if (host.stopping) return;
    const verdict = host.guards.checkIp(rinfo.address);
    if (verdict !== 'allow') {
      host.guards.count(verdict, rinfo.address, 'udp');
      return;
    }
    const admit = host.guards.admitUdp(rinfo.address);
    if (admit === true) this.admitted(msg, rinfo);
    else if (typeof admit === 'string') host.guards.count(admit, rinfo.address, 'udp');
    else admit.then((v: UdpRateVerdict) => (v === true ? this.admitted(msg, rinfo) : host.guards.count(v, rinfo.address, 'udp')), (e: unknown) => host.log.error({ err: String(e) }, 'UDP limiter failed'));
  }

  private admitted(msg: Buffer, rinfo: RemoteInfo): void {
    const host = this.host;
    if (host.stopping) return;
    const at = host.now();
    if (host.readingPaused) {
      // A UDP socket cannot be paused; a datagram we cannot take now is not acknowledged, so the
      // device resends it. Counted, never logged one by one.
      host.stats.counters.udpOverloadDrops++;
      return;
    }
    const key = `${rinfo.address}:${rinfo.port}`;
    let link = this.peers.get(key);
    if (!link) {
      // Bound the peer table (spoofed-source floods): evict the oldest idle peer beyond max_connections.
      if (this.peers.size >= host.cfg.max_connections) {
        for (const [k, old] of this.peers) {
          if (old.slots.length > 0) continue;
          this.forget(k, old);
          break;
        }
      }
      link = this.newPeer(key, rinfo, at);
    }
    link.bytesIn += msg.length;
    link.lastSeenMs = at;
    link.tap?.inbound(msg);
    const invalid = checkDatagram(this.part, msg, this.maxFrameBytes);
    if (invalid) {
      host.errorEvent(link, at, invalid, msg);
      return;
    }
    host.pipeline.enqueue(link, [msg], at);
  }

  private newPeer(key: string, rinfo: RemoteInfo, at: number): DeviceLink {
    const sock = this.socket!;
    const cap = this.host.cfg.max_outbound_bytes;
    const counters = this.host.stats.counters;
    const link = new DeviceLink(
      'udp',
      key,
      rinfo.address,
      {
        // UDP cannot pause a peer: a reply that would grow the send queue past the cap is not sent
        // (the device resends that datagram), so spoofed sources cannot make us buffer without bound.
        write: (b) => {
          if (sock.getSendQueueSize() > cap) counters.udpRepliesDropped++;
          else sock.send(b, rinfo.port, rinfo.address);
        },
        pendingBytes: () => 0,
        pause: () => {},
        resume: () => {},
        end: () => {},
        destroy: () => {},
      },
      at,
      this.partId,
    );
    this.peers.set(key, link);
    this.host.opened(link);
    return link;
  }

  /** A UDP peer has no connection to close: forgetting it drops its session and ident ownership. */
  private forget(key: string, link: DeviceLink): void {
    this.peers.delete(key);
    this.forgotten(link);
  }

  private sweepPeers(): void {
    const cutoff = this.host.now() - UDP_PEER_TTL_MS;
    for (const [key, link] of this.peers) if (link.lastSeenMs < cutoff && link.slots.length === 0) this.forget(key, link);
  }

  private setReceiveBuffer(sock: UdpSocket): void {
    const want = this.host.cfg.udp_receive_buffer_bytes;
    if (want <= 0) return;
    try {
      sock.setRecvBufferSize(want);
    } catch (e) {
      this.host.log.warn({ err: String(e), udp_receive_buffer_bytes: want }, 'UDP receive buffer size could not be set');
      return;
    }
    // Linux doubles the value for bookkeeping and caps it at net.core.rmem_max
    const got = sock.getRecvBufferSize();
    if (got < want) this.host.log.warn({ requested: want, effective: got }, 'UDP receive buffer is smaller than udp_receive_buffer_bytes (raise net.core.rmem_max)');
  }

  /** Datagrams the kernel dropped for this socket since start (receive buffer full), or null where unknown. */
  async kernelDrops(): Promise<number | null> {
    if (!this.socket || this.kernelDropsAtStart === null) return null;
    const d = await udpKernelDrops(this.port);
    return d === null ? null : Math.max(0, d - this.kernelDropsAtStart);
  }

  async stop(): Promise<void> {
    if (this.sweep) clearInterval(this.sweep);
    const u = this.socket;
    if (u) await new Promise<void>((r) => u.close(() => r()));
  }
}
