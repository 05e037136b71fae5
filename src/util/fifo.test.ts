import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Fifo } from './fifo.js';

function drain<T>(q: Fifo<T>): T[] {
  const out: T[] = [];
  for (let v = q.shift(); v !== undefined; v = q.shift()) out.push(v);
  return out;
}

test('first in, first out, across growth and wrap-around', () => {
  const q = new Fifo<number>(16);
  for (let i = 0; i < 10; i++) q.push(i);
  assert.deepEqual([q.shift(), q.shift(), q.shift()], [0, 1, 2]);
  // wraps past the end of the ring, then grows while wrapped
  for (let i = 10; i < 40; i++) q.push(i);
  assert.equal(q.size, 37);
  assert.equal(q.peek(), 3);
  const seen: number[] = [];
  q.forEach((v) => seen.push(v));
  assert.deepEqual(seen, Array.from({ length: 37 }, (_, i) => i + 3));
  assert.deepEqual(drain(q), seen);
  assert.equal(q.size, 0);
  assert.equal(q.peek(), undefined);
  assert.equal(q.shift(), undefined);
});

test('nothing is kept once shifted or left behind by growth', () => {
  const q = new Fifo<object>(16);
  const slots = () => (q as unknown as { slots: (object | undefined)[] }).slots;
  for (let i = 0; i < 16; i++) q.push({ i });
  const before = slots();
  q.push({ i: 16 });
  assert.notEqual(slots(), before, 'the ring grew');
  assert.ok(
    before.every((v) => v === undefined),
    'the abandoned ring holds nothing',
  );
  q.shift();
  assert.equal(slots().filter((v) => v !== undefined).length, 16);
  drain(q);
  assert.ok(slots().every((v) => v === undefined));
});
