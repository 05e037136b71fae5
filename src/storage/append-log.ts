import { open, type FileHandle } from 'node:fs/promises';
import { EdgeError, type ErrorCode } from '../errors.js';
import { readRecordLog, replaceFile } from './durable-file.js';
import type { ParsedRecord } from './record-format.js';

export interface AppendLogOptions {
  path: string;
  /** fdatasync after every batch (and a synced rename on compaction); false: a process crash loses nothing, a power cut may. */
  fsync: boolean;
  /** The error code of the store that owns the log (every failure is an EdgeError with it). */
  code: ErrorCode;
  /** The live state as records (src/storage/record-format.ts), for a compaction. */
  snapshot(): Buffer;
  /** An estimate of `snapshot()`'s size, cheap enough to ask after every batch. */
  liveBytes(): number;
  /** Compaction runs when the file is over this size and `compactRatio` times the live size. */
  compactMinBytes: number;
  compactRatio: number;
  /** For tests: counts the syncs (group commit means fewer syncs than appends). */
  onSync?: () => void;
}

/** What an opened log held: its records in file order, and the damage dropped. */
export interface OpenedAppendLog {
  log: AppendLog;
  records: ParsedRecord[];
  /** File byte ranges [from, to) that were not valid records (a torn write or damage). */
  damaged: [number, number][];
  /** Set when `damaged` is not empty: a sentence for the store's corrupt report. */
  damage: string | null;
}

interface Pending {
  buf: Buffer;
  resolve: () => void;
  reject: (e: Error) => void;
}

/**
 * An append-only file of CRC-checked records with group commit: appends made while a batch is
 * written and synced go out together in the next batch, and each append's promise resolves only
 * once its bytes are synced. A crash can only tear the last batch, which fails its length or CRC
 * check and is dropped (and reported) on open; the log is then rewritten without it, so appends
 * continue after valid records. When the file outgrows the live state, the live state is written to
 * `{path}.tmp`, synced and renamed over the log (compaction), so a crash leaves the old or the new
 * file, never a mix. The stores that keep their state as a log (commands, credentials) use it.
 */
export class AppendLog {
  private fh: FileHandle | null = null;
  private fileBytes = 0;
  private queue: Pending[] = [];
  private writing: Promise<void> | null = null;
  private closed = false;

  private constructor(private readonly o: AppendLogOptions) {}

  /** Reads the log (a missing file is empty), opens it for appending, and rewrites it when it held damage. */
  static async open(o: AppendLogOptions): Promise<OpenedAppendLog> {
    const loaded = readRecordLog(o.path, o.code);
    const log = new AppendLog(o);
    try {
      log.fh = await open(o.path, 'a+');
    } catch (e) {
      throw new EdgeError(o.code, `cannot open ${o.path}: ${(e as Error).message}`);
    }
    log.fileBytes = loaded.bytes;
    return { log, records: loaded.records, damaged: loaded.damaged, damage: loaded.damage };
  }

  /** Size of the file in bytes. */
  get bytes(): number {
    return this.fileBytes;
  }

  /** Appends encoded records; resolves once they are durable, rejects (EdgeError, the owner's code) when the write failed. */
  append(buf: Buffer): Promise<void> {
    if (this.closed || !this.fh) return Promise.reject(new EdgeError(this.o.code, `${this.o.path} is not open`));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ buf, resolve, reject });
      this.writing ??= this.writeLoop();
    });
  }

  /** Rewrites the log with the live state only (also runs by itself when the log outgrows it). */
  async compact(): Promise<void> {
    while (this.writing) await this.writing;
    // runs as the writer, so no append interleaves with the file swap
    const run = this.rewrite();
    this.writing = run.then(
      () => undefined,
      () => undefined,
    );
    try {
      await run;
    } finally {
      this.writing = null;
      if (this.queue.length > 0) this.writing = this.writeLoop();
    }
  }

  /** Waits for the appends made so far, then closes the file (later appends are refused). */
  async close(): Promise<void> {
    this.closed = true;
    while (this.writing) await this.writing;
    await this.fh?.close();
    this.fh = null;
  }

  private async writeLoop(): Promise<void> {
    await Promise.resolve(); // `writing` is assigned before the loop can finish
    try {
      while (this.queue.length > 0 && this.fh) {
        const batch = this.queue;
        this.queue = [];
        try {
          const buf = batch.length === 1 ? batch[0]!.buf : Buffer.concat(batch.map((p) => p.buf));
          await this.fh.write(buf, 0, buf.length, null);
          if (this.o.fsync) {
            await this.fh.datasync();
            this.o.onSync?.();
          }
          this.fileBytes += buf.length;
        } catch (e) {
          const err = new EdgeError(this.o.code, `cannot write ${this.o.path}: ${(e as Error).message}`);
          for (const p of batch) p.reject(err);
          continue;
        }
        for (const p of batch) p.resolve();
        if (this.fileBytes > this.o.compactMinBytes && this.fileBytes > this.o.compactRatio * this.o.liveBytes()) {
          try {
            await this.rewrite();
          } catch {
            // the old log is intact and stays in use; a later batch tries again
          }
        }
      }
    } finally {
      this.writing = null;
    }
  }

  private async rewrite(): Promise<void> {
    const buf = this.o.snapshot();
    await replaceFile(this.o.path, buf, this.o.fsync);
    await this.fh?.close();
    this.fh = await open(this.o.path, 'a+');
    this.fileBytes = buf.length;
  }
}
