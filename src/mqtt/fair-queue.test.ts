import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FairQueue } from './fair-queue.js';

test('every item comes out once, FIFO within its lane', () => {
  const q = new FairQueue<number>();
  for (let i = 0; i < 5000; i++) q.push(i % 7, i, i % 3);
  assert.equal(q.size, 5000);
  const out = q.takeAll();
  assert.equal(out.length, 5000);
  assert.equal(new Set(out).size, 5000);
  for (let lane = 0; lane < 7; lane++) {
    const mine = out.filter((v) => v % 7 === lane);
    assert.deepEqual(mine, [...mine].sort((a, b) => a - b), 'FIFO within a lane');
  }
  assert.equal(q.size, 0);
  assert.equal(q.shift(), undefined);
});

test('busy lanes are served round-robin', () => {
  const q = new FairQueue<string>();
  for (let i = 0; i < 3; i++) q.push(1, `a${i}`);
  for (let i = 0; i < 3; i++) q.push(2, `b${i}`);
  for (let i = 0; i < 3; i++) q.push(3, `c${i}`);
  // fresh lanes first (alternating with the round as it fills), then one item per lane per turn
  assert.deepEqual(q.takeAll(), ['a0', 'a1', 'b0', 'a2', 'c0', 'b1', 'c1', 'b2', 'c2']);
});

test('a newly active urgent lane is served at once, not behind the round of busy lanes', () => {
  const q = new FairQueue<string>();
  // a storm: 1,000 busy connections, half of them already served once (in the round), half still fresh
  for (let lane = 1; lane <= 1000; lane++) for (let i = 0; i < 10; i++) q.push(lane, `storm${lane}-${i}`, 5000 + lane);
  for (let i = 0; i < 1000; i++) q.shift();
  // some fresh storm lanes, and a live device that has sent little
  q.push(2001, 'fresh-storm', 4000);
  q.push(3000, 'live', 70);
  q.push(2002, 'fresh-storm2', 3000);
  const next = [q.shift(), q.shift()];
  assert.ok(next.includes('live'), `live served within two turns, got ${next.join(', ')}`);
  // and the round is not starved by fresh lanes: it gets every other turn while both wait
  const more = [q.shift(), q.shift(), q.shift(), q.shift()];
  assert.equal(more.filter((x) => x!.startsWith('storm')).length >= 2, true, more.join(', '));
});

test('fresh lanes are taken most urgent first', () => {
  const q = new FairQueue<string>();
  q.push(1, 'p50', 50);
  q.push(2, 'p10', 10);
  q.push(3, 'p30', 30);
  assert.deepEqual(q.takeAll(), ['p10', 'p30', 'p50']);
});

test('a lane that empties and comes back is fresh again, with its new priority', () => {
  const q = new FairQueue<string>();
  q.push(1, 'x0', 100);
  assert.equal(q.shift(), 'x0');
  q.push(2, 'y0', 50);
  q.push(1, 'x1', 10);
  assert.deepEqual(q.takeAll(), ['x1', 'y0']);
});

test('lanes of connections that are gone do not accumulate', () => {
  const q = new FairQueue<number>();
  for (let lane = 0; lane < 50_000; lane++) {
    q.push(lane, lane);
    assert.equal(q.shift(), lane);
  }
  const lanes = (q as unknown as { lanes: Map<number, unknown> }).lanes;
  assert.ok(lanes.size <= 4096, `lanes kept: ${lanes.size}`);
});
