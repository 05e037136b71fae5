import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex } from '../../src/codec/hex.js';
import { mergeSession } from '../../src/protocol/session.js';
import type { FileChunkEffect, SessionState } from '../../src/protocol/types.js';
import ruptela from './index.js';
import { ctx, deviceFrame } from './test-helpers.js';

const IMEI = 866600048995021n;
const part = (current: number, total: number, dataHex: string) => deviceFrame(IMEI, 37, '0200' + '3544444131464144' + total.toString(16).padStart(4, '0') + current.toString(16).padStart(4, '0') + dataHex);

test('camera photo parts go to the media store at their offsets; the last one completes and announces the JPEG', () => {
  let session: SessionState = {};
  const chunks = ['ffd8ffe0', '0102030405', 'ffd9'];
  let offset = 0;
  for (let i = 0; i < chunks.length; i++) {
    const r = ruptela.decode(part(i, chunks.length, chunks[i]!), ctx(session));
    assert.deepEqual(r.warnings, []);
    const e = r.effects![0] as FileChunkEffect;
    assert.equal(e.kind, 'file-chunk');
    assert.equal(e.key, 'camera-0-3544444131464144');
    assert.equal(e.offset, offset, `part ${i} lands after the earlier parts`);
    assert.deepEqual([...e.bytes], [...fromHex(chunks[i]!)]);
    assert.equal(e.final, i === chunks.length - 1);
    if (e.final) {
      assert.deepEqual(e.file, { kind: 'image', name: '5DDA1FAD.jpg' });
      assert.equal(e.announce, 'media.image.1');
      assert.deepEqual(e.meta, { 'file.name': '5DDA1FAD', 'file.source.enum': 0, 'file.parts': 3 });
      assert.equal(r.session!.cameraFile, null);
    }
    offset += chunks[i]!.length / 2;
    session = mergeSession(session, r.session!);
  }
});

test('a camera part that does not follow the one before cannot be placed: published, not stored, EDGE_DECODE_PARTIAL', () => {
  const r = ruptela.decode(part(4, 10, 'aabb'), ctx({}));
  assert.equal(r.effects, undefined);
  assert.deepEqual(r.warnings.map((w) => w.code), ['EDGE_DECODE_PARTIAL']);
  assert.equal(r.messages[0]!['file.part'], 4);
});
