import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addPart, EMPTY_REASSEMBLY, expire, missingParts, type ReassemblyLimits, type ReassemblyState } from './subpackage-reassembly.js';

const LIMITS: ReassemblyLimits = { maxBytes: 100, maxPending: 2, timeoutMs: 1000 };
const part = (serial: number, total: number, index: number, fill: number, len = 10) => ({ msgId: 0x0801, serial, total, index, body: new Uint8Array(len).fill(fill) });

test('parts in any order reassemble in index order', () => {
  let s: ReassemblyState = EMPTY_REASSEMBLY;
  let r = addPart(s, part(12, 3, 3, 3), 0, LIMITS);
  assert.equal(r.outcome.kind, 'partial');
  s = r.state;
  r = addPart(s, part(10, 3, 1, 1), 1, LIMITS);
  s = r.state;
  r = addPart(s, part(11, 3, 2, 2), 2, LIMITS);
  assert.equal(r.outcome.kind, 'complete');
  if (r.outcome.kind !== 'complete') return;
  assert.equal(r.outcome.firstSerial, 10);
  assert.deepEqual([...r.outcome.body].filter((_, i) => i % 10 === 0), [1, 2, 3]);
  assert.deepEqual(r.state.pending, {});
});

test('the input state is never modified (pure)', () => {
  const r1 = addPart(EMPTY_REASSEMBLY, part(1, 2, 1, 1), 0, LIMITS);
  const snapshot = JSON.stringify(Object.keys(r1.state.pending));
  addPart(r1.state, part(2, 2, 2, 2), 0, LIMITS);
  assert.equal(JSON.stringify(Object.keys(r1.state.pending)), snapshot);
  assert.equal(Object.keys(EMPTY_REASSEMBLY.pending).length, 0);
});

test('serials wrap: first serial 65535 continues at 0', () => {
  const r1 = addPart(EMPTY_REASSEMBLY, part(65535, 2, 1, 1), 0, LIMITS);
  const r2 = addPart(r1.state, part(0, 2, 2, 2), 0, LIMITS);
  assert.equal(r2.outcome.kind, 'complete');
});

test('a resent index replaces the earlier copy and is counted once', () => {
  let r = addPart(EMPTY_REASSEMBLY, part(1, 2, 1, 1), 0, LIMITS);
  r = addPart(r.state, part(1, 2, 1, 9), 1, LIMITS);
  assert.deepEqual(r.outcome, { kind: 'partial', key: '0801:1', received: 1, total: 2 });
  r = addPart(r.state, part(2, 2, 2, 2), 2, LIMITS);
  assert.equal(r.outcome.kind === 'complete' && r.outcome.body[0], 9);
});

test('size bound: a message growing past maxBytes is dropped with EDGE_FRAME_TOO_LARGE', () => {
  let s: ReassemblyState = EMPTY_REASSEMBLY;
  for (let i = 1; i <= 5; i++) s = addPart(s, part(i, 20, i, 1, 20), 0, LIMITS).state;
  const r = addPart(s, part(6, 20, 6, 1, 20), 0, LIMITS);
  assert.equal(r.outcome.kind === 'rejected' && r.outcome.code, 'EDGE_FRAME_TOO_LARGE');
  assert.deepEqual(r.state.pending, {});
});

test('count bound: the longest-waiting message is dropped beyond maxPending', () => {
  let s = addPart(EMPTY_REASSEMBLY, part(100, 2, 1, 1), 0, LIMITS).state;
  s = addPart(s, part(200, 2, 1, 1), 5, LIMITS).state;
  s = addPart(s, part(300, 2, 1, 1), 9, LIMITS).state;
  assert.deepEqual(Object.keys(s.pending).sort(), ['0801:200', '0801:300']);
});

test('impossible indices and a changed total are rejected', () => {
  assert.equal(addPart(EMPTY_REASSEMBLY, part(1, 2, 3, 1), 0, LIMITS).outcome.kind, 'rejected');
  assert.equal(addPart(EMPTY_REASSEMBLY, part(1, 0, 0, 1), 0, LIMITS).outcome.kind, 'rejected');
  const s = addPart(EMPTY_REASSEMBLY, part(1, 3, 1, 1), 0, LIMITS).state;
  const r = addPart(s, part(2, 4, 2, 1), 0, LIMITS);
  assert.equal(r.outcome.kind, 'rejected');
  assert.deepEqual(r.state.pending, {});
});

test('time bound: expire returns stale messages with their missing indices', () => {
  let s = addPart(EMPTY_REASSEMBLY, part(1, 4, 1, 1), 0, LIMITS).state;
  s = addPart(s, part(3, 4, 3, 1), 500, LIMITS).state;
  assert.equal(expire(s, 1499, LIMITS).expired.length, 0);
  const e = expire(s, 1500, LIMITS);
  assert.equal(e.expired.length, 1);
  assert.deepEqual(e.expired[0]!.missing, [2, 4]);
  assert.deepEqual(missingParts(e.expired[0]!.message), [2, 4]);
  assert.deepEqual(e.state.pending, {});
});
