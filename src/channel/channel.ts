import { StreamListener, type MediaStreamOpen, type StreamListenerLimits } from './stream-listener.js';
import { randomBytes } from 'node:crypto';
import { peerIp } from '../guard/peer-ip.js';
import type { ChannelConfig } from '../config/schema.js';
import { EdgeError, type ErrorInfo } from '../errors.js';
import { IP_FILTER_CLOSE_CODES } from '../guard/ip-filter.js';
import type { CredentialStore } from '../credentials/credential-store.js';
import type { MediaStore } from '../media/media-store.js';
import type { MessageSink } from '../message/message-sink.js';
import { CLOSE_CODES, type CloseCode } from '../net/close-codes.js';
import type { DecodePool } from '../pool/decode-pool.js';
import type { CommandRequest, EncodedCommand, FramePart, ProtocolModule } from '../protocol/types.js';
import { cappedHex, type Logger } from '../util/log.js';
import { ChannelGuards } from './channel-guards.js';
import { ChannelLog } from './channel-log.js';
import { ChannelStats } from './channel-stats.js';
import { Deadlines } from './deadlines.js';
import type { DeviceLink } from './device-link.js';
import { FramePipeline, type PipelineHooks } from './frame-pipeline.js';
import { IdentTable } from './ident-table.js';
import type { ListenerHost, ListenMode } from './listener-host.js';
import { SINGLE_PROCESS, TcpListener } from './tcp-listener.js';
import { UdpListener } from './udp-listener.js';
import { TrafficCapture } from './traffic-capture.js';
import type { ChannelMetrics } from '../ops/channel-metrics.js';
import { dotted } from '../message/naming.js';
import { DEFAULT_UPLOAD_LIMITS, UploadTracker, type UploadLimits } from '../media/upload-tracker.js';
import type { ConnectionTotals } from './connection-totals.js';

/**
 * One channel: one protocol (and its family's parts) on TCP and/or UDP ports. Composes the parts
 * that each do one job (ARCHITECTURE.md): listeners (tcp-listener, udp-listener) make DeviceLinks,
 * the frame pipeline decodes, publishes and acknowledges, the ident table knows which link serves
 * which device, deadlines bound every connection in time, and the channel log and stats report.
 * What is left here is the lifecycle: start, the one close path, pause/resume, reload, stop, and
 * the seams other modules use (`send`, `encode`, `isOnline`, hooks).
 * Why ~480 lines: it is the host both listeners and the frame pipeline call back into (ListenerHost,
 * PipelineHost); each method is a few lines that route to the part that does the work.
 */
export interface ChannelHooks extends PipelineHooks {
  /** The device's identification was handled (ownership, retained state). */
  identified?(channelId: string, ident: string): void;
  /**
   * The identified device may receive commands now (queued commands can go out): right after
   * `identified`, or later when the protocol's `commandsReady` waits for more (JT/T 808 authentication).
   */
  commandsReady?(channelId: string, ident: string): void;
  /** No link of this channel serves the ident any more. */
  offline?(channelId: string, ident: string): void;
  /** A camera connected to the channel's stream port (`stream_tcp_port`): the video feature takes its packets. */
  mediaStream?: MediaStreamOpen;
}

export interface ChannelDeps {
  pool: DecodePool;
  sink: MessageSink;
  log: Logger;
  media?: MediaStore | null;
  /** Credentials the server issues to devices (JT/T 808 auth codes); absent: frames that need it fail. */
  credentials?: CredentialStore | null;
  hooks?: ChannelHooks;
  now?: () => number;
  /** Shared guard counters across instances (config redis_url); empty = local memory. */
  redisUrl?: string;
  /** Config redis_prefix (with redisUrl): the prefix of the shared guard counters. */
  redisPrefix?: string;
  /** The channel's connections over every instance and process (config redis_url); absent = this one's alone. */
  totals?: ConnectionTotals;
  /** Per-event figures for /metrics (ACK latency, decode errors by code); absent = not collected. */
  metrics?: ChannelMetrics;
  /** Bounds of uploads tracked across frames (config media.uploads); absent = the config defaults. */
  uploads?: UploadLimits | null;
  /** Signed download links for stored files (an HTTP listener is configured). */
  links?: { url(id: string): string } | null;
  /** Bounds of the stream port (config video); absent = the config defaults. */
  streamLimits?: StreamListenerLimits;
  /** How this process shares the ports with others of the box (config `processes`); absent = alone on them. */
  listen?: ListenMode;
}

/** How often expired uploads are looked for. */
const UPLOAD_SWEEP_MS = 1000;

/** After a graceful end(), a peer that does not take the last bytes is destroyed this much later. */
const CLOSE_LINGER_MS = 2_000;

export class Channel implements ListenerHost {
  readonly id: string;
  readonly events: ChannelLog;
  readonly guards: ChannelGuards;
  readonly stats = new ChannelStats();
  readonly pipeline: FramePipeline;
  readonly log: Logger;
  readonly options: Record<string, unknown>;
  readonly closeLingerMs = CLOSE_LINGER_MS;
  /** ACK latency for /metrics (undefined without metrics: the pipeline then passes no callback). */
  readonly acked: ((receivedAtMs: number) => void) | undefined;
  private readonly idents = new IdentTable();
  private readonly links = new Set<DeviceLink>();
  private readonly tcp: TcpListener[] = [];
  private readonly udp: UdpListener[] = [];
  private stream: StreamListener | null = null;
  private readonly streamLimits: StreamListenerLimits;
  private readonly listenMode: ListenMode;
  private readonly deadlines: Deadlines;
  private readonly hooks: ChannelHooks;
  private readonly pausedReasons = new Set<string>();
  private statsTimer: NodeJS.Timeout | null = null;
  private uploadTimer: NodeJS.Timeout | null = null;
  private readonly partSalt = randomBytes(16).toString('hex');
  /** Sweep of unfinished multi-frame messages (age bound, requests for missing parts). */
  private reassemblyTimer: NodeJS.Timeout | null = null;
  /** Raw traffic capture (config capture.enabled); links get a tap from it when they open. */
  private capture: TrafficCapture | null = null;
  private tcpOpen = 0;
  stopping = false;
  readonly now: () => number;

  constructor(
    readonly cfg: ChannelConfig,
    readonly proto: ProtocolModule,
    private readonly deps: ChannelDeps,
  ) {
    this.id = cfg.id;
    this.log = deps.log.child({ channel: cfg.id, protocol: proto.id });
    this.now = deps.now ?? Date.now;
    this.hooks = deps.hooks ?? {};
    this.streamLimits = deps.streamLimits ?? { maxConnections: 256, idleTimeoutS: 30, maxGarbage: 16 };
    this.listenMode = deps.listen ?? SINGLE_PROCESS;
    this.events = new ChannelLog(cfg.id, deps.sink, deps.totals, this.log);
    this.guards = new ChannelGuards(cfg, deps.redisUrl ?? '', this.log, deps.redisPrefix);
    this.options = { ...proto.defaultOptions, ...cfg.options };
    const metrics = deps.metrics;
    this.acked = metrics ? (at) => metrics.acked(this.id, this.now() - at) : undefined;
    const uploads = new UploadTracker(deps.uploads ?? DEFAULT_UPLOAD_LIMITS);
    const ra = cfg.reassembly;
    const reassembly = { maxBytes: ra.max_bytes, maxAgeMs: ra.max_age_s * 1000, resendAfterMs: ra.resend_after_s * 1000, maxRequests: ra.max_resend_requests };
    this.pipeline = new FramePipeline(this, { pool: deps.pool, sink: deps.sink, media: deps.media ?? null, credentials: deps.credentials ?? null, hooks: this.hooks, reassembly, uploads, links: deps.links ?? null });
    this.deadlines = new Deadlines(this);
    this.capture = this.newCapture(cfg.capture);
    if (cfg.tcp_port !== null && !proto.transports.includes('tcp')) throw new EdgeError('EDGE_CONFIG_INVALID', `channel ${cfg.id}: protocol ${proto.id} has no TCP transport`);
    if (cfg.udp_port !== null && !proto.transports.includes('udp')) throw new EdgeError('EDGE_CONFIG_INVALID', `channel ${cfg.id}: protocol ${proto.id} has no UDP transport`);
    for (const id of Object.keys(cfg.parts ?? {})) {
      if (!proto.parts?.some((p) => p.id === id)) throw new EdgeError('EDGE_CONFIG_INVALID', `channel ${cfg.id}: parts.${id}: protocol ${proto.id} has no part "${id}" (it has: ${(proto.parts ?? []).map((p) => p.id).join(', ') || 'none'})`);
    }
  }

  /** Open TCP connections (a counter: it is read on every accept, so no scan of the links). */
  get connectionCount(): number {
    return this.tcpOpen;
  }

  get readingPaused(): boolean {
    return this.pausedReasons.size > 0;
  }

  /** TCP/UDP port of the main listener (0 when none); parts: `portOf(part)`. */
  get tcpPort(): number {
    return this.tcp.find((l) => l.partId === '')?.port ?? 0;
  }

  get udpPort(): number {
    return this.udp.find((l) => l.partId === '')?.port ?? 0;
  }

  /** The stream port (`stream_tcp_port`) as bound; 0 when there is none. */
  get streamPort(): number {
    return this.stream?.port ?? 0;
  }

  portOf(part: string, transport: 'tcp' | 'udp' = 'tcp'): number {
    return (transport === 'tcp' ? this.tcp : this.udp).find((l) => l.partId === part)?.port ?? 0;
  }

  /** Back-compat for the stats payload and tests: the counters object. */
  get counters(): ChannelStats['counters'] {
    return this.stats.counters;
  }

  private frameLimit(part: FramePart): number {
    return this.cfg.max_frame_bytes > 0 ? Math.min(this.cfg.max_frame_bytes, part.maxFrameBytes) : part.maxFrameBytes;
  }

  async start(statsIntervalS = 60): Promise<void> {
    const endpoints: { part: FramePart; id: string; tcp: number | null; udp: number | null }[] = [{ part: this.proto, id: '', tcp: this.cfg.tcp_port, udp: this.cfg.udp_port }];
    for (const [id, ports] of Object.entries(this.cfg.parts ?? {})) {
      endpoints.push({ part: this.proto.parts!.find((p) => p.id === id)!, id, tcp: ports.tcp_port, udp: ports.udp_port });
    }
    for (const e of endpoints) {
      if (e.tcp !== null) {
        const l = new TcpListener(this, e.part, e.id, this.frameLimit(e.part));
        await l.start(this.cfg.host, e.tcp, this.listenMode);
        this.tcp.push(l);
      }
      if (e.udp !== null && this.listenMode.udp) {
        const l = new UdpListener(this, e.part, e.id, this.frameLimit(e.part), (link) => this.forget(link));
        await l.start(this.cfg.host, e.udp, this.listenMode.reusePort);
        this.udp.push(l);
      }
    }
    // the JT/T 1078 stream port: only for a protocol with a media stream and a feature that takes it
    if (this.cfg.stream_tcp_port !== null && this.proto.mediaStream && this.hooks.mediaStream) {
      const s = new StreamListener(this, this.proto.mediaStream, this.hooks.mediaStream, this.streamLimits);
      await s.start(this.cfg.host, this.cfg.stream_tcp_port, this.listenMode);
      this.stream = s;
    }
    this.statsTimer = setInterval(() => void this.publishStats(), statsIntervalS * 1000);
    this.statsTimer.unref();
    // a quarter of the re-send interval (the age bound when requests are off), between 0.25 and 5 s
    const sweepMs = Math.max(250, Math.min(5000, (this.cfg.reassembly.resend_after_s || this.cfg.reassembly.max_age_s) * 250));
    this.reassemblyTimer = setInterval(() => this.pipeline.sweepReassembly(this.now()), sweepMs);
    this.reassemblyTimer.unref();
    const uploads = this.pipeline.uploads;
    if (uploads) {
      this.uploadTimer = setInterval(() => uploads.sweep(this.now()), UPLOAD_SWEEP_MS);
      this.uploadTimer.unref();
    }
    this.deadlines.start();
    void this.events.flushCount(0);
    this.events.renewCount(() => this.connectionCount);
    const where = (ls: readonly { port: number; partId: string }[]) => ls.map((l) => `${this.cfg.host}:${l.port}${l.partId ? ` (${l.partId})` : ''}`).join(', ') || null;
    this.log.info({ tcp: where(this.tcp), udp: where(this.udp), ...(this.stream ? { stream: `${this.cfg.host}:${this.stream.port}` } : {}) }, `channel ${this.id} (${this.proto.id}) listening`);
  }

  // ---------- link lifecycle (ListenerHost) ----------

  opened(link: DeviceLink): void {
    this.links.add(link);
    if (link.part === '') this.seedServerParts(link);
    if (this.capture) link.tap = this.capture.tap(link);
    if (link.transport === 'tcp') {
      this.tcpOpen++;
      this.events.accepted(link, link.openedAtMs);
      this.events.connectionsCount(() => this.connectionCount);
    }
  }

  /**
   * Where the family's further listeners are, for a main-link decoder that points the device at one
   * (JT/T 808 0x9208 names the attachment server): session key `serverParts` = { <part id>: { host,
   * tcp_port } }. The host is the part's `advertise_host`, else the local address this connection
   * reached (the one address the device is known to reach; behind NAT set advertise_host), and a
   * salt drawn once per channel start: a decoder that derives keys from public facts (the JT/T 808
   * alarm number) mixes it in, so a key cannot be computed by a third party.
   */
  private seedServerParts(link: DeviceLink): void {
    const parts: Record<string, { host: string; tcp_port: number; salt: string }> = {};
    for (const l of this.tcp) {
      if (l.partId === '') continue;
      const host = this.cfg.parts[l.partId]?.advertise_host ?? peerIp(link.localAddress);
      if (host) parts[l.partId] = { host, tcp_port: l.port, salt: this.partSalt };
    }
    if (this.stream) {
      const host = this.cfg.stream_advertise_host ?? peerIp(link.localAddress);
      if (host) parts.stream = { host, tcp_port: this.stream.port, salt: this.partSalt };
    }
    if (Object.keys(parts).length) link.setSession({ ...link.session, serverParts: parts });
  }

  /**
   * The one close path: stop reading, answer what is already confirmed, then close. Safe in any
   * state and any number of times: the first call fixes the close code; every call (and every reply
   * flush while closing) re-checks whether the transport can close now, and the deadline sweep forces
   * it after a bound (deadlines.ts), so a close always completes.
   */
  close(link: DeviceLink, code: CloseCode, reason = ''): void {
    if (link.closed) return;
    if (link.beginClose(code, reason, this.now()) && link.transport === 'tcp') this.deadlines.watch(link);
    link.finishClose();
  }

  finalize(link: DeviceLink, code: CloseCode, reason: string): void {
    if (link.closed) return;
    link.closed = true;
    if (link.transport === 'tcp') this.tcpOpen--;
    this.links.delete(link);
    const still = this.idents.release(link);
    this.events.closed(link, this.now(), code, reason, still);
    this.events.connectionsCount(() => this.connectionCount);
    if (link.ident && !still && link.part === '') this.hooks.offline?.(this.id, link.ident);
  }

  /** A UDP peer forgotten by its listener. */
  private forget(link: DeviceLink): void {
    this.links.delete(link);
    const still = this.idents.release(link);
    if (link.ident && !still) this.hooks.offline?.(this.id, link.ident);
  }

  identChanged(link: DeviceLink, before: string | undefined, nowMs: number): void {
    if (link.part !== '') {
      // a family part's link (an attachment upload) is the device's second connection: it does not
      // take the ident over from the main link, which keeps serving commands
      this.identifiedEvent(link, nowMs);
      return;
    }
    if (before !== undefined) link.identChanges++;
    const { displaced, released } = this.idents.claim(link, before);
    if (released) {
      // a connection that changes ident (a gateway, a re-flashed device) no longer owns the old one
      this.events.released(released);
      this.hooks.offline?.(this.id, released);
    }
    if (displaced) this.close(displaced, CLOSE_CODES.IDENT_COLLISION, `ident ${link.ident} connected again from ${link.peer}`);
    this.identifiedEvent(link, nowMs);
    this.hooks.identified?.(this.id, link.ident!);
    link.commandsReady = false;
    this.sessionChanged(link);
  }

  /** Resync: this channel's retained state again (connected devices, counts); see ChannelLog.republish. */
  republishState(): number {
    const live: string[] = [];
    for (const [ident, link] of this.idents.entries()) if (!link.closed && link.part === '') live.push(ident);
    return this.events.republish(live, this.connectionCount);
  }

  sessionChanged(link: DeviceLink): void {
    if (link.commandsReady || !link.ident || link.part !== '' || link.closing || link.closed) return;
    if (this.proto.commandsReady && !this.proto.commandsReady(link.session)) return;
    link.commandsReady = true;
    this.hooks.commandsReady?.(this.id, link.ident);
  }

  /** The retained `connected` state always; the `identified` log event within the per-second budget. */
  private identifiedEvent(link: DeviceLink, nowMs: number): void {
    const logged = this.stats.identifiedBudget.take(nowMs);
    if (!logged) this.stats.counters.identifiedNotLogged++;
    this.events.identified(link, nowMs, logged);
  }

  outboundOverCap(link: DeviceLink, watchDrain: () => void): void {
    this.deadlines.outboundOverCap(link, watchDrain);
  }

  outboundDrained(link: DeviceLink): void {
    link.pausedByOutbound = false;
    link.outboundStallSinceMs = 0;
    this.maybeResume(link);
  }

  partialFrame(link: DeviceLink, partial: boolean, at: number): void {
    this.deadlines.partialFrame(link, partial, at);
  }

  /**
   * A frame that failed framing, checksum or decoding: counted (counters, metrics by code) and
   * logged as an error event within a per-second budget; beyond it only counted per interval.
   */
  errorEvent(link: DeviceLink, nowMs: number, info: ErrorInfo, bytes: Uint8Array): void {
    this.stats.counters.decodeErrors++;
    this.deps.metrics?.decodeError(this.id, info.code);
    if (this.stats.errorBudget.take(nowMs)) this.events.error(link, nowMs, info, cappedHex(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)));
    else this.stats.errorsNotLogged.add(info.code);
  }

  /** Child logger of a connection, made on first use (most connections never log anything). */
  linkLog(link: DeviceLink): Logger {
    return (link.log ??= this.log.child({ conn: link.id, peer: link.peer }));
  }

  maybeResume(link: DeviceLink): void {
    if (link.transport !== 'tcp' || link.closing || link.closed || link.pausedByLink || link.pausedByOutbound || this.pausedReasons.size > 0) return;
    link.io.resume();
  }

  // ---------- seams for commands and server-initiated frames ----------

  /** True while a link of this channel serves the ident. */
  isOnline(ident: string): boolean {
    const l = this.idents.get(ident);
    return !!l && !l.closed && !l.closing;
  }

  /** Connected and past the protocol's commandsReady (JT/T 808: authenticated): the device takes commands now. */
  acceptsCommands(ident: string): boolean {
    const l = this.idents.get(ident);
    return !!l && !l.closed && !l.closing && l.commandsReady;
  }

  /** Idents a link of this channel serves now. */
  *onlineIdents(): IterableIterator<string> {
    for (const [ident, l] of this.idents.entries()) if (!l.closed && !l.closing) yield ident;
  }

  /** The last closes of identified connections (up to 200, newest last). */
  get recentCloses(): readonly { ident: string; close_code: number; reason: string; timestamp: number }[] {
    return this.events.recentCloses;
  }

  /** Closes the link that serves the ident, if any (another instance took the device over: code 12). */
  closeIdent(ident: string, code: CloseCode, reason: string): boolean {
    const l = this.idents.get(ident);
    if (!l || l.closed || l.closing || l.transport !== 'tcp') return false;
    this.close(l, code, reason);
    return true;
  }

  /**
   * Writes bytes to the device between its frames, never inside an ordered ACK sequence
   * (DeviceLink.send). Throws when no link serves the ident.
   */
  send(ident: string, bytes: Uint8Array): void {
    const l = this.idents.get(ident);
    if (!l || l.closed || l.closing) throw new EdgeError('EDGE_DEVICE_OFFLINE', `device ${ident} is not connected to channel ${this.id}`);
    l.send(bytes);
  }

  /** Encodes a command with the device's session, in a worker. */
  encode(ident: string, command: CommandRequest): Promise<EncodedCommand> {
    return this.deps.pool.encode(this.proto, command, this.idents.get(ident)?.session ?? { ident });
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
    for (const l of this.links) this.maybeResume(l);
  }

  // ---------- reload, stats and shutdown ----------

  /**
   * Config reload: new IP lists and UDP limits take effect at once; open TCP connections whose
   * address is no longer allowed are closed (16 whitelist, 20 blacklist). A changed capture applies
   * to open connections too. Other keys need a restart.
   */
  updateConfig(cfg: ChannelConfig): void {
    this.guards.update(cfg);
    this.updateCapture(cfg.capture);
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

  private newCapture(c: ChannelConfig['capture'], after?: Promise<void>): TrafficCapture | null {
    if (!c.enabled) return null;
    const counters = this.stats.counters;
    return new TrafficCapture(c, { channelId: this.id, now: this.now, log: this.log, counters, ...(after ? { after } : {}) });
  }

  /**
   * Capture turned on, off or changed by a reload: the old one writes its last rows first (the new
   * one waits for it, as both may append to the same file), and every open link gets the new tap,
   * so support can start a capture on a live problem without a restart (which would drop the
   * connections). A TCP stream joined mid-way may start inside a frame: decode reports those bytes.
   */
  private updateCapture(c: ChannelConfig['capture']): void {
    const old = this.capture;
    this.cfg.capture = c;
    if (JSON.stringify(old?.cfg ?? { enabled: false }) === JSON.stringify(c.enabled ? c : { enabled: false })) return;
    const closing = old?.close();
    this.capture = this.newCapture(c, closing);
    for (const l of this.links) l.tap = this.capture ? this.capture.tap(l) : null;
  }

  private async publishStats(): Promise<void> {
    const c = this.stats.counters;
    let kernel: number | null = null;
    for (const u of this.udp) {
      const d = await u.kernelDrops();
      if (d !== null) kernel = (kernel ?? 0) + d;
    }
    if (kernel !== null) c.udpKernelDrops = kernel;
    const drops = this.guards.snapshot();
    if (drops) {
      this.events.channelEvent('drops', { ...drops, udp_overload: c.udpOverloadDrops }, 'drops');
      this.log.info({ total: drops.total, by_reason: drops.by_reason, top: drops.top_sources.slice(0, 3) }, 'guard drops in the last interval');
    }
    const warnings = this.stats.warnings.take();
    if (warnings) {
      this.events.channelEvent('decode_warnings', { timestamp: this.now() / 1000, by_code: warnings });
      this.log.info({ by_code: warnings }, 'decode warnings in the last interval');
    }
    const unacked = this.stats.unacked.take();
    if (unacked) {
      this.events.channelEvent('unacknowledged', { timestamp: this.now() / 1000, by_code: unacked });
      this.log.warn({ by_code: unacked }, 'frames not acknowledged and connections closed by the server in the last interval');
    }
    const notLogged = this.stats.errorsNotLogged.take();
    if (notLogged) this.events.channelEvent('errors_not_logged', { timestamp: this.now() / 1000, by_code: notLogged });
    this.events.channelEvent('counters', { timestamp: this.now() / 1000, ...dotted(c), connections: this.connectionCount }, 'counters');
  }

  /** Graceful stop: no new connections, stop reading, finish in-flight frames (publish, then ACK), close. */
  async stop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    const serversClosed = Promise.all([...this.tcp.map((l) => l.stop()), this.stream?.stop()]);
    for (const l of this.links) l.io.pause();
    const deadline = this.now() + timeoutMs;
    while (this.now() < deadline && [...this.links].some((l) => l.slots.some((s) => !s.failed))) await new Promise((r) => setTimeout(r, 10));
    for (const l of [...this.links]) {
      if (l.transport === 'tcp') {
        l.beginClose(CLOSE_CODES.SERVER_RESTART, 'shutdown', this.now());
        l.io.destroy();
        this.finalize(l, l.closing!.code, l.closing!.reason);
      }
    }
    if (this.statsTimer) clearInterval(this.statsTimer);
    if (this.uploadTimer) clearInterval(this.uploadTimer);
    this.pipeline.uploads?.stop();
    if (this.reassemblyTimer) clearInterval(this.reassemblyTimer);
    this.deadlines.stop();
    await this.publishStats();
    await Promise.all(this.udp.map((l) => l.stop()));
    await this.guards.close();
    await this.capture?.close();
    await serversClosed;
    await this.events.leave();
  }
}
