import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc16Arc, crc16Kermit, xor8 } from './crc.js';
import { ByteReader } from './byte-reader.js';
import { ByteWriter } from './byte-writer.js';
import { fromHex, toHex } from './hex.js';
import { bcdByte, stringToBcd, toBcdByte } from './bcd.js';
import { utcSeconds } from './time.js';
import { EdgeError } from '../errors.js';

const ascii = (s: string) => new Uint8Array([...s].map((c) => c.charCodeAt(0)));

test('crc16Kermit catalogue check value and the Ruptela records ACK', () => {
  assert.equal(crc16Kermit(ascii('123456789')), 0x2189);
  assert.equal(crc16Kermit(new Uint8Array([0x64, 0x01])), 0x13bc);
  // coverage excludes the 2-byte length: the identification vector T#2 trailer is 0x1681
  const t2 = fromHex('002e000316d53d58d6020f4573303430302e30332e36382e30340000c2b3090d0e950000827b000003e80000003c003c1681');
  assert.equal(crc16Kermit(t2, 2, t2.length - 2), 0x1681);
});

test('crc16Arc catalogue check value and a Teltonika vendor Codec 8 frame (wiki example 1, CRC 0xC7CF)', () => {
  assert.equal(crc16Arc(ascii('123456789')), 0xbb3d);
  const ex1 = fromHex('000000000000003608010000016b40d8ea30010000000000000000000000000000000105021503010101425e0f01f10000601a014e0000000000000000010000c7cf');
  assert.equal(crc16Arc(ex1, 8, ex1.length - 4), 0xc7cf);
});

test('xor8 (the JT/T 808 check code)', () => {
  assert.equal(xor8(new Uint8Array([0x01, 0x02, 0x04])), 0x07);
  assert.equal(xor8(new Uint8Array([0xff, 0x01, 0x02, 0x04]), 1), 0x07);
});

test('ByteReader reads big-endian fields and reports truncation with a frame offset', () => {
  const r = new ByteReader(fromHex('ff0102800000007fffffff0102030405060708'), 1);
  assert.equal(r.u16(), 0x0102);
  assert.equal(r.i32(), -0x80000000);
  assert.equal(r.i32(), 0x7fffffff);
  assert.equal(r.u64(), 0x0102030405060708n);
  assert.equal(r.remaining, 0);
  assert.throws(() => r.u8('satellites'), (e: unknown) => e instanceof EdgeError && e.code === 'EDGE_DECODE_TRUNCATED' && e.offset === 18);
});

test('ByteWriter and hex round-trip', () => {
  const w = new ByteWriter(2).u16(0).u8(0x75).u32(175).u32(100);
  w.patchU16(0, w.length - 2);
  assert.equal(toHex(w.finish()), '000975000000af00000064');
  assert.throws(() => fromHex('abc'), RangeError);
  assert.throws(() => fromHex('zz'), RangeError);
});

test('BCD and UTC time helpers', () => {
  assert.equal(toHex(stringToBcd('13912345678', 6)), '013912345678');
  assert.throws(() => stringToBcd('12a', 2), RangeError);
  assert.equal(bcdByte(0x59), 59);
  assert.equal(toBcdByte(59), 0x59);
  assert.throws(() => bcdByte(0x5a, 7), (e: unknown) => e instanceof EdgeError && e.code === 'EDGE_DECODE_INVALID' && e.offset === 7);
  assert.equal(utcSeconds(2024, 12, 3, 17, 46, 7), 1733247967);
  assert.throws(() => utcSeconds(2024, 13, 1, 0, 0, 0), EdgeError);
});
