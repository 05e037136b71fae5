import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex } from '../../src/codec/hex.js';
import { SPLIT_INVALID, SPLIT_NEED_MORE } from '../../src/protocol/types.js';
import { explainInvalid, split } from './splitter.js';
import { loadGolden } from './test-helpers.js';

const hexOf = (id: string): string => {
  const v = [...(loadGolden('golden-traccar.json').vectors ?? []), ...(loadGolden('golden-vendor.json').vectors ?? [])].find((x) => x.id === id);
  assert.ok(v, id);
  return v.hex;
};

test('fewer than 2 bytes: need more', () => {
  assert.equal(split(new Uint8Array(0), 0, 0), SPLIT_NEED_MORE);
  assert.equal(split(fromHex('00'), 0, 1), SPLIT_NEED_MORE);
});

test('impossible length fields are invalid, with EDGE_FRAME_LENGTH at offset 0', () => {
  for (const hex of ['0000', '0001', '03fd', '0400', 'ffff']) {
    const b = fromHex(hex + '00'.repeat(8));
    assert.equal(split(b, 0, b.length), SPLIT_INVALID, hex);
    const info = explainInvalid(b, 0, b.length);
    assert.equal(info.code, 'EDGE_FRAME_LENGTH');
    assert.equal(info.offset, 0);
  }
});

test('every strict prefix of a frame needs more; the full frame is returned', () => {
  const b = fromHex(hexOf('T#12'));
  for (let n = 0; n < b.length; n++) assert.equal(split(b, 0, n), SPLIT_NEED_MORE, `prefix ${n}`);
  assert.equal(split(b, 0, b.length), b.length);
});

test('the 1024-byte maximum frame (T#5, len 1020) is accepted', () => {
  const b = fromHex(hexOf('T#5'));
  assert.equal(b.length, 1024);
  assert.equal(split(b, 0, b.length), 1024);
  assert.equal(split(b, 0, 1023), SPLIT_NEED_MORE);
});

test('len 2..8 frames (cmd 30 without IMEI, V#20) are frames', () => {
  const b = fromHex(hexOf('V#20'));
  assert.equal(split(b, 0, b.length), 6);
  assert.equal(split(b, 0, 5), SPLIT_NEED_MORE);
});

test('back-to-back frames at a non-zero start', () => {
  const a = fromHex(hexOf('V#4'));
  const c = fromHex(hexOf('V#20'));
  const buf = new Uint8Array(3 + a.length + c.length);
  buf.set(a, 3);
  buf.set(c, 3 + a.length);
  assert.equal(split(buf, 3, buf.length), a.length);
  assert.equal(split(buf, 3 + a.length, buf.length), c.length);
});

test('hand-edited length fields (T#7, T#9, V#5) do not frame the whole vector', () => {
  for (const id of ['T#7', 'T#9', 'V#5']) {
    const b = fromHex(hexOf(id));
    const n = split(b, 0, b.length);
    assert.ok(n > 0 && n < b.length, `${id}: ${n}`);
  }
});
