import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MediaEntry } from './media-catalog.js';
import { retentionDeletions } from './retention.js';

const DAY = 86400;
const NOW = 1_770_000_000;
const file = (id: string, ageDays: number, bytes: number, prot = false): MediaEntry => ({ id, channel_id: '1', ident: 'd', name: `${id}.jpg`, kind: 'image', bytes, sha256: null, stored_at: NOW - ageDays * DAY, protected: prot, properties: {}, meta: {}, path: `/m/${id}` });

test('retention: past the age limit goes, protected stays; no limits, nothing goes', () => {
  const files = [file('new', 1, 10), file('old', 40, 10), file('older', 50, 10, true)];
  assert.deepEqual(
    retentionDeletions(files, { ttlDays: 30, rotateBytes: 0 }, NOW).map((d) => [d.entry.id, d.reason]),
    [['old', 'ttl']],
  );
  assert.deepEqual(retentionDeletions(files, { ttlDays: 0, rotateBytes: 0 }, NOW), []);
});

test('retention: over the size cap the oldest unprotected go first until the rest fits; protected files count but stay', () => {
  const files = [file('a', 5, 100, true), file('b', 4, 100), file('c', 3, 100), file('d', 2, 100), file('e', 1, 100)];
  assert.deepEqual(
    retentionDeletions(files, { ttlDays: 0, rotateBytes: 250 }, NOW).map((d) => [d.entry.id, d.reason]),
    [
      ['b', 'rotate'],
      ['c', 'rotate'],
      ['d', 'rotate'],
    ],
  );
  // after the age limit took its files, the cap is measured on what is left
  assert.deepEqual(
    retentionDeletions([file('x', 40, 300), file('y', 2, 100), file('z', 1, 100)], { ttlDays: 30, rotateBytes: 150 }, NOW).map((d) => [d.entry.id, d.reason]),
    [
      ['x', 'ttl'],
      ['y', 'rotate'],
    ],
  );
  // only protected files over the cap: nothing can go
  assert.deepEqual(retentionDeletions([file('p', 1, 500, true)], { ttlDays: 0, rotateBytes: 100 }, NOW), []);
});
