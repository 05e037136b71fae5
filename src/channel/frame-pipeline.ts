import { EdgeError, type ErrorInfo } from '../errors.js';
import type { MediaStore, StoredMedia } from '../media/media-store.js';
import type { MessageSink } from '../message/message-sink.js';
import { CLOSE_CODES, type CloseCode } from '../net/close-codes.js';
import type { DecodePool, PoolFrame } from '../pool/decode-pool.js';
import type { FrameOutcome, WatchedValues } from '../pool/task-types.js';
import { mergeSession } from '../protocol/session.js';
import type { CredentialStore } from '../credentials/credential-store.js';
import type { CommandReply, CredentialCheckEffect, DecodeEffect, FileChunkEffect, FramePart, MessageValue, ProtocolModule, ReassembleEffect, RelayEffect } from '../protocol/types.js';
import type { Logger } from '../util/log.js';
import type { ChannelLog } from './channel-log.js';
import type { ChannelStats } from './channel-stats.js';
import { MAX_IDENT_CHANGES_PER_CONNECTION, type DeviceLink, type Slot } from './device-link.js';
import { Reassembler, type ReassemblerLimits, type ResendAsk } from './reassembler.js';
import { UploadEffects } from './upload-effects.js';
import type { UploadTracker } from '../media/upload-tracker.js';
import { RuntimeMessages, storedFileFields } from './runtime-messages.js';

/**
 * A channel's frames from arrival to acknowledgement:
 *   enqueue (a slot per frame, arrival order) → pool (decode in a worker) → outcome → effects
 *   (session, messages to the sink, file chunks to the media store, server frames, reassembly,
 *   command replies) → the slot is ready once every durable effect is confirmed → replies written
 *   in slot order (DeviceLink.flushReady).
 * Applying an outcome is the one place that turns decode results into runtime actions; a new kind
 * of decode effect is one more case in `applyEffects`.
 */
export interface PipelineHooks {
  /** A decoded command reply; returns the command it closed (its id/name are added to the frame's messages). */
  commandReply?(channelId: string, ident: string, reply: CommandReply): { id: string; name: string } | null;
  /** A device's uploaded file is complete and stored (its announcement, if any, is published too). */
  mediaStored?(channelId: string, ident: string, stored: StoredMedia, meta: Readonly<Record<string, MessageValue>>): void;
  /**
   * The command waiting for a file of this kind from the device (reply key `media:<kind>`, e.g. a
   * tachograph download), if any: its id and raw `meta` go into the stored file's announcement.
   */
  mediaCommand?(channelId: string, ident: string, kind: string): { id: string; meta: string | null } | null;
  /** A piece of a device's upload could not be stored: the frame is not acknowledged and the upload ends. */
  mediaFailed?(channelId: string, ident: string, key: string, err: EdgeError): void;
  /** A device's question for an outside service (`relay` effect): publish it, call `done` once it is safe. */
  relay?(channelId: string, ident: string, e: RelayEffect, done: (err?: Error | null) => void): void;
  /**
   * A decoded message's device time and watched values (the pool's watch list), before it is
   * published (automatic asset assignment). `k` is the message's index in `w`. Returns true when it
   * started a durable write: it then calls `done` once, never synchronously, and the frame's ACK waits for it.
   */
  observe?(channelId: string, ident: string, w: WatchedValues, k: number, done: (err?: Error | null) => void): boolean;
}

export interface PipelineHost {
  readonly id: string;
  readonly proto: ProtocolModule;
  readonly options: Record<string, unknown>;
  readonly stats: ChannelStats;
  readonly events: ChannelLog;
  readonly log: Logger;
  now(): number;
  close(link: DeviceLink, code: CloseCode, reason: string): void;
  /** The link's ident changed (identification): ident table, events, queued commands. */
  identChanged(link: DeviceLink, before: string | undefined, nowMs: number): void;
  /** The link's session changed: if the protocol now says it may receive commands, queued ones can go. */
  sessionChanged(link: DeviceLink): void;
  errorEvent(link: DeviceLink, nowMs: number, info: ErrorInfo, bytes: Uint8Array): void;
  linkLog(link: DeviceLink): Logger;
  maybeResume(link: DeviceLink): void;
  /** The link has nothing in flight any more (shutdown waits for this). */
  idle?(link: DeviceLink): void;
  /** A frame was acknowledged; `receivedAtMs` is when its bytes arrived (ACK latency metrics). */
  readonly acked?: (receivedAtMs: number) => void;
}

export interface PipelineDeps {
  pool: DecodePool;
  sink: MessageSink;
  media: MediaStore | null;
  hooks: PipelineHooks;
  /** Credentials the server issues to devices (credential effects); null: such frames fail. */
  credentials?: CredentialStore | null;
  /** Bounds and re-send requests of multi-frame reassembly (channel config `reassembly`). */
  reassembly?: ReassemblerLimits;
  /** Uploads tracked across frames (`upload` effects); absent: such effects fail their frame. */
  uploads?: UploadTracker | null;
}

/** Per-connection cap of frames awaiting their ACK before that socket stops being read. */
const MAX_SLOTS_PER_LINK = 64;
/** Half-life of a connection's attained service (decode priority), ms. */
const ATTAINED_HALF_LIFE_MS = 2000;
/** Reassembly without channel config (the config's defaults). */
const REASSEMBLY_DEFAULTS: ReassemblerLimits = { maxBytes: 4 * 1024 * 1024, maxAgeMs: 5 * 60_000, resendAfterMs: 20_000, maxRequests: 3 };

/**
 * A frame from arrival to its ACK: the link's slot and the pool's frame in one object, so a frame
 * costs one allocation on the main thread (no closure per frame for the pool's callback, one
 * confirmation callback per frame shared by its messages rather than one per message).
 */
class PendingFrame implements Slot, PoolFrame {
  remaining = -1;
  replies: Uint8Array[] | null = null;
  after: Uint8Array[] | null = null;
  failed: ErrorInfo | null = null;
  readonly bytes: Buffer;
  /** Called once per durable effect of the frame (each message, each file chunk). */
  readonly confirm: (err?: Error | null) => void;

  constructor(
    private readonly pipeline: FramePipeline,
    readonly connection: DeviceLink,
    readonly frame: Buffer,
    readonly receivedAtMs: number,
    readonly reassembled: boolean,
  ) {
    this.bytes = frame;
    this.confirm = (err) => pipeline.confirmed(connection, this, err);
  }

  done(o: FrameOutcome): void {
    this.pipeline.decoded(this, o);
  }
}

export class FramePipeline {
  private readonly runtimeMessages: RuntimeMessages;
  private readonly reassemblers = new WeakMap<DeviceLink, Reassembler>();
  /** `upload` effects (alarm attachments), when the channel tracks uploads. */
  readonly uploads: UploadEffects | null;
  /** Links holding unfinished messages (the sweep visits only these). */
  private readonly assembling = new Set<DeviceLink>();

  constructor(
    private readonly host: PipelineHost,
    private readonly deps: PipelineDeps,
  ) {
    this.runtimeMessages = new RuntimeMessages(host, deps.sink);
    const tracker = deps.uploads;
    this.uploads = tracker ? new UploadEffects(host, { pool: deps.pool, sink: deps.sink, media: deps.media, hooks: deps.hooks, tracker, messages: this.runtimeMessages, fail: (l, s, i, c) => this.fail(l, s, i, c) }) : null;
  }

  enqueue(link: DeviceLink, frames: Buffer[], at: number, reassembled = false): void {
    for (const frame of frames) {
      const slot = new PendingFrame(this, link, frame, at, reassembled);
      link.slots.push(slot);
      link.backlog.push(slot);
    }
    this.host.stats.counters.frames += frames.length;
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
    const nowMs = this.host.now();
    let bytes = 0;
    for (const slot of items) bytes += slot.frame.length;
    link.attained = link.attained * Math.pow(0.5, (nowMs - link.attainedAtMs) / ATTAINED_HALF_LIFE_MS) + bytes;
    link.attainedAtMs = nowMs;
    link.decodingLeft = items.length;
    // the backlog only ever holds this pipeline's PendingFrames (enqueue)
    this.deps.pool.submit(this.host.proto, this.host.id, this.host.options, items as PendingFrame[], link.attained, link.part);
  }

  /** The pool's answer for one frame (frames of a link come back in order). */
  decoded(slot: PendingFrame, o: FrameOutcome): void {
    const link = slot.connection;
    this.outcome(link, slot, o);
    if (--link.decodingLeft === 0) {
      link.decoding = false;
      // a closed link's frames that were read before the close are still decoded (afterClose)
      if (link.backlog.length > 0) this.submit(link);
    }
  }

  private outcome(link: DeviceLink, slot: PendingFrame, o: FrameOutcome): void {
    if (slot.failed) return;
    if (link.closed) {
      this.afterClose(link, slot, o);
      return;
    }
    const host = this.host;
    const nowMs = host.now();
    if (o.session) {
      const before = link.ident;
      const next = mergeSession(link.session, o.session);
      if (before !== undefined && next.ident !== undefined && next.ident !== before && link.part === '' && link.identChanges >= MAX_IDENT_CHANGES_PER_CONNECTION) {
        if (host.stats.unacked.add('EDGE_IDENT_CHURN')) host.linkLog(link).info({ code: 'EDGE_IDENT_CHURN' }, 'EDGE_IDENT_CHURN: a connection keeps changing its ident; closing (further ones are counted per stats interval)');
        this.fail(link, slot, { code: 'EDGE_IDENT_CHURN', reason: `ident changed ${link.identChanges + 1} times on one connection (at most ${MAX_IDENT_CHANGES_PER_CONNECTION})` }, CLOSE_CODES.IDENT_CHURN);
        return;
      }
      link.setSession(next);
      if (link.ident && link.ident !== before) host.identChanged(link, before, nowMs);
      else if (!link.commandsReady) host.sessionChanged(link);
    }
    if (o.warnings) for (const w of o.warnings) host.stats.warnings.add(w.code);
    if (o.error) {
      host.errorEvent(link, nowMs, o.error, slot.frame);
      host.linkLog(link).debug({ code: o.error.code, reason: o.error.reason }, 'decode error');
      const code = o.error.code === 'EDGE_DECODE_CHECKSUM' || o.error.code === 'EDGE_FRAME_LENGTH' ? CLOSE_CODES.PROTOCOL_VIOLATION : CLOSE_CODES.PARSE_ERROR;
      this.fail(link, slot, o.error, code);
      return;
    }
    let frameFields = this.commandFields(o);
    slot.replies = o.replies;
    slot.remaining = o.payloads.length;
    if (o.effects) {
      const added = this.applyEffects(link, slot, o.effects, nowMs);
      if (added === false) return;
      if (added) frameFields = { ...frameFields, ...added };
    }
    this.publishMessages(link, slot, o, frameFields ? JSON.stringify(frameFields) : undefined);
    if (slot.remaining === 0) this.flush(link);
  }

  /**
   * A frame the device sent before its connection closed: it hung up without waiting for the ACK
   * (a last report, a command reply that gets none), or the server closed the link for a reason that
   * was not this frame (a newer connection took the ident, a full outbound buffer). Received data is
   * not dropped: its messages are published. Nothing goes back to the device, the closed link's
   * session and ident stay as they were (the ident may already belong to a new connection), and
   * effects, which need the live connection (file pieces, uploads, relays, credentials), are skipped
   * and logged: the frame was never acknowledged, so the device sends it again. A copy it resends
   * after reconnecting carries the same message.id.
   */
  private afterClose(link: DeviceLink, slot: PendingFrame, o: FrameOutcome): void {
    const host = this.host;
    if (o.warnings) for (const w of o.warnings) host.stats.warnings.add(w.code);
    if (o.error) {
      host.errorEvent(link, host.now(), o.error, slot.frame);
      return;
    }
    // counted per stats interval like every unacknowledged frame, logged once per interval, not per frame
    if (o.effects && host.stats.unacked.add('EDGE_DEVICE_OFFLINE')) host.linkLog(link).info({ code: 'EDGE_DEVICE_OFFLINE', effects: o.effects.map((e) => e.kind) }, 'a frame read before the connection closed had effects that need the connection: skipped (the device resends the unacknowledged frame; further ones are counted per stats interval)');
    const fields = this.commandFields(o);
    slot.remaining = o.payloads.length;
    this.publishMessages(link, slot, o, fields ? JSON.stringify(fields) : undefined);
  }

  /**
   * Closes the commands the frame's replies answer; returns the fields its messages carry for the
   * last one closed (null: none). A reply's ident is that of its reply message, which closes the
   * frame's message list (decode-frames.ts): the ident the frame was decoded with, which a closed
   * link's own session may not have caught up with.
   */
  private commandFields(o: FrameOutcome): Record<string, MessageValue> | null {
    const replies = o.commandReplies;
    const hook = this.deps.hooks.commandReply;
    if (!replies || !hook) return null;
    let fields: Record<string, MessageValue> | null = null;
    const first = o.idents.length - replies.length;
    replies.forEach((r, k) => {
      const ident = o.idents[first + k];
      const c = ident ? hook(this.host.id, ident, r) : null;
      if (c) fields = { 'command.id': c.id, 'command.name': c.name };
    });
    return fields;
  }

  /** The frame's messages to the sink; each confirmation counts the slot down (`slot.confirm`). */
  private publishMessages(link: DeviceLink, slot: PendingFrame, o: FrameOutcome, fields: string | undefined): void {
    const host = this.host;
    link.messages += o.payloads.length;
    host.stats.counters.messages += o.payloads.length;
    const sink = this.deps.sink;
    const w = o.watched;
    if (w) {
      const stride = w.names.length + 1;
      const observe = this.deps.hooks.observe;
      for (let i = 0; i < o.payloads.length; i++) {
        const ident = o.idents[i]!;
        // observed first, so this message already carries an asset its own value assigned
        if (observe) {
          slot.remaining++;
          if (!observe(host.id, ident, w, i, slot.confirm)) slot.remaining--;
        }
        sink.message(host.id, ident, o.payloads[i]!, slot.confirm, link.num, link.attained, fields, w.values[i * stride] as number);
      }
    } else for (let i = 0; i < o.payloads.length; i++) sink.message(host.id, o.idents[i]!, o.payloads[i]!, slot.confirm, link.num, link.attained, fields);
  }

  /** One durable effect of the slot is done (or failed: the frame is not acknowledged). */
  confirmed(link: DeviceLink, slot: Slot, err?: Error | null): void {
    if (slot.failed || link.closed) return;
    if (err) {
      const code = err instanceof EdgeError ? err.code : 'EDGE_PUBLISH_FAILED';
      const info: ErrorInfo = { code, reason: err.message };
      // one line per code per stats interval, the rest counted: a spool error must not log per frame
      if (this.host.stats.unacked.add(code)) this.host.linkLog(link).warn({ code, err: err.message }, `${code}: frame not acknowledged (further ones are counted per stats interval)`);
      this.fail(link, slot, info, CLOSE_CODES.INTERNAL_ERROR);
      return;
    }
    if (--slot.remaining === 0) this.flush(link);
  }

  /** Returns fields for the frame's messages (credential checks), null for none, false when the frame failed. */
  private applyEffects(link: DeviceLink, slot: PendingFrame, effects: readonly DecodeEffect[], nowMs: number): Record<string, MessageValue> | null | false {
    const counters = this.host.stats.counters;
    let fields: Record<string, MessageValue> | null = null;
    for (const e of effects) {
      switch (e.kind) {
        case 'server-frame':
          (slot.after ??= []).push(e.bytes);
          counters.serverFrames++;
          break;
        case 'file-chunk':
          if (!this.storeChunk(link, slot, e)) return false;
          counters.fileChunks++;
          break;
        case 'upload':
          if (!this.uploads) {
            this.fail(link, slot, { code: 'EDGE_UPLOAD_REFUSED', reason: 'the frame belongs to an upload but the channel tracks none' }, CLOSE_CODES.INTERNAL_ERROR);
            return false;
          }
          if (!this.uploads.apply(link, slot, e.upload, nowMs)) return false;
          break;
        case 'relay': {
          // durable like a message: the frame's ACK (if it has one) waits until the request is published
          const relay = this.deps.hooks.relay;
          if (!relay || !link.ident) {
            this.fail(link, slot, { code: 'EDGE_RELAY_FAILED', reason: `the frame asks the ${e.service} service, but ${relay ? 'the device has no ident yet' : 'no relay is configured'}` }, CLOSE_CODES.INTERNAL_ERROR);
            return false;
          }
          slot.remaining++;
          counters.relayed++;
          relay(this.host.id, link.ident, e, slot.confirm);
          break;
        }
        case 'reassemble':
          this.reassemble(link, slot, e, nowMs);
          break;
        case 'credential-issue': {
          const store = this.deps.credentials;
          const ident = link.ident;
          if (!store || !ident) {
            this.fail(link, slot, { code: 'EDGE_CREDENTIAL_STORE_FAILED', reason: !store ? 'the frame issues a device credential but no credential store is configured' : 'the frame issues a credential before its device is identified' }, CLOSE_CODES.INTERNAL_ERROR);
            return false;
          }
          // durable before the reply that carries the code: a device must not hold a code we forgot
          slot.remaining++;
          store.set(this.host.id, ident, e.code, slot.confirm);
          break;
        }
        case 'credential-check': {
          const f = this.checkCredential(link, slot, e);
          if (f === false) return false;
          if (f) fields = Object.assign(fields ?? {}, f);
          break;
        }
      }
    }
    return fields;
  }

  /** Compares the presented code with the stored one and picks the frame's replies accordingly. */
  private checkCredential(link: DeviceLink, slot: PendingFrame, e: CredentialCheckEffect): Record<string, MessageValue> | null | false {
    const store = this.deps.credentials;
    if (!store) {
      this.fail(link, slot, { code: 'EDGE_CREDENTIAL_STORE_FAILED', reason: 'the frame presents a device credential but no credential store is configured' }, CLOSE_CODES.INTERNAL_ERROR);
      return false;
    }
    const stored = link.ident ? store.get(this.host.id, link.ident) : undefined;
    const ok = stored !== undefined && stored === e.code;
    const accept = ok || (e.acceptAny === true && link.ident !== undefined);
    slot.replies = accept ? e.accepted : e.rejected;
    if (accept && !ok) {
      // migration mode: the presented code becomes the one on record, synced before the reply
      slot.remaining++;
      store.set(this.host.id, link.ident!, e.code, slot.confirm);
    }
    if (accept && e.acceptedSession) {
      link.setSession(mergeSession(link.session, e.acceptedSession));
      // commands queued for the device follow the accepting reply (DeviceLink.send waits for this frame's replies)
      this.host.sessionChanged(link);
    }
    if (!e.field) return null;
    return accept && !ok ? { [e.field]: ok, 'auth.code.recorded': true } : { [e.field]: ok };
  }

  /**
   * A part of a multi-frame message: joined and decoded once complete; a request for missing parts
   * goes out right after this frame's replies when the reassembler says so.
   */
  private reassemble(link: DeviceLink, slot: PendingFrame, e: ReassembleEffect, nowMs: number): void {
    const counters = this.host.stats.counters;
    let r = this.reassemblers.get(link);
    if (!r) this.reassemblers.set(link, (r = new Reassembler(this.deps.reassembly ?? REASSEMBLY_DEFAULTS)));
    const res = r.add(e.key, e.index, e.count, e.bytes, nowMs, e.resend);
    if (res.kind === 'complete') this.enqueue(link, [res.bytes], nowMs, true);
    else if (res.kind === 'dropped') {
      counters.reassemblyDrops++;
      this.host.stats.warnings.add('EDGE_REASSEMBLY_DROPPED');
    } else if (res.kind === 'partial' && res.ask) {
      const bytes = this.resendFrame(link, res.ask);
      if (bytes) (slot.after ??= []).push(bytes);
    }
    // 'duplicate': a late copy of a part of a message already decoded; its own reply is enough
    if (r.size > 0) this.assembling.add(link);
    else this.assembling.delete(link);
  }

  private resendFrame(link: DeviceLink, ask: ResendAsk): Uint8Array | null {
    const part: FramePart | undefined = link.part ? this.host.proto.parts?.find((p) => p.id === link.part) : this.host.proto;
    if (!part?.resendRequest) return null;
    let bytes: Uint8Array | null;
    try {
      bytes = part.resendRequest(ask.context, ask.missing, ask.count, link.session);
    } catch (err) {
      // a protocol bug must not take the channel down: the message waits for its age bound instead
      this.host.linkLog(link).warn({ code: 'EDGE_DECODE_INTERNAL', err: (err as Error).message }, 'resendRequest failed');
      return null;
    }
    if (bytes) this.host.stats.counters.resendRequests++;
    return bytes;
  }

  /**
   * Periodic (channel timer): drops unfinished messages past their age and asks again for parts of
   * messages that stalled, between frames (DeviceLink.send).
   */
  sweepReassembly(nowMs: number): void {
    for (const link of this.assembling) {
      const r = this.reassemblers.get(link);
      if (!r || link.closed || link.closing) {
        this.assembling.delete(link);
        continue;
      }
      const { asks, dropped } = r.sweep(nowMs);
      if (dropped > 0) {
        this.host.stats.counters.reassemblyDrops += dropped;
        this.host.stats.warnings.add('EDGE_REASSEMBLY_DROPPED');
      }
      for (const a of asks) {
        const bytes = this.resendFrame(link, a);
        if (bytes) link.send(bytes);
      }
      if (r.size === 0) this.assembling.delete(link);
    }
  }

  /**
   * One durable effect: the piece is synced before the frame's ACK; the final piece completes the
   * file, and its announcement (a message for the device, published QoS 1) also counts before the ACK,
   * so a device never deletes a file whose arrival was not announced.
   */
  private storeChunk(link: DeviceLink, slot: PendingFrame, e: FileChunkEffect): boolean {
    const media = this.deps.media;
    const ident = link.ident ?? '_unidentified';
    if (!media) {
      this.fail(link, slot, { code: 'EDGE_MEDIA_WRITE_FAILED', reason: 'the frame carries a file piece but no media store is configured' }, CLOSE_CODES.INTERNAL_ERROR);
      return false;
    }
    slot.remaining++;
    media.write(this.host.id, ident, e.key, e.offset, e.bytes, e.final, e.file, (err, stored) => {
      if (err) {
        this.deps.hooks.mediaFailed?.(this.host.id, ident, e.key, err);
        slot.confirm(err);
        return;
      }
      if (stored) {
        const meta = e.meta ?? {};
        if (e.announce) {
          slot.remaining++;
          this.announce(link, ident, stored, e.announce, meta, slot);
        }
        this.deps.hooks.mediaStored?.(this.host.id, ident, stored, meta);
      }
      slot.confirm(null);
    });
    return true;
  }

  private announce(link: DeviceLink, ident: string, stored: StoredMedia, prefix: string, meta: Readonly<Record<string, MessageValue>>, slot: PendingFrame): void {
    const facts = storedFileFields(prefix, stored);
    // asked before mediaStored completes the command: the file carries the command that produced it
    const cmd = this.deps.hooks.mediaCommand?.(this.host.id, ident, stored.kind) ?? null;
    const cmdFields = cmd ? `{"command.id":${JSON.stringify(cmd.id)},"command.meta":${cmd.meta ?? 'null'}}` : undefined;
    this.runtimeMessages.publish(ident, { ident, timestamp: slot.receivedAtMs / 1000, ...meta, ...facts }, slot.receivedAtMs, link.peer, slot.confirm, link, cmdFields);
    this.runtimeMessages.mediaEvent(ident, 'stored', stored.storedAtMs / 1000, { conn: link.id, kind: stored.kind, ...meta, ...facts, ...(cmd ? { 'command.id': cmd.id, 'command.meta': cmd.meta === null ? null : (JSON.parse(cmd.meta) as unknown) } : {}) });
  }

  /** Writes what is ready, resumes a link paused for its slot count, completes a pending close. */
  flush(link: DeviceLink): void {
    this.host.stats.counters.acked += link.flushReady(this.host.acked);
    if (link.pausedByLink && link.slots.length < MAX_SLOTS_PER_LINK / 2) {
      link.pausedByLink = false;
      this.host.maybeResume(link);
    }
    if (link.closing) link.finishClose();
    if (link.slots.length === 0) this.host.idle?.(link);
  }

  /**
   * A frame that cannot be acknowledged. UDP: that datagram is dropped (no reply), others go on.
   * TCP: frames after it are abandoned; earlier ones still get their ACKs, then the socket closes.
   * `slot` null: a framing error after the last complete frame (nothing after it is trustworthy).
   */
  fail(link: DeviceLink, slot: Slot | null, info: ErrorInfo, code: CloseCode): void {
    if (link.transport === 'udp') {
      if (slot) slot.failed = info;
      this.flush(link);
      return;
    }
    if (slot) {
      const idx = link.slots.indexOf(slot);
      for (let i = Math.max(idx, 0); i < link.slots.length; i++) link.slots[i]!.failed = info;
      if (idx >= 0) link.slots.length = idx + 1;
    } else {
      link.slots.push({ remaining: -1, replies: null, after: null, failed: info, frame: Buffer.alloc(0), receivedAtMs: this.host.now(), reassembled: false });
    }
    link.backlog = [];
    this.host.close(link, code, `${info.code}: ${info.reason}`);
  }
}
