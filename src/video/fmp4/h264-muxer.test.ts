import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createH264Muxer, muxH264Clip, type AccessUnit, type InitSegment, type MediaSegment, type MuxSegment } from './index.js';
import { annexBNalUnits } from './nal-units.js';
import { CLIP, annexB, clipAccessUnits } from '../../../test/support/video/h264-clip.js';
import { buildPps, buildSps } from '../../../test/support/video/h264-sps.js';
import { find, readBoxes, readFragment, u32, type Box } from '../../../test/support/video/mp4-boxes.js';

const SYNC = 0x0200_0000;
const NON_SYNC = 0x0101_0000;
const units = clipAccessUnits();

function muxAll(aus: AccessUnit[], options: Parameters<typeof createH264Muxer>[0] = {}): MuxSegment[] {
  const m = createH264Muxer(options);
  const out: MuxSegment[] = [];
  for (const au of aus) out.push(...m.push(au));
  out.push(...m.flush());
  return out;
}
const inits = (s: MuxSegment[]) => s.filter((x): x is InitSegment => x.kind === 'init');
const media = (s: MuxSegment[]) => s.filter((x): x is MediaSegment => x.kind === 'media');

/** Checks one fragment box by box and returns its facts; `previousEnd` is where the last fragment's time ended. */
function checkFragment(seg: MediaSegment) {
  const boxes = readBoxes(seg.data);
  assert.deepEqual(
    boxes.map((b) => b.type),
    ['moof', 'mdat'],
  );
  const [moof, mdat] = boxes as [Box, Box];
  const f = readFragment(seg.data, moof);
  assert.equal(f.sequence, seg.sequence);
  assert.equal(f.trackId, 1);
  assert.equal(f.tfhdFlags, 0x020000, 'default-base-is-moof, nothing else');
  assert.equal(f.trunFlags, 0x000701, 'data offset, per-sample duration, size and flags');
  assert.equal(f.dataOffset, moof.size + 8, 'samples start right after the mdat header');
  assert.equal(
    f.samples.reduce((n, s) => n + s.size, 0),
    mdat.size - 8,
    'sample sizes add up to the mdat',
  );
  assert.equal(f.samples.length, seg.frames);
  // every sample is length-prefixed NAL units that tile it exactly, none of them SPS, PPS or AUD
  let at = mdat.body;
  for (const s of f.samples) {
    const end = at + s.size;
    while (at < end) {
      const n = u32(seg.data, at);
      const type = seg.data[at + 4]! & 0x1f;
      assert.ok(![7, 8, 9].includes(type), `NAL type ${type} left in a sample`);
      at += 4 + n;
    }
    assert.equal(at, end, 'NAL lengths tile the sample');
  }
  return f;
}

test('the clip per GOP: one init segment, then three fragments of 15 frames, each starting at a keyframe', () => {
  const segs = muxAll(units);
  assert.equal(segs[0]!.kind, 'init');
  const [init] = inits(segs);
  assert.equal(inits(segs).length, 1);
  assert.deepEqual({ codec: init!.codec, w: init!.width, h: init!.height, reset: init!.reset }, { codec: CLIP.codec, w: 320, h: 240, reset: false });
  assert.equal(init!.mimeType, 'video/mp4; codecs="avc1.42C01E"');
  const frags = media(segs);
  assert.deepEqual(
    frags.map((f) => [f.sequence, f.frames, f.keyframe]),
    [
      [1, 15, true],
      [2, 15, true],
      [3, 15, true],
    ],
  );
  let expectedStart = 0;
  for (const seg of frags) {
    const f = checkFragment(seg);
    assert.equal(f.baseTime, expectedStart, 'tfdt continues where the last fragment ended');
    assert.deepEqual(
      f.samples.map((s) => s.flags),
      [SYNC, ...Array(14).fill(NON_SYNC)],
      'sync flag on the keyframe only',
    );
    for (const s of f.samples) assert.equal(s.duration, 6000, '90 kHz / 15 fps');
    assert.equal(seg.startMs, (expectedStart * 1000) / 90_000);
    expectedStart += f.samples.reduce((n, s) => n + s.duration, 0);
  }
  assert.equal(expectedStart, 3 * 90_000);
});

test('init segment: ftyp brands, the moov tree, avcC carrying the clip SPS and PPS verbatim, trex for track 1', () => {
  const init = inits(muxAll(units.slice(0, 1)))[0]!;
  const b = init.data;
  const boxes = readBoxes(b);
  assert.deepEqual(
    boxes.map((x) => x.type),
    ['ftyp', 'moov'],
  );
  const ftyp = boxes[0]!;
  assert.deepEqual(String.fromCharCode(...b.subarray(ftyp.body, ftyp.start + ftyp.size)).replace(/[^a-z0-9]/g, ''), 'iso5iso5iso6avc1mp41');
  const moov = boxes[1]!;
  assert.deepEqual(
    moov.children.map((x) => x.type),
    ['mvhd', 'trak', 'mvex'],
  );
  assert.deepEqual(
    find(moov.children, 'trak/mdia/minf/stbl').children.map((x) => x.type),
    ['stsd', 'stts', 'stsc', 'stsz', 'stco'],
  );
  for (const t of ['stts', 'stsc', 'stco']) assert.equal(u32(b, find(moov.children, `trak/mdia/minf/stbl/${t}`).body + 4), 0, `${t} is empty`);
  assert.equal(u32(b, find(moov.children, 'trak/mdia/mdhd').body + 12), 90_000, 'track timescale');
  assert.equal(String.fromCharCode(...b.subarray(find(moov.children, 'trak/mdia/hdlr').body + 8, find(moov.children, 'trak/mdia/hdlr').body + 12)), 'vide');
  const avc1 = find(moov.children, 'trak/mdia/minf/stbl/stsd/avc1');
  assert.equal((b[avc1.body + 24]! << 8) | b[avc1.body + 25]!, 320);
  assert.equal((b[avc1.body + 26]! << 8) | b[avc1.body + 27]!, 240);
  const avcC = find(avc1.children, 'avcC');
  const nals = annexBNalUnits(units[0]!.data);
  const sps = nals.find((n) => (n[0]! & 0x1f) === 7)!;
  const pps = nals.find((n) => (n[0]! & 0x1f) === 8)!;
  const c = b.subarray(avcC.body, avcC.start + avcC.size);
  assert.deepEqual([...c.subarray(0, 6)], [1, 0x42, 0xc0, 0x1e, 0xff, 0xe1]);
  assert.equal((c[6]! << 8) | c[7]!, sps.length);
  assert.deepEqual(c.subarray(8, 8 + sps.length), sps);
  assert.equal(c[8 + sps.length], 1, 'one PPS');
  assert.deepEqual(c.subarray(11 + sps.length), pps);
  const trex = find(moov.children, 'mvex/trex');
  assert.equal(u32(b, trex.body + 4), 1);
  assert.throws(() => find(moov.children, 'mvex/mehd'), /no mehd/, 'a live stream has no known duration');
});

test('live modes: per frame one fragment each at once; every N ms cut at N and at keyframes', () => {
  const perFrame = muxAll(units, { fragment: 'frame' });
  const frags = media(perFrame);
  assert.equal(frags.length, 45);
  frags.forEach((seg, i) => {
    const f = checkFragment(seg);
    assert.equal(f.baseTime, i * 6000);
    assert.equal(f.samples[0]!.flags, i % 15 === 0 ? SYNC : NON_SYNC);
  });
  // the per-frame muxer answers the push of each frame with that frame's fragment
  const m = createH264Muxer({ fragment: 'frame' });
  assert.deepEqual(
    m.push(units[0]!).map((s) => s.kind),
    ['init', 'media'],
  );
  assert.deepEqual(
    m.push(units[1]!).map((s) => s.kind),
    ['media'],
  );
  const every = media(muxAll(units, { fragment: { everyMs: 300 } }));
  // 300 ms = 4.5 frames: fragments of 5 frames, cut again at each keyframe (15 = 5 + 5 + 5)
  assert.deepEqual(
    every.map((f) => f.frames),
    Array(9).fill(5),
  );
  assert.deepEqual(
    every.map((f) => f.keyframe),
    [true, false, false, true, false, false, true, false, false],
  );
});

test('a live stream joined mid-GOP starts at the next keyframe; the frames before are counted as skipped', () => {
  const m = createH264Muxer();
  // frames 5..14 carry no parameter sets and are not keyframes
  for (const au of units.slice(5, 15)) assert.deepEqual(m.push(au), []);
  assert.equal(m.stats.skipped, 10);
  assert.equal(m.codecString, undefined);
  const first = m.push(units[15]!);
  assert.deepEqual(
    first.map((s) => s.kind),
    ['init'],
  );
  assert.equal(m.codecString, CLIP.codec);
  for (const au of units.slice(16)) m.push(au);
  const tail = media(m.flush());
  assert.equal(tail.length, 1);
  assert.equal(tail[0]!.frames, 15);
  assert.equal(readFragment(tail[0]!.data, readBoxes(tail[0]!.data)[0]!).baseTime, 15 * 6000, 'fragment 2 of the stream, from its own time 0');
});

test('a new SPS (resolution change) ends the fragment, then a new init segment flagged reset; frames wait for its keyframe', () => {
  const m = createH264Muxer();
  const out: MuxSegment[] = [];
  for (const au of units.slice(0, 20)) out.push(...m.push(au));
  const nals = annexBNalUnits(units[15]!.data);
  const idr = nals.find((n) => (n[0]! & 0x1f) === 5)!;
  const slice = annexBNalUnits(units[16]!.data).find((n) => (n[0]! & 0x1f) === 1)!;
  const sps = buildSps({ widthMbs: 40, heightMapUnits: 30, fps: 15 });
  // a P-frame right after the change cannot be decoded with the new parameters: skipped
  const atChange = m.push({ data: annexB([sps, buildPps(), slice]), timestampMs: 20_000 / 15 });
  assert.deepEqual(
    atChange.map((s) => [s.kind, s.kind === 'init' ? s.reset : s.frames]),
    [
      ['media', 5],
      ['init', true],
    ],
  );
  const init = atChange[1] as InitSegment;
  assert.deepEqual([init.width, init.height, init.codec], [640, 480, 'avc1.42C01E']);
  assert.equal(m.stats.skipped, 1);
  out.push(...m.push({ data: annexB([idr]), timestampMs: 21_000 / 15, keyframe: true }));
  out.push(...m.flush());
  const after = media(out).at(-1)!;
  const f = checkFragment(after);
  assert.equal(f.samples[0]!.flags, SYNC);
  assert.ok(f.baseTime > 19 * 6000, 'the timeline goes on across the change');
  // the same parameter sets again change nothing
  assert.deepEqual(m.push({ data: annexB([sps, buildPps(), idr]), timestampMs: 22_000 / 15 }), []);
});

test('camera clock going back, standing still or jumping: decode times still grow by about one frame', () => {
  const stamps = [1000, 1066, 1133, 1133, 500, 566, 99_000, 99_066, NaN, 99_200];
  const aus = units.slice(0, stamps.length).map((au, i) => ({ ...au, timestampMs: stamps[i]! }));
  const frags = media(muxAll(aus, { fragment: 'frame' }));
  const times = frags.map((s) => readFragment(s.data, readBoxes(s.data)[0]!).baseTime);
  for (let i = 1; i < times.length; i++) assert.ok(times[i]! > times[i - 1]!, `decode times ${times.join(', ')} must grow`);
  assert.ok(times.at(-1)! < 90_000 * 2, `no hole for the jumps: ${times.join(', ')}`);
});

test('a whole clip is one file: init with the clip duration (mehd, mvhd) and the fragments after it', () => {
  const clip = muxH264Clip(units);
  assert.deepEqual([clip.frames, clip.durationMs, clip.width, clip.height, clip.codec, clip.skipped], [45, 3000, 320, 240, CLIP.codec, 0]);
  const boxes = readBoxes(clip.data);
  assert.deepEqual(
    boxes.map((b) => b.type),
    ['ftyp', 'moov', 'moof', 'mdat', 'moof', 'mdat', 'moof', 'mdat'],
  );
  const moov = boxes[1]!;
  assert.equal(u32(clip.data, find(moov.children, 'mvex/mehd').body + 4), 3000);
  assert.equal(u32(clip.data, find(moov.children, 'mvhd').body + 16), 3000);
});
