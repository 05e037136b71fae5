import type { FileHandle } from 'node:fs/promises';
import type { EdgeError } from '../errors.js';
import type { DirLock } from '../storage/dir-lock.js';
import type { Logger } from '../util/log.js';
import { FailureLog } from './failure-log.js';

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

export interface Segment {
  seq: number;
  path: string;
  /** Durable bytes (records before this offset are complete and synced). */
  size: number;
  /** Damaged ranges found at recovery, skipped by the reader. */
  skips: [number, number][];
  readFd: FileHandle | null;
}

export interface Pending {
  buf: Buffer;
  cb: AppendCallback;
  atMs: number;
}

export const SEG_RE = /^seg-(\d{16})\.log$/;
export const segName = (seq: number) => `seg-${String(seq).padStart(16, '0')}.log`;
export const FAIL_FAST_MS = 1000;
const LOG_INTERVAL_MS = 60_000;

/** The spool's events (Spool is an EventEmitter; the parts announce through this). */
export type SpoolEvent = 'full' | 'drain' | 'empty' | 'appended' | 'readable' | 'failed' | 'recovered';

/**
 * Everything the spool's parts share (spool.ts has the design): the segments, the append queue,
 * the confirmed prefix and the read position, the disk error state and the counters. Plain fields:
 * the writer, the reader and the recovery are one object's parts, split by what they do.
 */
export class SpoolState {
  readonly now: () => number;
  segments: Segment[] = [];
  active: { seg: Segment; fd: FileHandle } | null = null;
  dirFd: FileHandle | null = null;
  nextSeq = 1;
  diskBytes = 0;
  count = 0;
  // the append queue (a head index instead of shift(): appends are hot)
  queue: Pending[] = [];
  qHead = 0;
  queuedBytes = 0;
  writing = false;
  full = false;
  closed = false;
  initialized = false;
  failedUntil = 0;
  probing = false;
  readonly writeFailures: FailureLog;
  readonly readFailures: FailureLog;
  dirLock: DirLock | null = null;
  /** Last disk error (null once a write or a disk probe succeeds again). */
  error: EdgeError | null = null;
  // confirmed prefix (cursor) and read position
  ackSeg = 0;
  ackOff = 0;
  readSeg = 0;
  readOff = 0;
  reading = false;
  epoch = 0;
  buffered: SpoolRecord[] = [];
  bHead = 0;
  inflight: SpoolRecord[] = [];
  iHead = 0;
  oldest: number | null = null;
  /**
   * appended: records durably written; refused: appends whose callback got an error (their
   * frames are not acknowledged); writeErrors: failed disk operations (one can refuse a batch).
   */
  readonly stats = { appended: 0, refused: 0, acked: 0, writeBatches: 0, writeErrors: 0, readErrors: 0, recoveredRecords: 0, damagedBytes: 0 };

  constructor(
    readonly opts: SpoolOptions,
    readonly dir: string,
    readonly emit: (event: SpoolEvent, arg?: unknown) => void,
  ) {
    this.now = opts.now ?? Date.now;
    const fl = { log: opts.log, intervalMs: opts.logIntervalMs ?? LOG_INTERVAL_MS, now: this.now };
    this.writeFailures = new FailureLog(fl);
    this.readFailures = new FailureLog(fl);
  }

  /** Nothing spooled, nothing being written. */
  get isEmpty(): boolean {
    return this.count === 0 && this.queue.length === this.qHead && !this.writing;
  }

  /** Records read but not yet confirmed. */
  get inFlight(): number {
    return this.inflight.length - this.iHead;
  }

  /** Fault injection (tests). */
  fault(op: SpoolOp): void {
    const e = this.opts.faultHook?.(op);
    if (e) throw e;
  }

  /** No segment left: the confirmed prefix and the read position move past everything written. */
  resetPositions(): void {
    this.ackSeg = this.nextSeq;
    this.ackOff = 0;
    if (this.readSeg < this.nextSeq) {
      this.readSeg = this.nextSeq;
      this.readOff = 0;
    }
    this.oldest = null;
  }
}
