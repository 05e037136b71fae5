import { EdgeError } from '../../errors.js';
import { mediaId } from '../../media/media-catalog.js';
import { linkingFields, type Upload, type UploadFile, type UploadTracker } from '../../media/upload-tracker.js';
import { CLOSE_CODES } from '../../net/close-codes.js';
import type { DecodePool } from '../../pool/decode-pool.js';
import type { DecodeEffect, UploadOp } from '../../protocol/types.js';
import type { DeviceLink, Slot } from '../device-link.js';
import type { EffectHandler, FrameSlot, PipelineHost, PipelineOps } from '../pipeline-types.js';
import type { MediaFiles } from './media-files.js';
import type { RuntimeMessages } from './runtime-messages.js';

type UploadEffect = Extract<DecodeEffect, { kind: 'upload' }>;

export interface UploadDeps {
  pool: DecodePool;
  tracker: UploadTracker;
  /** Writes pieces, completes files and announces them. */
  files: MediaFiles;
  /** Builds and publishes the linking message and the media log events. */
  messages: RuntimeMessages;
  ops: PipelineOps;
}

/** The `upload` effect on a channel that tracks no uploads: the frame fails (no ACK, the reason logged). */
export function refusedUploadEffect(ops: PipelineOps): EffectHandler<UploadEffect> {
  return {
    kind: 'upload',
    durable: false,
    apply(link, slot) {
      ops.fail(link, slot, { code: 'EDGE_UPLOAD_REFUSED', reason: 'the frame belongs to an upload but the channel tracks none' }, CLOSE_CODES.INTERNAL_ERROR);
      return false;
    },
  };
}

/**
 * Applies `upload` decode effects (ARCHITECTURE.md "Uploads"): the tracker keeps the state, the media
 * store the bytes; each piece is synced before its frame is answered, a `check` is answered with the
 * protocol's own frame once the missing ranges are known, and when every file of an upload is
 * stored one message links them to the upload's fields (the alarm) before the last frame's ACK.
 * Anything refused (unknown key, caps, a piece outside its file) fails the frame with
 * EDGE_UPLOAD_REFUSED: no ACK, the connection closes with the reason logged.
 */
export class UploadEffects implements EffectHandler<UploadEffect> {
  readonly kind = 'upload';
  readonly durable = true;

  constructor(
    private readonly host: PipelineHost,
    private readonly deps: UploadDeps,
  ) {}

  /** False when the frame failed (nothing after it is applied). */
  apply(link: DeviceLink, slot: FrameSlot, e: UploadEffect, nowMs: number): null | false {
    return this.op(link, slot, e.upload, nowMs) ? null : false;
  }

  private op(link: DeviceLink, slot: FrameSlot, op: UploadOp, nowMs: number): boolean {
    const t = this.deps.tracker;
    const ident = link.ident;
    if (!ident) return this.refuse(link, slot, 'the frame has no device ident');
    switch (op.op) {
      case 'expect': {
        const dropped = t.expect(ident, op.key, op.meta, nowMs);
        if (dropped) this.report(dropped, 'dropped: too many uploads pending (media.uploads.max_pending)', null);
        return true;
      }
      case 'open': {
        const u = t.open(link, ident, op.key, op.files, op.meta, nowMs);
        return 'refused' in u ? this.refuse(link, slot, u.refused) : true;
      }
      case 'file': {
        const x = t.file(link, op.name);
        if ('refused' in x) return this.refuse(link, slot, x.refused);
        if (op.size !== x.file.size) return this.refuse(link, slot, `file "${op.name}" is announced with ${op.size} bytes, the file list said ${x.file.size}`);
        x.file.kind = op.kind;
        x.upload.lastActivityMs = nowMs;
        return true;
      }
      case 'piece':
        return this.piece(link, slot, ident, op.name, op.offset, op.bytes, nowMs);
      case 'check':
        return this.check(link, slot, ident, op.name, op.reply, nowMs);
    }
  }

  private refuse(link: DeviceLink, slot: Slot, reason: string): false {
    this.host.linkLog(link).warn({ code: 'EDGE_UPLOAD_REFUSED', reason }, 'upload refused');
    this.host.stats.warnings.add('EDGE_UPLOAD_REFUSED');
    this.deps.ops.fail(link, slot, { code: 'EDGE_UPLOAD_REFUSED', reason }, CLOSE_CODES.PROTOCOL_VIOLATION);
    return false;
  }

  private piece(link: DeviceLink, slot: FrameSlot, ident: string, name: string, offset: number, bytes: Uint8Array, nowMs: number): boolean {
    const t = this.deps.tracker;
    const x = t.file(link, name);
    if ('refused' in x) return this.refuse(link, slot, x.refused);
    const { upload, file } = x;
    const bad = t.checkPiece(file, offset, bytes.length);
    if (bad) return this.refuse(link, slot, bad.refused);
    upload.lastActivityMs = nowMs;
    // a piece of a file already stored and renamed (a resend after the result was lost) is not
    // written again: it would start a new ".part" file
    if (file.stored) return true;
    const files = this.deps.files;
    if (!files.store) return this.refuse(link, slot, 'no media store is configured');
    slot.remaining++;
    upload.inflight++;
    this.host.stats.counters.fileChunks++;
    files.write(ident, file.key, offset, bytes, false, undefined, (err) => {
      // a range counts as arrived only once it is on disk: a failed write fails the frame, and the
      // device's next 0x1212 (on a new connection) is told that range is missing
      if (!err) t.stored(upload, file, offset, bytes.length, this.host.now());
      if (--upload.inflight === 0) for (const w of upload.idle.splice(0)) w();
      slot.confirm(err);
    });
    return true;
  }

  private whenIdle(upload: Upload, fn: () => void): void {
    if (upload.inflight === 0) fn();
    else upload.idle.push(fn);
  }

  /**
   * The device says a file is sent. Missing ranges → the protocol's "resend" answer. Nothing missing →
   * the file is completed in the store (sync, sha256, rename) first, then the "done" answer; and when
   * it was the upload's last file, the linking message is published before that answer goes out.
   */
  private check(link: DeviceLink, slot: FrameSlot, ident: string, name: string, reply: { name: string; properties: Record<string, unknown> }, nowMs: number): boolean {
    const x = this.deps.tracker.file(link, name);
    if ('refused' in x) return this.refuse(link, slot, x.refused);
    const { upload, file } = x;
    upload.lastActivityMs = nowMs;
    slot.remaining++;
    this.whenIdle(upload, () => this.answerCheck(link, slot, ident, upload, file, name, reply));
    return true;
  }

  private answerCheck(link: DeviceLink, slot: FrameSlot, ident: string, upload: Upload, file: UploadFile, name: string, reply: { name: string; properties: Record<string, unknown> }): void {
    if (slot.failed || link.closed) return;
    if (file.completing) {
      // a second 0x1212 while the first one completes the file: answer it once the file is stored
      file.completing.push(() => this.answerCheck(link, slot, ident, upload, file, name, reply));
      return;
    }
    const missing = file.stored ? [] : file.ranges.missing(file.size);
    const answer = () => {
      this.deps.pool.encode(this.host.proto, { name: reply.name, properties: { ...reply.properties, missing } }, link.session).then(
        (enc) => {
          (slot.replies ??= []).push(enc.bytes);
          slot.confirm(null);
        },
        (e: unknown) => slot.confirm(e instanceof Error ? e : new Error(String(e))),
      );
    };
    if (missing.length > 0 || file.stored) {
      answer();
      return;
    }
    const files = this.deps.files;
    if (!files.store) {
      slot.confirm(new EdgeError('EDGE_MEDIA_WRITE_FAILED', 'no media store is configured'));
      return;
    }
    file.completing = [];
    // the alarm's fields go into the file's sidecar: its files can be found by alarm over the HTTP API
    files.write(ident, file.key, file.size, new Uint8Array(0), true, { kind: file.kind, name: file.name, meta: upload.meta }, (err, stored) => {
      const waiting = file.completing ?? [];
      file.completing = null;
      for (const w of waiting) queueMicrotask(w);
      if (err || !stored) {
        const failure = err ?? new EdgeError('EDGE_MEDIA_WRITE_FAILED', `file "${name}" was not completed`);
        if (!err) files.failed(ident, file.key, failure);
        slot.confirm(failure);
        return;
      }
      file.stored = stored;
      // no announcement of its own: the upload's linking message below names every file
      files.stored(link, ident, stored, upload.meta, null);
      if (upload.files!.every((f) => f.stored)) {
        this.deps.tracker.finish(upload);
        slot.remaining++;
        this.report(upload, null, { slot, peer: link.peer, link });
      }
      answer();
    });
  }

  /**
   * The linking message of an upload (complete: `reason` null; otherwise with what arrived and why it
   * ended) and its log event. With a frame, the message is one of its durable effects (published before
   * the ACK); without (a timeout), a failed publish is logged.
   */
  report(upload: Upload, reason: string | null, frame: { slot: FrameSlot; peer: string; link: DeviceLink } | null): void {
    const host = this.host;
    const nowMs = host.now();
    const links = this.deps.files.links;
    const fields = linkingFields(upload, reason, links ? (f) => links.url(mediaId(host.id, upload.ident, f.name)) : undefined);
    const msg = { ident: upload.ident, timestamp: nowMs / 1000, 'message.type': 'media_upload', ...fields };
    const confirm = frame
      ? frame.slot.confirm
      : (err?: Error | null) => {
          if (err) host.log.warn({ ident: upload.ident, key: upload.key, err: err.message }, 'the message of an incomplete upload could not be published');
        };
    this.deps.messages.publish(upload.ident, msg, frame ? frame.slot.receivedAtMs : nowMs, frame?.peer ?? '', confirm, frame?.link ?? null);
    this.deps.messages.mediaEvent(upload.ident, reason === null ? 'upload_complete' : 'upload_incomplete', nowMs / 1000, fields);
    if (reason !== null) {
      // partial files are never completed once the upload is forgotten: remove them, so a device that
      // starts uploads and stops cannot fill the disk (the message says what was missing)
      for (const f of upload.files ?? []) if (!f.stored && f.ranges.covered > 0) void this.deps.files.store?.discard?.(host.id, upload.ident, f.key);
      host.stats.warnings.add('EDGE_UPLOAD_INCOMPLETE');
      host.log.info({ ident: upload.ident, key: upload.key, reason }, 'EDGE_UPLOAD_INCOMPLETE: upload ended before every file arrived; published with what was stored');
    }
  }

  /**
   * Shutdown: the tracker is memory-only, so every upload still open or invited is published now with
   * what arrived (after a restart the device's upload for it would be refused as unknown).
   */
  stop(): void {
    for (const u of this.deps.tracker.drain()) this.report(u, 'the server stopped before the upload was complete (uploads are tracked in memory)', null);
  }

  /** Expired uploads (channel timer): each published with what arrived and the reason. */
  sweep(nowMs: number): void {
    for (const x of this.deps.tracker.sweep(nowMs)) this.report(x.upload, x.reason, null);
  }
}
