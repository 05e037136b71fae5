import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Packet } from 'mqtt';
import { InflightStore } from './inflight-store.js';

const publish = (messageId: number, payload = `p${messageId}`): Packet => ({ cmd: 'publish', topic: 't', payload, qos: 1, retain: false, dup: false, messageId });

function call(f: (cb: (e?: Error, p?: Packet) => void) => unknown): { err?: Error | undefined; packet?: Packet | undefined } {
  let out: { err?: Error | undefined; packet?: Packet | undefined } = {};
  f((err, packet) => (out = { err, packet }));
  return out;
}

async function streamed(store: InflightStore): Promise<number[]> {
  const ids: number[] = [];
  for await (const p of store.createStream()) ids.push((p as Packet).messageId!);
  return ids;
}

test('put, get and del by packet identifier; an unknown id is a missing packet', () => {
  const s = new InflightStore();
  assert.equal(call((cb) => s.put(publish(7), cb)).err, undefined);
  assert.equal(s.size, 1);
  assert.equal(call((cb) => s.get({ messageId: 7 }, cb)).packet?.messageId, 7);
  const gone = call((cb) => s.del({ messageId: 7 }, cb));
  assert.equal(gone.err, undefined);
  assert.equal((gone.packet as { payload?: unknown } | undefined)?.payload, 'p7');
  assert.equal(s.size, 0);
  assert.equal(call((cb) => s.del({ messageId: 7 }, cb)).err?.message, 'missing packet');
  assert.equal(call((cb) => s.get({ messageId: 8 }, cb)).err?.message, 'missing packet');
});

test('a second put of one id replaces it (a resend after reconnect) without counting it twice', () => {
  const s = new InflightStore();
  call((cb) => s.put(publish(3, 'first'), cb));
  call((cb) => s.put(publish(3, 'again'), cb));
  assert.equal(s.size, 1);
  assert.equal((call((cb) => s.get({ messageId: 3 }, cb)).packet as { payload?: unknown } | undefined)?.payload, 'again');
});

test('identifiers outside 1..65535 are refused, never stored', () => {
  const s = new InflightStore();
  for (const id of [0, 65536, -1, 1.5]) assert.match(call((cb) => s.put(publish(id), cb)).err?.message ?? '', /valid identifier/);
  assert.match(call((cb) => s.put({ cmd: 'publish', topic: 't', payload: 'x', qos: 1, retain: false, dup: false }, cb)).err?.message ?? '', /valid identifier/);
  assert.equal(s.size, 0);
  assert.equal(call((cb) => s.get({ messageId: 0 }, cb)).err?.message, 'missing packet');
});

test('createStream yields what is stored in insertion order (across the identifier wrap), as a snapshot', async () => {
  const s = new InflightStore();
  for (const id of [65534, 65535, 1, 2]) call((cb) => s.put(publish(id), cb));
  call((cb) => s.del({ messageId: 65535 }, cb));
  const stream = s.createStream();
  call((cb) => s.put(publish(5), cb));
  const ids: number[] = [];
  for await (const p of stream) ids.push((p as Packet).messageId!);
  assert.deepEqual(ids, [65534, 1, 2]);
  assert.deepEqual(await streamed(s), [65534, 1, 2, 5]);
});

test('close forgets everything', async () => {
  const s = new InflightStore();
  call((cb) => s.put(publish(1), cb));
  let closed = false;
  s.close(() => (closed = true));
  assert.ok(closed);
  assert.equal(s.size, 0);
  assert.deepEqual(await streamed(s), []);
});
