/**
 * Where a live device's frame spends its time inside the channel during an after-load storm
 * (`after-load-bench --trace-live`). Every frame of a connection whose ident starts with the given
 * prefix is stamped at each stage:
 *   enqueued (bytes read and cut) → its decode task posted → decoded (back on the main thread) →
 *   handed to the publisher → written to the broker (out of the publisher's queue) → PUBACK.
 * Bench-only: the runtime's methods are wrapped by `liveTracer` and restored by `stop()`; the
 * runtime carries no tracing code. The stamps use `performance.now()`, and `stop` keeps the frames
 * enqueued in the given window of the same clock.
 */
import { percentile, round } from './stats.js';

interface Patchable {
  prototype: Record<string, unknown>;
}

/** One traced frame; NaN where a stage was not reached. */
export interface LiveFrameTimes {
  enqueued: number;
  posted: number;
  decoded: number;
  published: number;
  sent: number;
  acked: number;
  /** The publisher's window and queue length when the frame's message was handed to it. */
  window: number;
  queued: number;
  /** Sent on the publisher's express connection (mqtt.express_inflight). */
  express?: boolean;
}

export const LIVE_STAGES = [
  ['waiting for a worker', 'enqueued', 'posted'],
  ['decode task (worker and back)', 'posted', 'decoded'],
  ['to the publisher', 'decoded', 'published'],
  ["publisher's queue", 'published', 'sent'],
  ['broker: PUBLISH → PUBACK', 'sent', 'acked'],
  ['read → PUBACK', 'enqueued', 'acked'],
] as const;

export interface LiveStageReport {
  frames: number;
  /** Per stage: [p50, p90, p99, max] ms. */
  stages: { stage: string; ms: [number, number, number, number] }[];
  window: [number, number];
  queued: [number, number];
  /** Frames whose message went on the express connection. */
  express: number;
  /**
   * With the main thread's garbage-collection pauses given ([start, duration] on the same clock):
   * the share of read → PUBACK spent inside them, over all frames and over the slowest 5 %.
   */
  gc_share?: { all: number; slowest: number };
}

/** Time of [from, to] inside the pauses (sorted by start, not overlapping each other). */
function overlap(from: number, to: number, pauses: readonly (readonly [number, number])[]): number {
  let t = 0;
  for (const [at, d] of pauses) {
    if (at >= to) break;
    t += Math.max(0, Math.min(to, at + d) - Math.max(from, at));
  }
  return t;
}

/** p50 / p90 / p99 / max per stage over the frames that reached their PUBACK. */
export function summarizeLive(frames: readonly LiveFrameTimes[], gcPauses?: readonly (readonly [number, number])[]): LiveStageReport {
  const done = frames.filter((f) => Number.isFinite(f.acked) && Number.isFinite(f.sent));
  const q = (xs: number[]): [number, number, number, number] => [round(percentile(xs, 50), 1), round(percentile(xs, 90), 1), round(percentile(xs, 99), 1), round(Math.max(...xs), 1)];
  const r: LiveStageReport = {
    frames: done.length,
    stages: done.length === 0 ? [] : LIVE_STAGES.map(([stage, from, to]) => ({ stage, ms: q(done.map((f) => f[to] - f[from])) })),
    window: done.length === 0 ? [NaN, NaN] : [percentile(done.map((f) => f.window), 50), percentile(done.map((f) => f.window), 99)],
    queued: done.length === 0 ? [NaN, NaN] : [percentile(done.map((f) => f.queued), 50), percentile(done.map((f) => f.queued), 99)],
    express: done.filter((f) => f.express).length,
  };
  if (gcPauses && done.length > 0) {
    const pauses = [...gcPauses].sort((a, b) => a[0] - b[0]);
    const share = (fs: readonly LiveFrameTimes[]) => {
      const total = fs.reduce((a, f) => a + (f.acked - f.enqueued), 0);
      return total > 0 ? round(fs.reduce((a, f) => a + overlap(f.enqueued, f.acked, pauses), 0) / total, 3) : 0;
    };
    const bySlowness = [...done].sort((a, b) => b.acked - b.enqueued - (a.acked - a.enqueued));
    r.gc_share = { all: share(done), slowest: share(bySlowness.slice(0, Math.max(1, Math.ceil(done.length / 20)))) };
  }
  return r;
}

type Link = { ident?: string; num: number; slots: object[] };
type Slot = { connection: Link };
type PublisherThis = { inflight: number; windowSize: number; queue: { size: number } };
type Cb = (err?: unknown) => void;

/**
 * Wraps FramePipeline (enqueue, decoded), DecodePool (runBatch) and Publisher (publish, send).
 * A frame's message is recognised in `publish` by its lane (the connection number) while its
 * `decoded` runs, and in `send` by the callback `publish` wrapped.
 */
export function liveTracer(identPrefix: string, pipeline: Patchable, pool: Patchable, publisher: Patchable): { stop(fromMs: number, toMs: number, gcPauses?: readonly (readonly [number, number])[]): LiveStageReport } {
  const frames: LiveFrameTimes[] = [];
  const bySlot = new WeakMap<object, LiveFrameTimes>();
  const byCb = new WeakMap<Cb, LiveFrameTimes>();
  const live = (l: Link) => typeof l.ident === 'string' && l.ident.startsWith(identPrefix);
  let current: LiveFrameTimes | null = null;
  let currentLane = -1;
  const orig = {
    enqueue: pipeline.prototype.enqueue as (this: unknown, link: Link, frames: unknown[], ...rest: unknown[]) => void,
    decoded: pipeline.prototype.decoded as (this: unknown, slot: Slot, o: unknown) => void,
    runBatch: pool.prototype.runBatch as (this: unknown, q: unknown, batch: object[], resend: boolean) => void,
    publish: publisher.prototype.publish as (this: PublisherThis, topic: unknown, payload: unknown, retain: unknown, cb: Cb, lane?: number, priority?: number) => void,
    send: publisher.prototype.send as (this: unknown, topic: unknown, payload: unknown, retain: unknown, cb: Cb, ...rest: unknown[]) => void,
    sendExpress: publisher.prototype.sendExpress as (this: unknown, topic: unknown, payload: unknown, retain: unknown, cb: Cb, ...rest: unknown[]) => void,
  };
  pipeline.prototype.enqueue = function (this: unknown, link: Link, fs: unknown[], ...rest: unknown[]) {
    orig.enqueue.call(this, link, fs, ...rest);
    if (!live(link)) return;
    const t = performance.now();
    for (let i = Math.max(0, link.slots.length - fs.length); i < link.slots.length; i++) {
      const f: LiveFrameTimes = { enqueued: t, posted: NaN, decoded: NaN, published: NaN, sent: NaN, acked: NaN, window: NaN, queued: NaN };
      bySlot.set(link.slots[i]!, f);
      frames.push(f);
    }
  };
  pool.prototype.runBatch = function (this: unknown, q: unknown, batch: object[], resend: boolean) {
    const t = performance.now();
    for (const s of batch) {
      const f = bySlot.get(s);
      if (f && Number.isNaN(f.posted)) f.posted = t;
    }
    orig.runBatch.call(this, q, batch, resend);
  };
  pipeline.prototype.decoded = function (this: unknown, slot: Slot, o: unknown) {
    const f = bySlot.get(slot) ?? null;
    if (f) f.decoded = performance.now();
    current = f;
    currentLane = slot.connection.num;
    try {
      orig.decoded.call(this, slot, o);
    } finally {
      current = null;
    }
  };
  publisher.prototype.publish = function (this: PublisherThis, topic: unknown, payload: unknown, retain: unknown, cb: Cb, lane?: number, priority?: number) {
    const f = current;
    if (!f || lane !== currentLane || !Number.isNaN(f.published)) return orig.publish.call(this, topic, payload, retain, cb, lane, priority);
    f.published = performance.now();
    f.window = this.windowSize;
    f.queued = this.queue.size;
    const wrapped: Cb = (err) => {
      f.acked = performance.now();
      cb(err);
    };
    byCb.set(wrapped, f);
    return orig.publish.call(this, topic, payload, retain, wrapped, lane, priority);
  };
  publisher.prototype.send = function (this: unknown, topic: unknown, payload: unknown, retain: unknown, cb: Cb, ...rest: unknown[]) {
    const f = byCb.get(cb);
    if (f) f.sent = performance.now();
    return orig.send.call(this, topic, payload, retain, cb, ...rest);
  };
  // the express connection has no queue: a message is sent when it is published
  publisher.prototype.sendExpress = function (this: unknown, topic: unknown, payload: unknown, retain: unknown, cb: Cb, ...rest: unknown[]) {
    const f = byCb.get(cb);
    if (f) {
      f.sent = performance.now();
      f.express = true;
    }
    return orig.sendExpress.call(this, topic, payload, retain, cb, ...rest);
  };
  return {
    stop(fromMs, toMs, gcPauses) {
      Object.assign(pipeline.prototype, { enqueue: orig.enqueue, decoded: orig.decoded });
      pool.prototype.runBatch = orig.runBatch;
      Object.assign(publisher.prototype, { publish: orig.publish, send: orig.send, sendExpress: orig.sendExpress });
      return summarizeLive(frames.filter((f) => f.enqueued >= fromMs && f.enqueued < toMs), gcPauses);
    },
  };
}
