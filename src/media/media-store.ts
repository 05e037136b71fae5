import { createHash } from 'node:crypto';
import { syncDir } from '../storage/durable-file.js';
import { constants, createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, extname, join } from 'node:path';
import { EdgeError } from '../errors.js';
import type { MediaKind, MessageValue } from '../protocol/types.js';
import { topicLevel } from '../mqtt/topics.js';

/**
 * Where files that devices upload in pieces (`file-chunk` decode effects: tacho DDD files, photos,
 * video) are stored. A piece is written at its offset and synced before its callback fires, which is
 * what the frame's ACK waits for: a device deletes what it was told is received.
 *
 * A file grows under `{dir}/{channel}/{ident}/{key}.part`. The final piece makes it complete: it is
 * synced, hashed (sha256) and renamed in one step to `{kind}-{UTC time}-{key}{ext}`, then the folder
 * is synced, so a file under its final name is always whole and a crash leaves only `.part` files.
 * Path levels are sanitised like topic levels, so a device cannot write outside its folder.
 */
export interface StoredMedia {
  /** The upload's key (unique per device while it is being written). */
  key: string;
  kind: MediaKind;
  /** The stored file's name (the last path level). */
  name: string;
  path: string;
  bytes: number;
  sha256: string;
  storedAtMs: number;
}

/** What `{file}.meta.json` holds next to every completed file. */
export interface MediaSidecar {
  key: string;
  kind: MediaKind;
  bytes: number;
  sha256: string;
  stored_at_ms: number;
  /** Kept from deletion by retention (set over the HTTP API). */
  protected?: boolean;
  /** User properties (a JSON object, set over the HTTP API). */
  properties?: Record<string, unknown>;
  /** What the runtime knew of the file when it was stored (alarm fields, `command.id`). */
  meta?: Readonly<Record<string, MessageValue>>;
}

/** The sidecar of a stored file. */
export function sidecarPath(filePath: string): string {
  return `${filePath}.meta.json`;
}

/** Names in a device folder that are not stored files: uploads in progress, sidecars, temporary files. */
export function isStoredFileName(name: string): boolean {
  return !name.endsWith('.part') && !name.endsWith('.meta.json') && !name.endsWith('.tmp') && !name.startsWith('.');
}

export interface FileDescription {
  kind: MediaKind;
  /** The device's own name of the file; only its extension is kept in the stored name. */
  name?: string;
  /** Facts to keep with the file (the alarm it documents, the command that asked for it): the sidecar's `meta`, searchable over the HTTP API. */
  meta?: Readonly<Record<string, MessageValue>>;
}

export interface MediaStore {
  /**
   * Writes one piece; `cb` gets the stored file when `final` completed it, else null. Errors are
   * EdgeErrors: EDGE_MEDIA_TOO_LARGE (past `max_file_bytes`), EDGE_MEDIA_WRITE_FAILED (I/O, with the cause).
   */
  write(channelId: string, ident: string, key: string, offset: number, bytes: Uint8Array, final: boolean, file: FileDescription | undefined, cb: (err: EdgeError | null, stored: StoredMedia | null) => void): void;
  /**
   * Removes an unfinished upload's `.part` file (an upload that ended incomplete: it will never be
   * completed, and nothing announces it). Resolves false when there was none; never throws.
   */
  discard?(channelId: string, ident: string, key: string): Promise<boolean>;
}

export interface MediaStoreOptions {
  fsync?: boolean;
  /** Largest file, bytes: a piece that would end past it fails. */
  maxFileBytes?: number;
  now?: () => number;
}

export class FileMediaStore implements MediaStore {
  private readonly fsync: boolean;
  private readonly maxFileBytes: number;
  private readonly now: () => number;

  constructor(
    private readonly dir: string,
    opts: MediaStoreOptions = {},
  ) {
    this.fsync = opts.fsync ?? true;
    this.maxFileBytes = opts.maxFileBytes ?? Number.MAX_SAFE_INTEGER;
    this.now = opts.now ?? Date.now;
  }

  write(channelId: string, ident: string, key: string, offset: number, bytes: Uint8Array, final: boolean, file: FileDescription | undefined, cb: (err: EdgeError | null, stored: StoredMedia | null) => void): void {
    if (!Number.isSafeInteger(offset) || offset < 0) {
      cb(new EdgeError('EDGE_MEDIA_WRITE_FAILED', `piece offset ${offset} is not a byte position`), null);
      return;
    }
    if (offset + bytes.length > this.maxFileBytes) {
      cb(new EdgeError('EDGE_MEDIA_TOO_LARGE', `file "${key}" would grow to ${offset + bytes.length} bytes, more than media.max_file_bytes ${this.maxFileBytes}`), null);
      return;
    }
    this.writeAsync(channelId, ident, key, offset, bytes, final, file).then(
      (f) => cb(null, f),
      (e: NodeJS.ErrnoException) => cb(e instanceof EdgeError ? e : new EdgeError('EDGE_MEDIA_WRITE_FAILED', describeIoError(e)), null),
    );
  }

  async discard(channelId: string, ident: string, key: string): Promise<boolean> {
    try {
      await unlink(join(this.dir, safeLevel(channelId), safeLevel(ident), `${safeLevel(key)}.part`));
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Removes `.part` files nobody wrote to for `maxAgeMs`: uploads a device gave up (a tacho file it
   * never sent again, a photo whose last part never came). No upload resumes across a restart and the
   * video upload tracker times out far sooner, so such a file can never complete; the age, not the
   * process, decides, because several instances may share the folder. Returns how many were removed;
   * unreadable folders are skipped (a sweep never fails the server).
   */
  async sweepStaleParts(maxAgeMs: number): Promise<number> {
    const cutoff = this.now() - maxAgeMs;
    let removed = 0;
    for (const channel of await listDir(this.dir)) {
      for (const ident of await listDir(join(this.dir, channel))) {
        const folder = join(this.dir, channel, ident);
        for (const name of await listDir(folder)) {
          if (!name.endsWith('.part')) continue;
          const path = join(folder, name);
          try {
            if ((await stat(path)).mtimeMs < cutoff) {
              await unlink(path);
              removed++;
            }
          } catch {
            // gone meanwhile (completed or discarded): nothing to do
          }
        }
      }
    }
    return removed;
  }

  /**
   * A file the server made from a stored one (the parsed JSON of a tachograph file), stored next to
   * it as `{its name}{suffix}` with a sidecar of its own: written to a temporary name, synced, then
   * renamed, like a device's file, so it is whole under its final name. Its sidecar `meta` says
   * which file it was made from. Errors are EDGE_MEDIA_WRITE_FAILED.
   */
  async storeDerived(of: StoredMedia, suffix: string, bytes: Uint8Array, kind: MediaKind, meta: Readonly<Record<string, MessageValue>>): Promise<StoredMedia> {
    const folder = dirname(of.path);
    const name = `${of.name}${suffix}`;
    const path = join(folder, name);
    const tmp = `${path}.tmp`;
    const key = `${of.key}${suffix}`;
    try {
      const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o644);
      try {
        await fh.write(bytes, 0, bytes.length, 0);
        if (this.fsync) await fh.datasync();
      } finally {
        await fh.close();
      }
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      const storedAtMs = this.now();
      await writeFile(sidecarPath(path), JSON.stringify({ key, kind, bytes: bytes.length, sha256, stored_at_ms: storedAtMs, meta: { 'derived.from': of.name, ...meta } } satisfies MediaSidecar));
      await rename(tmp, path);
      if (this.fsync) await syncDir(folder);
      return { key, kind, name, path, bytes: bytes.length, sha256, storedAtMs };
    } catch (e) {
      await unlink(tmp).catch(() => undefined);
      throw new EdgeError('EDGE_MEDIA_WRITE_FAILED', `cannot store ${name}: ${describeIoError(e as NodeJS.ErrnoException)}`);
    }
  }

  private async writeAsync(channelId: string, ident: string, key: string, offset: number, bytes: Uint8Array, final: boolean, file: FileDescription | undefined): Promise<StoredMedia | null> {
    const folder = join(this.dir, safeLevel(channelId), safeLevel(ident));
    await mkdir(folder, { recursive: true });
    const part = join(folder, `${safeLevel(key)}.part`);
    // read-write, created if missing, not O_APPEND: Linux ignores the position of writes in append mode
    const fh = await open(part, constants.O_RDWR | constants.O_CREAT, 0o644);
    try {
      // positional write: a piece sent again after a lost ACK lands on the same bytes
      if (bytes.length > 0) await fh.write(bytes, 0, bytes.length, offset);
      if (this.fsync) await fh.datasync();
    } finally {
      await fh.close();
    }
    if (!final) return null;
    const size = (await stat(part)).size;
    if (size > this.maxFileBytes) throw new EdgeError('EDGE_MEDIA_TOO_LARGE', `file "${key}" has ${size} bytes, more than media.max_file_bytes ${this.maxFileBytes}`);
    const sha256 = await hashFile(part);
    const storedAtMs = this.now();
    const kind = file?.kind ?? 'file';
    const name = `${kind}-${compactUtc(storedAtMs)}-${safeLevel(key)}${safeExtension(file?.name)}`;
    const path = join(folder, name);
    // the facts of the file next to it (the HTTP API's catalogue reads them; media-catalog.ts), written
    // before the rename: a file under its final name always has them (a crash in between leaves a
    // sidecar without its file, which the catalogue ignores)
    await writeFile(sidecarPath(path), JSON.stringify({ key, kind, bytes: size, sha256, stored_at_ms: storedAtMs, ...(file?.meta ? { meta: file.meta } : {}) } satisfies MediaSidecar));
    await rename(part, path);
    if (this.fsync) await syncDir(folder);
    return { key, kind, name, path, bytes: size, sha256, storedAtMs };
  }
}

function hashFile(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (c) => h.update(c))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

function describeIoError(e: NodeJS.ErrnoException): string {
  if (e.code === 'ENOSPC') return `the media disk is full (${e.message})`;
  if (e.code === 'EDQUOT') return `the media disk quota is exhausted (${e.message})`;
  return e.message;
}

/** 20261129T114512Z: sorts by time, no characters a file system dislikes. */
function compactUtc(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/** ".jpg" from a device's file name, only when it is a short plain extension. */
function safeExtension(name: string | undefined): string {
  if (!name) return '';
  const ext = extname(name).toLowerCase();
  return /^\.[a-z0-9]{1,8}$/.test(ext) ? ext : '';
}

/** A channel id, ident or key as the folder level it is stored under (never "." or ".."). */
export function safeLevel(s: string): string {
  const t = topicLevel(s);
  return t === '.' || t === '..' ? '_' : t;
}
