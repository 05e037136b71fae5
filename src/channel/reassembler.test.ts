import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Reassembler, type ReassemblerLimits } from './reassembler.js';

const limits = (l: Partial<ReassemblerLimits> = {}): ReassemblerLimits => ({ maxBytes: 1024, maxAgeMs: 60_000, resendAfterMs: 0, maxRequests: 0, ...l });
const ctx = Uint8Array.of(0xc0);

test('Reassembler joins parts in index order whatever their arrival order; a resent part replaces the first copy', () => {
  const r = new Reassembler(limits());
  assert.deepEqual(r.add('k', 2, 3, Uint8Array.of(5), 0), { kind: 'partial' });
  assert.deepEqual(r.add('k', 0, 3, Uint8Array.of(1), 0), { kind: 'partial' });
  assert.deepEqual(r.add('k', 0, 3, Uint8Array.of(1), 0), { kind: 'partial' }, 'a duplicate does not complete it');
  const done = r.add('k', 1, 3, Uint8Array.of(2, 3), 0);
  assert.equal(done.kind, 'complete');
  assert.deepEqual([...(done as { bytes: Buffer }).bytes], [1, 2, 3, 5]);
  assert.equal(r.heldBytes, 0);
});

test('Reassembler is bounded in bytes and age, and refuses invalid part numbers', () => {
  const r = new Reassembler(limits({ maxBytes: 4, maxAgeMs: 1000 }));
  assert.equal(r.add('a', 0, 2, Uint8Array.of(1, 2, 3), 0).kind, 'partial');
  assert.equal(r.add('b', 0, 2, Uint8Array.of(1, 2), 0).kind, 'dropped', 'over the byte bound');
  assert.equal(r.heldBytes, 3);
  assert.equal(r.expire(2000), 1, 'too old');
  assert.equal(r.heldBytes, 0);
  assert.equal(r.add('c', 3, 3, Uint8Array.of(1), 0).kind, 'dropped');
  assert.equal(r.add('c', 0, 0, Uint8Array.of(1), 0).kind, 'dropped');
});

test('Reassembler asks for missing parts when the last part arrives, then when the last asked-for part arrives, within maxRequests', () => {
  const r = new Reassembler(limits({ maxRequests: 2 }));
  for (const i of [0, 2]) assert.deepEqual(r.add('m', i, 5, Uint8Array.of(i), 0, ctx), { kind: 'partial' });
  const first = r.add('m', 4, 5, Uint8Array.of(4), 0, ctx);
  assert.equal(first.kind, 'partial');
  assert.deepEqual((first as { ask: unknown }).ask, { key: 'm', missing: [1, 3], count: 5, context: Buffer.from(ctx) });
  // the device resends part 1 only: no request yet (part 3 was asked for and is still expected)
  assert.deepEqual(r.add('m', 1, 5, Uint8Array.of(1), 0, ctx), { kind: 'partial' });
  const second = r.add('m', 4, 5, Uint8Array.of(4), 0, ctx);
  assert.equal((second as { ask?: unknown }).ask, undefined, 'part 4 is not what the request waits for any more');
  assert.equal(r.add('m', 3, 5, Uint8Array.of(3), 0, ctx).kind, 'complete');

  const capped = new Reassembler(limits({ maxRequests: 1 }));
  capped.add('n', 0, 3, Uint8Array.of(0), 0, ctx);
  assert.ok((capped.add('n', 2, 3, Uint8Array.of(2), 0, ctx) as { ask?: unknown }).ask);
  assert.equal(capped.sweep(10_000_000).asks.length, 0, 'maxRequests reached');
});

test('Reassembler asks on the sweep when no part came for resendAfterMs (the last part may be the lost one), using the context of the lowest part', () => {
  const r = new Reassembler(limits({ resendAfterMs: 1000, maxRequests: 3 }));
  r.add('m', 1, 3, Uint8Array.of(1), 0, Uint8Array.of(0xb1));
  r.add('m', 0, 3, Uint8Array.of(0), 100, Uint8Array.of(0xb0));
  assert.equal(r.sweep(1000).asks.length, 0, 'a part came 900 ms ago');
  const { asks } = r.sweep(1100);
  assert.deepEqual(asks, [{ key: 'm', missing: [2], count: 3, context: Buffer.from([0xb0]) }]);
  assert.equal(r.sweep(1500).asks.length, 0, 'the request restarts the interval');
  assert.equal(r.sweep(2100).asks.length, 1);
  // without a context nothing is asked: the message only waits for its age bound
  const plain = new Reassembler(limits({ resendAfterMs: 1000, maxRequests: 3, maxAgeMs: 5000 }));
  plain.add('p', 0, 2, Uint8Array.of(0), 0);
  assert.deepEqual(plain.sweep(2000), { asks: [], dropped: 0 });
  assert.deepEqual(plain.sweep(6000), { asks: [], dropped: 1 });
});

test('Reassembler: a late copy of a part of a message completed within maxAgeMs is a duplicate, not a new message', () => {
  const r = new Reassembler(limits({ maxRequests: 3, maxAgeMs: 1000 }));
  r.add('m', 0, 2, Uint8Array.of(0), 0, ctx);
  assert.equal(r.add('m', 1, 2, Uint8Array.of(1), 0, ctx).kind, 'complete');
  assert.deepEqual(r.add('m', 0, 2, Uint8Array.of(0), 500, ctx), { kind: 'duplicate' });
  assert.equal(r.size, 0, 'nothing held, nothing to ask for');
  assert.equal(r.add('m', 0, 2, Uint8Array.of(0), 2000, ctx).kind, 'partial', 'the same key later is a new message (serials wrap)');
});
