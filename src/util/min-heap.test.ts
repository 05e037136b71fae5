import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MinHeap } from './min-heap.js';

test('pops by priority, FIFO among equal priorities', () => {
  const h = new MinHeap<string>();
  h.push(5, 'a');
  h.push(1, 'b');
  h.push(5, 'c');
  h.push(0, 'd');
  h.push(1, 'e');
  const out: string[] = [];
  for (let v = h.pop(); v !== undefined; v = h.pop()) out.push(v);
  assert.deepEqual(out, ['d', 'b', 'e', 'a', 'c']);
});

test('random priorities come out sorted (stable)', () => {
  const h = new MinHeap<[number, number]>();
  const input: [number, number][] = [];
  for (let i = 0; i < 2000; i++) input.push([Math.floor(Math.random() * 50), i]);
  for (const x of input) h.push(x[0], x);
  const out: [number, number][] = [];
  for (let v = h.pop(); v !== undefined; v = h.pop()) out.push(v);
  assert.deepEqual(out, [...input].sort((a, b) => a[0] - b[0] || a[1] - b[1]));
});
