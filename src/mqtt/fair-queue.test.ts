import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FairQueue } from './fair-queue.js';

test('lanes are served round-robin, each in FIFO order', () => {
  const q = new FairQueue<string>();
  for (let i = 0; i < 5; i++) q.push(1, `storm${i}`);
  q.push(2, 'live0');
  q.push(1, 'storm5');
  q.push(2, 'live1');
  assert.equal(q.size, 8);
  assert.deepEqual(q.takeAll(), ['storm0', 'live0', 'storm1', 'live1', 'storm2', 'storm3', 'storm4', 'storm5']);
  assert.equal(q.size, 0);
  assert.equal(q.shift(), undefined);
});

test('a lane that empties and comes back joins the end of the round', () => {
  const q = new FairQueue<number>();
  q.push(1, 10);
  assert.equal(q.shift(), 10);
  q.push(2, 20);
  q.push(1, 11);
  q.push(2, 21);
  assert.deepEqual(q.takeAll(), [20, 11, 21]);
  for (let i = 0; i < 5000; i++) q.push(i % 7, i);
  const out = q.takeAll();
  assert.equal(out.length, 5000);
  for (let lane = 0; lane < 7; lane++) {
    const mine = out.filter((v) => v % 7 === lane);
    assert.deepEqual(mine, [...mine].sort((a, b) => a - b), 'FIFO within a lane');
  }
});

test('a newly active lane more urgent than the next one goes to the front of the round', () => {
  const q = new FairQueue<string>();
  for (let i = 0; i < 3; i++) q.push(1, `storm-a${i}`, 5000);
  for (let i = 0; i < 3; i++) q.push(2, `storm-b${i}`, 5000);
  assert.equal(q.shift(), 'storm-a0');
  q.push(3, 'live', 70);
  q.push(4, 'other-storm', 9000);
  assert.deepEqual(q.takeAll(), ['live', 'storm-b0', 'storm-a1', 'other-storm', 'storm-b1', 'storm-a2', 'storm-b2']);
});
