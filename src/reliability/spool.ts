import { EventEmitter } from 'node:events';
import { resolve } from 'node:path';
import { EdgeError } from '../errors.js';
import { SpoolReader } from './spool-reader.js';
import { SpoolRecovery } from './spool-recovery.js';
import { SpoolState, type AppendCallback, type SpoolOptions, type SpoolRecord } from './spool-state.js';
import { SpoolWriter } from './spool-writer.js';

export type { AppendCallback, SpoolOp, SpoolOptions, SpoolRecord } from './spool-state.js';

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
 *
 * The parts: spool-state.ts (what they share), spool-writer.ts, spool-reader.ts (drain, cursor,
 * reclaim), spool-recovery.ts (lock, scan, repair). This file is the API the publisher uses.
 */
export class Spool extends EventEmitter {
  readonly dir: string;
  private readonly s: SpoolState;
  private readonly writer: SpoolWriter;
  private readonly reader: SpoolReader;
  private readonly recovery: SpoolRecovery;
  /** See SpoolState.stats. */
  readonly stats: SpoolState['stats'];

  private constructor(opts: SpoolOptions) {
    super();
    this.dir = resolve(opts.dir);
    const s = (this.s = new SpoolState(opts, this.dir, (event, arg) => void (arg === undefined ? this.emit(event) : this.emit(event, arg))));
    this.stats = s.stats;
    this.writer = new SpoolWriter(s, () => this.recovery.ensureInit());
    this.reader = new SpoolReader(s, () => void this.writer.flush());
    this.recovery = new SpoolRecovery(
      s,
      (e, what) => this.writer.diskError(e, what),
      () => this.reader.reclaim(),
    );
  }

  /** Opens (and recovers) the spool. Disk problems do not throw: the spool starts failed and retries. */
  static async open(opts: SpoolOptions): Promise<Spool> {
    const sp = new Spool(opts);
    await sp.recovery.ensureInit().catch(() => undefined);
    return sp;
  }

  /** Last disk error (null once a write or a disk probe succeeds again). */
  get error(): EdgeError | null {
    return this.s.error;
  }

  /** Durable records not yet confirmed by the broker. */
  get records(): number {
    return this.s.count;
  }

  /** Bytes of the segment files on disk. */
  get bytes(): number {
    return this.s.diskBytes;
  }

  /** Appends waiting to be written (including those waiting for room). */
  get pendingAppends(): number {
    const s = this.s;
    return s.queue.length - s.qHead + (s.writing ? 1 : 0);
  }

  /** Nothing spooled, nothing being written: live messages may bypass the spool. */
  get isEmpty(): boolean {
    return this.s.isEmpty;
  }

  get isFull(): boolean {
    return this.s.full;
  }

  get isFailed(): boolean {
    return this.s.error !== null;
  }

  /** Append time of the oldest unconfirmed record (null when empty). */
  get oldestAtMs(): number | null {
    const s = this.s;
    return s.count > 0 ? s.oldest : s.queue.length > s.qHead ? s.queue[s.qHead]!.atMs : null;
  }

  get inFlight(): number {
    return this.s.inFlight;
  }

  /** Queues a record; `cb` runs once it is durable, or with the error that refused it. */
  append(topic: string, payload: string | Buffer, cb: AppendCallback): void {
    this.writer.append(topic, payload, cb);
  }

  /**
   * After a disk error, once the fail-fast pause is over and nothing is being written: write and
   * sync a small probe file. Success clears `error` (and emits 'recovered') even when no record
   * needs the spool — the broker is back and live traffic goes direct, so no append would ever
   * find out. A failure starts another pause. Called from the owner's housekeeping tick.
   */
  retryDisk(): void {
    this.writer.retryDisk();
  }

  /** The next record to publish, or null (then 'readable' follows when more is read). */
  next(): SpoolRecord | null {
    return this.reader.next();
  }

  /** The broker confirmed `rec`: advance the confirmed prefix, delete fully confirmed segments. */
  ack(rec: SpoolRecord): void {
    this.reader.ack(rec);
  }

  /** Forget what is in flight (the broker failed): reading restarts at the confirmed prefix. */
  rewind(): void {
    this.reader.rewind();
  }

  /** Waits for the write under way, fails appends still waiting for room, persists the cursor. */
  async close(): Promise<void> {
    const s = this.s;
    if (s.closed) return;
    while (s.writing || s.probing) await new Promise((r) => setTimeout(r, 5));
    s.closed = true;
    this.writer.failQueued(new EdgeError('EDGE_SPOOL_WRITE_FAILED', 'the spool closed before this record could be written'));
    this.reader.stopCursor();
    while (s.reading) await new Promise((r) => setTimeout(r, 5));
    this.reader.writeCursorNow();
    if (s.active) await s.active.fd.close().catch(() => undefined);
    s.active = null;
    for (const seg of s.segments) if (seg.readFd) await seg.readFd.close().catch(() => undefined);
    if (s.dirFd) await s.dirFd.close().catch(() => undefined);
    this.recovery.unlock();
  }
}
