import { EdgeError, type ErrorInfo } from '../errors.js';
import { CLOSE_CODES, type CloseCode } from '../net/close-codes.js';
import type { PoolFrame } from '../pool/decode-pool.js';
import type { FrameOutcome } from '../pool/task-types.js';
import { mergeSession } from '../protocol/session.js';
import type { DecodeEffect, MessageValue } from '../protocol/types.js';
import { MAX_IDENT_CHANGES_PER_CONNECTION, type DeviceLink, type Slot } from './device-link.js';
import { channelEffects } from './effects/index.js';
import type { ReassembleEffects } from './effects/reassemble.js';
import type { UploadEffects } from './effects/upload.js';
import type { EffectHandler, EffectHandlers, FrameSlot, PipelineDeps, PipelineHost, PipelineOps } from './pipeline-types.js';

export type { PipelineDeps, PipelineHooks, PipelineHost } from './pipeline-types.js';

/**
 * A channel's frames from arrival to acknowledgement:
 *   enqueue (a slot per frame, arrival order) → pool (decode in a worker) → outcome → session,
 *   command replies, effects (one handler per kind, src/channel/effects/), messages to the sink →
 *   the slot is ready once every durable effect is confirmed → replies written in slot order
 *   (DeviceLink.flushReady).
 * This file keeps the slots, their order and the ACK; what an effect does is its handler's business.
 *
 * The session is patched in two places on purpose: the worker applies a frame's patch to the
 * context the *next frames of the same batch* decode with (they were sent before the first came
 * back), and the outcome below applies the same patch to the link, which is the state every later
 * batch and the rest of the runtime see. The link's merge is the authoritative one; the worker's is
 * a look-ahead that is thrown away with the batch.
 */
/** Per-connection cap of frames awaiting their ACK before that socket stops being read. */
const MAX_SLOTS_PER_LINK = 64;
/** Half-life of a connection's attained service (decode priority), ms. */
const ATTAINED_HALF_LIFE_MS = 2000;

/**
 * A frame from arrival to its ACK: the link's slot and the pool's frame in one object, so a frame
 * costs one allocation on the main thread (no closure per frame for the pool's callback, one
 * confirmation callback per frame shared by its messages rather than one per message).
 */
class PendingFrame implements FrameSlot, PoolFrame {
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
    // Through a local on purpose: V8 allocates a function literal written straight into a property
    // (`this.x = () => ...`) in the old generation while the code runs unoptimised, and a dead old
    // closure kept this frame and its record alive through young collections (issue #31).
    const confirm = (err?: Error | null): void => pipeline.confirmed(connection, this, err);
    this.confirm = confirm;
  }

  done(o: FrameOutcome): void {
    this.pipeline.decoded(this, o);
  }
}

export class FramePipeline {
  private readonly handlers: EffectHandlers;
  private readonly reassembly: ReassembleEffects;
  /** `upload` effects (alarm attachments), when the channel tracks uploads (the channel sweeps and stops them). */
  readonly uploads: UploadEffects | null;

  constructor(
    private readonly host: PipelineHost,
    private readonly deps: PipelineDeps,
  ) {
    const ops: PipelineOps = { fail: (l, s, i, c) => this.fail(l, s, i, c), enqueue: (l, f, at, r) => this.enqueue(l, f, at, r) };
    const effects = channelEffects(host, deps, ops);
    this.handlers = effects.handlers;
    this.reassembly = effects.reassembly;
    this.uploads = effects.uploads;
  }

  /** Periodic (channel timer): the age bound and re-send requests of unfinished multi-frame messages. */
  sweepReassembly(nowMs: number): void {
    this.reassembly.sweep(nowMs);
  }

  enqueue(link: DeviceLink, frames: Buffer[], at: number, reassembled = false): void {
    for (const frame of frames) {
      const slot = new PendingFrame(this, link, frame, at, reassembled);
      link.slots.push(slot);
      (link.backlog ??= []).push(slot);
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
    link.backlog = null;
    if (!items) return;
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
      if (link.backlog) this.submit(link);
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

  /** Each effect through its handler, in the decoder's order; fields for the frame's messages, or false when the frame failed. */
  private applyEffects(link: DeviceLink, slot: PendingFrame, effects: readonly DecodeEffect[], nowMs: number): Record<string, MessageValue> | null | false {
    let fields: Record<string, MessageValue> | null = null;
    for (const e of effects) {
      const handler = this.handlers[e.kind] as EffectHandler;
      const f = handler.apply(link, slot, e, nowMs);
      if (f === false) return false;
      if (f) fields = Object.assign(fields ?? {}, f);
    }
    return fields;
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
    link.backlog = null;
    this.host.close(link, code, `${info.code}: ${info.reason}`);
  }
}
