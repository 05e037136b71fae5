import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { EdgeError } from '../../errors.js';
import { parseDdd } from './index.js';
import { sample, sampleNames } from '../../../test/support/tacho/ddd-samples.js';

/** Either a document or a typed EDGE_DDD_* error whose offset lies inside the input; anything else fails. */
function outcome(b: Uint8Array): 'doc' | 'error' {
  try {
    parseDdd(b);
    return 'doc';
  } catch (e) {
    if (!(e instanceof EdgeError)) throw e;
    assert.match(e.code, /^EDGE_DDD_(TRUNCATED|INVALID)$/, e.message);
    assert.equal(typeof e.offset, 'number', e.message);
    assert.ok(e.offset! >= 0 && e.offset! <= b.length, `offset ${e.offset} outside 0..${b.length}: ${e.message}`);
    return 'error';
  }
}

test('truncated samples: cut inside an object or transfer is a typed error naming an offset; cut at a boundary is a shorter valid file', () => {
  for (const f of sampleNames()) {
    const b = sample(f);
    const d = parseDdd(b);
    const boundaries = d.card ? d.card.records.map((r) => r.offset) : d.vu!.transfers.map((t) => t.offset);
    const cuts = new Set<number>([0, 1, 2, 3, 4, 5, b.length - 1]);
    for (const x of boundaries) for (const k of [-1, 0, 1, 5, 6]) if (x + k > 0 && x + k < b.length) cuts.add(x + k);
    for (let x = 7; x < b.length; x += 211) cuts.add(x);
    for (const n of cuts) {
      const got = outcome(b.subarray(0, n));
      if (!boundaries.includes(n) && n > 0) assert.equal(got, 'error', `${f} cut at ${n} parsed`);
      // a VU file cut at a transfer boundary, or a card file cut between two objects, is still a file
      if (boundaries.includes(n) && n > 0) assert.equal(got, 'doc', `${f} cut at boundary ${n}`);
    }
    // the reported offset is where the data ran out, not somewhere earlier
    const cut = boundaries[Math.floor(boundaries.length / 2)]! + 9;
    try {
      parseDdd(b.subarray(0, cut));
      assert.fail(`${f} cut at ${cut} parsed`);
    } catch (e) {
      assert.ok(e instanceof EdgeError && e.offset! >= boundaries[Math.floor(boundaries.length / 2)]!, `${f}: ${String(e)}`);
    }
  }
});

test('fuzzed samples (flipped, inserted, removed bytes) and random bytes never crash or hang: a document or a typed error', () => {
  const files = sampleNames().map(sample);
  fc.assert(
    fc.property(
      fc.nat({ max: files.length - 1 }),
      fc.array(fc.record({ at: fc.nat(), op: fc.constantFrom('flip', 'insert', 'delete'), v: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 6 }),
      (i, edits) => {
        let b = Uint8Array.from(files[i]!);
        for (const e of edits) {
          const at = e.at % b.length;
          if (e.op === 'flip') b[at] = e.v;
          else if (e.op === 'insert') b = Uint8Array.from([...b.subarray(0, at), e.v, ...b.subarray(at)]);
          else b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + 1)]);
        }
        outcome(b);
      },
    ),
    { numRuns: 120 },
  );
  // random files that pass detection: a VU transfer start, or a TLV header of a known EF
  fc.assert(
    fc.property(fc.constantFrom([0x76, 0x01], [0x76, 0x02], [0x76, 0x03], [0x76, 0x31], [0x76, 0x32], [0x76, 0x33], [0x76, 0x24], [0x05, 0x04, 0x00], [0x05, 0x04, 0x02], [0x05, 0x05, 0x00], [0x05, 0x06, 0x02], [0x05, 0x02, 0x00]), fc.uint8Array({ maxLength: 600 }), (head, tail) => {
      const b = Uint8Array.from([...head, ...(head.length === 3 ? [tail.length >> 8, tail.length & 0xff] : []), ...tail]);
      outcome(b);
    }),
    { numRuns: 400 },
  );
});

test('broken activity rings are typed errors at the ring offset: pointer outside, impossible length, loop, length mismatch', () => {
  const base = sample('card-g1-anon-wp000.ddd');
  const doc = parseDdd(base);
  const rec = doc.card!.records.find((r) => r.fid === '0504' && r.appendix === 0)!;
  const ring = rec.offset + 5 + 4;
  const mutate = (f: (b: Uint8Array) => void) => {
    const b = Uint8Array.from(base);
    f(b);
    return b;
  };
  const expectInvalid = (b: Uint8Array, re: RegExp) =>
    assert.throws(
      () => parseDdd(b),
      (e: unknown) => e instanceof EdgeError && e.code === 'EDGE_DDD_INVALID' && re.test(e.message) && e.offset! >= ring - 4,
    );
  expectInvalid(
    mutate((b) => {
      b[rec.offset + 5] = 0xff; // oldest pointer 0xFF00 > ring length
    }),
    /outside/,
  );
  expectInvalid(
    mutate((b) => {
      b[ring + 2] = 0;
      b[ring + 3] = 5; // first record length 5 < 12
    }),
    /length 5 is impossible/,
  );
  expectInvalid(
    mutate((b) => {
      b[ring + 148] = 0x00;
      b[ring + 149] = 0x10; // second record says the first was 16 bytes, it was 148
    }),
    /previous one is 16 bytes/,
  );
  // newest pointer not on the chain: the walk goes round the ring and stops
  expectInvalid(
    mutate((b) => {
      b[rec.offset + 5 + 2] = 0x00;
      b[rec.offset + 5 + 3] = 0x01;
    }),
    /loops|impossible|previous one/,
  );
});
