import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { fromHex, toHex } from '../../../src/codec/hex.js';
import { EdgeError, ERROR_CODES } from '../../../src/errors.js';
import { projectRoot } from '../../../src/util/paths.js';
import { codecOf, decodePacket, encodePacket, kindOf, MAX_BODY_BYTES, type SimWidth, type StreamPacket } from './packet.js';
import { decodeDatagram, detectSimWidth, splitStream, StreamCutter } from './stream-splitter.js';

/** The Traccar JT/T 1078 rows (fixtures/jt1078-traccar.tsv; provenance and licence in fixtures/README.md). */
const rows = new Map(
  readFileSync(join(projectRoot(), 'protocols', 'jt808', 'fixtures', 'jt1078-traccar.tsv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split('\t'))
    .map((c) => [c[0]!, fromHex(c[1]!)] as const),
);
const fdec = (n: number) => rows.get(`fdec-${n}`)!;

function pkt(over: Partial<StreamPacket> = {}): StreamPacket {
  const simWidth = over.simWidth ?? 6;
  const dataType = over.dataType ?? 1;
  return {
    version: 2,
    padding: false,
    extension: false,
    csrcCount: 1,
    marker: false,
    payloadType: dataType === 3 ? 6 : 98,
    seq: 1,
    sim: '0'.repeat(simWidth * 2 - 11) + '13800138000',
    simWidth,
    channel: 1,
    dataType,
    subpackage: 0,
    timestampMs: dataType === 4 ? null : 1788220800000,
    lastIFrameIntervalMs: dataType <= 2 ? 40 : null,
    lastFrameIntervalMs: dataType <= 2 ? 40 : null,
    body: Uint8Array.from({ length: 20 }, (_, i) => i),
    ...over,
  };
}

/** Every decoded field but the body, plus the body as hex: what the golden checks compare. */
const plain = (p: StreamPacket) => ({ ...p, body: toHex(p.body) });

test('golden fdec-1 (Traccar): 10-byte SIM, P-frame of channel 1, exact fields, encode mirrors the bytes', () => {
  const bytes = fdec(1);
  assert.equal(detectSimWidth(bytes, 0, bytes.length, MAX_BODY_BYTES, true), 10);
  const p = decodeDatagram(bytes);
  assert.deepEqual({ ...plain(p), body: p.body.length }, {
    version: 2,
    padding: false,
    extension: false,
    csrcCount: 1,
    marker: true,
    payloadType: 98,
    seq: 118,
    sim: '00000866496077582164',
    simWidth: 10,
    channel: 1,
    dataType: 1,
    subpackage: 0,
    timestampMs: 29826261,
    lastIFrameIntervalMs: 0x074a,
    lastFrameIntervalMs: 0x21,
    body: 103,
  });
  assert.equal(codecOf(p.payloadType), 'h264');
  assert.equal(kindOf(p.dataType), 'video');
  assert.equal(toHex(p.body.subarray(0, 5)), '0000000121', 'the body is Annex B (a start code, then a slice NAL)');
  assert.equal(toHex(encodePacket(p)), toHex(bytes));
});

test('golden fdec-2 (Traccar): 6-byte SIM 001901305037, channel 3, epoch timestamp 2020-09-15T14:30:38.351Z, 829-byte body', () => {
  const bytes = fdec(2);
  assert.equal(detectSimWidth(bytes, 0, bytes.length, MAX_BODY_BYTES, true), 6);
  const p = decodeDatagram(bytes);
  assert.deepEqual({ ...plain(p), body: p.body.length }, {
    version: 2,
    padding: false,
    extension: false,
    csrcCount: 1,
    marker: true,
    payloadType: 98,
    seq: 1170,
    sim: '001901305037',
    simWidth: 6,
    channel: 3,
    dataType: 1,
    subpackage: 0,
    timestampMs: 1600180238351,
    lastIFrameIntervalMs: 0xa0,
    lastFrameIntervalMs: 0x50,
    body: 829,
  });
  assert.equal(new Date(p.timestampMs!).toISOString(), '2020-09-15T14:30:38.351Z');
  assert.equal(toHex(encodePacket(p)), toHex(bytes));
});

test('golden fdec-3 (Traccar): 8 bytes, shorter than a header: need more on TCP, a typed error as a datagram or at hang-up', () => {
  const bytes = fdec(3);
  assert.deepEqual(splitStream(bytes, 0, bytes.length), { kind: 'need-more' });
  const cutter = new StreamCutter();
  assert.deepEqual(cutter.push(bytes), { packets: [], errors: [] });
  assert.equal(cutter.buffered, 8);
  const end = cutter.end();
  assert.equal(end.errors[0]?.code, 'EDGE_FRAME_GARBAGE');
  assert.equal(end.errors[0]?.offset, 0);
  assert.throws(() => decodeDatagram(bytes), EdgeError);
});

/** A stream of one connection: a golden packet, then a sub-packaged frame, audio and transparent data. */
function streamOf(width: SimWidth, golden: Uint8Array): Uint8Array[] {
  const seq0 = decodePacket(golden, width).seq;
  const made = [
    pkt({ simWidth: width, seq: seq0 + 1, dataType: 0, subpackage: 1, body: new Uint8Array(950).fill(0x30) }),
    pkt({ simWidth: width, seq: seq0 + 2, dataType: 0, subpackage: 3, body: Uint8Array.of(0x30, 0x31, 0x63, 0x64, 0x81) }),
    pkt({ simWidth: width, seq: seq0 + 3, dataType: 0, subpackage: 2, marker: true, body: new Uint8Array(0) }),
    pkt({ simWidth: width, seq: seq0 + 4, dataType: 3, body: new Uint8Array(320).fill(0xd5) }),
    pkt({ simWidth: width, seq: seq0 + 5, dataType: 4, body: fromHex('7e0200007e') }),
  ];
  return [golden, ...made.map(encodePacket)];
}

for (const [width, n] of [[10, 1], [6, 2]] as const) {
  test(`TCP: every 2-chunk split point and byte-by-byte feeding give the same packets (${width}-byte SIM, fdec-${n} first)`, () => {
    const packets = streamOf(width, fdec(n));
    const whole = Uint8Array.from(packets.flatMap((p) => [...p]));
    const expected = packets.map((p) => toHex(p));
    for (let k = 0; k <= whole.length; k++) {
      const c = new StreamCutter();
      const a = c.push(whole.subarray(0, k));
      const b = c.push(whole.subarray(k));
      assert.deepEqual([...a.errors, ...b.errors], [], `split at ${k}`);
      assert.deepEqual([...a.packets, ...b.packets].map((p) => toHex(encodePacket(p))), expected, `split at ${k}`);
      assert.equal(c.buffered, 0);
      assert.equal(c.simWidth, width);
    }
    const c = new StreamCutter();
    const got: string[] = [];
    for (let i = 0; i < whole.length; i++) for (const p of c.push(whole.subarray(i, i + 1)).packets) got.push(toHex(encodePacket(p)));
    assert.deepEqual(got, expected);
    assert.deepEqual(c.stats, { packets: packets.length, resyncs: 0, skippedBytes: 0 });
  });
}

test('TCP resync: garbage before, between and after packets is skipped to the next magic, reported with its stream offset and counted', () => {
  const [a, b, c] = streamOf(6, fdec(2));
  const junk1 = fromHex('00ff3031');
  const fake = encodePacket(pkt());
  fake[15] = 0x91; // a magic whose header has data type 9: not a packet, skipped past its magic
  const junk2 = fromHex('303163');
  const parts = [junk1, a!, fake, b!, junk2, c!];
  const whole = Uint8Array.from(parts.flatMap((p) => [...p]));
  const cutter = new StreamCutter();
  const r = cutter.push(whole);
  assert.deepEqual(r.packets.map((p) => toHex(encodePacket(p))), [a, b, c].map((p) => toHex(p!)));
  assert.deepEqual(r.errors.map((e) => [e.code, e.offset]), [
    ['EDGE_FRAME_GARBAGE', 0],
    ['EDGE_FRAME_GARBAGE', junk1.length + a!.length],
    ['EDGE_FRAME_GARBAGE', junk1.length + a!.length + fake.length + b!.length],
  ]);
  assert.deepEqual(cutter.stats, { packets: 3, resyncs: 3, skippedBytes: junk1.length + fake.length + junk2.length });
  // a partial magic at the end stays buffered until the next bytes say what it is
  assert.deepEqual(cutter.push(fromHex('3031')), { packets: [], errors: [] });
  assert.equal(cutter.buffered, 2);
});

test('SIM width: a 6-byte packet whose 10-byte reading is also plausible is decided by the next magic (TCP) or the datagram end (UDP)', () => {
  // device-uptime timestamp (top bytes zero) and a SIM starting 0000: Traccar's guess would say 10
  const p = pkt({ simWidth: 6, sim: '000013800138', timestampMs: 5000, dataType: 0, channel: 0, subpackage: 0, body: new Uint8Array(700) });
  const bytes = encodePacket(p);
  const r10 = bytes[8 + 10 + 1]! >> 4; // the 10-byte reading's data type is a timestamp byte
  assert.equal(r10, 0, 'the 10-byte reading is plausible too');
  assert.equal(detectSimWidth(bytes, 0, bytes.length), 'need-more', 'alone on TCP: wait for the next packet');
  assert.equal(detectSimWidth(bytes, 0, bytes.length, MAX_BODY_BYTES, true), 6, 'as a datagram: its exact length decides');
  const two = Uint8Array.from([...bytes, ...encodePacket({ ...p, seq: 2 })]);
  assert.equal(detectSimWidth(two, 0, two.length), 6);
  const c = new StreamCutter();
  assert.equal(c.push(two).packets.length, 2);
  assert.equal(c.simWidth, 6);
  assert.equal(decodeDatagram(bytes).sim, '000013800138');
  // a width given by the caller (from the device's JT/T 808 header version) is used as is
  assert.equal(new StreamCutter({ simWidth: 6 }).push(bytes).packets.length, 1);
});

test('UDP: one packet per datagram; two packets, a short one or a body over the limit are typed errors', () => {
  const one = encodePacket(pkt());
  assert.equal(decodeDatagram(one).seq, 1);
  assert.throws(() => decodeDatagram(Uint8Array.from([...one, ...one])), (e: unknown) => e instanceof EdgeError && e.code === 'EDGE_FRAME_LENGTH');
  assert.throws(() => decodeDatagram(one.subarray(0, one.length - 1), 6), (e: unknown) => e instanceof EdgeError && e.code === 'EDGE_DECODE_TRUNCATED');
  const big = encodePacket(pkt({ body: new Uint8Array(951) }));
  assert.throws(() => decodeDatagram(big, 6), (e: unknown) => e instanceof EdgeError && e.code === 'EDGE_DECODE_INVALID' && e.offset === 28);
  assert.equal(decodeDatagram(big, 6, 2048).body.length, 951, 'the limit is an option for devices that exceed the standard');
});

test('payload types: the known table, an unknown PT kept as its number; data types map to media kinds; transparent data has no timestamp', () => {
  assert.deepEqual([98, 99, 6, 7, 8, 19, 50].map(codecOf), ['h264', 'h265', 'g711a', 'g711u', 'g726', 'aac', 'unknown']);
  assert.deepEqual([0, 1, 2, 3, 4].map(kindOf), ['video', 'video', 'video', 'audio', 'transparent']);
  const unknown = decodePacket(encodePacket(pkt({ payloadType: 50 })), 6);
  assert.equal(unknown.payloadType, 50);
  const t = encodePacket(pkt({ dataType: 4 }));
  assert.equal(t.length, 8 + 6 + 2 + 2 + 20, 'no timestamp, no intervals');
  assert.equal(decodePacket(t, 6).timestampMs, null);
  const audio = encodePacket(pkt({ dataType: 3 }));
  assert.equal(audio.length, 8 + 6 + 2 + 8 + 2 + 20, 'timestamp, no intervals');
});

const typed = (f: () => unknown): string => {
  try {
    f();
    return 'ok';
  } catch (e) {
    if (!(e instanceof EdgeError) || !(e.code in ERROR_CODES) || e.code === 'EDGE_DECODE_INTERNAL') throw new Error(`untyped ${String(e)}`);
    return e.code;
  }
};

test('fuzz: random, truncated and bit-flipped input gives packets or typed errors, never a throw of anything else; the cutter stays bounded; decode∘encode mirror', () => {
  const seeds = [fdec(1), fdec(2), ...streamOf(6, fdec(2)).slice(1)];
  const input = fc.oneof(
    fc.uint8Array({ maxLength: 200 }),
    fc.tuple(fc.constantFrom(...seeds), fc.nat(), fc.nat(), fc.integer({ min: 0, max: 7 })).map(([s, cut, at, bit]) => {
      const b = s.slice(0, 1 + (cut % s.length));
      b[at % b.length]! ^= 1 << bit;
      return b;
    }),
  );
  fc.assert(
    fc.property(input, fc.constantFrom<SimWidth>(6, 10), (bytes, width) => {
      if (typed(() => decodePacket(bytes, width)) === 'ok') assert.equal(toHex(encodePacket(decodePacket(bytes, width))), toHex(bytes));
      typed(() => decodeDatagram(bytes));
      const c = new StreamCutter();
      for (let i = 0; i < 3; i++) {
        const r = c.push(bytes);
        for (const e of r.errors) assert.ok(e instanceof EdgeError && e.code === 'EDGE_FRAME_GARBAGE');
        assert.ok(c.buffered <= 8 + 10 + 2 + 8 + 4 + 2 + MAX_BODY_BYTES + 4, `buffered ${c.buffered}`);
      }
      c.end();
      assert.equal(c.buffered, 0);
    }),
    { numRuns: 3000 },
  );
});
