/**
 * The default CommandStore: one append-only log file, `{dir}/commands.log`, of CRC-checked records
 * (the spool's record format, src/storage/record-format.ts, with the operation in its topic
 * field and JSON in its payload):
 *
 *   add  StoredCommand        a command was accepted
 *   att  {id, attempts}       it is about to be written to the device again
 *   del  {id}                 it ended (processed, expired, canceled)
 *
 * Why a log and not a JSON file rewritten per change: an append plus one fdatasync per batch is
 * the cheapest durable write, and a crash can only tear the last record, which fails its length
 * or CRC check and is dropped on open (EDGE_COMMAND_STORE_CORRUPT is reported through `onCorrupt`).
 * Writes are group-committed: while one batch syncs the next accumulates (src/storage/append-log.ts).
 *
 * Compaction: when the file is over COMPACT_MIN_BYTES and more than COMPACT_RATIO times the size of
 * the live commands, the live set is written to `commands.log.tmp`, synced and renamed over the log
 * (then the directory is synced), so a crash leaves either the old or the new file, never a mix.
 * A directory lock (src/storage/dir-lock.ts, the spool's too) keeps two processes from appending to one log.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EdgeError } from '../errors.js';
import { AppendLog } from '../storage/append-log.js';
import { encodeRecord } from '../storage/record-format.js';
import type { CommandStore, StoredCommand } from './command-store.js';
import { DirLock } from '../storage/dir-lock.js';

const LOG = 'commands.log';
const COMPACT_MIN_BYTES = 256 * 1024;
const COMPACT_RATIO = 4;

export interface FileCommandStoreOptions {
  dir: string;
  fsync: boolean;
  /** Owner written into the directory lock (config instance_id; default "edge-channel"). */
  instanceId?: string;
  /** Damage found (and dropped) when the log was read: file byte ranges [from, to). */
  onCorrupt?: (info: { code: 'EDGE_COMMAND_STORE_CORRUPT'; reason: string; ranges: [number, number][] }) => void;
  now?: () => number;
}

export class FileCommandStore implements CommandStore {
  readonly dir: string;
  private readonly path: string;
  private readonly live = new Map<string, StoredCommand>();
  private log: AppendLog | null = null;
  private closed = false;
  private dirLock: DirLock | null = null;
  private readonly now: () => number;

  constructor(private readonly opts: FileCommandStoreOptions) {
    this.dir = resolve(opts.dir);
    this.path = join(this.dir, LOG);
    this.now = opts.now ?? Date.now;
  }

  /** Size of the log file in bytes (for tests and stats). */
  get bytes(): number {
    return this.log?.bytes ?? 0;
  }

  async load(): Promise<StoredCommand[]> {
    if (this.log) return [...this.live.values()].map((c) => ({ ...c }));
    try {
      mkdirSync(this.dir, { recursive: true });
    } catch (e) {
      throw new EdgeError('EDGE_COMMAND_STORE_FAILED', `cannot create the command store directory ${this.dir}: ${(e as Error).message}`);
    }
    // the same lock as the spool's: one process per directory, safe with containers' pid 1 (dir-lock.ts)
    this.dirLock = await DirLock.acquire(this.dir, { instanceId: this.opts.instanceId ?? 'edge-channel', what: 'command store', code: 'EDGE_COMMAND_STORE_FAILED' });
    const opened = await AppendLog.open({
      path: this.path,
      fsync: this.opts.fsync,
      code: 'EDGE_COMMAND_STORE_FAILED',
      snapshot: () => {
        const t = this.now();
        return Buffer.concat([...this.live.values()].map((c) => encodeRecord('add', JSON.stringify(c), t)));
      },
      liveBytes: () => {
        let n = 0;
        for (const c of this.live.values()) n += 64 + JSON.stringify(c).length;
        return n;
      },
      compactMinBytes: COMPACT_MIN_BYTES,
      compactRatio: COMPACT_RATIO,
    });
    for (const r of opened.records) this.apply(r.topic, r.payload);
    this.log = opened.log;
    if (opened.damage) {
      this.opts.onCorrupt?.({ code: 'EDGE_COMMAND_STORE_CORRUPT', reason: opened.damage, ranges: opened.damaged });
      await this.compact(); // rewrite without the damage, so appends continue after valid records
    }
    return [...this.live.values()].map((c) => ({ ...c }));
  }

  add(cmd: StoredCommand): Promise<void> {
    this.live.set(cmd.id, { ...cmd });
    return this.append('add', cmd);
  }

  setAttempts(id: string, attempts: number): Promise<void> {
    const c = this.live.get(id);
    if (c) c.attempts = attempts;
    return this.append('att', { id, attempts });
  }

  remove(id: string): Promise<void> {
    this.live.delete(id);
    return this.append('del', { id });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.log?.close();
    this.log = null;
    this.dirLock?.release();
    this.dirLock = null;
  }

  /** Rewrites the log with the live commands only (also runs by itself when the log outgrows them). */
  async compact(): Promise<void> {
    await this.log?.compact();
  }

  private apply(op: string, payload: Buffer): void {
    let v: unknown;
    try {
      v = JSON.parse(payload.toString('utf8'));
    } catch {
      return; // a record with a valid CRC is JSON we wrote; nothing else can get here
    }
    const rec = v as Partial<StoredCommand> & { id?: string };
    if (typeof rec.id !== 'string') return;
    if (op === 'add') this.live.set(rec.id, rec as StoredCommand);
    else if (op === 'att') {
      const c = this.live.get(rec.id);
      if (c && typeof rec.attempts === 'number') c.attempts = rec.attempts;
    } else if (op === 'del') this.live.delete(rec.id);
  }

  private append(op: string, body: unknown): Promise<void> {
    if (this.closed || !this.log) return Promise.reject(new EdgeError('EDGE_COMMAND_STORE_FAILED', 'the command store is not open'));
    return this.log.append(encodeRecord(op, JSON.stringify(body), this.now()));
  }
}
