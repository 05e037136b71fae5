/**
 * The default AssetStore: one JSON file per asset, `{dir}/a-{id}.json`, replaced whole on every
 * write (written to `.tmp`, fdatasync'd, renamed over the old file, then the directory synced), so
 * a crash at any point leaves the old or the new file, never a torn one.
 *
 * Why whole files and not a log like the command store: an asset changes rarely (a card inserted,
 * a trailer hooked) and its timeline is bounded (`asset_settings.max_intervals`), so rewriting a few
 * kilobytes per change is cheap, and reading a timeline is one parse with nothing to replay.
 * Writes of one asset are never concurrent (the service serialises them); a directory lock
 * (src/storage/dir-lock.ts, the spool's and the command store's) keeps two processes out of one directory.
 */
import { replaceFile, syncDir } from '../storage/durable-file.js';
import { mkdirSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { EdgeError } from '../errors.js';
import { DirLock } from '../storage/dir-lock.js';
import type { AssetStore } from './asset-store.js';
import type { AssetRecord } from './types.js';

export interface FileAssetStoreOptions {
  dir: string;
  fsync: boolean;
  instanceId?: string;
  /** A file that could not be read (it is left in place and skipped). */
  onCorrupt?: (info: { file: string; reason: string }) => void;
}

const PREFIX = 'a-';
const SUFFIX = '.json';

export class FileAssetStore implements AssetStore {
  readonly dir: string;
  private readonly revs = new Map<string, number>();
  private lock: DirLock | null = null;

  constructor(private readonly opts: FileAssetStoreOptions) {
    this.dir = resolve(opts.dir);
  }

  private file(id: string): string {
    return join(this.dir, PREFIX + id + SUFFIX);
  }

  async load(): Promise<AssetRecord[]> {
    try {
      mkdirSync(this.dir, { recursive: true });
    } catch (e) {
      throw new EdgeError('EDGE_ASSET_STORE_FAILED', `cannot create the asset store directory ${this.dir}: ${(e as Error).message}`);
    }
    this.lock ??= await DirLock.acquire(this.dir, { instanceId: this.opts.instanceId ?? 'edge-channel', what: 'asset store', code: 'EDGE_ASSET_STORE_FAILED' });
    const out: AssetRecord[] = [];
    for (const name of readdirSync(this.dir).sort()) {
      if (name.endsWith('.tmp')) {
        // a write that crashed before its rename: the old file is still the truth
        unlinkSync(join(this.dir, name));
        continue;
      }
      if (!name.startsWith(PREFIX) || !name.endsWith(SUFFIX)) continue;
      try {
        const r = JSON.parse(readFileSync(join(this.dir, name), 'utf8')) as AssetRecord;
        if (!r || typeof r.asset?.id !== 'string' || !Array.isArray(r.intervals) || typeof r.rev !== 'number') throw new Error('not an asset record');
        this.revs.set(r.asset.id, r.rev);
        out.push(r);
      } catch (e) {
        this.opts.onCorrupt?.({ file: name, reason: (e as Error).message });
      }
    }
    return out;
  }

  async get(id: string): Promise<AssetRecord | null> {
    try {
      const r = JSON.parse(readFileSync(this.file(id), 'utf8')) as AssetRecord;
      this.revs.set(id, r.rev);
      return r;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        this.revs.delete(id);
        return null;
      }
      throw new EdgeError('EDGE_ASSET_STORE_FAILED', `cannot read asset ${id}: ${(e as Error).message}`);
    }
  }

  async put(record: AssetRecord, expectedRev: number): Promise<boolean> {
    const id = record.asset.id;
    if ((this.revs.get(id) ?? 0) !== expectedRev) return false;
    const path = this.file(id);
    try {
      await replaceFile(path, JSON.stringify(record), this.opts.fsync);
    } catch (e) {
      throw new EdgeError('EDGE_ASSET_STORE_FAILED', `cannot write asset ${id}: ${(e as Error).message}`);
    }
    this.revs.set(id, record.rev);
    return true;
  }

  async delete(id: string, expectedRev: number): Promise<boolean> {
    if ((this.revs.get(id) ?? 0) !== expectedRev) return false;
    try {
      await unlink(this.file(id));
      await this.syncDir();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new EdgeError('EDGE_ASSET_STORE_FAILED', `cannot delete asset ${id}: ${(e as Error).message}`);
    }
    this.revs.delete(id);
    return true;
  }

  /** The unlink is durable only once the directory entry is. */
  private async syncDir(): Promise<void> {
    if (this.opts.fsync) await syncDir(this.dir);
  }

  async close(): Promise<void> {
    this.lock?.release();
    this.lock = null;
  }
}
