import { mkdirSync } from 'node:fs';
import { open, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { EdgeError } from '../errors.js';
import { DirLock } from '../storage/dir-lock.js';
import { parseRecords } from '../storage/record-format.js';
import { FAIL_FAST_MS, SEG_RE, type Segment, type SpoolState } from './spool-state.js';

/**
 * Opening the spool: the directory lock, then recovery. Segments are scanned; a torn tail (crash
 * mid-write) fails its length/CRC check and is truncated; damage in the middle is skipped by
 * resynchronising on the record magic; segments before the cursor (confirmed before a crash that
 * came before their deletion) go. Runs on first use; a failure is reported and retried on the next.
 */
export class SpoolRecovery {
  private initializing: Promise<void> | null = null;

  constructor(
    private readonly s: SpoolState,
    /** Reports a disk failure and returns the error appends get (SpoolWriter.diskError). */
    private readonly diskError: (e: unknown, what: string) => EdgeError,
    /** Deletes what recovery found fully confirmed (SpoolReader.reclaim). */
    private readonly reclaim: () => Promise<void>,
  ) {}

  ensureInit(): Promise<void> {
    const s = this.s;
    if (s.initialized) return Promise.resolve();
    this.initializing ??= this.init().then(
      () => {
        s.initialized = true;
        this.initializing = null;
      },
      (e: unknown) => {
        this.initializing = null;
        s.failedUntil = s.now() + (s.opts.failFastMs ?? FAIL_FAST_MS);
        throw this.diskError(e, 'opening the spool');
      },
    );
    return this.initializing;
  }

  private async init(): Promise<void> {
    const s = this.s;
    s.fault('open');
    mkdirSync(s.dir, { recursive: true });
    await this.lock();
    try {
      await this.recover();
    } catch (e) {
      this.unlock();
      await s.dirFd?.close().catch(() => undefined);
      s.dirFd = null;
      s.count = 0;
      s.diskBytes = 0;
      s.segments = [];
      throw e;
    }
  }

  private async recover(): Promise<void> {
    const s = this.s;
    s.dirFd = await open(s.dir, 'r');
    let cursor = { seg: 0, off: 0 };
    try {
      const c = JSON.parse(await readFile(join(s.dir, 'cursor'), 'utf8')) as { seg?: unknown; off?: unknown };
      if (typeof c.seg === 'number' && typeof c.off === 'number') cursor = { seg: c.seg, off: c.off };
    } catch {
      // no cursor (or a damaged one): start at the first record; the cost is duplicates only
    }
    // never reuse a sequence number at or below the cursor: recovery would treat it as confirmed
    s.nextSeq = Math.max(s.nextSeq, cursor.seg + 1);
    const names = (await readdir(s.dir)).filter((n) => SEG_RE.test(n)).sort();
    const segs: Segment[] = [];
    let first: number | null = null;
    for (const name of names) {
      const seq = Number(SEG_RE.exec(name)![1]);
      const path = join(s.dir, name);
      s.nextSeq = Math.max(s.nextSeq, seq + 1);
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
        s.stats.damagedBytes += to - from;
        s.opts.log?.warn({ code: 'EDGE_SPOOL_CORRUPT', segment: name, from, to, tail: to >= buf.length }, `EDGE_SPOOL_CORRUPT: ${to - from} bytes of ${name} are not a valid record (${to >= buf.length ? 'torn tail, truncated' : 'skipped'})`);
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
      s.count += n;
      s.diskBytes += validEnd;
      segs.push({ seq, path, size: validEnd, skips, readFd: null });
    }
    s.segments = segs;
    s.stats.recoveredRecords = s.count;
    s.oldest = first;
    if (segs.length > 0) {
      const head = segs[0]!;
      s.ackSeg = head.seq;
      s.ackOff = head.seq === cursor.seg ? Math.min(cursor.off, head.size) : 0;
    } else {
      s.ackSeg = s.nextSeq;
      s.ackOff = 0;
    }
    s.readSeg = s.ackSeg;
    s.readOff = s.ackOff;
    if (s.count > 0) s.opts.log?.info({ dir: s.dir, records: s.count, bytes: s.diskBytes, segments: segs.length }, 'spool recovered: draining it before live traffic');
    else if (segs.length > 0) await this.reclaim();
  }

  private async lock(): Promise<void> {
    const s = this.s;
    s.dirLock = await DirLock.acquire(s.dir, { instanceId: s.opts.instanceId ?? 'edge-channel', onLost: (holder) => s.opts.log?.error({ code: 'EDGE_SPOOL_LOCKED', holder }, 'EDGE_SPOOL_LOCKED: another process took over the spool lock (this process stalled past the heartbeat)') });
  }

  unlock(): void {
    this.s.dirLock?.release();
    this.s.dirLock = null;
  }
}
