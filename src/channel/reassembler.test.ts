import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Reassembler } from './reassembler.js';

test('Reassembler joins parts in index order whatever their arrival order; a resent part replaces the first copy', () => {
  const r = new Reassembler(1024, 60_000);
  assert.deepEqual(r.add('k', 2, 3, Uint8Array.of(5), 0), { kind: 'partial' });
  assert.deepEqual(r.add('k', 0, 3, Uint8Array.of(1), 0), { kind: 'partial' });
  assert.deepEqual(r.add('k', 0, 3, Uint8Array.of(1), 0), { kind: 'partial' }, 'a duplicate does not complete it');
  const done = r.add('k', 1, 3, Uint8Array.of(2, 3), 0);
  assert.equal(done.kind, 'complete');
  assert.deepEqual([...(done as { bytes: Buffer }).bytes], [1, 2, 3, 5]);
  assert.equal(r.heldBytes, 0);
});

test('Reassembler is bounded in bytes and age, and refuses invalid part numbers', () => {
  const r = new Reassembler(4, 1000);
  assert.equal(r.add('a', 0, 2, Uint8Array.of(1, 2, 3), 0).kind, 'partial');
  assert.equal(r.add('b', 0, 2, Uint8Array.of(1, 2), 0).kind, 'dropped', 'over the byte bound');
  assert.equal(r.heldBytes, 3);
  assert.equal(r.expire(2000), 1, 'too old');
  assert.equal(r.heldBytes, 0);
  assert.equal(r.add('c', 3, 3, Uint8Array.of(1), 0).kind, 'dropped');
  assert.equal(r.add('c', 0, 0, Uint8Array.of(1), 0).kind, 'dropped');
});
