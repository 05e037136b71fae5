import { renameSync, writeFileSync } from 'node:fs';
import { open, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseRecords } from '../storage/record-format.js';
import type { SpoolRecord, SpoolState } from './spool-state.js';

const READ_CHUNK = 256 * 1024;
const CURSOR_EVERY_MS = 200;

/**
 * The spool's draining side: records are read in append order, up to the durable size of each
 * segment. `ack` marks a record confirmed by the broker; the confirmed prefix becomes the cursor
 * (written by rename, unsynced: a stale cursor only means duplicates after a crash, never loss), and
 * a segment whose records are all confirmed is deleted (`reclaim`).
 */
export class SpoolReader {
  private cursorTimer: NodeJS.Timeout | null = null;
  private cursorDirty = false;

  constructor(
    private readonly s: SpoolState,
    /** Appends waiting for room are written once a reclaim freed some (SpoolWriter.flush). */
    private readonly flush: () => void,
  ) {}

  /** The next record to publish, or null (then 'readable' follows when more is read). */
  next(): SpoolRecord | null {
    const s = this.s;
    if (s.bHead < s.buffered.length) {
      const r = s.buffered[s.bHead]!;
      s.buffered[s.bHead++] = undefined as unknown as SpoolRecord;
      if (s.bHead === s.buffered.length) {
        s.buffered = [];
        s.bHead = 0;
      }
      s.inflight.push(r);
      if (s.bHead === 0 || s.buffered.length - s.bHead < 64) void this.fill();
      return r;
    }
    void this.fill();
    return null;
  }

  /** The broker confirmed `rec`: advance the confirmed prefix, delete fully confirmed segments. */
  ack(rec: SpoolRecord): void {
    const s = this.s;
    if (rec.epoch !== s.epoch || rec.acked) return;
    rec.acked = true;
    let moved = false;
    while (s.iHead < s.inflight.length && s.inflight[s.iHead]!.acked) {
      const r = s.inflight[s.iHead]!;
      s.inflight[s.iHead++] = undefined as unknown as SpoolRecord;
      s.ackSeg = r.seg;
      s.ackOff = r.end;
      s.count--;
      s.stats.acked++;
      moved = true;
    }
    if (s.iHead === s.inflight.length) {
      s.inflight = [];
      s.iHead = 0;
    } else if (s.iHead > 1024) {
      s.inflight.splice(0, s.iHead);
      s.iHead = 0;
    }
    if (!moved) return;
    const head = s.iHead < s.inflight.length ? s.inflight[s.iHead] : s.bHead < s.buffered.length ? s.buffered[s.bHead] : undefined;
    if (head) s.oldest = head.appendedAtMs;
    this.markCursor();
    void this.reclaim();
  }

  /** Forget what is in flight (the broker failed): reading restarts at the confirmed prefix. */
  rewind(): void {
    const s = this.s;
    s.epoch++;
    s.inflight = [];
    s.iHead = 0;
    s.buffered = [];
    s.bHead = 0;
    s.readSeg = s.ackSeg;
    s.readOff = s.ackOff;
  }

  private async fill(): Promise<void> {
    const s = this.s;
    if (s.reading || s.closed || !s.initialized) return;
    s.reading = true;
    const epoch = s.epoch;
    try {
      for (;;) {
        const idx = s.segments.findIndex((x) => x.seq >= s.readSeg);
        if (idx < 0) return;
        const seg = s.segments[idx]!;
        if (seg.seq !== s.readSeg) {
          s.readSeg = seg.seq;
          s.readOff = 0;
        }
        for (const [from, to] of seg.skips) if (s.readOff >= from && s.readOff < to) s.readOff = to;
        if (s.readOff >= seg.size) {
          if (idx + 1 < s.segments.length) {
            s.readSeg = s.segments[idx + 1]!.seq;
            s.readOff = 0;
            continue;
          }
          return; // caught up with the writer
        }
        let limit = seg.size;
        for (const [from] of seg.skips) if (from > s.readOff && from < limit) limit = from;
        let want = Math.min(READ_CHUNK, limit - s.readOff);
        let parsed: ReturnType<typeof parseRecords> | null = null;
        const at = s.readOff;
        while (!parsed) {
          s.fault('read');
          seg.readFd ??= await open(seg.path, 'r');
          const buf = Buffer.allocUnsafe(want);
          const { bytesRead } = await seg.readFd.read(buf, 0, want, at);
          const atEnd = at + bytesRead >= limit;
          const r = parseRecords(buf.subarray(0, bytesRead), at, atEnd);
          if (r.consumed === 0 && !atEnd) want = Math.min(want * 4, limit - at);
          else parsed = r;
        }
        s.readFailures.recovered({ dir: s.dir }, 'spool reads succeed again');
        if (epoch !== s.epoch || s.closed) return;
        for (const rec of parsed.records) s.buffered.push({ ...rec, seg: seg.seq, epoch, acked: false });
        s.readOff = at + parsed.consumed;
        if (parsed.consumed === 0) s.readOff = limit; // unreadable remainder (only possible for damage)
        if (parsed.records.length > 0) {
          if (s.count > 0 && s.inFlight === 0 && s.bHead === 0) s.oldest = parsed.records[0]!.appendedAtMs;
          s.emit('readable');
          return;
        }
      }
    } catch (e) {
      s.stats.readErrors++;
      const msg = (e as Error).message;
      s.readFailures.failed({ dir: s.dir, err: msg }, `spool read failed: ${msg}; retrying on the next drain tick`);
    } finally {
      s.reading = false;
    }
  }

  /** Deletes the segments whose records are all confirmed (the tail one only when nothing is left or being written). */
  async reclaim(): Promise<void> {
    const s = this.s;
    while (s.segments.length > 0) {
      const head = s.segments[0]!;
      const confirmed = s.ackSeg > head.seq || (s.ackSeg === head.seq && s.ackOff >= head.size);
      if (!confirmed) return;
      const isActive = s.active?.seg === head;
      if (isActive || s.segments.length === 1) {
        // the tail segment goes only when everything is confirmed and no write is under way
        if (s.count !== 0 || s.writing) return;
        if (s.active) {
          const fd = s.active.fd;
          s.active = null;
          await fd.close().catch(() => undefined);
          if (s.count !== 0 || s.writing || s.segments[0] !== head) return;
        }
      }
      s.segments.shift();
      s.diskBytes -= head.size;
      if (head.readFd) await head.readFd.close().catch(() => undefined);
      await unlink(head.path).catch((e: Error) => s.opts.log?.warn({ path: head.path, err: e.message }, 'cannot delete a drained spool segment'));
      if (s.segments.length > 0) {
        const next = s.segments[0]!;
        if (s.ackSeg <= head.seq) {
          s.ackSeg = next.seq;
          s.ackOff = 0;
        }
      } else s.resetPositions();
      this.markCursor();
      if (s.full || s.qHead < s.queue.length) this.flush();
    }
    if (s.isEmpty) s.emit('empty');
  }

  private markCursor(): void {
    this.cursorDirty = true;
    if (this.cursorTimer || this.s.closed) return;
    this.cursorTimer = setTimeout(() => {
      this.cursorTimer = null;
      void this.writeCursor();
    }, CURSOR_EVERY_MS);
    this.cursorTimer.unref();
  }

  private async writeCursor(): Promise<void> {
    const s = this.s;
    if (!this.cursorDirty || !s.initialized) return;
    this.cursorDirty = false;
    const path = join(s.dir, 'cursor');
    try {
      await writeFile(path + '.tmp', JSON.stringify({ seg: s.ackSeg, off: s.ackOff }));
      await rename(path + '.tmp', path);
    } catch (e) {
      s.opts.log?.debug({ err: (e as Error).message }, 'spool cursor not written (costs duplicates only)');
    }
  }

  /** Shutdown: no more scheduled cursor writes. */
  stopCursor(): void {
    if (this.cursorTimer) clearTimeout(this.cursorTimer);
    this.cursorTimer = null;
  }

  /** Shutdown: the cursor written now (synchronously, best effort). */
  writeCursorNow(): void {
    const s = this.s;
    if (!s.initialized) return;
    try {
      const path = join(s.dir, 'cursor');
      writeFileSync(path + '.tmp', JSON.stringify({ seg: s.ackSeg, off: s.ackOff }));
      renameSync(path + '.tmp', path);
    } catch {
      // duplicates only
    }
  }
}
