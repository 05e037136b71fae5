import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { EdgeError, type ErrorInfo } from '../errors.js';
import { isStoredFileName, sidecarPath, type StoredMedia } from '../media/media-store.js';
import type { DddTask, DddTaskOutcome } from '../pool/task-types.js';
import type { MessageValue } from '../protocol/types.js';
import type { DownloadOutcome, FlatMessage } from '../tacho/ddd/download-messages.js';
import type { Logger } from '../util/log.js';

/**
 * Every stored tachograph file is read (README "Messages of a download"): parsed in the worker pool,
 * its document stored next to it as `{file}.json` (a media file of its own, with a link), one
 * `tacho.download` message with the summary and, with `tacho.activity_messages`, one message per
 * activity interval at its begin time. A file that is not a valid download keeps its place in the
 * media store; its `{file}.json` then holds the error (`EDGE_DDD_*`, offset, reason) and so does the
 * message (`tacho.download.error.*`). The JSON next to a file is also the mark "read": at start,
 * tacho files without it (the process stopped between storing and reading) are read then.
 */
export interface IngestPorts {
  parse(task: DddTask): Promise<DddTaskOutcome>;
  /** Stores the derived JSON next to the file (FileMediaStore.storeDerived). */
  storeJson(of: StoredMedia, bytes: Uint8Array, meta: Readonly<Record<string, MessageValue>>): Promise<StoredMedia>;
  /** A device message (QoS 1 through the spool, like decoded ones); `done` once safe. */
  publish(channelId: string, ident: string, msg: FlatMessage, done: (err?: Error | null) => void): void;
  /** A media log event of the device. */
  event(channelId: string, ident: string, event: string, fields: Record<string, unknown>): void;
  /** The signed link of a stored file, when the server has an HTTP listener. */
  link(channelId: string, ident: string, name: string): string | undefined;
  /** A download was read: the schedule counts it. */
  downloaded(channelId: string, ident: string, kind: 'vehicle_unit' | 'driver_card', card: string | null, atMs: number): Promise<void> | void;
}

export interface DddIngestOptions {
  ports: IngestPorts;
  roots: Uint8Array[];
  strict: boolean;
  activityMessages: boolean;
  log: Logger;
}

export const JSON_SUFFIX = '.json';

export class DddIngest {
  private readonly running = new Set<Promise<void>>();
  /** Files read, and of those not valid downloads (tests, logs). */
  parsed = 0;
  failed = 0;

  constructor(private readonly o: DddIngestOptions) {}

  /** The `mediaStored` hook: tacho files only; the rest is someone else's. */
  stored(channelId: string, ident: string, stored: StoredMedia, meta: Readonly<Record<string, MessageValue>>): void {
    if (stored.kind !== 'tacho') return;
    const p = this.read(channelId, ident, stored, meta).catch((e: unknown) => {
      this.o.log.error({ code: (e as EdgeError).code, channel: channelId, ident, file: stored.name }, `tachograph file ${stored.name} was stored but not read: ${(e as Error).message}`);
    });
    this.running.add(p);
    void p.finally(() => this.running.delete(p));
  }

  /** Resolves when every read started so far is over. */
  async settled(): Promise<void> {
    while (this.running.size) await Promise.all([...this.running]);
  }

  /**
   * Tacho files under `mediaDir` with no `{file}.json` beside them: read now (a stop between storing
   * and reading). Folder levels are the channel and the device as stored.
   */
  async recover(mediaDir: string): Promise<number> {
    let n = 0;
    for (const ch of await list(mediaDir)) {
      for (const ident of await list(join(mediaDir, ch))) {
        const folder = join(mediaDir, ch, ident);
        const names = new Set(await list(folder));
        for (const name of names) {
          if (!name.startsWith('tacho-') || name.endsWith(JSON_SUFFIX) || !isStoredFileName(name)) continue;
          if (names.has(name + JSON_SUFFIX)) continue;
          const path = join(folder, name);
          let side: { key?: string; sha256?: string; stored_at_ms?: number; meta?: Record<string, MessageValue> } = {};
          try {
            side = JSON.parse(await readFile(sidecarPath(path), 'utf8')) as typeof side;
          } catch {
            // a file stored before sidecars: what the file system says
          }
          const st = await stat(path);
          const stored: StoredMedia = { key: side.key ?? name, kind: 'tacho', name, path, bytes: st.size, sha256: side.sha256 ?? '', storedAtMs: side.stored_at_ms ?? st.mtimeMs };
          this.stored(ch, ident, stored, side.meta ?? {});
          n++;
        }
      }
    }
    await this.settled();
    return n;
  }

  private async read(channelId: string, ident: string, stored: StoredMedia, meta: Readonly<Record<string, MessageValue>>): Promise<void> {
    const bytes = new Uint8Array(await readFile(stored.path));
    const out = await this.o.ports.parse({ bytes, roots: this.o.roots, strict: this.o.strict, activities: this.o.activityMessages });
    const ports = this.o.ports;
    const fileFields: FlatMessage = {
      'tacho.download.file.id': stored.key,
      'tacho.download.file.name': stored.name,
      'tacho.download.source': typeof meta['media.tacho.source'] === 'string' ? meta['media.tacho.source'] : null,
    };
    const ddUrl = ports.link(channelId, ident, stored.name);
    if (ddUrl !== undefined) fileFields['tacho.download.file.url'] = ddUrl;
    const json = 'ok' in out ? out.ok.json : JSON.stringify({ format: 'edge-channel/ddd-error@1', file: stored.name, error: out.error });
    const derived = await ports.storeJson(stored, Buffer.from(json), { 'tacho.download.of': stored.name, ...('error' in out ? { 'tacho.download.error.code': out.error.code } : {}) });
    fileFields['tacho.download.json.file.name'] = derived.name;
    const jsonUrl = ports.link(channelId, ident, derived.name);
    if (jsonUrl !== undefined) fileFields['tacho.download.json.file.url'] = jsonUrl;
    const ts = stored.storedAtMs / 1000;
    if ('error' in out) {
      this.failed++;
      await this.publishAll(channelId, ident, [{ timestamp: ts, ...fileFields, ...errorFields(out.error) }]);
      ports.event(channelId, ident, 'tacho_unreadable', { file: stored.name, code: out.error.code, offset: out.error.offset ?? null, reason: out.error.reason });
      this.o.log.warn({ code: out.error.code, channel: channelId, ident, file: stored.name, offset: out.error.offset }, `${out.error.code}: tachograph file ${stored.name} is not a valid download (${out.error.reason}); kept as stored`);
      if (meta['media.tacho.source'] === 'vehicle_unit') await ports.downloaded(channelId, ident, 'vehicle_unit', null, stored.storedAtMs);
      return;
    }
    this.parsed++;
    const o: DownloadOutcome = out.ok;
    const summary: FlatMessage = { timestamp: ts, ...o.fields, ...fileFields };
    const activities = o.activities.map((a) => ({ ...a, 'tacho.download.file.id': stored.key }));
    await this.publishAll(channelId, ident, [summary, ...activities]);
    ports.event(channelId, ident, 'tacho_read', { file: stored.name, json: derived.name, kind: o.kind, 'card.number': o.cardNumber, vin: o.vin, activities: activities.length });
    await ports.downloaded(channelId, ident, o.kind, o.cardNumber, stored.storedAtMs);
  }

  private publishAll(channelId: string, ident: string, msgs: FlatMessage[]): Promise<void> {
    return new Promise((resolve, reject) => {
      let left = msgs.length;
      let failed: Error | null = null;
      if (left === 0) return resolve();
      for (const m of msgs) {
        this.o.ports.publish(channelId, ident, m, (err) => {
          if (err) failed ??= err;
          if (--left > 0) return;
          if (failed) reject(new EdgeError('EDGE_MQTT_UNREACHABLE', `tachograph messages not published: ${failed.message}`));
          else resolve();
        });
      }
    });
  }
}

function errorFields(e: ErrorInfo): FlatMessage {
  return { 'tacho.download.error.code': e.code, 'tacho.download.error.offset': e.offset ?? null, 'tacho.download.error.reason': e.reason };
}

async function list(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}
