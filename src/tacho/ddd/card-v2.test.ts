import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeText } from './code-pages.js';
import { parseDdd } from './index.js';
import { isoSeconds } from './primitives.js';
import { tlvObject } from '../../../test/support/tacho/test-authority.js';
import { sample } from '../../../test/support/tacho/ddd-samples.js';

// No public sample has the Gen2 version 2 EFs (Annex IC as amended by 2021/1228 and 2023/980), so
// these bytes are built here from the data dictionary and appended to the v2 sample card.
const T = (s: string) => Math.floor(Date.parse(s) / 1000);
const u16 = (n: number) => [n >> 8, n & 255];
const u24 = (n: number) => [n >> 16, (n >> 8) & 255, n & 255];
const u32 = (n: number) => [n >>> 24, (n >> 16) & 255, (n >> 8) & 255, n & 255];
// GNSSPlaceAuthRecord: time, accuracy, lat/lon (±DDMM.M × 10, signed 24-bit), authentication status
const place = (t: number, lat: number, lon: number, auth: number) => [...u32(t), 12, ...u24(lat & 0xffffff), ...u24(lon & 0xffffff), auth];

test('Gen2 v2 card EFs: application identification V2, border crossings, load/unload, load types, authentication status', () => {
  const v2 = Uint8Array.from([
    ...tlvObject(0x0525, 2, Uint8Array.from([...u16(8), ...u16(1120), ...u16(1624), ...u16(336), ...u16(3072)])),
    // 3 slots, newest at slot 0: slot 1 is empty, slot 2 holds the older crossing
    ...tlvObject(0x0528, 2, Uint8Array.from([...u16(0), 0x12, 0x2c, ...place(T('2024-03-02T10:00:00Z'), 60100, 24560, 1), ...u24(1000), ...new Array(17).fill(0), 0x0d, 0x26, ...place(T('2024-03-01T08:30:00Z'), -5123, -1234, 0), ...u24(900)])),
    ...tlvObject(0x0529, 2, Uint8Array.from([...u16(0), ...u32(T('2024-03-02T11:00:00Z')), 2, ...place(T('2024-03-02T11:00:00Z'), 0x7fffff, 0, 1), ...u24(1010)])),
    ...tlvObject(0x0530, 2, Uint8Array.from([...u16(1), ...u32(T('2024-03-01T06:00:00Z')), 1, ...u32(T('2024-03-02T06:00:00Z')), 2])),
    ...tlvObject(0x0526, 2, Uint8Array.from([...u16(0), ...u32(T('2024-03-02T10:00:00Z')), 1])),
    ...tlvObject(0x0527, 2, Uint8Array.from([...u16(0), ...u32(T('2024-03-02T10:00:00Z')), 0])),
  ]);
  const file = Uint8Array.from([...sample('card-g2v2-anon-wp004.ddd'), ...v2]);
  const d = parseDdd(file);
  const s = d.card!.g2!;
  assert.deepEqual(s.applicationIdentificationV2, { lengthOfFollowingData: 8, borderCrossingRecords: 1120, loadUnloadRecords: 1624, loadTypeEntryRecords: 336, vuConfigurationLengthRange: 3072 });
  const bc = s.borderCrossings!;
  assert.equal(bc.slots, 3);
  assert.deepEqual(
    bc.records.map((r) => [r.slot, r.countryLeft, r.countryEntered, r.place.time, r.place.authenticated, r.odometer]),
    [
      [2, 0x0d, 0x26, '2024-03-01T08:30:00Z', false, 900],
      [0, 0x12, 0x2c, '2024-03-02T10:00:00Z', true, 1000],
    ],
  );
  // 60100 = 60°10.0' N, 24560 = 24°56.0' E; negative values are south/west (degrees to 6 decimals)
  const deg = (x: number) => Math.round(x * 1e6) / 1e6;
  assert.deepEqual([bc.records[1]!.place.lat, bc.records[1]!.place.lon], [deg(60 + 10 / 60), deg(24 + 56 / 60)]);
  assert.deepEqual([bc.records[0]!.place.latRaw, bc.records[0]!.place.lat], [-5123, deg(-(5 + 12.3 / 60))]);
  assert.deepEqual(
    s.loadUnloadOperations!.records.map((r) => [r.time, r.operationType, r.place.lat, r.odometer]),
    [['2024-03-02T11:00:00Z', 2, null, 1010]],
  );
  assert.deepEqual(
    s.loadTypeEntries!.records.map((r) => [r.time, r.value]),
    [
      ['2024-03-01T06:00:00Z', 1],
      ['2024-03-02T06:00:00Z', 2],
    ],
  );
  assert.deepEqual(s.placesAuthentication!.records.map((r) => r.value), [1]);
  assert.deepEqual(s.gnssPlacesAuthentication!.records.map((r) => r.value), [0]);
  // a v2 EF whose value ends inside a record
  const cut = Uint8Array.from([...sample('card-g2v2-anon-wp004.ddd'), ...tlvObject(0x0528, 2, Uint8Array.from([0, 0, 1, 2, 3]))]);
  const partial = parseDdd(cut);
  assert.equal(partial.card!.g2!.borderCrossings!.slots, 0);
  assert.ok(partial.warnings.some((w) => /EF 0528 has 3 byte\(s\) after its known content/.test(w.reason)), 'a partial record is reported, not dropped silently');
});

test('unknown EFs and stray signature objects: kept and reported, rejected in strict mode; trailing bytes after the last object are an error', () => {
  const base = sample('card-g1-anon-wp000.ddd');
  const extra = Uint8Array.from([...base, ...tlvObject(0x0599, 0, Uint8Array.of(1, 2, 3))]);
  const d = parseDdd(extra);
  assert.deepEqual(d.card!.g1!.unknown, [{ fid: '0599', offset: base.length, hex: '010203' }]);
  assert.ok(d.warnings.some((w) => w.offset === base.length && /unknown EF 0599/.test(w.reason)));
  assert.throws(() => parseDdd(extra, { strict: true }), (e: { code?: string; offset?: number }) => e.code === 'EDGE_DDD_INVALID' && e.offset === base.length);
  // a signature object that does not follow its EF's data object
  const stray = Uint8Array.from([...base, ...tlvObject(0x0520, 1, new Uint8Array(128))]);
  const sd = parseDdd(stray);
  assert.deepEqual(
    sd.signature.checks.map((c) => [c.object, c.offset, c.verified, c.reason]),
    [['EF 0520 g1', base.length, false, 'signature object does not follow the data object of its EF']],
  );
  assert.throws(() => parseDdd(stray, { strict: true }), (e: { code?: string; offset?: number }) => e.code === 'EDGE_DDD_INVALID' && e.offset === base.length);
  assert.throws(() => parseDdd(Uint8Array.from([...base, 5, 4])), (e: { code?: string; offset?: number }) => e.code === 'EDGE_DDD_TRUNCATED' && e.offset === base.length);
  assert.throws(() => parseDdd(Uint8Array.of(0x12, 0x34, 0x56)), (e: { code?: string; offset?: number }) => e.code === 'EDGE_DDD_INVALID' && e.offset === 0);
  assert.throws(() => parseDdd(new Uint8Array(0)), (e: { code?: string }) => e.code === 'EDGE_DDD_TRUNCATED');
});

test('text code pages: Latin-1 one code point per byte, 8859-16 by table, others by TextDecoder', () => {
  assert.equal(decodeText(1, Uint8Array.of(0x4e, 0xd1, 0x80)), 'NÑ\u0080');
  assert.equal(decodeText(16, Uint8Array.of(0xaa, 0xba, 0xde, 0xfe, 0xa4, 0xe9)), 'ȘșȚț€é');
  assert.equal(decodeText(2, Uint8Array.of(0xa3, 0xb3)), 'Łł');
  assert.equal(decodeText(5, Uint8Array.of(0xb0)), 'А');
  assert.equal(decodeText(80, Uint8Array.of(0xe1)), 'А');
});

test('ISO times without Date: matches Date for a spread of TimeReal values', () => {
  for (const t of [0, 59, 86399, 86400, 951782400, 1582934400, 1709251199, 2147483647, 4102444800, 4294967294]) {
    assert.equal(isoSeconds(t), new Date(t * 1000).toISOString().replace('.000Z', 'Z'), String(t));
  }
});
