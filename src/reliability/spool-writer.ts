import { open, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { EdgeError } from '../errors.js';
import { encodeRecord } from '../storage/record-format.js';
import { FAIL_FAST_MS, segName, type AppendCallback, type Pending, type Segment, type SpoolState } from './spool-state.js';

const MAX_BATCH_BYTES = 8 * 1024 * 1024;
/** What retryDisk writes and syncs: about one record, so a full disk shows as ENOSPC. */
const PROBE_BYTES = Buffer.alloc(4096);

/**
 * The spool's writing side: appends queue in memory; one batch at a time is written with a single
 * positional writev and made durable with fdatasync, then every callback of the batch fires (group
 * commit). Also the size cap ('full' / 'drain'), segment rotation, and the disk error state with
 * its fail-fast pause and probe.
 */
export class SpoolWriter {
  constructor(
    private readonly s: SpoolState,
    /** Opens and recovers the spool on first use (spool-recovery.ts); rejects with the reported error. */
    private readonly ensureInit: () => Promise<void>,
  ) {}

  append(topic: string, payload: string | Buffer, cb: AppendCallback): void {
    const s = this.s;
    if (s.closed) {
      this.refuse(cb, new EdgeError('EDGE_SPOOL_WRITE_FAILED', 'the spool is closed'));
      return;
    }
    const atMs = s.now();
    const buf = encodeRecord(topic, payload, atMs);
    if (buf.length > s.opts.maxBytes) {
      this.refuse(cb, new EdgeError('EDGE_SPOOL_WRITE_FAILED', `a ${buf.length}-byte record cannot fit a spool of spool.max_bytes ${s.opts.maxBytes}`));
      return;
    }
    if (s.error && s.now() < s.failedUntil) {
      this.refuse(cb, s.error);
      return;
    }
    s.queue.push({ buf, cb, atMs });
    s.queuedBytes += buf.length;
    void this.flush();
  }

  private refuse(cb: AppendCallback, err: Error): void {
    this.s.stats.refused++;
    cb(err);
  }

  async flush(): Promise<void> {
    const s = this.s;
    // a disk probe under way: it flushes the queue when it is done
    if (s.writing || s.probing || s.closed || s.qHead >= s.queue.length) return;
    s.writing = true;
    let batch: Pending[] = [];
    try {
      if (s.error && s.now() < s.failedUntil) {
        this.failQueued(s.error);
        return;
      }
      await this.ensureInit();
      // take what fits under the cap, up to MAX_BATCH_BYTES
      const room = s.opts.maxBytes - s.diskBytes;
      let bytes = 0;
      while (s.qHead < s.queue.length) {
        const p = s.queue[s.qHead]!;
        if (bytes + p.buf.length > room || (bytes > 0 && bytes + p.buf.length > Math.min(MAX_BATCH_BYTES, s.opts.segmentBytes))) break;
        bytes += p.buf.length;
        batch.push(p);
        s.queue[s.qHead++] = undefined as unknown as Pending;
      }
      this.compactQueue();
      if (batch.length === 0) {
        if (!s.full) {
          s.full = true;
          s.opts.log?.warn({ code: 'EDGE_SPOOL_FULL', bytes: s.diskBytes, max_bytes: s.opts.maxBytes, records: s.count }, 'EDGE_SPOOL_FULL: spool full; frames are not acknowledged until the broker drains it');
          s.emit('full');
        }
        return;
      }
      s.queuedBytes -= bytes;
      const act = await this.activeFor(bytes);
      s.fault('write');
      const { bytesWritten } = await act.fd.writev(
        batch.map((p) => p.buf),
        act.seg.size,
      );
      if (bytesWritten !== bytes) throw Object.assign(new Error(`short write: ${bytesWritten} of ${bytes} bytes (disk full?)`), { code: 'ENOSPC' });
      if (s.opts.fsync) {
        s.fault('sync');
        await act.fd.datasync();
      }
      act.seg.size += bytes;
      s.diskBytes += bytes;
      if (s.count === 0) s.oldest = batch[0]!.atMs;
      s.count += batch.length;
      s.stats.appended += batch.length;
      s.stats.writeBatches++;
      this.clearError();
      const done = batch;
      batch = [];
      for (const p of done) p.cb();
      s.emit('appended');
    } catch (e) {
      const err = e instanceof EdgeError && (e.code === 'EDGE_SPOOL_WRITE_FAILED' || e.code === 'EDGE_SPOOL_LOCKED') ? e : this.diskError(e, 'write');
      s.failedUntil = s.now() + (s.opts.failFastMs ?? FAIL_FAST_MS);
      await this.abandonActive();
      for (const p of batch) this.refuse(p.cb, err);
      batch = [];
      this.failQueued(err);
    } finally {
      s.writing = false;
      if (s.full && (s.qHead >= s.queue.length || s.queue[s.qHead]!.buf.length <= s.opts.maxBytes - s.diskBytes)) {
        s.full = false;
        s.emit('drain');
      }
      if (s.qHead < s.queue.length && !s.full) void this.flush();
      else if (s.isEmpty) s.emit('empty');
    }
  }

  failQueued(err: Error): void {
    const s = this.s;
    const q = s.queue.slice(s.qHead);
    s.queue = [];
    s.qHead = 0;
    s.queuedBytes = 0;
    for (const p of q) this.refuse(p.cb, err);
  }

  private compactQueue(): void {
    const s = this.s;
    if (s.qHead === s.queue.length) {
      s.queue = [];
      s.qHead = 0;
    } else if (s.qHead > 1024 && s.qHead * 2 > s.queue.length) {
      s.queue.splice(0, s.qHead);
      s.qHead = 0;
    }
  }

  /** Records a disk failure (logged once plus a summary per interval) and returns the error appends get. */
  diskError(e: unknown, what: string): EdgeError {
    const s = this.s;
    const code = (e as NodeJS.ErrnoException).code;
    const msg = e instanceof EdgeError ? e.reason : `${what} in ${s.dir} failed: ${code ? code + ' ' : ''}${(e as Error).message ?? String(e)}`;
    const err = e instanceof EdgeError && e.code === 'EDGE_SPOOL_LOCKED' ? e : new EdgeError('EDGE_SPOOL_WRITE_FAILED', msg);
    s.stats.writeErrors++;
    s.writeFailures.failed({ code: err.code, dir: s.dir, err: msg, refused_records: s.stats.refused }, `${err.code}: ${msg}; messages that need the spool are not acknowledged`);
    const changed = !s.error || s.error.message !== err.message;
    s.error = err;
    if (changed) s.emit('failed', err);
    return err;
  }

  /** A write or a disk probe succeeded: the spool is healthy again. */
  private clearError(): void {
    const s = this.s;
    if (!s.error) return;
    s.error = null;
    s.writeFailures.recovered({ dir: s.dir, refused_records: s.stats.refused }, 'spool writes succeed again');
    s.emit('recovered');
  }

  /** See Spool.retryDisk. */
  retryDisk(): void {
    const s = this.s;
    if (!s.error || s.writing || s.probing || s.closed || s.now() < s.failedUntil || s.qHead < s.queue.length) return;
    s.probing = true;
    void this.probeDisk().finally(() => {
      s.probing = false;
      if (s.qHead < s.queue.length) void this.flush();
    });
  }

  private async probeDisk(): Promise<void> {
    const s = this.s;
    const before = s.error;
    try {
      await this.ensureInit();
      s.fault('open');
      const path = join(s.dir, 'probe.tmp');
      const fd = await open(path, 'w');
      try {
        s.fault('write');
        await fd.write(PROBE_BYTES, 0, PROBE_BYTES.length, 0);
        if (s.opts.fsync) {
          s.fault('sync');
          await fd.datasync();
        }
      } finally {
        await fd.close().catch(() => undefined);
      }
      await unlink(path);
      if (s.error === before) this.clearError();
    } catch (e) {
      s.failedUntil = s.now() + (s.opts.failFastMs ?? FAIL_FAST_MS);
      // ensureInit has reported its own failure
      if (!(e instanceof EdgeError)) this.diskError(e, 'write');
    }
  }

  /** The segment to append `bytes` to: rotates a segment that would grow past segmentBytes. */
  private async activeFor(bytes: number): Promise<{ seg: Segment; fd: FileHandle }> {
    const s = this.s;
    if (s.active && s.active.seg.size > 0 && s.active.seg.size + bytes > s.opts.segmentBytes) {
      const fd = s.active.fd;
      s.active = null;
      await fd.close();
    }
    if (s.active) return s.active;
    s.fault('open');
    for (;;) {
      const seq = s.nextSeq++;
      const path = join(s.dir, segName(seq));
      let fd: FileHandle;
      try {
        fd = await open(path, 'wx');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
        throw e;
      }
      // the new directory entry must be durable too, or a crash could lose the whole file
      if (s.opts.fsync && s.dirFd) await s.dirFd.sync();
      const seg: Segment = { seq, path, size: 0, skips: [], readFd: null };
      s.segments.push(seg);
      if (s.segments.length === 1) {
        s.ackSeg = seq;
        s.ackOff = 0;
        if (s.readSeg < seq) {
          s.readSeg = seq;
          s.readOff = 0;
        }
      }
      s.active = { seg, fd };
      return s.active;
    }
  }

  /** After a failed write the tail of the active segment is unknown: stop appending to it. */
  private async abandonActive(): Promise<void> {
    const s = this.s;
    const a = s.active;
    if (!a) return;
    s.active = null;
    await a.fd.close().catch(() => undefined);
    if (a.seg.size === 0) {
      s.segments = s.segments.filter((x) => x !== a.seg);
      await unlink(a.seg.path).catch(() => undefined);
      if (s.segments.length === 0) s.resetPositions();
    }
  }
}
