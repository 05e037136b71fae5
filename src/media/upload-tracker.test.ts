import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RangeSet } from './range-set.js';
import { linkingFields, UploadTracker, type Upload } from './upload-tracker.js';

test('RangeSet: pieces in any order, overlapping or repeated, give the exact gaps', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 400 }), fc.array(fc.tuple(fc.nat(400), fc.nat(60)), { maxLength: 40 }), (size, pieces) => {
      const r = new RangeSet();
      const have = new Uint8Array(size);
      for (const [o, n] of pieces) {
        r.add(o, o + n);
        for (let i = o; i < Math.min(size, o + n); i++) have[i] = 1;
      }
      const want: [number, number][] = [];
      for (let i = 0; i < size; i++) {
        if (have[i]) continue;
        const last = want.at(-1);
        if (last && last[0] + last[1] === i) last[1]++;
        else want.push([i, 1]);
      }
      assert.deepEqual(r.missing(size), want);
    }),
    { numRuns: 300 },
  );
});

const limits = { maxPending: 2, maxFiles: 3, maxFileBytes: 1000, maxBytes: 1500, maxRanges: 4, expectTimeoutMs: 60_000, idleTimeoutMs: 10_000 };

test('UploadTracker: only invited keys of the same device open; caps on files, file size and bytes; resume keeps the ranges', () => {
  const t = new UploadTracker(limits);
  const link = {};
  assert.match((t.open(link, 'd1', 'k1', [{ name: 'a', size: 10 }], {}, 0) as { refused: string }).refused, /not issued/);
  t.expect('d1', 'k1', { 'alarm.number': 'k1' }, 0);
  assert.match((t.open(link, 'd2', 'k1', [{ name: 'a', size: 10 }], {}, 0) as { refused: string }).refused, /not issued to device d2/);
  assert.match((t.open(link, 'd1', 'k1', [1, 2, 3, 4].map((i) => ({ name: `f${i}`, size: 1 })), {}, 0) as { refused: string }).refused, /max_files/);
  assert.match((t.open(link, 'd1', 'k1', [{ name: 'a', size: 1001 }], {}, 0) as { refused: string }).refused, /max_file_bytes/);
  assert.match((t.open(link, 'd1', 'k1', [{ name: 'a', size: 900 }, { name: 'b', size: 900 }], {}, 0) as { refused: string }).refused, /max_bytes/);
  const u = t.open(link, 'd1', 'k1', [{ name: 'a', size: 100 }, { name: 'b', size: 50 }], {}, 0) as Upload;
  const a = u.files![0]!;
  assert.equal(t.checkPiece(a, 90, 11)?.refused.includes('outside'), true);
  assert.equal(t.checkPiece(a, 0, 50), null);
  t.stored(u, a, 0, 50, 1);
  // a new connection resumes: the same list keeps what arrived
  const link2 = {};
  const again = t.open(link2, 'd1', 'k1', [{ name: 'a', size: 100 }, { name: 'b', size: 50 }], {}, 2) as Upload;
  assert.deepEqual(again.files![0]!.ranges.missing(100), [[50, 50]]);
  assert.equal(('file' in t.file(link2, 'a')) as boolean, true);
  assert.match((t.file({}, 'a') as { refused: string }).refused, /no 0x1210/);
  assert.match((t.file(link2, 'zzz') as { refused: string }).refused, /not in the upload's file list/);
});

test('UploadTracker: too many pending invitations drop the oldest; idle and overall timeouts come back from sweep once', () => {
  const t = new UploadTracker(limits);
  assert.equal(t.expect('d', 'k1', {}, 0), null);
  assert.equal(t.expect('d', 'k2', {}, 1), null);
  assert.equal(t.expect('d', 'k3', {}, 2)?.key, 'k1');
  const u = t.open({}, 'd', 'k2', [{ name: 'a', size: 10 }], {}, 5) as Upload;
  assert.deepEqual(t.sweep(10_004), []);
  const gone = t.sweep(10_005);
  assert.deepEqual(gone.map((x) => x.upload.key), ['k2']);
  assert.match(gone[0]!.reason, /no data for 10 s/);
  assert.deepEqual(t.sweep(60_002).map((x) => x.reason), ['the device did not upload within 60 s (media.uploads.timeout_s)']);
  assert.equal(t.size, 0);
  // the linking fields of what arrived: nothing stored, the reason and what is missing
  const f = linkingFields(u, 'gone');
  assert.equal(f['media.upload.complete'], false);
  assert.equal(f['media.files.count'], 0);
  assert.equal(f['media.upload.missing'], 'a (0/10 bytes)');
});
