/**
 * JT/T 1078 packets → whole media frames, per (logical channel, media kind): a video frame is one
 * access unit as Annex B bytes, an audio frame its payload, transparent data its bytes.
 *
 * Two stages, because the two problems are different:
 * 1. Ordering, per sequence scope: packets are released in sequence-number order (u16, wrapping).
 *    A packet that arrives early waits in a window of `reorderWindow` packets; once a later packet
 *    is that far ahead, the missing number is declared lost. Late packets (behind what was released)
 *    and duplicates are counted and ignored. A jump of more than RESET_DISTANCE either way is a
 *    restarted counter, not a loss (or a late arrival) of thousands of packets.
 * 2. Joining, per stream: sub-packages (first, middle…, last) are joined; a frame with a missing
 *    piece, or one that grows past `maxFrameBytes`, is dropped whole, never emitted corrupt. After
 *    any video loss, video is dropped until the next I-frame, because P- and B-frames reference the
 *    pictures before them; a decoder fed the gap shows smeared garbage until the next I-frame anyway.
 *
 * Which packets share a sequence counter is not settled by public sources: the standard's wording
 * ("+1 per RTP packet sent") suggests one counter per stream connection, i.e. per logical channel
 * with audio and video interleaved (`seqScope: 'channel'`, the default); a device that counts per
 * media kind needs `seqScope: 'stream'`. With the channel scope a lost packet cannot be attributed to
 * a kind, so it breaks every pending frame of the channel and makes video wait for an I-frame: safe
 * (nothing corrupt is emitted), at the price of some video after an audio loss.
 *
 * Memory is bounded: per scope at most `reorderWindow` waiting packets, per stream one pending frame
 * of at most `maxFrameBytes`, at most `maxStreams` streams (packets of more are dropped, counted).
 * Pure: no clock, no I/O; the caller decides what a drop means (log, metric, close).
 */
import type { ErrorCode } from '../errors.js';
import type { MediaStreamPacket } from '../protocol/types.js';
import { DATA_TYPE, SUBPACKAGE, codecOf, kindOf, type MediaCodec, type MediaKind } from './payload-types.js';

/**
 * What the assembler reads of a packet: the runtime's media packet (src/protocol/types.ts, which
 * protocols/jt808/stream/packet.ts StreamPacket extends) without the device id, which the
 * stream connection has already used to find its device.
 */
export type MediaPacket = Omit<MediaStreamPacket, 'sim'>;

export interface MediaFrame {
  channel: number;
  kind: MediaKind;
  codec: MediaCodec;
  payloadType: number;
  /** Video: an I-frame. Audio: always (every audio frame is decodable alone). Transparent: never. */
  keyframe: boolean;
  timestampMs: number | null;
  lastIFrameIntervalMs: number | null;
  lastFrameIntervalMs: number | null;
  data: Uint8Array;
  /** Packets the frame was joined from. */
  packets: number;
}

export type DropReason = 'lost-packet' | 'missing-piece' | 'too-large' | 'too-many-streams' | 'waiting-for-keyframe' | 'ended';

export interface FrameDrop {
  code: Extract<ErrorCode, 'EDGE_STREAM_FRAME_DROPPED'>;
  channel: number;
  kind: MediaKind;
  reason: DropReason;
  /** Packets and body bytes thrown away with it (those that had arrived). */
  packets: number;
  bytes: number;
}

export interface AssemblerOutput {
  frames: MediaFrame[];
  drops: FrameDrop[];
}

export interface AssemblerOptions {
  /** Packets that may arrive ahead of a missing one before it is declared lost (default 8). */
  reorderWindow?: number;
  /** Largest frame joined (default 2 MiB: a 1080p I-frame is a few hundred kB). */
  maxFrameBytes?: number;
  /** Largest number of (channel, kind) streams and sequence scopes (default 64). */
  maxStreams?: number;
  /** Which packets share one sequence counter (see the file comment). */
  seqScope?: 'channel' | 'stream';
}

export interface AssemblerStats {
  packets: number;
  frames: number;
  lostPackets: number;
  latePackets: number;
  duplicatePackets: number;
  seqResets: number;
  dropped: Record<DropReason, number>;
}

/** A forward jump larger than this is a restarted counter, not a loss (a second of 1080p is ~300 packets). */
export const RESET_DISTANCE = 1000;

interface Pending {
  first: MediaPacket;
  parts: Uint8Array[];
  bytes: number;
}

interface Stream {
  channel: number;
  kind: MediaKind;
  pending: Pending | null;
  /**
   * Pieces are ignored until the next frame starts: 'counted' after a drop already reported,
   * 'after-loss' after a lost packet that may have been this frame's start (reported on the first orphan).
   */
  discarding: 'no' | 'counted' | 'after-loss';
  waitKeyframe: boolean;
}

interface Scope {
  /** Next sequence number to release; -1 until the scope's first packet. */
  next: number;
  waiting: Map<number, MediaPacket>;
  streams: Stream[];
}

/** Forward distance from a to b on the u16 circle, as -32768..32767. */
function distance(from: number, to: number): number {
  const d = (to - from) & 0xffff;
  return d >= 0x8000 ? d - 0x10000 : d;
}

export class FrameAssembler {
  private readonly window: number;
  private readonly maxFrameBytes: number;
  private readonly maxStreams: number;
  private readonly seqScope: 'channel' | 'stream';
  private readonly scopes = new Map<string, Scope>();
  private readonly streams = new Map<string, Stream>();
  private out: AssemblerOutput = { frames: [], drops: [] };
  readonly stats: AssemblerStats = {
    packets: 0,
    frames: 0,
    lostPackets: 0,
    latePackets: 0,
    duplicatePackets: 0,
    seqResets: 0,
    dropped: { 'lost-packet': 0, 'missing-piece': 0, 'too-large': 0, 'too-many-streams': 0, 'waiting-for-keyframe': 0, ended: 0 },
  };

  constructor(opts: AssemblerOptions = {}) {
    this.window = Math.max(1, opts.reorderWindow ?? 8);
    this.maxFrameBytes = opts.maxFrameBytes ?? 2 * 1024 * 1024;
    this.maxStreams = opts.maxStreams ?? 64;
    this.seqScope = opts.seqScope ?? 'channel';
  }

  /** One packet in; the frames it completed (and the drops it caused) out, in sequence order. */
  push(p: MediaPacket): AssemblerOutput {
    this.stats.packets++;
    const kind = kindOf(p.dataType);
    const stream = this.streamOf(p.channel, kind);
    const scope = stream && this.scopeOf(p.channel, kind);
    if (!stream || !scope) {
      this.drop(p.channel, kind, 'too-many-streams', 1, p.body.length);
      return this.take();
    }
    if (!scope.streams.includes(stream)) scope.streams.push(stream);
    if (scope.next < 0) scope.next = p.seq;
    const d = distance(scope.next, p.seq);
    if (d < 0 && d >= -RESET_DISTANCE) this.stats.latePackets++;
    else if (scope.waiting.has(p.seq)) this.stats.duplicatePackets++;
    else if (Math.abs(d) > RESET_DISTANCE) {
      this.stats.seqResets++;
      this.drain(scope, true);
      this.lose(scope);
      scope.next = p.seq;
      scope.waiting.set(p.seq, p);
      this.drain(scope, false);
    } else {
      scope.waiting.set(p.seq, p);
      this.drain(scope, false);
    }
    return this.take();
  }

  /** The stream ended (hang-up): waiting packets are released with their gaps, unfinished frames dropped. */
  flush(): AssemblerOutput {
    for (const scope of this.scopes.values()) {
      this.drain(scope, true);
      for (const s of scope.streams) {
        if (s.pending) this.dropPending(s, 'ended');
        s.discarding = 'no';
      }
    }
    return this.take();
  }

  private take(): AssemblerOutput {
    const o = this.out;
    this.out = { frames: [], drops: [] };
    return o;
  }

  private streamOf(channel: number, kind: MediaKind): Stream | null {
    const key = `${channel}:${kind}`;
    let s = this.streams.get(key);
    if (!s) {
      if (this.streams.size >= this.maxStreams) return null;
      s = { channel, kind, pending: null, discarding: 'no', waitKeyframe: kind === 'video' };
      this.streams.set(key, s);
    }
    return s;
  }

  private scopeOf(channel: number, kind: MediaKind): Scope | null {
    const key = this.seqScope === 'channel' ? `${channel}` : `${channel}:${kind}`;
    let s = this.scopes.get(key);
    if (!s) {
      if (this.scopes.size >= this.maxStreams) return null;
      s = { next: -1, waiting: new Map(), streams: [] };
      this.scopes.set(key, s);
    }
    return s;
  }

  /** Releases waiting packets in order; a gap is lost once a packet is `window` ahead of it (or always, at the end). */
  private drain(scope: Scope, all: boolean): void {
    for (;;) {
      const p = scope.waiting.get(scope.next);
      if (p) {
        scope.waiting.delete(scope.next);
        scope.next = (scope.next + 1) & 0xffff;
        this.deliver(p);
        continue;
      }
      if (scope.waiting.size === 0) return;
      if (!all) {
        let far = 0;
        for (const seq of scope.waiting.keys()) far = Math.max(far, distance(scope.next, seq));
        if (far < this.window) return;
      }
      this.stats.lostPackets++;
      this.lose(scope);
      scope.next = (scope.next + 1) & 0xffff;
    }
  }

  /** A packet of this scope is gone: every frame it might have belonged to is broken. */
  private lose(scope: Scope): void {
    for (const s of scope.streams) {
      if (s.pending) this.dropPending(s, 'lost-packet');
      else if (s.discarding === 'no') s.discarding = 'after-loss';
      if (s.kind === 'video') s.waitKeyframe = true;
    }
  }

  private deliver(p: MediaPacket): void {
    const s = this.streamOf(p.channel, kindOf(p.dataType))!;
    const sub = p.subpackage;
    if (sub === SUBPACKAGE.ATOMIC || sub === SUBPACKAGE.FIRST) {
      if (s.pending) this.dropPending(s, 'missing-piece');
      s.discarding = 'no';
      const pending = { first: p, parts: [p.body], bytes: p.body.length };
      if (sub === SUBPACKAGE.ATOMIC) this.complete(s, pending);
      else s.pending = pending;
      return;
    }
    const last = sub === SUBPACKAGE.LAST;
    if (!s.pending) {
      // a middle or last piece whose frame start never came (or was already dropped)
      if (s.discarding !== 'counted') {
        this.drop(s.channel, s.kind, s.discarding === 'after-loss' ? 'lost-packet' : 'missing-piece', 1, p.body.length);
        if (s.kind === 'video') s.waitKeyframe = true;
      }
      s.discarding = last ? 'no' : 'counted';
      return;
    }
    if (s.pending.bytes + p.body.length > this.maxFrameBytes) {
      this.dropPending(s, 'too-large');
      s.discarding = last ? 'no' : 'counted';
      return;
    }
    s.pending.parts.push(p.body);
    s.pending.bytes += p.body.length;
    if (last) {
      const done = s.pending;
      s.pending = null;
      this.complete(s, done);
    }
  }

  private complete(s: Stream, f: Pending): void {
    const p = f.first;
    const isI = p.dataType === DATA_TYPE.I;
    if (s.kind === 'video') {
      if (s.waitKeyframe && !isI) {
        this.drop(s.channel, s.kind, 'waiting-for-keyframe', f.parts.length, f.bytes);
        return;
      }
      if (isI) s.waitKeyframe = false;
    }
    const data = f.parts.length === 1 ? f.parts[0]! : new Uint8Array(f.bytes);
    if (f.parts.length > 1) {
      let at = 0;
      for (const part of f.parts) {
        data.set(part, at);
        at += part.length;
      }
    }
    this.stats.frames++;
    this.out.frames.push({
      channel: s.channel,
      kind: s.kind,
      codec: codecOf(p.payloadType),
      payloadType: p.payloadType,
      keyframe: s.kind === 'video' ? isI : s.kind === 'audio',
      timestampMs: p.timestampMs,
      lastIFrameIntervalMs: p.lastIFrameIntervalMs,
      lastFrameIntervalMs: p.lastFrameIntervalMs,
      data,
      packets: f.parts.length,
    });
  }

  private dropPending(s: Stream, reason: DropReason): void {
    const f = s.pending!;
    s.pending = null;
    s.discarding = 'counted';
    if (s.kind === 'video') s.waitKeyframe = true;
    this.drop(s.channel, s.kind, reason, f.parts.length, f.bytes);
  }

  private drop(channel: number, kind: MediaKind, reason: DropReason, packets: number, bytes: number): void {
    this.stats.dropped[reason]++;
    this.out.drops.push({ code: 'EDGE_STREAM_FRAME_DROPPED', channel, kind, reason, packets, bytes });
  }
}
