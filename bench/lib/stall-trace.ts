/**
 * Stall tracing for the latency passes (`--trace-stalls`): where does a slow ACK spend its time?
 *
 * Each process of a pass keeps a timeline of its own event-loop stalls (a 1 ms interval timer that
 * fired late) on the shared wall clock (`performance.timeOrigin + now()`; the processes run on one
 * machine, so their clocks agree to well under a millisecond). The device child lists its slow ACKs
 * (send time, latency); the channel process lists its own view of each slow frame (bytes read →
 * ACK written). Matching the three shows whether a slow ACK waited on the channel's main thread, on
 * the load generator's, inside the channel while its loop was free (queues, workers, the broker), or
 * nowhere we can see (the kernel, the scheduler).
 */
export interface Stall {
  /** Wall clock (ms since the epoch) when the loop got to run again. */
  atMs: number;
  /** How much later than due the timer fired, ms. */
  lateMs: number;
}

export interface SlowAck {
  /** Wall clock when the device wrote the frame (client) or the channel read it (server). */
  sentMs: number;
  latencyMs: number;
}

import { PerformanceObserver } from 'node:perf_hooks';

export const wallNow = (): number => performance.timeOrigin + performance.now();

/** Records every time a 1 ms timer fires more than `thresholdMs` late, until stopped. */
export function stallTimeline(thresholdMs = 4, cap = 50_000): { stop(): Stall[]; gc(): Stall[] } {
  const out: Stall[] = [];
  const gcs: Stall[] = [];
  const obs = new PerformanceObserver((l) => {
    for (const e of l.getEntries()) gcs.push({ atMs: performance.timeOrigin + e.startTime + e.duration, lateMs: e.duration });
  });
  obs.observe({ entryTypes: ['gc'] });
  let last = performance.now();
  const t = setInterval(() => {
    const n = performance.now();
    const late = n - last - 1;
    last = n;
    if (late > thresholdMs && out.length < cap) out.push({ atMs: performance.timeOrigin + n, lateMs: Math.round(late * 10) / 10 });
  }, 1);
  return {
    stop() {
      clearInterval(t);
      obs.disconnect();
      return out;
    },
    gc: () => gcs,
  };
}

export interface StallReport {
  slow: number;
  /** Slow ACKs during which the channel's main thread stalled ≥ half their excess latency. */
  channelLoop: number;
  /** … the load generator's loop stalled that long (and the channel's did not). */
  deviceLoop: number;
  /** The channel itself took ≥ half the latency (read → ACK) while its loop ran: queues, workers, broker. */
  insideChannel: number;
  /** None of the above. */
  unexplained: number;
  /** Channel main-thread stalls in the window: count, sum, the largest ones. */
  channelStalls: { count: number; totalMs: number; top: number[] };
  deviceStalls: { count: number; totalMs: number; top: number[] };
  /** Slow ACKs bunched in time: how many distinct 50 ms bursts they fall into. */
  bursts: number;
  /** Channel main-thread GC pauses in the window, and how much of the stall time they cover. */
  gc?: { count: number; totalMs: number; top: number[]; stallMsCovered: number };
}

function overlap(stalls: Stall[], from: number, to: number): number {
  let s = 0;
  for (const x of stalls) {
    const a = Math.max(from, x.atMs - x.lateMs);
    const b = Math.min(to, x.atMs);
    if (b > a) s += b - a;
  }
  return s;
}

function summary(stalls: Stall[]): { count: number; totalMs: number; top: number[] } {
  const top = stalls.map((s) => s.lateMs).sort((a, b) => b - a);
  return { count: stalls.length, totalMs: Math.round(top.reduce((a, b) => a + b, 0)), top: top.slice(0, 5) };
}

/**
 * Attributes each slow client ACK (latency above `slowMs`) to one cause. `baseMs` is what an ACK
 * costs when nothing stalls (the pass's p50): the excess over it is what needs explaining.
 */
export function attribute(clientSlow: SlowAck[], serverSlow: SlowAck[], channelStalls: Stall[], deviceStalls: Stall[], baseMs: number, gc?: Stall[]): StallReport {
  const r: StallReport = { slow: clientSlow.length, channelLoop: 0, deviceLoop: 0, insideChannel: 0, unexplained: 0, channelStalls: summary(channelStalls), deviceStalls: summary(deviceStalls), bursts: 0 };
  const server = [...serverSlow].sort((a, b) => a.sentMs - b.sentMs);
  let lastBurst = -Infinity;
  for (const c of [...clientSlow].sort((a, b) => a.sentMs - b.sentMs)) {
    if (c.sentMs - lastBurst > 50) r.bursts++;
    lastBurst = c.sentMs;
    const from = c.sentMs;
    const to = c.sentMs + c.latencyMs;
    const excess = Math.max(1, c.latencyMs - baseMs);
    if (overlap(channelStalls, from, to) >= excess / 2) r.channelLoop++;
    else if (overlap(deviceStalls, from, to) >= excess / 2) r.deviceLoop++;
    else if (server.some((s) => s.sentMs >= from - 1 && s.sentMs + s.latencyMs <= to + 1 && s.latencyMs >= c.latencyMs / 2)) r.insideChannel++;
    else r.unexplained++;
  }
  if (gc) {
    let covered = 0;
    for (const st of channelStalls) covered += overlap(gc, st.atMs - st.lateMs - 1, st.atMs);
    r.gc = { ...summary(gc.map((g) => ({ atMs: g.atMs, lateMs: Math.round(g.lateMs * 10) / 10 }))), stallMsCovered: Math.round(covered) };
  }
  return r;
}

/** Per-frame stage times inside the channel (ms): read → posted to a worker → decoded → every publish confirmed. */
export interface StageReport {
  frames: number;
  /** p50 / p99 per stage over every frame of the window. */
  queue: [number, number];
  worker: [number, number];
  publish: [number, number];
  total: [number, number];
  /** Frames whose read → confirmed time passed 20 ms: the mean of each stage over them. */
  slow: { frames: number; queue: number; worker: number; publish: number };
  /** Publishes that waited behind the MQTT in-flight window (vs sent at once). */
  publishesQueued: number;
  publishesDirect: number;
  /** The MQTT round trip alone: PUBLISH handed to the client → PUBACK callback, p50 / p99. */
  mqtt: [number, number];
  /** Decode tasks posted to the workers in the window, and their mean size in frames. */
  tasks: number;
  framesPerTask: number;
}

interface Patchable {
  prototype: Record<string, unknown>;
}

function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]! * 100) / 100;
}

/**
 * Wraps four methods of the runtime (FramePipeline.enqueue / decoded / confirmed, DecodePool's
 * runBatch) and the MQTT window's publish to stamp every frame at each stage. Bench-only: the
 * wrappers are removed by `stop()`, the runtime itself carries no tracing code.
 */
export function stageTracer(pipeline: Patchable, pool: Patchable, window: Patchable): { start(): void; pause(): void; stop(): StageReport } {
  const times = new WeakMap<object, number[]>();
  const rows: number[][] = [];
  let on = false;
  let queued = 0;
  let direct = 0;
  const orig = {
    enqueue: pipeline.prototype.enqueue as (this: unknown, link: { slots: object[] }, frames: unknown[], ...rest: unknown[]) => void,
    decoded: pipeline.prototype.decoded as (this: unknown, slot: object, o: unknown) => void,
    confirmed: pipeline.prototype.confirmed as (this: unknown, link: unknown, slot: { remaining: number }, err?: unknown) => void,
    runBatch: pool.prototype.runBatch as (this: unknown, q: unknown, batch: object[], resend: boolean) => void,
    publish: window.prototype.publish as (this: { inflight: number; windowSize: number; queue: { size: number } }, ...a: unknown[]) => void,
    send: window.prototype.send as (this: unknown, topic: unknown, payload: unknown, retain: unknown, cb: (err?: unknown) => void) => void,
  };
  const rtt: number[] = [];
  window.prototype.send = function (this: unknown, topic: unknown, payload: unknown, retain: unknown, cb: (err?: unknown) => void) {
    if (!on) return orig.send.call(this, topic, payload, retain, cb);
    const t = performance.now();
    orig.send.call(this, topic, payload, retain, (err?: unknown) => {
      if (on) rtt.push(performance.now() - t);
      cb(err);
    });
  };
  pipeline.prototype.enqueue = function (this: unknown, link: { slots: object[] }, frames: unknown[], ...rest: unknown[]) {
    orig.enqueue.call(this, link, frames, ...rest);
    if (!on) return;
    const t = performance.now();
    for (let i = link.slots.length - frames.length; i < link.slots.length; i++) if (i >= 0) times.set(link.slots[i]!, [t, NaN, NaN]);
  };
  let tasks = 0;
  let taskFrames = 0;
  pool.prototype.runBatch = function (this: unknown, q: unknown, batch: object[], resend: boolean) {
    const t = performance.now();
    if (on) {
      tasks++;
      taskFrames += batch.length;
    }
    for (const f of batch) {
      const x = times.get(f);
      if (x && Number.isNaN(x[1]!)) x[1] = t;
    }
    orig.runBatch.call(this, q, batch, resend);
  };
  pipeline.prototype.decoded = function (this: unknown, slot: object, o: unknown) {
    const x = times.get(slot);
    if (x) x[2] = performance.now();
    orig.decoded.call(this, slot, o);
  };
  pipeline.prototype.confirmed = function (this: unknown, link: unknown, slot: { remaining: number }, err?: unknown) {
    const x = times.get(slot);
    if (x && slot.remaining === 1 && !err) {
      if (on) rows.push([x[1]! - x[0]!, x[2]! - x[1]!, performance.now() - x[2]!]);
      times.delete(slot);
    }
    orig.confirmed.call(this, link, slot, err);
  };
  window.prototype.publish = function (this: { inflight: number; windowSize: number; queue: { size: number } }, ...a: unknown[]) {
    if (on) {
      if (this.inflight < this.windowSize && this.queue.size === 0) direct++;
      else queued++;
    }
    orig.publish.apply(this, a);
  };
  return {
    start() {
      on = true;
    },
    pause() {
      on = false;
    },
    stop() {
      on = false;
      Object.assign(pipeline.prototype, { enqueue: orig.enqueue, decoded: orig.decoded, confirmed: orig.confirmed });
      pool.prototype.runBatch = orig.runBatch;
      window.prototype.publish = orig.publish;
      window.prototype.send = orig.send;
      const col = (k: number) => rows.map((r) => r[k]!);
      const total = rows.map((r) => r[0]! + r[1]! + r[2]!);
      const slow = rows.filter((_, i) => total[i]! > 20);
      const mean = (k: number) => (slow.length ? Math.round((slow.reduce((s, r) => s + r[k]!, 0) / slow.length) * 10) / 10 : NaN);
      return {
        frames: rows.length,
        queue: [pct(col(0), 50), pct(col(0), 99)],
        worker: [pct(col(1), 50), pct(col(1), 99)],
        publish: [pct(col(2), 50), pct(col(2), 99)],
        total: [pct(total, 50), pct(total, 99)],
        slow: { frames: slow.length, queue: mean(0), worker: mean(1), publish: mean(2) },
        publishesQueued: queued,
        publishesDirect: direct,
        mqtt: [pct(rtt, 50), pct(rtt, 99)],
        tasks,
        framesPerTask: tasks ? Math.round((taskFrames / tasks) * 10) / 10 : NaN,
      };
    },
  };
}
