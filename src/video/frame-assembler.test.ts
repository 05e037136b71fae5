import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FrameAssembler, type AssemblerOptions, type MediaPacket } from './frame-assembler.js';

const V = { I: 0, P: 1 } as const;
const AUDIO = 3;
/** sub: 0 atomic, 1 first, 2 last, 3 middle. */
function p(seq: number, dataType: number, sub: number, body: number[] = [seq & 0xff], channel = 1): MediaPacket {
  return { seq: seq & 0xffff, channel, payloadType: dataType === AUDIO ? 6 : 98, dataType, subpackage: sub, timestampMs: seq * 10, lastIFrameIntervalMs: dataType < 3 ? 0 : null, lastFrameIntervalMs: dataType < 3 ? 0 : null, body: Uint8Array.from(body) };
}

function run(packets: MediaPacket[], opts: AssemblerOptions = {}) {
  const a = new FrameAssembler(opts);
  const frames = packets.flatMap((x) => a.push(x).frames);
  const end = a.flush();
  frames.push(...end.frames);
  return { frames: frames.map((f) => `${f.kind}:${f.keyframe ? 'K' : '-'}:${[...f.data].join('.')}`), stats: a.stats, a };
}

/** I-frame in 3 pieces (seq 10..12), P atomic (13), audio (14), P in 2 pieces (15, 16). */
const STREAM = [p(10, V.I, 1), p(11, V.I, 3), p(12, V.I, 2), p(13, V.P, 0), p(14, AUDIO, 0), p(15, V.P, 1), p(16, V.P, 2)];
const WHOLE = ['video:K:10.11.12', 'video:-:13', 'audio:K:14', 'video:-:15.16'];

test('sub-packages are joined into frames in sequence order; audio is its own stream', () => {
  const r = run(STREAM);
  assert.deepEqual(r.frames, WHOLE);
  assert.equal(r.stats.frames, 4);
  assert.equal(r.stats.lostPackets, 0);
});

test('reordering within the window gives the same frames; duplicates and late packets are counted and ignored', () => {
  const [s10, s11, s12, s13, s14, s15, s16] = STREAM as [MediaPacket, MediaPacket, MediaPacket, MediaPacket, MediaPacket, MediaPacket, MediaPacket];
  const shuffled = [s10, s12, s11, s14, s13, s16, s15, s15];
  const r = run(shuffled);
  assert.deepEqual(r.frames, WHOLE);
  assert.equal(r.stats.duplicatePackets + r.stats.latePackets, 1);
  const late = run([...STREAM, p(12, V.I, 2)]);
  assert.equal(late.stats.latePackets, 1);
  assert.deepEqual(late.frames, WHOLE);
});

test('the first packet of a stream sets where the sequence starts, even when an earlier one arrives within the window', () => {
  // 11 arrives before 10: 10 is behind the start, so it is late and the I-frame cannot be joined
  const r = run([STREAM[1]!, STREAM[0]!, ...STREAM.slice(2)]);
  assert.equal(r.stats.latePackets, 1);
  assert.ok(!r.frames.includes('video:K:10.11.12'));
});

test('a lost middle piece drops the frame (lost-packet) and the P-frames until the next I-frame (waiting-for-keyframe); audio goes on', () => {
  const packets = [...STREAM.filter((x) => x.seq !== 11), p(17, V.I, 0), p(18, V.P, 0)];
  const r = run(packets);
  assert.deepEqual(r.frames, ['audio:K:14', 'video:K:17', 'video:-:18']);
  assert.equal(r.stats.lostPackets, 1);
  assert.equal(r.stats.dropped['lost-packet'], 1);
  assert.equal(r.stats.dropped['waiting-for-keyframe'], 2);
});

test('a lost first piece: its orphan pieces are dropped once, counted as lost-packet', () => {
  const r = run([p(9, V.I, 0), ...STREAM.filter((x) => x.seq !== 10)]);
  assert.deepEqual(r.frames, ['video:K:9', 'audio:K:14']);
  assert.equal(r.stats.dropped['lost-packet'], 1);
});

test('a packet beyond the window declares the gap lost; a jump past the reset distance is a restarted counter', () => {
  const a = new FrameAssembler({ reorderWindow: 4 });
  a.push(p(1, AUDIO, 0));
  // 2 is missing; 3, 4, 5 wait; 6 is 4 ahead of 2: 2 is lost and 3..6 come out
  const out = [3, 4, 5, 6].flatMap((s) => a.push(p(s, AUDIO, 0)).frames);
  assert.equal(out.length, 4);
  assert.equal(a.stats.lostPackets, 1);
  assert.equal(a.push(p(20000, AUDIO, 0)).frames.length, 1);
  assert.equal(a.push(p(5, AUDIO, 0)).frames.length, 1, 'backwards too');
  assert.equal(a.stats.seqResets, 2);
});

test('the sequence number wraps from 65535 to 0 without a loss', () => {
  const r = run([p(65534, V.I, 1), p(65535, V.I, 3), p(65536, V.I, 2), p(65537, V.P, 0)]);
  assert.deepEqual(r.frames, ['video:K:254.255.0', 'video:-:1']);
  assert.equal(r.stats.lostPackets, 0);
});

test('bounds: a frame over maxFrameBytes is dropped (too-large), streams over maxStreams are refused (too-many-streams)', () => {
  const big = run([p(1, V.I, 1, [1, 2, 3]), p(2, V.I, 3, [4, 5, 6]), p(3, V.I, 2, [7]), p(4, V.I, 0, [8])], { maxFrameBytes: 5 });
  assert.deepEqual(big.frames, ['video:K:8']);
  assert.equal(big.stats.dropped['too-large'], 1);
  const many = run([p(1, AUDIO, 0, [1], 1), p(1, AUDIO, 0, [2], 2)], { maxStreams: 1 });
  assert.deepEqual(many.frames, ['audio:K:1']);
  assert.equal(many.stats.dropped['too-many-streams'], 1);
});

test('seqScope "stream": audio and video with counters of their own are both whole', () => {
  const packets = [p(100, V.I, 0), p(500, AUDIO, 0), p(101, V.P, 0), p(501, AUDIO, 0)];
  assert.deepEqual(run(packets, { seqScope: 'stream' }).frames, ['video:K:100', 'audio:K:244', 'video:-:101', 'audio:K:245']);
});

test('hang-up: flush drops the unfinished frame (ended) and releases what waited', () => {
  const r = run([p(1, AUDIO, 0), p(3, AUDIO, 0), p(4, V.I, 1)]);
  assert.deepEqual(r.frames, ['audio:K:1', 'audio:K:3']);
  assert.equal(r.stats.lostPackets, 1);
  assert.equal(r.stats.dropped.ended, 1);
});

test('fuzz: arbitrary packets never throw, every frame stays within maxFrameBytes, every packet is accounted for', () => {
  const packet = fc.record({ seq: fc.integer({ min: 0, max: 40 }), type: fc.integer({ min: 0, max: 4 }), sub: fc.integer({ min: 0, max: 3 }), len: fc.integer({ min: 0, max: 40 }), channel: fc.integer({ min: 0, max: 3 }) });
  fc.assert(
    fc.property(fc.array(packet, { maxLength: 80 }), (list) => {
      const a = new FrameAssembler({ maxFrameBytes: 100, maxStreams: 4 });
      for (const x of list) {
        const r = a.push(p(x.seq, x.type, x.sub, Array(x.len).fill(1), x.channel));
        for (const f of r.frames) assert.ok(f.data.length <= 100);
        for (const d of r.drops) assert.equal(d.code, 'EDGE_STREAM_FRAME_DROPPED');
      }
      a.flush();
      const s = a.stats;
      assert.equal(s.packets, list.length);
    }),
    { numRuns: 500 },
  );
});
