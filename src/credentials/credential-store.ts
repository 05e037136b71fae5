/**
 * Secrets the server issues to devices and checks later (decode effects `credential-issue` and
 * `credential-check`, e.g. the JT/T 808 auth code a terminal gets in 0x8100 and presents in 0x0102),
 * remembered per channel and ident across reconnects and restarts.
 *
 * One append-only log per channel, `{dir}/channel-{id}.log`, of CRC-checked records (the spool's
 * record format, src/storage/record-format.ts) with the ident in the topic field and the code as
 * payload; the last record of an ident wins. Why a log: an issue is an append plus one fdatasync per
 * batch (group commit), and a crash can only tear the last record, which fails its CRC and is
 * dropped on open (reported through `onCorrupt`; that terminal's next authentication is rejected and
 * it registers again, which is what the standard has it do). The file is rewritten with the live
 * codes when it grows past COMPACT_MIN_BYTES and COMPACT_RATIO times their size (tmp file, sync,
 * rename, directory sync). A directory lock (src/storage/dir-lock.ts) keeps two processes out of one
 * directory. Lookups are map reads on the main thread: everything is loaded at open.
 */
import { readRecordLog, replaceFile } from '../storage/durable-file.js';
import { mkdirSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { EdgeError } from '../errors.js';
import { encodeRecord } from '../storage/record-format.js';
import { DirLock } from '../storage/dir-lock.js';

const COMPACT_MIN_BYTES = 64 * 1024;
const COMPACT_RATIO = 4;
/** Bounds of what a decoder may ask to store (a code is a short token, an ident a device id). */
const MAX_CODE_BYTES = 1024;
const MAX_IDENT_BYTES = 256;

export interface CredentialStore {
  /** The code stored for the device, if any. */
  get(channelId: string, ident: string): string | undefined;
  /** Stores the device's code (replacing an earlier one); `cb` runs once it is durable (or failed). */
  set(channelId: string, ident: string, code: string, cb: (err: EdgeError | null) => void): void;
}

export interface FileCredentialStoreOptions {
  dir: string;
  fsync: boolean;
  /** Owner written into the directory lock (config instance_id). */
  instanceId?: string;
  onCorrupt?: (info: { code: 'EDGE_CREDENTIAL_STORE_CORRUPT'; reason: string }) => void;
  now?: () => number;
}

interface Pending {
  buf: Buffer;
  cb: (err: EdgeError | null) => void;
}

/** One channel's log: its codes, its file and its group-commit queue. */
class ChannelLog {
  readonly codes = new Map<string, string>();
  fh: FileHandle | null = null;
  bytes = 0;
  queue: Pending[] = [];
  /** The running group-commit loop, if any. */
  writing: Promise<void> | null = null;
  constructor(readonly path: string) {}
}

export class FileCredentialStore implements CredentialStore {
  readonly dir: string;
  private readonly logs = new Map<string, ChannelLog>();
  private lock: DirLock | null = null;
  private closed = false;
  private readonly now: () => number;

  constructor(private readonly opts: FileCredentialStoreOptions) {
    this.dir = resolve(opts.dir);
    this.now = opts.now ?? Date.now;
  }

  /** Takes the directory lock and loads the logs of these channels. */
  async open(channelIds: readonly string[]): Promise<void> {
    try {
      mkdirSync(this.dir, { recursive: true });
    } catch (e) {
      throw new EdgeError('EDGE_CREDENTIAL_STORE_FAILED', `cannot create the credential store directory ${this.dir}: ${(e as Error).message}`);
    }
    this.lock = await DirLock.acquire(this.dir, { instanceId: this.opts.instanceId ?? 'edge-channel', what: 'credential store', code: 'EDGE_CREDENTIAL_STORE_FAILED' });
    try {
      for (const id of channelIds) await this.load(id);
    } catch (e) {
      await this.close();
      throw e;
    }
  }

  get(channelId: string, ident: string): string | undefined {
    return this.logs.get(channelId)?.codes.get(ident);
  }

  set(channelId: string, ident: string, code: string, cb: (err: EdgeError | null) => void): void {
    const log = this.logs.get(channelId);
    if (this.closed || !log?.fh) return cb(new EdgeError('EDGE_CREDENTIAL_STORE_FAILED', `the credential store is not open for channel ${channelId}`));
    if (Buffer.byteLength(code) > MAX_CODE_BYTES || code === '') return cb(new EdgeError('EDGE_CREDENTIAL_STORE_FAILED', `a credential of ${Buffer.byteLength(code)} bytes cannot be stored (1..${MAX_CODE_BYTES})`));
    if (Buffer.byteLength(ident) > MAX_IDENT_BYTES || ident === '') return cb(new EdgeError('EDGE_CREDENTIAL_STORE_FAILED', `ident "${ident.slice(0, 40)}" cannot key a credential (1..${MAX_IDENT_BYTES} bytes)`));
    // in memory at once: a check in a later frame of the same connection sees it (its replies wait
    // behind this frame's in any case, which waits for the sync)
    log.codes.set(ident, code);
    log.queue.push({ buf: encodeRecord(ident, code, this.now()), cb });
    log.writing ??= this.writeLoop(log);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const log of this.logs.values()) {
      while (log.writing) await log.writing;
      await log.fh?.close();
      log.fh = null;
    }
    this.lock?.release();
    this.lock = null;
  }

  private async load(channelId: string): Promise<void> {
    const log = new ChannelLog(join(this.dir, `channel-${safeName(channelId)}.log`));
    const loaded = readRecordLog(log.path, 'EDGE_CREDENTIAL_STORE_FAILED');
    for (const r of loaded.records) log.codes.set(r.topic, r.payload.toString('utf8'));
    log.fh = await open(log.path, 'a+');
    log.bytes = loaded.bytes;
    this.logs.set(channelId, log);
    if (loaded.damage) {
      this.opts.onCorrupt?.({ code: 'EDGE_CREDENTIAL_STORE_CORRUPT', reason: loaded.damage });
      await this.rewrite(log); // appends continue after valid records
    }
  }

  private async writeLoop(log: ChannelLog): Promise<void> {
    await Promise.resolve(); // log.writing is assigned before the loop can finish
    try {
      while (log.queue.length > 0 && log.fh) {
        const batch = log.queue;
        log.queue = [];
        try {
          const buf = Buffer.concat(batch.map((p) => p.buf));
          await log.fh.write(buf, 0, buf.length, null);
          if (this.opts.fsync) await log.fh.datasync();
          log.bytes += buf.length;
        } catch (e) {
          const err = new EdgeError('EDGE_CREDENTIAL_STORE_FAILED', `cannot write ${log.path}: ${(e as Error).message}`);
          for (const p of batch) p.cb(err);
          continue;
        }
        for (const p of batch) p.cb(null);
        if (log.bytes > COMPACT_MIN_BYTES && log.bytes > COMPACT_RATIO * liveBytes(log)) {
          try {
            await this.rewrite(log);
          } catch {
            // the old log is intact and stays in use; a later batch tries again
          }
        }
      }
    } finally {
      log.writing = null;
    }
  }

  private async rewrite(log: ChannelLog): Promise<void> {
    const t = this.now();
    const buf = Buffer.concat([...log.codes].map(([ident, code]) => encodeRecord(ident, code, t)));
    await replaceFile(log.path, buf, this.opts.fsync);
    await log.fh?.close();
    log.fh = await open(log.path, 'a+');
    log.bytes = buf.length;
  }
}

function liveBytes(log: ChannelLog): number {
  let n = 0;
  for (const [ident, code] of log.codes) n += 22 + ident.length + code.length;
  return n;
}

/** Channel ids are integers or [A-Za-z0-9_.-] (config); anything else is replaced, never a path. */
function safeName(id: string): string {
  const s = id.replace(/[^A-Za-z0-9_.-]/g, '_');
  return s === '.' || s === '..' ? '_' : s;
}
