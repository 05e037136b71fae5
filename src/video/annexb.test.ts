import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { projectRoot } from '../util/paths.js';
import { isKeyframe, nalTypeName, parameterSets, splitAccessUnits, splitNalUnits, type VideoCodec } from './annexb.js';

const clip = (name: string) => new Uint8Array(readFileSync(join(projectRoot(), 'fixtures', 'video', name)));
const CLIPS: Array<[VideoCodec, string]> = [
  ['h264', 'clip-h264-320x240-15fps-3s.h264'],
  ['h265', 'clip-h265-320x240-15fps-3s.h265'],
];

for (const [codec, file] of CLIPS) {
  test(`${codec} clip: 45 access units, keyframes at 0/15/30, each keyframe carries its parameter sets, the units tile the file`, () => {
    const bytes = clip(file);
    const aus = splitAccessUnits(codec, bytes);
    assert.equal(aus.length, 45);
    assert.deepEqual(aus.flatMap((a, i) => (a.keyframe ? [i] : [])), [0, 15, 30]);
    // the units are contiguous views: together they are the file, byte for byte
    assert.equal(aus.reduce((n, a) => n + a.data.length, 0), bytes.length);
    assert.equal(aus[0]!.data.byteOffset, 0);
    for (const [i, a] of aus.entries()) {
      assert.equal(isKeyframe(codec, a.data), a.keyframe, `unit ${i}`);
      const ps = parameterSets(codec, a.nals);
      const names = a.nals.map((n) => nalTypeName(codec, n.type));
      if (a.keyframe) {
        assert.equal(ps.sps.length, 1, `keyframe ${i} has an SPS: ${names.join(',')}`);
        assert.equal(ps.pps.length, 1);
        assert.equal(ps.vps.length, codec === 'h265' ? 1 : 0);
        // x265 opens the stream with an IDR and uses CRA (open GOP, an IRAP too) for the later keyframes
        const expected = codec === 'h264' ? 'idr' : i === 0 ? 'idr-n-lp' : 'cra';
        assert.equal(names.at(-1), expected, names.join(','));
      } else {
        assert.equal(ps.sps.length + ps.pps.length + ps.vps.length, 0, `unit ${i} repeats no parameter set`);
      }
    }
    // SPS of H.264 starts with profile_idc 66 (baseline) per the clip's README; the H.265 SPS header is type 33
    const first = parameterSets(codec, aus[0]!.nals);
    if (codec === 'h264') assert.equal(first.sps[0]![1], 66);
    else assert.equal((first.sps[0]![0]! >> 1) & 0x3f, 33);
  });
}

test('NAL units: 3- and 4-byte start codes, leading junk ignored, trailing zeros stripped, names', () => {
  const b = Uint8Array.from([0xaa, 0xbb, 0, 0, 0, 1, 0x67, 0x42, 0, 0, 1, 0x68, 0xce, 0, 0, 0, 0, 1, 0x65, 0x88, 0x80]);
  const nals = splitNalUnits('h264', b);
  assert.deepEqual(nals.map((n) => [n.type, n.start, [...n.data]]), [
    [7, 2, [0x67, 0x42]],
    [8, 8, [0x68, 0xce]],
    [5, 14, [0x65, 0x88, 0x80]],
  ]);
  assert.deepEqual(nals.map((n) => nalTypeName('h264', n.type)), ['sps', 'pps', 'idr']);
  assert.equal(nalTypeName('h265', 19), 'idr-w-radl');
  assert.equal(nalTypeName('h265', 63), 'reserved-63');
  // two slices of one picture stay one unit; a slice with first_mb_in_slice 0 opens the next
  const two = Uint8Array.from([0, 0, 1, 0x65, 0x88, 0, 0, 1, 0x65, 0x40, 0, 0, 1, 0x41, 0x9a]);
  assert.deepEqual(splitAccessUnits('h264', two).map((a) => a.nals.length), [2, 1]);
});

test('splitters never throw on arbitrary bytes and their units tile the input', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.constantFrom<VideoCodec>('h264', 'h265'), (bytes, codec) => {
      const aus = splitAccessUnits(codec, bytes);
      const covered = aus.reduce((n, a) => n + a.data.length, 0);
      const first = aus[0]?.data.byteOffset ?? bytes.length;
      assert.equal(first + covered, bytes.length);
    }),
    { numRuns: 500 },
  );
});
