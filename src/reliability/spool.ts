import { EventEmitter } from 'node:events';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { open, readdir, readFile, rename, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { EdgeError } from '../errors.js';
import type { Logger } from '../util/log.js';
import { FailureLog } from './failure-log.js';
import { encodeRecord, parseRecords } from '../storage/record-format.js';
import { DirLock } from '../storage/dir-lock.js';

/**
 * The durable local spool: an append-only log of segment files with group commit.
 *
 *   dir/seg-0000000000000001.log   records (src/storage/record-format.ts), appended at the tail segment
 *   dir/cursor                     {"seg":n,"off":o}: everything before it is confirmed by the broker
 *   dir/lock                       the owner and its heartbeat (src/storage/dir-lock.ts)
 *
 * Writing: appends queue in memory; one batch at a time is written with a single positional
 * writev and made durable with fdatasync, then every callback of the batch fires (group commit:
 * while one batch syncs, the next accumulates, so throughput grows with load and a lone append
 * costs one sync). A callback without error means the record is on disk.
 *
 * Reading (drain): records are read in append order, up to the durable size of each segment.
 * `ack` marks a record confirmed by the broker; the confirmed prefix becomes the cursor (written
 * by rename, unsynced: a stale cursor only means duplicates after a crash, never loss), and a
 * segment whose records are all confirmed is deleted. Duplicates are resolved by message.id.
 *
 * Recovery (open): segments are scanned; a torn tail (crash mid-write) fails its length/CRC check
 * and is truncated; damage in the middle is skipped by resynchronising on the record magic.
 *
 * Size cap: an append that would take the segment files beyond maxBytes waits (its callback with
 * it) and the spool emits 'full'; 'drain' follows when records fit again. Nothing is dropped.
 * Disk errors: the batch's callbacks get EDGE_SPOOL_WRITE_FAILED, the segment is abandoned (its
 * durable records stay readable) and appends fail fast for a second before the next attempt.
 * `retryDisk` (the owner's tick) tries the disk again after that second even when nothing needs
 * the spool, so `error` clears once the disk is healthy. Repeated failures are logged once plus
 * one summary per `logIntervalMs` (failure-log.ts), never once per record.
 */
export type AppendCallback = (err?: Error) => void;
export type SpoolOp = 'open' | 'write' | 'sync' | 'read';

export interface SpoolOptions {
  dir: string;
  maxBytes: number;
  segmentBytes: number;
  fsync: boolean;
  log?: Logger;
  /** Owner identity written into the directory lock (config instance_id). */
  instanceId?: string;
  now?: () => number;
  /** After a disk error, appends fail at once for this long before the disk is tried again (default 1000). */
  failFastMs?: number;
  /** Fault injection (tests): an error returned here makes that disk operation fail. */
  faultHook?: (op: SpoolOp) => Error | null;
  /** A failure that keeps repeating is summed up in one log line per this interval (default 60 000). */
  logIntervalMs?: number;
}

export interface SpoolRecord {
  seg: number;
  off: number;
  end: number;
  topic: string;
  payload: Buffer;
  appendedAtMs: number;
  /** @internal */ epoch: number;
  /** @internal */ acked: boolean;
}

interface Segment {
  seq: number;
  path: string;
  /** Durable bytes (records before this offset are complete and synced). */
  size: number;
  /** Damaged ranges found at recovery, skipped by the reader. */
  skips: [number, number][];
  readFd: FileHandle | null;
}

interface Pending {
  buf: Buffer;
  cb: AppendCallback;
  atMs: number;
}

const SEG_RE = /^seg-(\d{16})\.log$/;
const READ_CHUNK = 256 * 1024;
const MAX_BATCH_BYTES = 8 * 1024 * 1024;
const FAIL_FAST_MS = 1000;
const CURSOR_EVERY_MS = 200;
const LOG_INTERVAL_MS = 60_000;
/** What retryDisk writes and syncs: about one record, so a full disk shows as ENOSPC. */
const PROBE_BYTES = Buffer.alloc(4096);
const segName = (seq: number) => `seg-${String(seq).padStart(16, '0')}.log`;

export class Spool extends EventEmitter {
  readonly dir: string;
  private segments: Segment[] = [];
  private active: { seg: Segment; fd: FileHandle } | null = null;
  private dirFd: FileHandle | null = null;
  private nextSeq = 1;
  private diskBytes = 0;
  private count = 0;
  private queue: Pending[] = [];
  private qHead = 0;
  private queuedBytes = 0;
  private writing = false;
  private full = false;
  private closed = false;
  private initialized = false;
  private initializing: Promise<void> | null = null;
  private failedUntil = 0;
  private probing = false;
  private readonly writeFailures: FailureLog;
  private readonly readFailures: FailureLog;
  private dirLock: DirLock | null = null;
  /** Last disk error (null once a write or a disk probe succeeds again). */
  error: EdgeError | null = null;
  // confirmed prefix (cursor) and read position
  private ackSeg = 0;
  private ackOff = 0;
  private readSeg = 0;
  private readOff = 0;
  private reading = false;
  private epoch = 0;
  private buffered: SpoolRecord[] = [];
  private bHead = 0;
  private inflight: SpoolRecord[] = [];
  private iHead = 0;
  private cursorTimer: NodeJS.Timeout | null = null;
  private cursorDirty = false;
  private oldest: number | null = null;
  private readonly now: () => number;
  /**
   * appended: records durably written; refused: appends whose callback got an error (their
   * frames are not acknowledged); writeErrors: failed disk operations (one can refuse a batch).
   */
  readonly stats = { appended: 0, refused: 0, acked: 0, writeBatches: 0, writeErrors: 0, readErrors: 0, recoveredRecords: 0, damagedBytes: 0 };

  private constructor(private readonly opts: SpoolOptions) {
    super();
    this.dir = resolve(opts.dir);
    this.now = opts.now ?? Date.now;
    const fl = { log: opts.log, intervalMs: opts.logIntervalMs ?? LOG_INTERVAL_MS, now: this.now };
    this.writeFailures = new FailureLog(fl);
    this.readFailures = new FailureLog(fl);
  }

  /** Opens (and recovers) the spool. Disk problems do not throw: the spool starts failed and retries. */
  static async open(opts: SpoolOptions): Promise<Spool> {
    const s = new Spool(opts);
    await s.ensureInit().catch(() => undefined);
    return s;
  }

  /** Durable records not yet confirmed by the broker. */
  get records(): number {
    return this.count;
  }

  /** Bytes of the segment files on disk. */
  get bytes(): number {
    return this.diskBytes;
  }

  /** Appends waiting to be written (including those waiting for room). */
  get pendingAppends(): number {
    return this.queue.length - this.qHead + (this.writing ? 1 : 0);
  }

  /** Nothing spooled, nothing being written: live messages may bypass the spool. */
  get isEmpty(): boolean {
    return this.count === 0 && this.queue.length === this.qHead && !this.writing;
  }

  get isFull(): boolean {
    return this.full;
  }

  get isFailed(): boolean {
    return this.error !== null;
  }

  /** Append time of the oldest unconfirmed record (null when empty). */
  get oldestAtMs(): number | null {
    return this.count > 0 ? this.oldest : this.queue.length > this.qHead ? this.queue[this.qHead]!.atMs : null;
  }

  // ---------- writing ----------

  append(topic: string, payload: string | Buffer, cb: AppendCallback): void {
    if (this.closed) {
      this.refuse(cb, new EdgeError('EDGE_SPOOL_WRITE_FAILED', 'the spool is closed'));
      return;
    }
    const atMs = this.now();
    const buf = encodeRecord(topic, payload, atMs);
    if (buf.length > this.opts.maxBytes) {
      this.refuse(cb, new EdgeError('EDGE_SPOOL_WRITE_FAILED', `a ${buf.length}-byte record cannot fit a spool of spool.max_bytes ${this.opts.maxBytes}`));
      return;
    }
    if (this.error && this.now() < this.failedUntil) {
      this.refuse(cb, this.error);
      return;
    }
    this.queue.push({ buf, cb, atMs });
    this.queuedBytes += buf.length;
    void this.flush();
  }

  private refuse(cb: AppendCallback, err: Error): void {
    this.stats.refused++;
    cb(err);
  }

  private async flush(): Promise<void> {
    // a disk probe under way: it flushes the queue when it is done
    if (this.writing || this.probing || this.closed || this.qHead >= this.queue.length) return;
    this.writing = true;
    let batch: Pending[] = [];
    try {
      if (this.error && this.now() < this.failedUntil) {
        this.failQueued(this.error);
        return;
      }
      await this.ensureInit();
      // take what fits under the cap, up to MAX_BATCH_BYTES
      const room = this.opts.maxBytes - this.diskBytes;
      let bytes = 0;
      while (this.qHead < this.queue.length) {
        const p = this.queue[this.qHead]!;
        if (bytes + p.buf.length > room || (bytes > 0 && bytes + p.buf.length > Math.min(MAX_BATCH_BYTES, this.opts.segmentBytes))) break;
        bytes += p.buf.length;
        batch.push(p);
        this.queue[this.qHead++] = undefined as unknown as Pending;
      }
      this.compactQueue();
      if (batch.length === 0) {
        if (!this.full) {
          this.full = true;
          this.opts.log?.warn({ code: 'EDGE_SPOOL_FULL', bytes: this.diskBytes, max_bytes: this.opts.maxBytes, records: this.count }, 'EDGE_SPOOL_FULL: spool full; frames are not acknowledged until the broker drains it');
          this.emit('full');
        }
        return;
      }
      this.queuedBytes -= bytes;
      const act = await this.activeFor(bytes);
      this.fault('write');
      const { bytesWritten } = await act.fd.writev(batch.map((p) => p.buf), act.seg.size);
      if (bytesWritten !== bytes) throw Object.assign(new Error(`short write: ${bytesWritten} of ${bytes} bytes (disk full?)`), { code: 'ENOSPC' });
      if (this.opts.fsync) {
        this.fault('sync');
        await act.fd.datasync();
      }
      act.seg.size += bytes;
      this.diskBytes += bytes;
      if (this.count === 0) this.oldest = batch[0]!.atMs;
      this.count += batch.length;
      this.stats.appended += batch.length;
      this.stats.writeBatches++;
      this.clearError();
      const done = batch;
      batch = [];
      for (const p of done) p.cb();
      this.emit('appended');
    } catch (e) {
      const err = e instanceof EdgeError && (e.code === 'EDGE_SPOOL_WRITE_FAILED' || e.code === 'EDGE_SPOOL_LOCKED') ? e : this.diskError(e, 'write');
      this.failedUntil = this.now() + (this.opts.failFastMs ?? FAIL_FAST_MS);
      await this.abandonActive();
      for (const p of batch) this.refuse(p.cb, err);
      batch = [];
      this.failQueued(err);
    } finally {
      this.writing = false;
      if (this.full && (this.qHead >= this.queue.length || this.queue[this.qHead]!.buf.length <= this.opts.maxBytes - this.diskBytes)) {
        this.full = false;
        this.emit('drain');
      }
      if (this.qHead < this.queue.length && !this.full) void this.flush();
      else if (this.isEmpty) this.emit('empty');
    }
  }

  private failQueued(err: Error): void {
    const q = this.queue.slice(this.qHead);
    this.queue = [];
    this.qHead = 0;
    this.queuedBytes = 0;
    for (const p of q) this.refuse(p.cb, err);
  }

  private compactQueue(): void {
    if (this.qHead === this.queue.length) {
      this.queue = [];
      this.qHead = 0;
    } else if (this.qHead > 1024 && this.qHead * 2 > this.queue.length) {
      this.queue.splice(0, this.qHead);
      this.qHead = 0;
    }
  }

  private fault(op: SpoolOp): void {
    const e = this.opts.faultHook?.(op);
    if (e) throw e;
  }

  private diskError(e: unknown, what: string): EdgeError {
    const code = (e as NodeJS.ErrnoException).code;
    const msg = e instanceof EdgeError ? e.reason : `${what} in ${this.dir} failed: ${code ? code + ' ' : ''}${(e as Error).message ?? String(e)}`;
    const err = e instanceof EdgeError && e.code === 'EDGE_SPOOL_LOCKED' ? e : new EdgeError('EDGE_SPOOL_WRITE_FAILED', msg);
    this.stats.writeErrors++;
    this.writeFailures.failed({ code: err.code, dir: this.dir, err: msg, refused_records: this.stats.refused }, `${err.code}: ${msg}; messages that need the spool are not acknowledged`);
    const changed = !this.error || this.error.message !== err.message;
    this.error = err;
    if (changed) this.emit('failed', err);
    return err;
  }

  /** A write or a disk probe succeeded: the spool is healthy again. */
  private clearError(): void {
    if (!this.error) return;
    this.error = null;
    this.writeFailures.recovered({ dir: this.dir, refused_records: this.stats.refused }, 'spool writes succeed again');
    this.emit('recovered');
  }

  /**
   * After a disk error, once the fail-fast pause is over and nothing is being written: write and
   * sync a small probe file. Success clears `error` (and emits 'recovered') even when no record
   * needs the spool — the broker is back and live traffic goes direct, so no append would ever
   * find out. A failure starts another pause. Called from the owner's housekeeping tick.
   */
  retryDisk(): void {
    if (!this.error || this.writing || this.probing || this.closed || this.now() < this.failedUntil || this.qHead < this.queue.length) return;
    this.probing = true;
    void this.probeDisk().finally(() => {
      this.probing = false;
      if (this.qHead < this.queue.length) void this.flush();
    });
  }

  private async probeDisk(): Promise<void> {
    const before = this.error;
    try {
      await this.ensureInit();
      this.fault('open');
      const path = join(this.dir, 'probe.tmp');
      const fd = await open(path, 'w');
      try {
        this.fault('write');
        await fd.write(PROBE_BYTES, 0, PROBE_BYTES.length, 0);
        if (this.opts.fsync) {
          this.fault('sync');
          await fd.datasync();
        }
      } finally {
        await fd.close().catch(() => undefined);
      }
      await unlink(path);
      if (this.error === before) this.clearError();
    } catch (e) {
      this.failedUntil = this.now() + (this.opts.failFastMs ?? FAIL_FAST_MS);
      // ensureInit has reported its own failure
      if (!(e instanceof EdgeError)) this.diskError(e, 'write');
    }
  }

  /** The segment to append `bytes` to: rotates a segment that would grow past segmentBytes. */
  private async activeFor(bytes: number): Promise<{ seg: Segment; fd: FileHandle }> {
    if (this.active && this.active.seg.size > 0 && this.active.seg.size + bytes > this.opts.segmentBytes) {
      const fd = this.active.fd;
      this.active = null;
      await fd.close();
    }
    if (this.active) return this.active;
    this.fault('open');
    for (;;) {
      const seq = this.nextSeq++;
      const path = join(this.dir, segName(seq));
      let fd: FileHandle;
      try {
        fd = await open(path, 'wx');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
        throw e;
      }
      // the new directory entry must be durable too, or a crash could lose the whole file
      if (this.opts.fsync && this.dirFd) await this.dirFd.sync();
      const seg: Segment = { seq, path, size: 0, skips: [], readFd: null };
      this.segments.push(seg);
      if (this.segments.length === 1) {
        this.ackSeg = seq;
        this.ackOff = 0;
        if (this.readSeg < seq) {
          this.readSeg = seq;
          this.readOff = 0;
        }
      }
      this.active = { seg, fd };
      return this.active;
    }
  }

  /** After a failed write the tail of the active segment is unknown: stop appending to it. */
  private async abandonActive(): Promise<void> {
    const a = this.active;
    if (!a) return;
    this.active = null;
    await a.fd.close().catch(() => undefined);
    if (a.seg.size === 0) {
      this.segments = this.segments.filter((s) => s !== a.seg);
      await unlink(a.seg.path).catch(() => undefined);
      if (this.segments.length === 0) this.resetPositions();
    }
  }

  // ---------- init and recovery ----------

  private ensureInit(): Promise<void> {
    if (this.initialized) return Promise.resolve();
    this.initializing ??= this.init().then(
      () => {
        this.initialized = true;
        this.initializing = null;
      },
      (e: unknown) => {
        this.initializing = null;
        this.failedUntil = this.now() + (this.opts.failFastMs ?? FAIL_FAST_MS);
        throw this.diskError(e, 'opening the spool');
      },
    );
    return this.initializing;
  }

  private async init(): Promise<void> {
    this.fault('open');
    mkdirSync(this.dir, { recursive: true });
    await this.lock();
    try {
      await this.recover();
    } catch (e) {
      this.unlock();
      await this.dirFd?.close().catch(() => undefined);
      this.dirFd = null;
      this.count = 0;
      this.diskBytes = 0;
      this.segments = [];
      throw e;
    }
  }

  private async recover(): Promise<void> {
    this.dirFd = await open(this.dir, 'r');
    let cursor = { seg: 0, off: 0 };
    try {
      const c = JSON.parse(await readFile(join(this.dir, 'cursor'), 'utf8')) as { seg?: unknown; off?: unknown };
      if (typeof c.seg === 'number' && typeof c.off === 'number') cursor = { seg: c.seg, off: c.off };
    } catch {
      // no cursor (or a damaged one): start at the first record; the cost is duplicates only
    }
    // never reuse a sequence number at or below the cursor: recovery would treat it as confirmed
    this.nextSeq = Math.max(this.nextSeq, cursor.seg + 1);
    const names = (await readdir(this.dir)).filter((n) => SEG_RE.test(n)).sort();
    const segs: Segment[] = [];
    let first: number | null = null;
    for (const name of names) {
      const seq = Number(SEG_RE.exec(name)![1]);
      const path = join(this.dir, name);
      this.nextSeq = Math.max(this.nextSeq, seq + 1);
      if (seq < cursor.seg) {
        await unlink(path); // fully confirmed before the crash, deletion did not happen
        continue;
      }
      const buf = await readFile(path);
      const r = parseRecords(buf, 0, true, false);
      const skips = r.damaged.filter(([, to]) => to < buf.length);
      const tail = r.damaged.find(([, to]) => to >= buf.length);
      const validEnd = tail ? tail[0] : buf.length;
      for (const [from, to] of r.damaged) {
        this.stats.damagedBytes += to - from;
        this.opts.log?.warn({ code: 'EDGE_SPOOL_CORRUPT', segment: name, from, to, tail: to >= buf.length }, `EDGE_SPOOL_CORRUPT: ${to - from} bytes of ${name} are not a valid record (${to >= buf.length ? 'torn tail, truncated' : 'skipped'})`);
      }
      if (validEnd < buf.length) {
        const fd = await open(path, 'r+');
        await fd.truncate(validEnd);
        await fd.sync();
        await fd.close();
      }
      const minOff = seq === cursor.seg ? cursor.off : 0;
      let n = 0;
      for (const rec of r.records) {
        if (rec.off < minOff) continue;
        n++;
        if (first === null) first = rec.appendedAtMs;
      }
      if (validEnd === 0) {
        await unlink(path);
        continue;
      }
      this.count += n;
      this.diskBytes += validEnd;
      segs.push({ seq, path, size: validEnd, skips, readFd: null });
    }
    this.segments = segs;
    this.stats.recoveredRecords = this.count;
    this.oldest = first;
    if (segs.length > 0) {
      const head = segs[0]!;
      this.ackSeg = head.seq;
      this.ackOff = head.seq === cursor.seg ? Math.min(cursor.off, head.size) : 0;
    } else {
      this.ackSeg = this.nextSeq;
      this.ackOff = 0;
    }
    this.readSeg = this.ackSeg;
    this.readOff = this.ackOff;
    if (this.count > 0) this.opts.log?.info({ dir: this.dir, records: this.count, bytes: this.diskBytes, segments: segs.length }, 'spool recovered: draining it before live traffic');
    else if (segs.length > 0) await this.reclaim();
  }

  private async lock(): Promise<void> {
    this.dirLock = await DirLock.acquire(this.dir, { instanceId: this.opts.instanceId ?? 'edge-channel', onLost: (holder) => this.opts.log?.error({ code: 'EDGE_SPOOL_LOCKED', holder }, 'EDGE_SPOOL_LOCKED: another process took over the spool lock (this process stalled past the heartbeat)') });
  }

  // ---------- reading (drain) ----------

  /** The next record to publish, or null (then 'readable' follows when more is read). */
  next(): SpoolRecord | null {
    if (this.bHead < this.buffered.length) {
      const r = this.buffered[this.bHead]!;
      this.buffered[this.bHead++] = undefined as unknown as SpoolRecord;
      if (this.bHead === this.buffered.length) {
        this.buffered = [];
        this.bHead = 0;
      }
      this.inflight.push(r);
      if (this.bHead === 0 || this.buffered.length - this.bHead < 64) void this.fill();
      return r;
    }
    void this.fill();
    return null;
  }

  /** The broker confirmed `rec`: advance the confirmed prefix, delete fully confirmed segments. */
  ack(rec: SpoolRecord): void {
    if (rec.epoch !== this.epoch || rec.acked) return;
    rec.acked = true;
    let moved = false;
    while (this.iHead < this.inflight.length && this.inflight[this.iHead]!.acked) {
      const r = this.inflight[this.iHead]!;
      this.inflight[this.iHead++] = undefined as unknown as SpoolRecord;
      this.ackSeg = r.seg;
      this.ackOff = r.end;
      this.count--;
      this.stats.acked++;
      moved = true;
    }
    if (this.iHead === this.inflight.length) {
      this.inflight = [];
      this.iHead = 0;
    } else if (this.iHead > 1024) {
      this.inflight.splice(0, this.iHead);
      this.iHead = 0;
    }
    if (!moved) return;
    const head = this.iHead < this.inflight.length ? this.inflight[this.iHead] : this.bHead < this.buffered.length ? this.buffered[this.bHead] : undefined;
    if (head) this.oldest = head.appendedAtMs;
    this.markCursor();
    void this.reclaim();
  }

  /** Forget what is in flight (the broker failed): reading restarts at the confirmed prefix. */
  rewind(): void {
    this.epoch++;
    this.inflight = [];
    this.iHead = 0;
    this.buffered = [];
    this.bHead = 0;
    this.readSeg = this.ackSeg;
    this.readOff = this.ackOff;
  }

  get inFlight(): number {
    return this.inflight.length - this.iHead;
  }

  private async fill(): Promise<void> {
    if (this.reading || this.closed || !this.initialized) return;
    this.reading = true;
    const epoch = this.epoch;
    try {
      for (;;) {
        const idx = this.segments.findIndex((s) => s.seq >= this.readSeg);
        if (idx < 0) return;
        const seg = this.segments[idx]!;
        if (seg.seq !== this.readSeg) {
          this.readSeg = seg.seq;
          this.readOff = 0;
        }
        for (const [from, to] of seg.skips) if (this.readOff >= from && this.readOff < to) this.readOff = to;
        if (this.readOff >= seg.size) {
          if (idx + 1 < this.segments.length) {
            this.readSeg = this.segments[idx + 1]!.seq;
            this.readOff = 0;
            continue;
          }
          return; // caught up with the writer
        }
        let limit = seg.size;
        for (const [from] of seg.skips) if (from > this.readOff && from < limit) limit = from;
        let want = Math.min(READ_CHUNK, limit - this.readOff);
        let parsed: ReturnType<typeof parseRecords> | null = null;
        const at = this.readOff;
        while (!parsed) {
          this.fault('read');
          seg.readFd ??= await open(seg.path, 'r');
          const buf = Buffer.allocUnsafe(want);
          const { bytesRead } = await seg.readFd.read(buf, 0, want, at);
          const atEnd = at + bytesRead >= limit;
          const r = parseRecords(buf.subarray(0, bytesRead), at, atEnd);
          if (r.consumed === 0 && !atEnd) want = Math.min(want * 4, limit - at);
          else parsed = r;
        }
        this.readFailures.recovered({ dir: this.dir }, 'spool reads succeed again');
        if (epoch !== this.epoch || this.closed) return;
        for (const rec of parsed.records) this.buffered.push({ ...rec, seg: seg.seq, epoch, acked: false });
        this.readOff = at + parsed.consumed;
        if (parsed.consumed === 0) this.readOff = limit; // unreadable remainder (only possible for damage)
        if (parsed.records.length > 0) {
          if (this.count > 0 && this.inFlight === 0 && this.bHead === 0) this.oldest = parsed.records[0]!.appendedAtMs;
          this.emit('readable');
          return;
        }
      }
    } catch (e) {
      this.stats.readErrors++;
      const msg = (e as Error).message;
      this.readFailures.failed({ dir: this.dir, err: msg }, `spool read failed: ${msg}; retrying on the next drain tick`);
    } finally {
      this.reading = false;
    }
  }

  // ---------- reclaiming ----------

  private async reclaim(): Promise<void> {
    while (this.segments.length > 0) {
      const head = this.segments[0]!;
      const confirmed = this.ackSeg > head.seq || (this.ackSeg === head.seq && this.ackOff >= head.size);
      if (!confirmed) return;
      const isActive = this.active?.seg === head;
      if (isActive || this.segments.length === 1) {
        // the tail segment goes only when everything is confirmed and no write is under way
        if (this.count !== 0 || this.writing) return;
        if (this.active) {
          const fd = this.active.fd;
          this.active = null;
          await fd.close().catch(() => undefined);
          if (this.count !== 0 || this.writing || this.segments[0] !== head) return;
        }
      }
      this.segments.shift();
      this.diskBytes -= head.size;
      if (head.readFd) await head.readFd.close().catch(() => undefined);
      await unlink(head.path).catch((e: Error) => this.opts.log?.warn({ path: head.path, err: e.message }, 'cannot delete a drained spool segment'));
      if (this.segments.length > 0) {
        const next = this.segments[0]!;
        if (this.ackSeg <= head.seq) {
          this.ackSeg = next.seq;
          this.ackOff = 0;
        }
      } else this.resetPositions();
      this.markCursor();
      if (this.full || this.qHead < this.queue.length) void this.flush();
    }
    if (this.isEmpty) this.emit('empty');
  }

  private resetPositions(): void {
    this.ackSeg = this.nextSeq;
    this.ackOff = 0;
    if (this.readSeg < this.nextSeq) {
      this.readSeg = this.nextSeq;
      this.readOff = 0;
    }
    this.oldest = null;
  }

  private markCursor(): void {
    this.cursorDirty = true;
    if (this.cursorTimer || this.closed) return;
    this.cursorTimer = setTimeout(() => {
      this.cursorTimer = null;
      void this.writeCursor();
    }, CURSOR_EVERY_MS);
    this.cursorTimer.unref();
  }

  private async writeCursor(): Promise<void> {
    if (!this.cursorDirty || !this.initialized) return;
    this.cursorDirty = false;
    const path = join(this.dir, 'cursor');
    try {
      await writeFile(path + '.tmp', JSON.stringify({ seg: this.ackSeg, off: this.ackOff }));
      await rename(path + '.tmp', path);
    } catch (e) {
      this.opts.log?.debug({ err: (e as Error).message }, 'spool cursor not written (costs duplicates only)');
    }
  }

  /** Waits for the write under way, fails appends still waiting for room, persists the cursor. */
  async close(): Promise<void> {
    if (this.closed) return;
    while (this.writing || this.probing) await new Promise((r) => setTimeout(r, 5));
    this.closed = true;
    this.failQueued(new EdgeError('EDGE_SPOOL_WRITE_FAILED', 'the spool closed before this record could be written'));
    if (this.cursorTimer) clearTimeout(this.cursorTimer);
    this.cursorTimer = null;
    while (this.reading) await new Promise((r) => setTimeout(r, 5));
    if (this.initialized) {
      try {
        const path = join(this.dir, 'cursor');
        writeFileSync(path + '.tmp', JSON.stringify({ seg: this.ackSeg, off: this.ackOff }));
        renameSync(path + '.tmp', path);
      } catch {
        // duplicates only
      }
    }
    if (this.active) await this.active.fd.close().catch(() => undefined);
    this.active = null;
    for (const s of this.segments) if (s.readFd) await s.readFd.close().catch(() => undefined);
    if (this.dirFd) await this.dirFd.close().catch(() => undefined);
    this.unlock();
  }

  private unlock(): void {
    this.dirLock?.release();
    this.dirLock = null;
  }
}
