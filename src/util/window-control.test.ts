import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WindowControl } from './window-control.js';

/** A clock the test moves by hand. */
function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

/**
 * One round as the drain sees it: fill the window (the control notes it was the limit), then
 * confirm every record in flight with `latencyMs`.
 */
function round(c: WindowControl, latencyMs: number): number {
  let inflight = 0;
  while (c.allowance(inflight) > 0) {
    c.sent();
    inflight++;
  }
  assert.equal(c.allowance(inflight), 0);
  for (let i = 0; i < inflight; i++) c.confirmed(latencyMs);
  return inflight;
}

test('drain control: the window grows from the minimum while the latency stays at its floor, up to the cap', () => {
  const k = clock();
  const c = new WindowControl({ maxWindow: 500, rateCap: 0, now: k.now });
  assert.equal(c.window, 4, 'starts small: the broker just came back');
  const sizes: number[] = [];
  for (let i = 0; i < 60; i++) sizes.push(round(c, 1));
  for (let i = 1; i < sizes.length; i++) assert.ok(sizes[i]! >= sizes[i - 1]!, `never shrinks at a flat latency: ${sizes.join(',')}`);
  assert.equal(c.window, 500, 'reaches drain_inflight');
  assert.equal(c.baseMs, 1);
  assert.ok(sizes.indexOf(500) < 40, `reaches the cap within 40 rounds: ${sizes.join(',')}`);
});

test('drain control: rising PUBACK latency shrinks the window in proportion, never below the minimum', () => {
  const k = clock();
  const c = new WindowControl({ maxWindow: 1000, rateCap: 0, slackMs: 10, now: k.now });
  for (let i = 0; i < 80; i++) round(c, 2);
  const full = c.window;
  assert.equal(full, 1000);
  // target = max(2·2, 2 + 10) = 12 ms; a round at 24 ms halves the window
  round(c, 24);
  assert.equal(c.window, 500);
  // a round just above the target shrinks it a little (12/13)
  round(c, 13);
  assert.equal(c.window, Math.floor(500 * (12 / 13)));
  for (let i = 0; i < 40; i++) round(c, 500);
  assert.equal(c.window, 4, 'floor: the drain keeps probing with a few records');
  assert.ok(c.stats.decreases >= 10);
});

test('drain control: settles where the latency meets its target (a broker whose queue grows with the window)', () => {
  const k = clock();
  // a broker that confirms 20 000 records/s after a 1 ms floor: latency = 1 + window/20 ms
  const c = new WindowControl({ maxWindow: 5000, rateCap: 0, slackMs: 10, now: k.now });
  const seen: number[] = [];
  for (let i = 0; i < 300; i++) {
    const w = round(c, 1 + c.window / 20);
    k.advance(1 + w / 20);
    seen.push(w);
  }
  const tail = seen.slice(-100);
  // target = 11 ms ↔ window 200: stays around it instead of running to the 5000 cap
  assert.ok(Math.max(...tail) <= 260 && Math.min(...tail) >= 120, `window ${Math.min(...tail)}..${Math.max(...tail)}`);
});

test('drain control: an event-loop pause that delays part of a round is not read as congestion', () => {
  const c = new WindowControl({ maxWindow: 400, rateCap: 0, slackMs: 10, now: clock().now });
  for (let i = 0; i < 40; i++) round(c, 2);
  assert.equal(c.window, 400);
  // a 120 ms pause: the last quarter of the round's confirmations carry it
  let inflight = 0;
  while (c.allowance(inflight) > 0) {
    c.sent();
    inflight++;
  }
  for (let i = 0; i < inflight; i++) c.confirmed(i < (inflight * 3) / 4 ? 2 : 120);
  assert.equal(c.window, 400, "the round's lowest latency stayed at the floor");
  // a queue, by contrast, delays the whole round
  round(c, 40);
  assert.ok(c.window < 400);
});

test('drain control: a timeout resets the window to the minimum; it grows again afterwards', () => {
  const c = new WindowControl({ maxWindow: 200, rateCap: 0, minWindow: 8, now: clock().now });
  for (let i = 0; i < 40; i++) round(c, 1);
  assert.equal(c.window, 200);
  c.failed();
  assert.equal(c.window, 8);
  assert.equal(c.stats.resets, 1);
  for (let i = 0; i < 40; i++) round(c, 1);
  assert.equal(c.window, 200);
});

test('drain control: the window does not grow when it was not the limit (reader- or cap-limited)', () => {
  const c = new WindowControl({ maxWindow: 1000, rateCap: 0, now: clock().now });
  // the drain sends 2 at a time (the spool had no more), well under the window of 4
  for (let i = 0; i < 50; i++) {
    assert.ok(c.allowance(0) >= 2);
    c.sent();
    c.sent();
    c.confirmed(1);
    c.confirmed(1);
  }
  assert.equal(c.window, 4);
  assert.equal(c.stats.increases, 0);
});

test('drain control: drain_rate caps records per second (token bucket on the injected clock); 0 = no cap', () => {
  const k = clock();
  const c = new WindowControl({ maxWindow: 100_000, minWindow: 100_000, rateCap: 1000, now: k.now });
  let sent = 0;
  for (let ms = 0; ms < 10_000; ms += 10) {
    k.advance(10);
    for (let n = c.allowance(0); n > 0; n--) {
      c.sent();
      sent++;
    }
  }
  assert.ok(sent >= 9_900 && sent <= 10_000 + 200, `~1000/s over 10 s: ${sent}`);
  // a long pause does not buy more than the burst (a fifth of a second)
  k.advance(60_000);
  assert.equal(c.allowance(0), 200);
  const u = new WindowControl({ maxWindow: 300, minWindow: 300, rateCap: 0, now: k.now });
  assert.equal(u.allowance(0), 300, 'no cap: the window alone limits');
  assert.equal(u.allowance(299), 1);
});

test('drain control: the latency floor is a windowed minimum (follows a path that got slower)', () => {
  const k = clock();
  const c = new WindowControl({ maxWindow: 50, rateCap: 0, now: k.now });
  round(c, 1);
  assert.equal(c.baseMs, 1);
  for (let i = 0; i < 5; i++) {
    k.advance(6_000);
    round(c, 30);
  }
  assert.equal(c.baseMs, 30, 'after two buckets without a 1 ms sample the floor is 30 ms');
});
