import { EventEmitter } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import type { ChannelConfig } from '../config/schema.js';
import { EdgeError, type ErrorInfo } from '../errors.js';
import type { Publisher } from '../mqtt/publisher.js';
import type { Topics } from '../mqtt/topics.js';
import { CLOSE_CODES, type CloseCode } from '../net/close-codes.js';
import { Framer } from '../net/framer.js';
import type { DecodePool, PoolFrame } from '../pool/decode-pool.js';
import type { FrameOutcome } from '../pool/task-types.js';
import type { CommandReply, ProtocolModule } from '../protocol/types.js';
import { cappedHex, type Logger } from '../util/log.js';
import { mergeSession } from '../protocol/session.js';
import { ChannelGuards } from './channel-guards.js';
import { ChannelLog } from './channel-log.js';
import { IP_FILTER_CLOSE_CODES } from '../guard/ip-filter.js';
import type { UdpRateVerdict } from '../guard/udp-rate-limit.js';
import { DeviceLink, type Slot } from './device-link.js';
import type { ChannelMetrics } from '../ops/channel-metrics.js';

/**
 * One channel: one protocol on a TCP and/or UDP port. Owns listeners, framing, sessions and the
 * ACK ordering; decoding happens in the shared pool, publishing in the shared publisher.
 *
 * Flow per frame: framer → slot (arrival order) → pool → publish each message QoS 1 →
 * all PUBACKs → slot ready → replies written in slot order (device-link.ts).
 */
export interface ChannelDeps {
  pool: DecodePool;
  publisher: Publisher;
  topics: Topics;
  log: Logger;
  now?: () => number;
  /** Shared guard counters across instances (config redis_url); empty = local memory. */
  redisUrl?: string;
  /** Per-event figures for /metrics (ACK latency, decode errors by code); absent = not collected. */
  metrics?: ChannelMetrics;
}

/** Per-connection cap of frames awaiting their ACK before that socket stops being read. */
const MAX_SLOTS_PER_LINK = 64;
/** Half-life of a connection's attained service (decode priority), ms. */
const ATTAINED_HALF_LIFE_MS = 2000;
/** UDP peers without traffic for this long are forgotten (their session with them). */
const UDP_PEER_TTL_MS = 10 * 60_000;

export class Channel extends EventEmitter {
  readonly id: string;
  private tcpServer: Server | null = null;
  private udpSocket: UdpSocket | null = null;
  private readonly links = new Set<DeviceLink>();
  private readonly byIdent = new Map<string, DeviceLink>();
  private readonly udpPeers = new Map<string, DeviceLink>();
  private readonly sockets = new Map<DeviceLink, Socket>();
  private readonly events: ChannelLog;
  readonly guards: ChannelGuards;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly maxFrameBytes: number;
  private readonly options: Record<string, unknown>;
  private pausedReasons = new Set<string>();
  private stopping = false;
  private udpSweep: NodeJS.Timeout | null = null;
  private warningCounts = new Map<string, number>();
  private statsTimer: NodeJS.Timeout | null = null;
  readonly counters = { frames: 0, messages: 0, acked: 0, decodeErrors: 0, udpOverloadDrops: 0 };
  tcpPort = 0;
  udpPort = 0;
  private tcpOpen = 0;

  constructor(
    readonly cfg: ChannelConfig,
    readonly proto: ProtocolModule,
    private readonly deps: ChannelDeps,
  ) {
    super();
    this.id = cfg.id;
    this.log = deps.log.child({ channel: cfg.id, protocol: proto.id });
    this.now = deps.now ?? Date.now;
    this.events = new ChannelLog(cfg.id, deps.publisher, deps.topics);
    this.guards = new ChannelGuards(cfg, deps.redisUrl ?? '', this.log);
    this.maxFrameBytes = cfg.max_frame_bytes > 0 ? Math.min(cfg.max_frame_bytes, proto.maxFrameBytes) : proto.maxFrameBytes;
    this.options = { ...proto.defaultOptions, ...cfg.options };
    if (cfg.tcp_port !== null && !proto.transports.includes('tcp')) throw new EdgeError('EDGE_CONFIG_INVALID', `channel ${cfg.id}: protocol ${proto.id} has no TCP transport`);
    if (cfg.udp_port !== null && !proto.transports.includes('udp')) throw new EdgeError('EDGE_CONFIG_INVALID', `channel ${cfg.id}: protocol ${proto.id} has no UDP transport`);
  }

  /** Open TCP connections (a counter: it is read on every accept, so no scan of the links). */
  get connectionCount(): number {
    return this.tcpOpen;
  }

  async start(statsIntervalS = 60): Promise<void> {
    if (this.cfg.tcp_port !== null) {
      // pauseOnConnect: nothing is read from a socket before the guards have seen its address.
      const server = createServer({ noDelay: true, pauseOnConnect: true }, (s) => this.accept(s));
      server.maxConnections = this.cfg.max_connections + 1024; // hard OS-level ceiling; the soft cap below logs
      await listen(server, this.cfg.tcp_port, this.cfg.host, `channel ${this.id} TCP`);
      this.tcpServer = server;
      const a = server.address();
      this.tcpPort = typeof a === 'object' && a ? a.port : this.cfg.tcp_port;
    }
    if (this.cfg.udp_port !== null) {
      const type = this.cfg.host.includes(':') ? 'udp6' : 'udp4';
      const sock = createSocket({ type, reuseAddr: false });
      await new Promise<void>((resolve, reject) => {
        sock.once('error', (e: NodeJS.ErrnoException) => reject(new EdgeError('EDGE_PORT_IN_USE', `channel ${this.id} UDP cannot bind ${this.cfg.host}:${this.cfg.udp_port}: ${e.message}`)));
        sock.bind(this.cfg.udp_port!, this.cfg.host, () => resolve());
      });
      sock.on('message', (msg, rinfo) => this.datagram(msg, rinfo));
      sock.on('error', (e) => this.log.error({ err: e }, 'UDP socket error'));
      this.udpSocket = sock;
      this.udpPort = sock.address().port;
      this.udpSweep = setInterval(() => this.sweepUdpPeers(), 60_000);
      this.udpSweep.unref();
    }
    this.statsTimer = setInterval(() => this.publishStats(), statsIntervalS * 1000);
    this.statsTimer.unref();
    this.events.flushCount(0);
    this.log.info({ tcp: this.tcpServer ? `${this.cfg.host}:${this.tcpPort}` : null, udp: this.udpSocket ? `${this.cfg.host}:${this.udpPort}` : null }, `channel ${this.id} (${this.proto.id}) listening`);
  }

  // ---------- TCP ----------

  private accept(socket: Socket): void {
    const nowMs = this.now();
    const peer = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
    if (this.stopping) {
      socket.destroy();
      return;
    }
    const address = socket.remoteAddress ?? '';
    const verdict = this.guards.checkIp(address);
    if (verdict !== 'allow') {
      socket.destroy();
      this.guards.count(verdict, address, 'tcp');
      if (this.guards.mayLogRejection(nowMs)) this.events.rejected(peer, 'tcp', nowMs, IP_FILTER_CLOSE_CODES[verdict]);
      return;
    }
    if (this.connectionCount >= this.cfg.max_connections) {
      socket.destroy();
      this.events.rejected(peer, 'tcp', nowMs, CLOSE_CODES.CONNECTION_LIMIT);
      this.log.warn({ peer, max_connections: this.cfg.max_connections }, 'EDGE_CONNECTION_LIMIT: connection refused');
      return;
    }
    const framer = new Framer(this.proto, this.maxFrameBytes);
    const link = new DeviceLink('tcp', peer, {
      write: (b) => {
        if (!socket.destroyed) socket.write(b);
      },
      end: () => socket.end(),
      pause: () => socket.pause(),
      resume: () => socket.resume(),
    }, nowMs);
    link.address = address;
    this.links.add(link);
    this.sockets.set(link, socket);
    this.tcpOpen++;
    if (this.pausedReasons.size === 0) socket.resume();
    socket.setTimeout(this.cfg.idle_timeout_s * 1000, () => this.close(link, CLOSE_CODES.INACTIVITY_TIMEOUT, `no data for ${this.cfg.idle_timeout_s} s`));
    socket.on('data', (chunk: Buffer) => {
      if (link.closing || link.closed) return;
      link.bytesIn += chunk.length;
      const at = this.now();
      const frames: Buffer[] = [];
      try {
        framer.push(chunk, (f) => frames.push(f));
      } catch (e) {
        if (frames.length) this.enqueue(link, frames, at);
        const info = e instanceof EdgeError ? e.toInfo() : { code: 'EDGE_FRAME_LENGTH' as const, reason: String(e) };
        this.counters.decodeErrors++;
        this.deps.metrics?.decodeError(this.id, info.code);
        this.events.error(link, at, info, cappedHex(chunk));
        this.linkLog(link).debug({ code: info.code, hex: cappedHex(chunk) }, 'framing error');
        this.fail(link, null, info, CLOSE_CODES.PROTOCOL_VIOLATION);
        return;
      }
      if (frames.length) this.enqueue(link, frames, at);
    });
    socket.on('error', (e: NodeJS.ErrnoException) => this.linkLog(link).debug({ err: e.code ?? e.message }, 'socket error'));
    socket.on('close', () => this.finalize(link, link.closing?.code ?? CLOSE_CODES.BY_DEVICE, link.closing?.reason ?? ''));
    this.events.accepted(link, nowMs);
    this.events.connectionsCount(() => this.connectionCount);
  }

  // ---------- UDP ----------

  private datagram(msg: Buffer, rinfo: RemoteInfo): void {
    if (this.stopping) return;
    const verdict = this.guards.checkIp(rinfo.address);
    if (verdict !== 'allow') {
      this.guards.count(verdict, rinfo.address, 'udp');
      return;
    }
    const admit = this.guards.admitUdp(rinfo.address);
    if (admit === true) this.admitted(msg, rinfo);
    else if (typeof admit === 'string') this.guards.count(admit, rinfo.address, 'udp');
    else admit.then((v: UdpRateVerdict) => (v === true ? this.admitted(msg, rinfo) : this.guards.count(v, rinfo.address, 'udp')), (e: unknown) => this.log.error({ err: String(e) }, 'UDP limiter failed'));
  }

  private admitted(msg: Buffer, rinfo: RemoteInfo): void {
    if (this.stopping) return;
    const at = this.now();
    if (this.pausedReasons.size > 0) {
      // A UDP socket cannot be paused; a datagram we cannot take now is not acknowledged, so the
      // device resends it. Counted, never logged one by one.
      this.counters.udpOverloadDrops++;
      return;
    }
    const key = `${rinfo.address}:${rinfo.port}`;
    let link = this.udpPeers.get(key);
    if (!link) {
      // Bound the peer table (spoofed-source floods): evict the oldest idle peer beyond max_connections.
      if (this.udpPeers.size >= this.cfg.max_connections) {
        for (const [k, old] of this.udpPeers) {
          if (old.slots.length > 0) continue;
          this.forgetUdpPeer(k, old);
          break;
        }
      }
      const sock = this.udpSocket!;
      link = new DeviceLink('udp', key, {
        write: (b) => sock.send(b, rinfo.port, rinfo.address),
        end: () => {},
        pause: () => {},
        resume: () => {},
      }, at);
      link.address = rinfo.address;
      this.udpPeers.set(key, link);
      this.links.add(link);
    }
    link.bytesIn += msg.length;
    link.lastSeenMs = at;
    // A datagram must be exactly one frame.
    const r = this.proto.split(msg, 0, msg.length);
    if (r !== msg.length) {
      const info: ErrorInfo = r > 0 ? { code: 'EDGE_FRAME_LENGTH', reason: `datagram of ${msg.length} bytes holds a ${r}-byte frame`, offset: 0 }
        : r === 0 ? { code: 'EDGE_DECODE_TRUNCATED', reason: `datagram of ${msg.length} bytes is shorter than its frame`, offset: 0 }
        : this.proto.explainInvalid(msg, 0, msg.length);
      this.counters.decodeErrors++;
      this.deps.metrics?.decodeError(this.id, info.code);
      this.events.error(link, at, info, cappedHex(msg));
      return;
    }
    this.enqueue(link, [msg], at);
  }

  /** A UDP peer has no connection to close: forgetting it drops its session and ident ownership. */
  private forgetUdpPeer(key: string, link: DeviceLink): void {
    this.udpPeers.delete(key);
    this.links.delete(link);
    if (link.ident && this.byIdent.get(link.ident) === link) this.byIdent.delete(link.ident);
  }

  private sweepUdpPeers(): void {
    const cutoff = this.now() - UDP_PEER_TTL_MS;
    for (const [key, link] of this.udpPeers) {
      if (link.lastSeenMs < cutoff && link.slots.length === 0) this.forgetUdpPeer(key, link);
    }
  }

  // ---------- the frame pipeline ----------

  private enqueue(link: DeviceLink, frames: Buffer[], at: number): void {
    for (const frame of frames) {
      const slot: Slot = { remaining: -1, replies: null, failed: null, frame, receivedAtMs: at };
      link.slots.push(slot);
      link.backlog.push(slot);
    }
    this.counters.frames += frames.length;
    if (link.transport === 'tcp' && link.slots.length >= MAX_SLOTS_PER_LINK && !link.pausedByLink) {
      link.pausedByLink = true;
      link.io.pause();
    }
    if (!link.decoding) this.submit(link);
  }

  private submit(link: DeviceLink): void {
    const items = link.backlog;
    link.backlog = [];
    link.decoding = true;
    // Least-attained-service priority: bytes this connection sent recently (2 s half-life). A device
    // flushing its black box sends big frames back to back and sinks; a live device stays near the top.
    const nowMs = this.now();
    let bytes = 0;
    for (const slot of items) bytes += slot.frame.length;
    link.attained = link.attained * Math.pow(0.5, (nowMs - link.attainedAtMs) / ATTAINED_HALF_LIFE_MS) + bytes;
    link.attainedAtMs = nowMs;
    let left = items.length;
    const frames: PoolFrame[] = items.map((slot) => ({
      bytes: slot.frame,
      conn: link.num,
      peer: link.peer,
      transport: link.transport,
      receivedAtMs: slot.receivedAtMs,
      session: link.session,
      done: (o: FrameOutcome) => {
        this.outcome(link, slot, o);
        if (--left === 0) {
          link.decoding = false;
          if (link.backlog.length > 0 && !link.closed) this.submit(link);
        }
      },
    }));
    this.deps.pool.submit(this.proto, this.id, this.options, frames, link.attained);
  }

  private outcome(link: DeviceLink, slot: Slot, o: FrameOutcome): void {
    if (link.closed || slot.failed) return;
    const nowMs = this.now();
    if (o.session) {
      const before = link.session.ident;
      link.session = mergeSession(link.session, o.session);
      if (link.session.ident && link.session.ident !== before) {
        // a connection that changes ident (a gateway, a re-flashed device) no longer owns the old one
        if (before && this.byIdent.get(before) === link) {
          this.byIdent.delete(before);
          this.events.released(before);
        }
        this.identified(link, nowMs);
      }
    }
    if (o.warnings) for (const w of o.warnings) this.warningCounts.set(w.code, (this.warningCounts.get(w.code) ?? 0) + 1);
    if (o.commandReplies) for (const r of o.commandReplies) this.emit('command-reply', link.session.ident, r as CommandReply);
    if (o.error) {
      this.counters.decodeErrors++;
      this.deps.metrics?.decodeError(this.id, o.error.code);
      this.events.error(link, nowMs, o.error, cappedHex(slot.frame));
      this.linkLog(link).debug({ code: o.error.code, reason: o.error.reason, hex: cappedHex(slot.frame) }, 'decode error');
      const code = o.error.code === 'EDGE_DECODE_CHECKSUM' || o.error.code === 'EDGE_FRAME_LENGTH' ? CLOSE_CODES.PROTOCOL_VIOLATION : CLOSE_CODES.PARSE_ERROR;
      this.fail(link, slot, o.error, code);
      return;
    }
    slot.replies = o.replies;
    slot.remaining = o.payloads.length;
    if (slot.remaining === 0) {
      this.flushReplies(link);
      return;
    }
    link.messages += o.payloads.length;
    this.counters.messages += o.payloads.length;
    const { publisher, topics } = this.deps;
    for (let i = 0; i < o.payloads.length; i++) {
      publisher.publish(topics.message(this.id, o.idents[i]!), o.payloads[i]!, false, (err) => {
        if (slot.failed || link.closed) return;
        if (err) {
          const info: ErrorInfo = { code: 'EDGE_PUBLISH_FAILED', reason: err.message };
          this.linkLog(link).warn({ err: err.message }, 'EDGE_PUBLISH_FAILED: frame not acknowledged');
          this.fail(link, slot, info, CLOSE_CODES.INTERNAL_ERROR);
          return;
        }
        if (--slot.remaining === 0) this.flushReplies(link);
      }, link.num, link.attained);
    }
  }

  /** Writes replies of ready slots in order; stops at the first slot still waiting. */
  private flushReplies(link: DeviceLink): void {
    while (link.slots.length > 0) {
      const head = link.slots[0]!;
      if (head.failed) {
        if (link.transport === 'udp') {
          link.slots.shift();
          continue;
        }
        break;
      }
      if (head.remaining !== 0) break;
      link.slots.shift();
      if (head.replies) {
        for (const r of head.replies) {
          link.io.write(r);
          link.bytesOut += r.length;
        }
      }
      this.counters.acked++;
      this.deps.metrics?.acked(this.id, this.now() - head.receivedAtMs);
    }
    if (link.pausedByLink && link.slots.length < MAX_SLOTS_PER_LINK / 2) {
      link.pausedByLink = false;
      if (this.pausedReasons.size === 0) link.io.resume();
    }
    if (link.closing && link.transport === 'tcp' && (link.slots.length === 0 || link.slots[0]!.failed)) this.hardClose(link);
    if (link.slots.length === 0) this.emit('idle', link);
  }

  /**
   * A frame that cannot be acknowledged. UDP: that datagram is dropped (no reply), others go on.
   * TCP: frames after it are abandoned; earlier ones still get their ACKs, then the socket closes.
   */
  private fail(link: DeviceLink, slot: Slot | null, info: ErrorInfo, code: CloseCode): void {
    if (link.transport === 'udp') {
      if (slot) slot.failed = info;
      this.flushReplies(link);
      return;
    }
    if (slot) {
      const idx = link.slots.indexOf(slot);
      for (let i = Math.max(idx, 0); i < link.slots.length; i++) link.slots[i]!.failed = info;
      if (idx >= 0) link.slots.length = idx + 1;
    } else {
      // framing error: nothing after the last complete frame is trustworthy
      link.slots.push({ remaining: -1, replies: null, failed: info, frame: Buffer.alloc(0), receivedAtMs: this.now() });
    }
    link.backlog = [];
    this.close(link, code, `${info.code}: ${info.reason}`);
  }

  /** Stop reading now, answer what is already confirmed, then close. */
  close(link: DeviceLink, code: CloseCode, reason = ''): void {
    if (link.closed || link.closing) return;
    link.closing = { code, reason };
    link.io.pause();
    if (link.transport === 'tcp') {
      if (link.slots.length === 0 || link.slots[0]!.failed) this.hardClose(link);
      else if (code === CLOSE_CODES.INACTIVITY_TIMEOUT || code === CLOSE_CODES.IDENT_COLLISION || code === CLOSE_CODES.BLACKLIST_MATCH || code === CLOSE_CODES.WHITELIST_MISMATCH) this.hardClose(link);
    }
  }

  private hardClose(link: DeviceLink): void {
    const s = this.sockets.get(link);
    if (s && !s.destroyed) s.destroySoon();
  }

  private finalize(link: DeviceLink, code: CloseCode, reason: string): void {
    if (link.closed) return;
    link.closed = true;
    if (link.transport === 'tcp') this.tcpOpen--;
    this.links.delete(link);
    this.sockets.delete(link);
    let still = false;
    if (link.ident) {
      if (this.byIdent.get(link.ident) === link) this.byIdent.delete(link.ident);
      else still = this.byIdent.has(link.ident);
    }
    this.events.closed(link, this.now(), code, reason, still);
    this.events.connectionsCount(() => this.connectionCount);
    this.emit('closed', link, code);
  }

  private identified(link: DeviceLink, nowMs: number): void {
    const ident = link.session.ident!;
    const other = this.byIdent.get(ident);
    if (other && other !== link && other.transport === 'tcp' && !other.closed) {
      this.close(other, CLOSE_CODES.IDENT_COLLISION, `ident ${ident} connected again from ${link.peer}`);
    }
    this.byIdent.set(ident, link);
    this.events.identified(link, nowMs);
    this.emit('identified', link);
  }

  /** Child logger of a connection, made on first use (most connections never log anything). */
  private linkLog(link: DeviceLink): Logger {
    return (link.log ??= this.log.child({ conn: link.id, peer: link.peer }));
  }

  // ---------- backpressure ----------

  /** Why device sockets are paused right now (empty when reading). */
  get pausedFor(): string[] {
    return [...this.pausedReasons];
  }

  pause(reason: string): void {
    const was = this.pausedReasons.size;
    this.pausedReasons.add(reason);
    if (was === 0) for (const l of this.links) if (l.transport === 'tcp') l.io.pause();
  }

  resume(reason: string): void {
    if (!this.pausedReasons.delete(reason) || this.pausedReasons.size > 0) return;
    for (const l of this.links) if (l.transport === 'tcp' && !l.pausedByLink && !l.closing) l.io.resume();
  }

  // ---------- stats and shutdown ----------

  /**
   * Config reload: new IP lists and UDP limits take effect at once; open TCP connections whose
   * address is no longer allowed are closed (16 whitelist, 20 blacklist). Other keys need a restart.
   */
  updateConfig(cfg: ChannelConfig): void {
    this.guards.update(cfg);
    const { ip_whitelist, ip_blacklist, max_udp_packets_per_minute, max_udp_packets_per_minute_per_ip } = cfg;
    Object.assign(this.cfg, { ip_whitelist, ip_blacklist, max_udp_packets_per_minute, max_udp_packets_per_minute_per_ip });
    for (const link of [...this.links]) {
      if (link.transport !== 'tcp' || link.closed) continue;
      const v = this.guards.checkIp(link.address);
      if (v !== 'allow') {
        this.guards.count(v, link.address, 'tcp');
        this.close(link, IP_FILTER_CLOSE_CODES[v], `address ${link.address} is no longer allowed`);
      }
    }
  }

  private publishStats(): void {
    const drops = this.guards.snapshot();
    if (drops) {
      this.events.channelEvent('drops', { ...drops, udp_overload: this.counters.udpOverloadDrops }, 'drops');
      this.log.info({ total: drops.total, by_reason: drops.by_reason, top: drops.top_sources.slice(0, 3) }, 'guard drops in the last interval');
    }
    if (this.warningCounts.size > 0) {
      const by_code = Object.fromEntries(this.warningCounts);
      this.warningCounts.clear();
      this.events.channelEvent('decode_warnings', { timestamp: this.now() / 1000, by_code });
      this.log.info({ by_code }, 'decode warnings in the last interval');
    }
    this.events.channelEvent('counters', { timestamp: this.now() / 1000, ...this.counters, connections: this.connectionCount }, 'counters');
  }

  /** Graceful stop: no new connections, stop reading, finish in-flight frames (publish, then ACK), close. */
  async stop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    const serverClosed = this.tcpServer ? new Promise<void>((r) => this.tcpServer!.close(() => r())) : Promise.resolve();
    for (const l of this.links) l.io.pause();
    const deadline = this.now() + timeoutMs;
    while (this.now() < deadline && [...this.links].some((l) => l.slots.some((s) => !s.failed))) await new Promise((r) => setTimeout(r, 10));
    for (const l of [...this.links]) {
      if (l.transport === 'tcp') {
        l.closing = l.closing ?? { code: CLOSE_CODES.SERVER_RESTART, reason: 'shutdown' };
        const s = this.sockets.get(l);
        s?.destroy();
        this.finalize(l, l.closing.code, l.closing.reason);
      }
    }
    if (this.udpSocket) {
      const u = this.udpSocket;
      await new Promise<void>((r) => u.close(() => r()));
    }
    if (this.udpSweep) clearInterval(this.udpSweep);
    if (this.statsTimer) clearInterval(this.statsTimer);
    this.publishStats();
    await this.guards.close();
    await serverClosed;
    this.events.flushCount(0);
  }
}

function listen(server: Server, port: number, host: string, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(new EdgeError('EDGE_PORT_IN_USE', `${what} cannot listen on ${host}:${port}: ${e.code === 'EADDRINUSE' ? 'the port is in use' : e.message}`)),
    );
    // A large accept backlog: with Node's default (511) an after-load storm of simultaneous
    // connects overflows it and the kernel makes the dropped ones retry a second later.
    server.listen({ port, host, backlog: 4096 }, () => resolve());
  });
}
