import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ContextCache } from './context-cache.js';
import { decodeFrames } from './decode-frames.js';
import { META_FIELDS, type ConnContext, type DecodeTask } from './task-types.js';
import { fromHex } from '../codec/hex.js';
import { getProtocol } from '../protocol/registry.js';

const HEARTBEAT = fromHex('0009000310f56174900710bd93');

function task(conns: number[], version: number, contexts: ConnContext[]): DecodeTask {
  const buffer = new ArrayBuffer(HEARTBEAT.length * conns.length);
  const meta = new Float64Array(conns.length * META_FIELDS);
  conns.forEach((conn, i) => {
    new Uint8Array(buffer).set(HEARTBEAT, i * HEARTBEAT.length);
    meta.set([i * HEARTBEAT.length, HEARTBEAT.length, conn, 1_700_000_000_000, version, 0], i * META_FIELDS);
  });
  return { protocolId: 'ruptela', part: '', channelId: '1', options: {}, buffer, meta, contexts };
}

test('decodeFrames: frames of an unknown context version miss (with every later frame of that connection); others decode', async () => {
  const proto = await getProtocol('ruptela');
  const cache = new ContextCache();
  cache.set({ conn: 1, version: 1, peer: 'a', transport: 'tcp', session: {} });
  const out = decodeFrames(proto, task([1, 2, 1, 2], 1, []), cache);
  assert.deepEqual(out.map((o) => (o.contextMiss ? 'miss' : Buffer.from(o.replies[0]!).toString('hex'))), ['00027401862d', 'miss', '00027401862d', 'miss']);
  const again = decodeFrames(proto, task([2, 2], 1, [{ conn: 2, version: 1, peer: 'b', transport: 'tcp', session: {} }]), cache);
  assert.deepEqual(again.map((o) => o.contextMiss ?? false), [false, false]);
  assert.equal(decodeFrames(proto, task([2], 2, []), cache)[0]!.contextMiss, true, 'a newer version than cached is a miss');
});

test('ContextCache is bounded and evicts the oldest connection first', () => {
  const cache = new ContextCache(2);
  for (const conn of [1, 2, 3]) cache.set({ conn, version: 1, peer: '', transport: 'tcp', session: {} });
  assert.equal(cache.size, 2);
  assert.equal(cache.get(1, 1), undefined);
  assert.ok(cache.get(3, 1));
});

test('decodeFrames: with a watch list each message returns its device time and the watched values, read before it becomes text', async () => {
  const proto = await getProtocol('ruptela');
  const { recordsFrame } = await import('../../protocols/ruptela/device-frames.js');
  const frame = recordsFrame(356307042441011n, [
    { timestamp: 1_700_000_100, latitude: 1, longitude: 2, io8: [[155, 0x3132333435363738n], [156, 0x3930313233343536n]] },
    { timestamp: 1_700_000_200, latitude: 1, longitude: 2 },
  ]);
  const meta = new Float64Array(META_FIELDS);
  meta.set([0, frame.length, 1, 1_700_000_000_000, 1, 0]);
  const cache = new ContextCache();
  const t: DecodeTask = { protocolId: 'ruptela', part: '', channelId: '1', options: {}, buffer: frame.slice().buffer, meta, contexts: [{ conn: 1, version: 1, peer: 'p', transport: 'tcp', session: {} }], watch: ['tacho.fms.driver.id.1', 'no.such'] };
  const [o] = decodeFrames(proto, t, cache);
  assert.deepEqual(o!.watched?.values, [1_700_000_100, '1234567890123456', null, 1_700_000_200, null, null]);
  const plain = decodeFrames(proto, { ...t, buffer: frame.slice().buffer, watch: null }, cache);
  assert.equal(plain[0]!.watched, undefined);
  assert.equal(plain[0]!.payloads[0], o!.payloads[0], 'the payload is the same either way');
});
