import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startEmbeddedBroker } from './embedded-broker.js';
import { Publisher } from './publisher.js';

/**
 * The publisher's QoS 1 window against a broker that confirms one publish at a time, every
 * `perMs` (a queue at the broker: each publish more in flight is `perMs` more latency). A fixed
 * window fills to max_inflight and every message waits behind all of them; the adaptive window
 * settles where the latency stays near its floor, and the rest waits in the publisher's own queue,
 * where a live device's message can overtake (fair-queue.ts).
 */
async function serialBroker(perMs: number): Promise<{ url: string; close(): Promise<void> }> {
  if (perMs === 0) return startEmbeddedBroker({ host: '127.0.0.1', port: 0 });
  const waiting: (() => void)[] = [];
  let busy = false;
  const next = (): void => {
    const cb = waiting.shift();
    if (!cb) {
      busy = false;
      return;
    }
    busy = true;
    setTimeout(() => {
      cb();
      next();
    }, perMs);
  };
  const broker = await startEmbeddedBroker({
    host: '127.0.0.1',
    port: 0,
    authorizePublish: (_client, _packet, cb) => {
      waiting.push(() => cb(null));
      if (!busy) next();
    },
  });
  return { url: broker.url, close: () => broker.close() };
}

interface Run {
  maxInFlight: number;
  maxWindow: number;
  confirmed: number;
}

async function run(adaptive: boolean, count: number, perMs = 1): Promise<Run> {
  const broker = await serialBroker(perMs);
  const pub = new Publisher(broker.url, { clientId: `window-${adaptive}-${perMs}`, clean: true, reconnectPeriod: 0, keepalive: 0 }, 400, 100_000, adaptive);
  try {
    await pub.waitConnected(5000);
    const r: Run = { maxInFlight: 0, maxWindow: 0, confirmed: 0 };
    await new Promise<void>((resolve, reject) => {
      for (let i = 0; i < count; i++) {
        pub.publish(`w/${i % 10}`, 'x', false, (err) => {
          if (err) return reject(err);
          r.maxInFlight = Math.max(r.maxInFlight, pub.inFlight);
          r.maxWindow = Math.max(r.maxWindow, pub.windowSize);
          if (++r.confirmed === count) resolve();
        }, i % 10);
      }
    });
    return r;
  } finally {
    await pub.close();
    await broker.close();
  }
}

test('a fixed window fills to max_inflight against a broker that queues', async () => {
  const r = await run(false, 800);
  assert.equal(r.confirmed, 800);
  assert.ok(r.maxInFlight >= 390, `in flight at most ${r.maxInFlight}`);
  assert.equal(r.maxWindow, 400);
});

test('the adaptive window stays far below max_inflight when more in flight only adds latency, and loses nothing', async () => {
  // 1 ms per publish: the floor is ~1 ms, the target ~11 ms, so the window settles near ten and
  // rounds of sawing stay well under the ceiling of 400
  const r = await run(true, 1500);
  assert.equal(r.confirmed, 1500);
  assert.ok(r.maxWindow < 200, `window reached ${r.maxWindow}`);
  assert.ok(r.maxInFlight <= r.maxWindow, `in flight at most ${r.maxInFlight}, window at most ${r.maxWindow}`);
});

test('the adaptive window grows from its floor while confirmations stay near the floor latency', async () => {
  const r = await run(true, 6000, 0);
  assert.equal(r.confirmed, 6000);
  assert.ok(r.maxWindow > 32, `window stayed at ${r.maxWindow}`);
  assert.ok(r.maxWindow <= 400);
  assert.ok(r.maxInFlight <= r.maxWindow, `in flight at most ${r.maxInFlight}, window at most ${r.maxWindow}`);
});

test('closing with thousands of publishes queued fails each of them, without recursing once per publish', async () => {
  const broker = await serialBroker(50);
  const pub = new Publisher(broker.url, { clientId: 'window-close', clean: true, reconnectPeriod: 0, keepalive: 0 }, 10, 1_000_000, false);
  try {
    await pub.waitConnected(5000);
    let failed = 0;
    let confirmed = 0;
    const n = 50_000;
    for (let i = 0; i < n; i++) pub.publish('c/1', 'x', false, (err) => (err ? failed++ : confirmed++));
    assert.equal(pub.queued, n - 10);
    await pub.close();
    // the queued ones are released as in-flight ones fail; give the callbacks a turn
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(pub.queued, 0);
    // a graceful end lets the ten in flight be confirmed; every queued one fails, none is lost
    assert.equal(confirmed, 10);
    assert.equal(failed, n - 10);
  } finally {
    await broker.close();
  }
});
