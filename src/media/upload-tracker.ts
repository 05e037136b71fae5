import type { MediaKind, MessageValue } from '../protocol/types.js';
import type { StoredMedia } from './media-store.js';
import { RangeSet } from './range-set.js';

/**
 * Uploads a channel tracks on the main thread (the `upload` decode effects, ARCHITECTURE.md
 * "Uploads"): the invitations it sent (`expect`: key → device, alarm fields), the uploads opened on
 * an upload link, their files, and which byte ranges of each file are stored. Decoders cannot know
 * this (they see one frame; frames of one link are decoded by different workers), and the session
 * is the wrong place (small, re-sent to workers on every change, stale within a decode batch).
 *
 * Bounded: at most `maxPending` invitations (the oldest is dropped and reported), `maxFiles` files
 * and `maxBytes` bytes per upload, `maxFileBytes` per file, `maxRanges` separate ranges per file (a
 * peer cannot fragment the state), and in time by `expectTimeoutMs` (invited, never finished) and
 * `idleTimeoutMs` (opened, no piece for that long). Expired uploads come back from `sweep` so the
 * runtime can publish what arrived with the reason; nothing partial is ever reported complete.
 */
export interface UploadLimits {
  maxPending: number;
  maxFiles: number;
  maxFileBytes: number;
  maxBytes: number;
  maxRanges: number;
  expectTimeoutMs: number;
  idleTimeoutMs: number;
}

/** The config defaults (media.uploads, media.max_file_bytes), for channels built without a config (tests, benches). */
export const DEFAULT_UPLOAD_LIMITS: Readonly<UploadLimits> = Object.freeze({
  maxPending: 100_000,
  maxFiles: 16,
  maxFileBytes: 256 * 1024 * 1024,
  maxBytes: 1024 * 1024 * 1024,
  maxRanges: 65_536,
  expectTimeoutMs: 3_600_000,
  idleTimeoutMs: 300_000,
});

export interface UploadFile {
  name: string;
  size: number;
  kind: MediaKind;
  /** Store key of the file: the upload key and the file's place in the list. */
  key: string;
  ranges: RangeSet;
  stored: StoredMedia | null;
  /** While the store completes the file: checks that arrive meanwhile wait here (one completion only). */
  completing: (() => void)[] | null;
}

export interface Upload {
  key: string;
  ident: string;
  meta: Record<string, MessageValue>;
  files: UploadFile[] | null;
  createdAtMs: number;
  lastActivityMs: number;
  /** A link sent the file list (an invitation alone is not opened). */
  opened: boolean;
  /** Pieces being written: a check waits until they are stored, so its missing ranges are exact. */
  inflight: number;
  idle: (() => void)[];
}

export type UploadRefusal = { refused: string };

export class UploadTracker {
  private readonly uploads = new Map<string, Upload>();
  /** The upload a link is sending (a link uploads one alarm at a time; a new 0x1210 switches). */
  private readonly byLink = new WeakMap<object, Upload>();

  constructor(private readonly limits: UploadLimits) {}

  get size(): number {
    return this.uploads.size;
  }

  /** The device was invited to upload under `key`. Returns an upload dropped to stay within maxPending. */
  expect(ident: string, key: string, meta: Record<string, MessageValue>, nowMs: number): Upload | null {
    const had = this.uploads.get(key);
    if (had) {
      // the same alarm reported again (lost ACK): same invitation, time restarts
      if (had.ident === ident) had.lastActivityMs = nowMs;
      return null;
    }
    let dropped: Upload | null = null;
    if (this.uploads.size >= this.limits.maxPending) {
      const oldest = this.uploads.values().next().value as Upload;
      this.uploads.delete(oldest.key);
      dropped = oldest;
    }
    this.uploads.set(key, { key, ident, meta: { ...meta }, files: null, createdAtMs: nowMs, lastActivityMs: nowMs, opened: false, inflight: 0, idle: [] });
    return dropped;
  }

  /** `link` uploads `key` with these files; a key that was opened before resumes (what arrived stays). */
  open(link: object, ident: string, key: string, files: readonly { name: string; size: number }[], meta: Record<string, MessageValue>, nowMs: number): Upload | UploadRefusal {
    const u = this.uploads.get(key);
    if (!u || u.ident !== ident) return { refused: `alarm number ${key} was not issued to device ${ident} (or its upload timed out)` };
    const L = this.limits;
    if (files.length === 0) return { refused: 'the file list is empty' };
    if (files.length > L.maxFiles) return { refused: `${files.length} files announced, more than media.uploads.max_files ${L.maxFiles}` };
    let total = 0;
    for (const f of files) {
      if (f.size > L.maxFileBytes) return { refused: `file "${f.name}" announces ${f.size} bytes, more than media.max_file_bytes ${L.maxFileBytes}` };
      total += f.size;
    }
    if (total > L.maxBytes) return { refused: `the files announce ${total} bytes together, more than media.uploads.max_bytes ${L.maxBytes}` };
    if (u.files) {
      // resumed: the same list keeps its ranges; a different list restarts the files that changed
      const before = new Map(u.files.map((f) => [f.name, f]));
      u.files = files.map((f, i) => {
        const b = before.get(f.name);
        return b && b.size === f.size ? b : newFile(key, i, f.name, f.size);
      });
    } else u.files = files.map((f, i) => newFile(key, i, f.name, f.size));
    Object.assign(u.meta, meta);
    u.opened = true;
    u.lastActivityMs = nowMs;
    this.byLink.set(link, u);
    return u;
  }

  /** The upload the link is sending, or a refusal when it sent no file list first. */
  of(link: object): Upload | UploadRefusal {
    return this.byLink.get(link) ?? { refused: 'no 0x1210 file list opened an upload on this connection' };
  }

  /** The named file of the link's upload (chunk names are cut to 50 bytes: matched on that prefix too). */
  file(link: object, name: string): { upload: Upload; file: UploadFile } | UploadRefusal {
    const u = this.of(link);
    if ('refused' in u) return u;
    if (!this.uploads.has(u.key)) return { refused: `the upload ${u.key} timed out` };
    const f = u.files!.find((x) => x.name === name) ?? (name.length === 50 ? u.files!.find((x) => x.name.startsWith(name)) : undefined);
    if (!f) return { refused: `file "${name}" is not in the upload's file list` };
    return { upload: u, file: f };
  }

  /** A piece about to be stored: refused when it lies outside its file or would fragment it past maxRanges. */
  checkPiece(f: UploadFile, offset: number, length: number): UploadRefusal | null {
    if (offset + length > f.size) return { refused: `a chunk of "${f.name}" covers bytes ${offset}..${offset + length}, outside the announced ${f.size}-byte file` };
    if (f.ranges.count >= this.limits.maxRanges) return { refused: `file "${f.name}" arrived in more than ${this.limits.maxRanges} separate ranges` };
    return null;
  }

  stored(u: Upload, f: UploadFile, offset: number, length: number, nowMs: number): void {
    f.ranges.add(offset, offset + length);
    u.lastActivityMs = nowMs;
  }

  /** Every file stored: the upload is done and forgotten (a late duplicate then counts as unknown). */
  finish(u: Upload): void {
    this.uploads.delete(u.key);
  }

  /** Uploads past their time: removed here, returned with the reason for the runtime to report. */
  sweep(nowMs: number): { upload: Upload; reason: string }[] {
    const out: { upload: Upload; reason: string }[] = [];
    const L = this.limits;
    for (const u of this.uploads.values()) {
      if (u.opened && nowMs - u.lastActivityMs >= L.idleTimeoutMs) out.push({ upload: u, reason: `no data for ${Math.round(L.idleTimeoutMs / 1000)} s (media.uploads.idle_timeout_s)` });
      else if (nowMs - u.createdAtMs >= L.expectTimeoutMs) out.push({ upload: u, reason: u.opened ? `not complete within ${Math.round(L.expectTimeoutMs / 1000)} s (media.uploads.timeout_s)` : `the device did not upload within ${Math.round(L.expectTimeoutMs / 1000)} s (media.uploads.timeout_s)` });
    }
    for (const x of out) this.uploads.delete(x.upload.key);
    return out;
  }

  /** Everything still open (shutdown). */
  drain(): Upload[] {
    const all = [...this.uploads.values()];
    this.uploads.clear();
    return all;
  }
}

function newFile(key: string, i: number, name: string, size: number): UploadFile {
  return { name, size, kind: 'file', key: `${key.slice(0, 32)}-${i + 1}`, ranges: new RangeSet(), stored: null, completing: null };
}

/**
 * The message that links an upload to its stored files: the invitation's fields (alarm id, type,
 * identification, number), then per stored file `media.<kind>.<n>.*` (n counts from 1 per kind in
 * the order of the file list), and the upload's status with the reason when incomplete.
 */
/** `url`: the signed download link of a stored file (when the server has an HTTP listener). */
export function linkingFields(u: Upload, reason: string | null, url?: (f: StoredMedia) => string): Record<string, MessageValue> {
  const out: Record<string, MessageValue> = { ...u.meta };
  const n: Partial<Record<MediaKind, number>> = {};
  let stored = 0;
  let announced = 0;
  for (const f of u.files ?? []) {
    announced++;
    if (!f.stored) continue;
    stored++;
    const i = (n[f.kind] = (n[f.kind] ?? 0) + 1);
    const p = `media.${f.kind}.${i}`;
    out[`${p}.file.id`] = f.stored.key;
    out[`${p}.file.name`] = f.stored.name;
    out[`${p}.source.name`] = f.name;
    out[`${p}.size`] = f.stored.bytes;
    out[`${p}.sha256`] = f.stored.sha256;
    out[`${p}.path`] = f.stored.path;
    if (url) out[`${p}.file.url`] = url(f.stored);
  }
  out['media.files.count'] = stored;
  out['media.files.announced'] = announced;
  out['media.upload.complete'] = reason === null;
  if (reason !== null) {
    out['media.upload.reason'] = reason;
    const missing = (u.files ?? []).filter((f) => !f.stored).map((f) => `${f.name} (${f.ranges.covered}/${f.size} bytes)`);
    if (missing.length) out['media.upload.missing'] = missing.join(', ');
  }
  return out;
}
