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
 * rename, directory sync). The log itself is src/storage/append-log.ts. A directory lock (src/storage/dir-lock.ts) keeps two processes out of one
 * directory. Lookups are map reads on the main thread: everything is loaded at open.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EdgeError } from '../errors.js';
import { AppendLog } from '../storage/append-log.js';
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

/** One channel's codes and its log. */
interface ChannelCodes {
  readonly codes: Map<string, string>;
  readonly log: AppendLog;
}

export class FileCredentialStore implements CredentialStore {
  readonly dir: string;
  private readonly logs = new Map<string, ChannelCodes>();
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
    const ch = this.logs.get(channelId);
    if (this.closed || !ch) return cb(new EdgeError('EDGE_CREDENTIAL_STORE_FAILED', `the credential store is not open for channel ${channelId}`));
    if (Buffer.byteLength(code) > MAX_CODE_BYTES || code === '') return cb(new EdgeError('EDGE_CREDENTIAL_STORE_FAILED', `a credential of ${Buffer.byteLength(code)} bytes cannot be stored (1..${MAX_CODE_BYTES})`));
    if (Buffer.byteLength(ident) > MAX_IDENT_BYTES || ident === '') return cb(new EdgeError('EDGE_CREDENTIAL_STORE_FAILED', `ident "${ident.slice(0, 40)}" cannot key a credential (1..${MAX_IDENT_BYTES} bytes)`));
    // in memory at once: a check in a later frame of the same connection sees it (its replies wait
    // behind this frame's in any case, which waits for the sync)
    ch.codes.set(ident, code);
    ch.log.append(encodeRecord(ident, code, this.now())).then(
      () => cb(null),
      (e: unknown) => cb(e instanceof EdgeError ? e : new EdgeError('EDGE_CREDENTIAL_STORE_FAILED', String(e))),
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const ch of this.logs.values()) await ch.log.close();
    this.lock?.release();
    this.lock = null;
  }

  private async load(channelId: string): Promise<void> {
    const codes = new Map<string, string>();
    const path = join(this.dir, `channel-${safeName(channelId)}.log`);
    const opened = await AppendLog.open({
      path,
      fsync: this.opts.fsync,
      code: 'EDGE_CREDENTIAL_STORE_FAILED',
      snapshot: () => {
        const t = this.now();
        return Buffer.concat([...codes].map(([ident, code]) => encodeRecord(ident, code, t)));
      },
      liveBytes: () => {
        let n = 0;
        for (const [ident, code] of codes) n += 22 + ident.length + code.length;
        return n;
      },
      compactMinBytes: COMPACT_MIN_BYTES,
      compactRatio: COMPACT_RATIO,
    });
    for (const r of opened.records) codes.set(r.topic, r.payload.toString('utf8'));
    this.logs.set(channelId, { codes, log: opened.log });
    if (opened.damage) {
      this.opts.onCorrupt?.({ code: 'EDGE_CREDENTIAL_STORE_CORRUPT', reason: opened.damage });
      await opened.log.compact(); // appends continue after valid records
    }
  }
}

/** Channel ids are integers or [A-Za-z0-9_.-] (config); anything else is replaced, never a path. */
function safeName(id: string): string {
  const s = id.replace(/[^A-Za-z0-9_.-]/g, '_');
  return s === '.' || s === '..' ? '_' : s;
}
