import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CircuitBreaker, type BreakerChange } from './breaker.js';

function clocked(random = 0.5) {
  let t = 1_000_000;
  const changes: BreakerChange[] = [];
  const b = new CircuitBreaker({ probeMinMs: 100, probeMaxMs: 1000, now: () => t, random: () => random });
  b.on('change', (c: BreakerChange) => changes.push(c));
  return { b, changes, advance: (ms: number) => (t += ms), now: () => t };
}

test('breaker: closed → open on failure, probe after the jittered backoff, closed on probe success', () => {
  const { b, changes, advance } = clocked(0.5);
  assert.equal(b.state, 'closed');
  b.success();
  assert.equal(changes.length, 0, 'success while closed changes nothing');
  b.failure('PUBACK timeout');
  assert.equal(b.state, 'open');
  assert.equal(b.lastReason, 'PUBACK timeout');
  assert.equal(b.opens, 1);
  // backoff: base 100 ms, equal jitter with random 0.5 → 50 + 25 = 75 ms
  assert.equal(changes[0]!.nextProbeAtMs! - changes[0]!.atMs, 75);
  advance(74);
  assert.equal(b.tick(), false);
  advance(1);
  assert.equal(b.tick(), true);
  assert.equal(b.state, 'half_open');
  assert.equal(b.tick(), false, 'one probe per half-open');
  b.success();
  assert.equal(b.state, 'closed');
  assert.deepEqual(changes.map((c) => c.state), ['open', 'half_open', 'closed']);
});

test('breaker: failed probes double the backoff up to the maximum; success resets it', () => {
  const { b, changes, advance } = clocked(1);
  b.failure('down');
  const delays: number[] = [];
  for (let i = 0; i < 6; i++) {
    const c = changes.at(-1)!;
    delays.push(c.nextProbeAtMs! - c.atMs);
    advance(c.nextProbeAtMs! - c.atMs);
    assert.equal(b.tick(), true);
    b.failure('probe timeout');
  }
  assert.deepEqual(delays, [100, 200, 400, 800, 1000, 1000]);
  advance(1000);
  assert.equal(b.tick(), true);
  b.success();
  b.failure('again');
  const c = changes.at(-1)!;
  assert.equal(c.nextProbeAtMs! - c.atMs, 100, 'attempts reset after a successful probe');
});

test('breaker: jitter spreads probes within the upper half of the backoff', () => {
  for (const [r, want] of [[0, 50], [0.999, 100]] as const) {
    const { b, changes } = clocked(r);
    b.failure('x');
    const c = changes[0]!;
    assert.equal(Math.round(c.nextProbeAtMs! - c.atMs), want);
  }
});

test('breaker: a reconnect hint pulls a long backoff forward; failures while open are ignored', () => {
  const { b, changes, advance } = clocked(1);
  b.failure('down');
  for (let i = 0; i < 4; i++) {
    advance(10_000);
    b.tick();
    b.failure('probe');
  }
  const before = b.nextProbeAtMs;
  b.failure('another timeout');
  assert.equal(b.nextProbeAtMs, before, 'open stays open, no backoff change');
  assert.equal(changes.filter((c) => c.state === 'open').length, 5);
  b.hint();
  assert.ok(b.nextProbeAtMs < before);
  advance(100);
  assert.equal(b.tick(), true);
});
