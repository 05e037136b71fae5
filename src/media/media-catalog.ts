import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { EdgeError } from '../errors.js';
import type { MediaKind } from '../protocol/types.js';
import { isStoredFileName, safeLevel, sidecarPath, type MediaSidecar } from './media-store.js';

/** One stored file as the HTTP API describes it. */
export interface MediaEntry {
  /** Opaque, URL-safe: the file's place under the media folder (channel, ident, name). */
  id: string;
  channel_id: string;
  ident: string;
  name: string;
  kind: MediaKind;
  bytes: number;
  sha256: string | null;
  stored_at: number;
  protected: boolean;
  properties: Record<string, unknown>;
  /** What the runtime knew when it stored the file: the alarm's fields, `command.id`. */
  meta: Record<string, unknown>;
  /** Absolute path (for the server; not in API answers). */
  path: string;
}

export interface MediaQuery {
  channel?: string;
  ident?: string;
  kind?: MediaKind;
  /** Stored at or after, s. */
  from?: number;
  /** Stored before, s. */
  to?: number;
  /** The alarm the file documents (`alarm.number` of the alarm message). */
  alarm?: string;
  /** The command that asked for the file (`command.id`). */
  command?: string;
}

const KINDS = new Set<MediaKind>(['tacho', 'image', 'video', 'audio', 'file']);
const NAME_TIME = /^([a-z]+)-(\d{8}T\d{6}Z)-/;

/** The file id of a stored file: base64url of `{channel}/{ident}/{name}` (each a sanitised folder level). */
export function mediaId(channelId: string, ident: string, name: string): string {
  return Buffer.from(`${safeLevel(channelId)}/${safeLevel(ident)}/${name}`).toString('base64url');
}

/**
 * The stored files, read from the media folder itself (every instance that shares the folder sees the
 * same), with the facts their sidecars hold. A file id is decoded and checked level by level (no
 * separators, no dot levels): an id can only name a file inside the media folder.
 */
export class MediaCatalog {
  /** Device folder → its entries as last read, and the folder's mtime then. */
  private readonly folders = new Map<string, { mtimeMs: number; entries: MediaEntry[] }>();

  constructor(private readonly dir: string) {}

  /** The place of an id, or EDGE_HTTP_NOT_FOUND (an id that is not one this catalogue makes). */
  locate(id: string): { channel: string; ident: string; name: string; path: string } {
    let text: string;
    try {
      text = Buffer.from(id, 'base64url').toString('utf8');
    } catch {
      text = '';
    }
    const parts = text.split('/');
    const ok = /^[A-Za-z0-9_-]{1,1024}$/.test(id) && parts.length === 3 && parts.every((p) => p !== '' && p !== '.' && p !== '..' && !p.includes('\\') && !p.includes('\0')) && isStoredFileName(parts[2]!) && mediaId(parts[0]!, parts[1]!, parts[2]!) === id;
    if (!ok) throw new EdgeError('EDGE_HTTP_NOT_FOUND', `no stored file has the id "${id.slice(0, 80)}"`);
    const [channel, ident, name] = parts as [string, string, string];
    return { channel, ident, name, path: join(this.dir, channel, ident, name) };
  }

  /** One file's entry, or EDGE_HTTP_NOT_FOUND. */
  async get(id: string): Promise<MediaEntry> {
    const at = this.locate(id);
    const e = await this.entry(at.channel, at.ident, at.name);
    if (!e) throw new EdgeError('EDGE_HTTP_NOT_FOUND', `no stored file has the id "${id.slice(0, 80)}"`);
    return e;
  }

  /** Every file that matches, newest first. */
  async list(q: MediaQuery): Promise<MediaEntry[]> {
    const out: MediaEntry[] = [];
    const channels = q.channel !== undefined ? [safeLevel(q.channel)] : await names(this.dir);
    for (const channel of channels) {
      const idents = q.ident !== undefined ? [safeLevel(q.ident)] : await names(join(this.dir, channel));
      for (const ident of idents) {
        for (const e of await this.deviceFiles(channel, ident)) {
          if (q.kind && e.kind !== q.kind) continue;
          if (q.from !== undefined && e.stored_at < q.from) continue;
          if (q.to !== undefined && e.stored_at >= q.to) continue;
          if (q.alarm !== undefined && String(e.meta['alarm.number'] ?? '') !== q.alarm) continue;
          if (q.command !== undefined && String(e.meta['command.id'] ?? '') !== q.command) continue;
          out.push(e);
        }
      }
    }
    return out.sort((a, b) => b.stored_at - a.stored_at || (a.id < b.id ? -1 : 1));
  }

  /** Every device folder under the media folder (channel and ident as stored). */
  async devices(): Promise<{ channel: string; ident: string }[]> {
    const out: { channel: string; ident: string }[] = [];
    for (const channel of await names(this.dir)) if (!channel.startsWith('.')) for (const ident of await names(join(this.dir, channel))) out.push({ channel, ident });
    return out;
  }

  /**
   * A device folder's entries (channel and ident as stored), read again only when the folder changed. Every change the catalogue
   * must see adds, removes or renames an entry of the folder (a completed file is renamed into it, a
   * sidecar is replaced by rename, a deletion unlinks), and that moves the folder's mtime; so one stat
   * per folder keeps a listing of many files current, also for files another instance sharing the
   * folder stored.
   */
  async deviceFiles(channel: string, ident: string): Promise<MediaEntry[]> {
    const path = join(this.dir, channel, ident);
    const key = `${channel}/${ident}`;
    let mtimeMs: number;
    try {
      mtimeMs = (await stat(path)).mtimeMs;
    } catch {
      this.folders.delete(key);
      return [];
    }
    const cached = this.folders.get(key);
    if (cached && cached.mtimeMs === mtimeMs) return cached.entries;
    const list = (await names(path)).filter(isStoredFileName);
    const entries: MediaEntry[] = [];
    // a few reads at a time: a folder of thousands of files is read in one pass, not one file per turn
    for (let i = 0; i < list.length; i += 64) {
      for (const e of await Promise.all(list.slice(i, i + 64).map((n) => this.entry(channel, ident, n)))) if (e) entries.push(e);
    }
    this.folders.set(key, { mtimeMs, entries });
    return entries;
  }

  private async entry(channel: string, ident: string, name: string): Promise<MediaEntry | null> {
    const path = join(this.dir, channel, ident, name);
    let st;
    try {
      st = await stat(path);
    } catch {
      return null;
    }
    if (!st.isFile()) return null;
    let side: Partial<MediaSidecar> = {};
    try {
      side = JSON.parse(await readFile(sidecarPath(path), 'utf8')) as Partial<MediaSidecar>;
    } catch {
      // a file stored before sidecars existed: what its name and the file system say
    }
    const m = NAME_TIME.exec(name);
    const nameKind = m && KINDS.has(m[1] as MediaKind) ? (m[1] as MediaKind) : 'file';
    const nameTime = m ? Date.parse(`${m[2]!.slice(0, 4)}-${m[2]!.slice(4, 6)}-${m[2]!.slice(6, 8)}T${m[2]!.slice(9, 11)}:${m[2]!.slice(11, 13)}:${m[2]!.slice(13, 15)}Z`) : NaN;
    return {
      id: mediaId(channel, ident, name),
      channel_id: channel,
      ident,
      name,
      kind: side.kind && KINDS.has(side.kind) ? side.kind : nameKind,
      bytes: st.size,
      sha256: typeof side.sha256 === 'string' ? side.sha256 : null,
      stored_at: (typeof side.stored_at_ms === 'number' ? side.stored_at_ms : Number.isFinite(nameTime) ? nameTime : st.mtimeMs) / 1000,
      protected: side.protected === true,
      properties: side.properties && typeof side.properties === 'object' ? side.properties : {},
      meta: side.meta && typeof side.meta === 'object' ? { ...side.meta } : {},
      path,
    };
  }
}

async function names(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch {
    return [];
  }
}
