import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { EdgeError } from '../../errors.js';
import { createH264Muxer, muxH264Clip } from './index.js';
import { annexBNalUnits } from './nal-units.js';
import { annexB, clipAccessUnits } from '../../../test/support/video/h264-clip.js';
import { buildPps, buildSps } from '../../../test/support/video/h264-sps.js';
import { readBoxes } from '../../../test/support/video/mp4-boxes.js';

const units = clipAccessUnits();

/** Pushes into a muxer: segments whose boxes tile them, or a typed error; any other throw fails the property. */
function pushOrTypedError(m: ReturnType<typeof createH264Muxer>, data: Uint8Array, timestampMs: number): 'ok' | 'error' {
  try {
    for (const s of m.push({ data, timestampMs, keyframe: (data[4] ?? 0) % 2 === 0 })) readBoxes(s.data);
    return 'ok';
  } catch (e) {
    if (!(e instanceof EdgeError)) throw e;
    assert.equal(e.code, 'EDGE_VIDEO_AVC_INVALID', e.message);
    return 'error';
  }
}

test('garbage access units: random bytes, with and without start codes and NAL headers, are segments or EDGE_VIDEO_AVC_INVALID', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.constantFrom([], [0, 0, 1], [0, 0, 0, 1], [0, 0, 1, 0x67], [0, 0, 1, 0x68], [0, 0, 1, 0x65], [0, 0, 1, 0x41]), fc.uint8Array({ maxLength: 120 })), { minLength: 1, maxLength: 12 }), (aus) => {
      const m = createH264Muxer({ fragment: 'frame' });
      aus.forEach(([head, tail], i) => pushOrTypedError(m, Uint8Array.from([...head, ...tail]), i * 40));
      for (const s of m.flush()) readBoxes(s.data);
    }),
    { numRuns: 400 },
  );
});

test('mutated clip frames (flipped, inserted, removed bytes) never throw anything but a typed error, and the muxer goes on after one', () => {
  fc.assert(
    fc.property(fc.nat({ max: units.length - 1 }), fc.array(fc.record({ at: fc.nat(), op: fc.constantFrom('flip', 'insert', 'delete'), v: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 8 }), (i, edits) => {
      // parameter sets are small: bias the edits towards them by mutating the start of the keyframe unit
      let b = Uint8Array.from(units[i - (i % 15)]!.data);
      for (const e of edits) {
        const at = e.at % Math.min(b.length, 64);
        if (e.op === 'flip') b[at] = e.v;
        else if (e.op === 'insert') b = Uint8Array.from([...b.subarray(0, at), e.v, ...b.subarray(at)]);
        else b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + 1)]);
      }
      const m = createH264Muxer();
      pushOrTypedError(m, b, 0);
      // a good keyframe after the bad one is muxed as usual
      assert.equal(pushOrTypedError(m, units[0]!.data, 100), 'ok');
      assert.ok(m.init, 'the good keyframe announced its parameter sets');
    }),
    { numRuns: 300 },
  );
  // random SPS bodies behind a valid header byte
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 40 }), (body) => {
      pushOrTypedError(createH264Muxer(), Uint8Array.from([0, 0, 1, 0x67, ...body, 0, 0, 1, 0x68, 0xce, 0, 0, 1, 0x65, 0x88]), 0);
    }),
    { numRuns: 400 },
  );
});

test('typed errors name what is wrong', () => {
  const m = createH264Muxer();
  const code = (data: Uint8Array, re: RegExp) => assert.throws(() => m.push({ data, timestampMs: 0 }), (e: unknown) => e instanceof EdgeError && e.code === 'EDGE_VIDEO_AVC_INVALID' && re.test(e.message));
  code(new Uint8Array(0), /no Annex B start code/);
  code(Uint8Array.of(1, 2, 3, 4), /no Annex B start code/);
  code(Uint8Array.of(9, 0, 0, 1, 0x65), /before the first start code/);
  code(Uint8Array.of(0, 0, 1, 0xe5), /forbidden_zero_bit/);
  code(Uint8Array.of(0, 0, 1, 0x67, 0x42), /SPS/);
});

test('clips: a parameter-set change midway is EDGE_VIDEO_CLIP_CHANGE naming the frame; a clip without a decodable frame is EDGE_VIDEO_AVC_INVALID', () => {
  const idr = annexBNalUnits(units[0]!.data).find((n) => (n[0]! & 0x1f) === 5)!;
  const changed = [...units.slice(0, 20), { data: annexB([buildSps({ widthMbs: 40, heightMapUnits: 30 }), buildPps(), idr]), timestampMs: 2000, keyframe: true }];
  assert.throws(
    () => muxH264Clip(changed),
    (e: unknown) => e instanceof EdgeError && e.code === 'EDGE_VIDEO_CLIP_CHANGE' && /frame 20 \(640x480/.test(e.message),
  );
  assert.throws(
    () => muxH264Clip(units.slice(1, 15)),
    (e: unknown) => e instanceof EdgeError && e.code === 'EDGE_VIDEO_AVC_INVALID' && /14 access units has no frame/.test(e.message),
  );
});

/**
 * A plain reading of Annex B (H.264 Annex B.2) as the oracle: a unit runs from after a 00 00 01 to
 * the next one, less trailing zero bytes; empty units are dropped; only zeros may precede the first
 * start code. Returns [start, end) pairs, or the error's kind and offset.
 */
function oracle(d: Uint8Array): string {
  const starts: number[] = [];
  for (let i = 0; i + 2 < d.length; i++) if (d[i] === 0 && d[i + 1] === 0 && d[i + 2] === 1) starts.push(i);
  if (starts.length === 0) return 'no start code';
  for (let i = 0; i < starts[0]!; i++) if (d[i] !== 0) return `before ${i}`;
  const out: [number, number][] = [];
  for (let k = 0; k < starts.length; k++) {
    const from = starts[k]! + 3;
    let next = d.length;
    for (let j = k + 1; j < starts.length; j++) if (starts[j]! >= from) { next = starts[j]!; break; }
    let end = next;
    while (end > from && d[end - 1] === 0) end--;
    if (end > from) {
      if (d[from]! & 0x80) return `forbidden ${from}`;
      out.push([from, end]);
    }
  }
  return JSON.stringify(out);
}

test('annexBNalUnits cuts NAL units as a plain reading of Annex B does (bytes biased to 00, 01 and NAL headers)', () => {
  const byte = fc.oneof({ arbitrary: fc.constant(0), weight: 9 }, { arbitrary: fc.constant(1), weight: 4 }, { arbitrary: fc.constant(0x65), weight: 3 }, { arbitrary: fc.integer({ min: 0, max: 255 }), weight: 4 });
  const cut = (bytes: number[]): string => {
    const d = Uint8Array.from(bytes);
    try {
      return JSON.stringify(annexBNalUnits(d).map((u) => [u.byteOffset, u.byteOffset + u.length]));
    } catch (e) {
      if (!(e instanceof EdgeError)) throw e;
      return /no Annex B/.test(e.message) ? 'no start code' : /before the first/.test(e.message) ? `before ${e.offset}` : /forbidden/.test(e.message) ? `forbidden ${e.offset}` : e.message;
    }
  };
  // rare under random bytes, so named: junk before a start code whose unit is empty; an empty unit first
  assert.equal(cut([1, 0, 0, 1]), 'before 0');
  assert.equal(cut([0x65, 1, 0, 0, 0, 1, 0]), 'before 0');
  assert.equal(cut([0, 0, 1, 0, 0, 1, 0x65]), '[[6,7]]');
  assert.equal(cut([0, 0, 0, 1, 0x65, 0, 0, 0, 1, 0x41, 0]), '[[4,5],[9,10]]');
  fc.assert(
    fc.property(fc.array(byte, { maxLength: 32 }), (bytes) => {
      assert.equal(cut(bytes), oracle(Uint8Array.from(bytes)), `input ${bytes.join(',')}`);
    }),
    { numRuns: 3000 },
  );
});
