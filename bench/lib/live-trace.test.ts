import { test } from 'node:test';
import assert from 'node:assert/strict';
import { liveTracer, summarizeLive } from './live-trace.js';

// Stand-ins with the shapes the tracer wraps: a pipeline that publishes a decoded frame's message
// on its connection's lane, a pool, and a publisher that sends at once and confirms on demand.
interface Link {
  ident: string;
  num: number;
  slots: { connection: Link }[];
}
const confirms: (() => void)[] = [];
class Pub {
  inflight = 0;
  windowSize = 32;
  queue = { size: 7 };
  /** Lanes that go on the express connection (the runtime decides by priority). */
  expressLanes = new Set<number>();
  sentLanes: (number | undefined)[] = [];
  publish(topic: string, payload: string, retain: boolean, cb: (e?: unknown) => void, lane?: number): void {
    if (lane !== undefined && this.expressLanes.has(lane)) this.sendExpress(topic, payload, retain, cb, lane);
    else this.send(topic, payload, retain, cb, lane);
  }
  send(_t: string, _p: string, _r: boolean, cb: (e?: unknown) => void, lane?: number): void {
    this.sentLanes.push(lane);
    confirms.push(() => cb());
  }
  sendExpress(_t: string, _p: string, _r: boolean, cb: (e?: unknown) => void, lane: number): void {
    this.sentLanes.push(lane);
    confirms.push(() => cb());
  }
}
const pub = new Pub();
class Pipeline {
  enqueue(link: Link, frames: unknown[]): void {
    for (let i = 0; i < frames.length; i++) link.slots.push({ connection: link });
  }
  decoded(slot: { connection: Link }): void {
    pub.publish('t', 'p', false, () => {}, slot.connection.num);
  }
}
class Pool {
  runBatch(): void {}
}

test('only the live connections\' frames are stamped, at every stage, and the runtime is restored', () => {
  const before = { enqueue: Pipeline.prototype.enqueue, publish: Pub.prototype.publish };
  const t = liveTracer('3700', Pipeline as never, Pool as never, Pub as never);
  const live: Link = { ident: '370000000000001', num: 1, slots: [] };
  const storm: Link = { ident: '360000000000001', num: 2, slots: [] };
  const p = new Pipeline();
  const pool = new Pool() as unknown as { runBatch(q: unknown, b: object[], r: boolean): void };
  p.enqueue(live, [0]);
  p.enqueue(storm, [0]);
  pool.runBatch(null, [...live.slots, ...storm.slots], false);
  p.decoded(live.slots[0]!);
  p.decoded(storm.slots[0]!);
  for (const c of confirms) c();
  const r = t.stop(0, Infinity);
  assert.equal(r.frames, 1);
  assert.deepEqual(r.window, [32, 32]);
  assert.deepEqual(r.queued, [7, 7]);
  assert.equal(r.stages.length, 6);
  for (const s of r.stages) for (const v of s.ms) assert.ok(v >= 0 && Number.isFinite(v), `${s.stage}: ${s.ms.join(', ')}`);
  assert.equal(r.express, 0);
  // the wrapped send passes the lane on (the runtime keeps per-lane counts by it)
  assert.deepEqual(pub.sentLanes, [1, 2]);
  assert.equal(Pipeline.prototype.enqueue, before.enqueue);
  assert.equal(Pub.prototype.publish, before.publish);
});

test('a frame sent on the express connection is stamped as sent and counted', () => {
  confirms.length = 0;
  const t = liveTracer('3700', Pipeline as never, Pool as never, Pub as never);
  const live: Link = { ident: '370000000000002', num: 3, slots: [] };
  pub.expressLanes.add(3);
  const p = new Pipeline();
  p.enqueue(live, [0]);
  (new Pool() as unknown as { runBatch(q: unknown, b: object[], r: boolean): void }).runBatch(null, live.slots, false);
  p.decoded(live.slots[0]!);
  for (const c of confirms) c();
  const r = t.stop(0, Infinity);
  pub.expressLanes.clear();
  assert.equal(r.frames, 1);
  assert.equal(r.express, 1);
  assert.equal(pub.sentLanes.at(-1), 3);
});

test('frames that never reached their PUBACK are left out', () => {
  const nan = { enqueued: 0, posted: 1, decoded: 2, published: 3, sent: NaN, acked: NaN, window: 1, queued: 0 };
  const ok = { enqueued: 0, posted: 1, decoded: 3, published: 3, sent: 4, acked: 10, window: 1, queued: 0 };
  const r = summarizeLive([nan, ok]);
  assert.equal(r.frames, 1);
  assert.deepEqual(r.stages.at(-1), { stage: 'read → PUBACK', ms: [10, 10, 10, 10] });
});

test('the share of read → PUBACK inside garbage-collection pauses, over all frames and the slowest 5 %', () => {
  const frame = (enqueued: number, acked: number) => ({ enqueued, posted: enqueued, decoded: enqueued, published: enqueued, sent: enqueued, acked, window: 1, queued: 0 });
  // nineteen frames of 10 ms with no pause, one of 100 ms of which 40 ms in two pauses (one only half inside)
  const frames = [...Array.from({ length: 19 }, (_, i) => frame(i * 10, i * 10 + 10)), frame(1000, 1100)];
  const pauses: [number, number][] = [[1090, 20], [1010, 30], [5000, 50]];
  const r = summarizeLive(frames, pauses);
  assert.deepEqual(r.gc_share, { all: 0.138, slowest: 0.4 });
  assert.equal(summarizeLive(frames).gc_share, undefined);
});
