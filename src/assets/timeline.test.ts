import { test } from 'node:test';
import assert from 'node:assert/strict';
import { activate, activeAt, autoEnd, autoPresent, coveringIndex, manualAssign, manualClose, nextBoundary, trim } from './timeline.js';
import type { Interval } from './types.js';

const iv = (id: number, begin: number, end: number, ident = 'a', source: 'auto' | 'manual' = 'auto'): Interval => ({ id, begin, end, ident, channel_id: 1, meta: null, source });

test('timeline: an open interval followed by a later one ends where it begins; covering and active follow that', () => {
  const ivs = [iv(1, 10, 20), iv(2, 30, 0, 'b'), iv(3, 50, 60, 'c', 'manual')];
  assert.equal(coveringIndex(ivs, 9), -1);
  assert.equal(coveringIndex(ivs, 10), 0);
  assert.equal(coveringIndex(ivs, 20), -1, 'end is exclusive');
  assert.equal(coveringIndex(ivs, 49), 1);
  assert.equal(coveringIndex(ivs, 50), 2, 'the planned one takes over at its begin');
  assert.equal(activeAt(ivs, 60), null);
  assert.equal(nextBoundary(ivs, 40), 50);
  assert.equal(nextBoundary(ivs, 55), 60);
  assert.equal(nextBoundary(ivs, 61), Infinity);
  assert.deepEqual(activate(ivs, 55), [{ kind: 'closed', interval: iv(2, 30, 50, 'b') }]);
  assert.deepEqual(activate(ivs, 55), [], 'once');
});

test('timeline: automatic moves, same-instant moves, gaps bounded by later history, conflicts', () => {
  const ivs: Interval[] = [];
  assert.equal(autoPresent(ivs, 1, 'a', 100, 1000, 1).kind, 'opened');
  assert.equal(autoPresent(ivs, 1, 'a', 110, 1000, 2).kind, 'held');
  const moved = autoPresent(ivs, 1, 'b', 120, 1000, 2);
  assert.equal(moved.kind, 'opened');
  assert.deepEqual(ivs, [iv(1, 100, 120), iv(2, 120, 0, 'b')]);
  // same instant: the earlier-arrived one lasted no time
  autoPresent(ivs, 1, 'c', 120, 1000, 3);
  assert.deepEqual(ivs, [iv(1, 100, 120), iv(3, 120, 0, 'c')]);
  // a gap before everything: bounded by the first interval (it has begun)
  assert.equal(autoPresent(ivs, 1, 'd', 50, 1000, 4).kind, 'opened');
  assert.deepEqual(ivs[0], iv(4, 50, 100, 'd'));
  assert.deepEqual(autoEnd(ivs, 4, 70), [{ kind: 'updated', interval: iv(4, 50, 70, 'd') }]);
  assert.equal(autoEnd(ivs, 4, 80), null, 'at or after its end: nothing to do');
  assert.deepEqual(autoEnd(ivs, 4, 40), [], 'before its begin: says nothing about it');
  const c = autoPresent(ivs, 1, 'e', 105, 1000, 5);
  assert.equal(c.kind, 'conflict');
  assert.deepEqual(autoEnd(ivs, 3, 110), [], 'older than the interval: says nothing about it');
  assert.deepEqual(autoEnd(ivs, 3, 130), [{ kind: 'closed', interval: iv(3, 120, 130, 'c') }]);
  // before a planned (future) interval: open, closed by activate at its begin
  const p = [iv(1, 500, 0, 'x', 'manual')];
  autoPresent(p, 1, 'a', 100, 200, 2);
  assert.deepEqual(p[0], iv(2, 100, 0));
});

test('timeline: manual intervals close the open one, refuse overlaps and inverted ranges; planned ones leave it until they begin', () => {
  const ivs = [iv(1, 10, 20), iv(2, 30, 0, 'b')];
  assert.deepEqual(manualAssign(ivs, { channel_id: 1, ident: 'm', begin: 15, end: 25, meta: null }, 3, 100), { reason: 'overlaps interval 1 (auto, a, 10..20)' });
  assert.match((manualAssign(ivs, { channel_id: 1, ident: 'm', begin: 25, end: 24, meta: null }, 3, 100) as { reason: string }).reason, /before it begins/);
  assert.match((manualAssign(ivs, { channel_id: 1, ident: 'm', begin: 25, end: 0, meta: null }, 3, 100) as { reason: string }).reason, /overlaps interval 2/);
  const planned = [...ivs];
  const r = manualAssign(planned, { channel_id: 1, ident: 'm', begin: 200, end: 0, meta: { k: 1 } }, 3, 100);
  assert.ok(!('reason' in r));
  assert.deepEqual(planned[1], iv(2, 30, 0, 'b'), 'left open until the plan begins');
  const now = [...ivs];
  manualAssign(now, { channel_id: 1, ident: 'm', begin: 90, end: 0, meta: null }, 3, 100);
  assert.deepEqual(now.slice(1).map((x) => [x.id, x.begin, x.end]), [[2, 30, 90], [3, 90, 0]]);
  assert.match((manualClose(now, 3, 80, null, 100) as { reason: string }).reason, /before it begins/);
  assert.match((manualClose(now, 2, 95, null, 100) as { reason: string }).reason, /already closed/);
  assert.deepEqual((manualClose(now, null, 99, { x: 1 }, 100) as { interval: Interval }).interval, { ...iv(3, 90, 99, 'm', 'manual'), meta: { x: 1 } });
});

test('timeline: trim drops the oldest closed intervals only', () => {
  const ivs = [iv(1, 1, 2), iv(2, 3, 4), iv(3, 5, 0)];
  trim(ivs, 2);
  assert.deepEqual(ivs.map((x) => x.id), [2, 3]);
  trim(ivs, 0);
  assert.deepEqual(ivs.map((x) => x.id), [3], 'the open one stays');
});
