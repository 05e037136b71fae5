import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { toHex } from '../../../src/codec/hex.js';
import { projectRoot } from '../../../src/util/paths.js';
import { splitAccessUnits, type VideoCodec } from '../../../src/video/annexb.js';
import { FrameAssembler, type AssemblerOptions, type MediaFrame } from '../../../src/video/frame-assembler.js';
import { simulateCamera, streamBytes, type CameraSimOptions } from './camera-sim.js';
import { decodeDatagram, StreamCutter } from './stream-splitter.js';

const file = (name: string) => new Uint8Array(readFileSync(join(projectRoot(), 'fixtures', 'video', name)));
const CLIPS: Record<VideoCodec, Uint8Array> = { h264: file('clip-h264-320x240-15fps-3s.h264'), h265: file('clip-h265-320x240-15fps-3s.h265') };
const AUDIO = file('clip-g711a-8khz-3s.alaw');
const T0 = 1788220800000;
const units = (codec: VideoCodec) => splitAccessUnits(codec, CLIPS[codec]);

function sim(codec: VideoCodec, extra: Partial<CameraSimOptions> = {}) {
  return simulateCamera({ sim: '13800138000', channel: 2, video: { codec, accessUnits: units(codec), fps: 15 }, audio: { codec: 'g711a', data: AUDIO }, startTimestampMs: T0, startSeq: 65500, ...extra });
}

/** The server side: TCP bytes in chunks of one segment → cutter → assembler (what the listener will do). */
function receive(bytes: Uint8Array, opts: AssemblerOptions = {}) {
  const cutter = new StreamCutter();
  const asm = new FrameAssembler(opts);
  const frames: MediaFrame[] = [];
  for (let at = 0; at < bytes.length; at += 1460) {
    const r = cutter.push(bytes.subarray(at, at + 1460));
    assert.deepEqual(r.errors, []);
    for (const p of r.packets) frames.push(...asm.push(p).frames);
  }
  assert.deepEqual(cutter.end().errors, []);
  frames.push(...asm.flush().frames);
  return { frames, video: frames.filter((f) => f.kind === 'video'), audio: frames.filter((f) => f.kind === 'audio'), stats: asm.stats, cutter: cutter.stats };
}

/** Index of a video frame in the clip, from its timestamp (15 fps). */
const indexOf = (f: MediaFrame) => Math.round(((f.timestampMs! - T0) * 15) / 1000);

for (const codec of ['h264', 'h265'] as const) {
  test(`round trip ${codec} + G.711A: clip → camera → TCP cutter → assembler gives the clip's 45 access units byte for byte, and the audio`, () => {
    const out = sim(codec);
    assert.equal(out.packets.length, out.generated);
    assert.ok(out.packets.every((p) => p.body.length <= 950));
    assert.ok(out.packets.some((p) => p.seq === 0) && out.packets[0]!.seq === 65500, 'the sequence number wraps');
    const r = receive(streamBytes(out));
    const aus = units(codec);
    assert.equal(r.video.length, 45);
    assert.deepEqual(r.video.map((f) => toHex(f.data)), aus.map((a) => toHex(a.data)));
    assert.deepEqual(r.video.flatMap((f, i) => (f.keyframe ? [i] : [])), [0, 15, 30]);
    assert.deepEqual(r.video.map(indexOf), [...Array(45).keys()]);
    assert.equal(r.video[0]!.codec, codec);
    assert.equal(r.video[16]!.lastIFrameIntervalMs, 67, 'one frame after the I-frame at 1 s');
    assert.equal(r.video[16]!.lastFrameIntervalMs, 67);
    assert.equal(toHex(Uint8Array.from(r.audio.flatMap((f) => [...f.data]))), toHex(AUDIO));
    assert.ok(r.audio.every((f) => f.codec === 'g711a' && f.keyframe));
    assert.equal(r.audio[1]!.timestampMs, T0 + 40);
    assert.deepEqual(
      { lost: r.stats.lostPackets, late: r.stats.latePackets, dropped: Object.values(r.stats.dropped).reduce((a, b) => a + b) },
      { lost: 0, late: 0, dropped: 0 },
    );
  });
}

/** What "no corrupt frame" means: each emitted video frame is its clip unit, and a P-frame directly follows its predecessor. */
function assertDecodable(video: MediaFrame[], codec: VideoCodec): void {
  const aus = units(codec);
  let prev = -1;
  for (const f of video) {
    const i = indexOf(f);
    assert.equal(toHex(f.data), toHex(aus[i]!.data), `frame ${i} is the clip's unit`);
    if (!f.keyframe) assert.equal(prev, i - 1, `P-frame ${i} follows frame ${i - 1}, not ${prev}`);
    prev = i;
  }
}

test('loss (every 17th packet, and seeded 3 %): lost packets counted, broken frames dropped with a reason, video resumes at the next I-frame, nothing corrupt emitted', () => {
  for (const loss of [{ everyNth: 17 }, { rate: 0.03, seed: 7 }, { rate: 0.03, seed: 8 }]) {
    const out = sim('h264', { loss });
    assert.ok(out.lostSeqs.length > 0);
    const r = receive(streamBytes(out));
    // a loss is seen between two packets that arrived: before the first and after the last it stays unseen
    const dist = (seq: number) => (seq - 65500) & 0xffff;
    const seen = out.lostSeqs.filter((s) => dist(s) > dist(out.packets[0]!.seq) && dist(s) < dist(out.packets.at(-1)!.seq));
    assert.equal(r.stats.lostPackets, seen.length, JSON.stringify(loss));
    assertDecodable(r.video, 'h264');
    assert.ok(r.video.length > 0 && r.video.length < 45);
    const dropped = r.stats.dropped;
    assert.ok(dropped['lost-packet'] + dropped['waiting-for-keyframe'] > 0);
    assert.equal(dropped['too-large'] + dropped['too-many-streams'], 0);
    for (const f of r.audio) assert.equal(f.data.length, 320, 'audio frames are whole');
  }
});

test('reordering within the window (neighbours swapped, seeded) gives output identical to the ordered stream', () => {
  const ordered = receive(streamBytes(sim('h265')));
  for (const seed of [1, 2, 3]) {
    const out = sim('h265', { reorder: { rate: 0.3, seed } });
    const r = receive(streamBytes(out));
    assert.deepEqual(r.frames.map((f) => [f.kind, f.timestampMs, toHex(f.data)]), ordered.frames.map((f) => [f.kind, f.timestampMs, toHex(f.data)]));
    assert.equal(r.stats.lostPackets, 0);
  }
});

test('hang-up after K packets: the frames before it are whole, the unfinished one is dropped as ended', () => {
  const full = sim('h264');
  // stop inside a video frame after the first few (at one of its middle pieces)
  const k = full.packets.findIndex((p) => p.dataType <= 2 && p.subpackage === 3 && p.timestampMs! > T0 + 300);
  assert.ok(k > 0);
  const cutAt = indexOf({ timestampMs: full.packets[k]!.timestampMs } as MediaFrame);
  const r = receive(streamBytes(sim('h264', { hangUpAfter: k })));
  assertDecodable(r.video, 'h264');
  assert.equal(r.video.length, cutAt);
  assert.equal(r.stats.dropped.ended, 1);
});

test('UDP: one packet per datagram gives the same frames as TCP', () => {
  const out = sim('h264', { simWidth: 10 });
  const asm = new FrameAssembler();
  const frames = out.bytes.flatMap((d) => asm.push(decodeDatagram(d)).frames);
  assert.deepEqual(frames.filter((f) => f.kind === 'video').map((f) => toHex(f.data)), units('h264').map((a) => toHex(a.data)));
});
