import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { makeTopics } from '../mqtt/topics.js';
import type { CommandRequest, RelayEffect } from '../protocol/types.js';
import { createLogger } from '../util/log.js';
import { DeviceRelay } from './device-relay.js';

const topics = makeTopics('r');
const IDENT = '868204004248349';
const effect = (timeoutMs = 5000): RelayEffect => ({
  kind: 'relay',
  service: 'tacho-card',
  request: { payload: '00a4020c020002', finish: false },
  answer: { command: 'tacho_card_response', properties: { sub_id: 3 }, timeoutMs, replyKey: 'media:tacho' },
});

function rig(sendFails = false) {
  const published: { topic: string; body: Record<string, unknown> }[] = [];
  const handlers = new Map<string, (t: string, b: Buffer) => void>();
  const encoded: CommandRequest[] = [];
  const sent: Uint8Array[] = [];
  const ended: [string, string, string][] = [];
  const relay = new DeviceRelay({
    topics,
    log: createLogger('silent', new Writable({ write: (_c, _e, cb) => cb() })),
    now: () => 1_000_000,
    sink: {
      event: (topic, payload, done) => {
        published.push({ topic, body: JSON.parse(payload) as Record<string, unknown> });
        done?.();
      },
      subscribe: async (filter, h) => void handlers.set(filter, h),
      state: () => assert.fail('the relay publishes no state'),
      clear: () => assert.fail('the relay clears no state'),
    },
    device: {
      encode: async (_c, _i, req) => (encoded.push(req), { bytes: Uint8Array.of(1, 2), replyKey: null }),
      send: async (_c, _i, bytes) => {
        if (sendFails) throw new Error('device went away');
        sent.push(bytes);
      },
    },
    endCommand: (_ch, _id, replyKey, code, reason) => ended.push([replyKey, code, reason]),
  });
  const answer = (body: string) => handlers.get(topics.relayAnswerFilter('tacho-card'))!(topics.relayAnswer('1', IDENT, 'tacho-card'), Buffer.from(body));
  return { relay, published, encoded, sent, ended, answer };
}

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

test('a relay request is published with a transaction; the matching answer is encoded with the named command and sent to the device', async () => {
  const r = rig();
  let done = false;
  r.relay.request('1', IDENT, effect(), () => (done = true));
  await tick();
  assert.ok(done, 'the frame\'s durable work is confirmed once published');
  const q = r.published[0]!;
  assert.equal(q.topic, 'r/relay/gw/channels/1/devices/868204004248349/tacho-card/request');
  assert.deepEqual({ ...q.body, transaction: typeof q.body.transaction }, { ident: IDENT, 'channel.id': 1, service: 'tacho-card', transaction: 'string', timestamp: 1000, payload: '00a4020c020002', finish: false });
  r.answer(JSON.stringify({ transaction: 'someone-else', payload: '9000' }));
  r.answer('not json');
  assert.equal(r.relay.dropped, 2, 'a stale transaction and a non-JSON answer are dropped');
  r.answer(JSON.stringify({ transaction: q.body.transaction, payload: '9000' }));
  await tick();
  assert.deepEqual(r.encoded, [{ name: 'tacho_card_response', properties: { sub_id: 3, payload: '9000' } }]);
  assert.equal(r.sent.length, 1);
  r.answer(JSON.stringify({ payload: '9000' }));
  assert.equal(r.relay.dropped, 3, 'a second answer finds nothing pending');
  assert.deepEqual(r.ended, []);
  r.relay.stop();
});

test('relay: no answer in time, an error answer, an answer without hex payload, a failed send each end the waiting command and tell the service to finish', async () => {
  const t = rig();
  t.relay.request('1', IDENT, effect(30), () => {});
  await tick(80);
  assert.deepEqual(t.ended.map((e) => e.slice(0, 2)), [['media:tacho', 'EDGE_RELAY_TIMEOUT']]);
  assert.equal(t.published.at(-1)!.body.finish, true);
  assert.match(String(t.published.at(-1)!.body.reason), /did not answer within 0.03 s/);
  for (const [body, re] of [
    ['{"error":"card removed"}', /reported an error: card removed/],
    ['{"payload":"xyz"}', /no hex "payload"/],
  ] as const) {
    const r = rig();
    r.relay.request('1', IDENT, effect(), () => {});
    await tick();
    r.answer(body);
    assert.equal(r.ended[0]?.[1], 'EDGE_RELAY_FAILED');
    assert.match(r.ended[0]![2], re);
    r.relay.stop();
  }
  const s = rig(true);
  s.relay.request('1', IDENT, effect(), () => {});
  await tick();
  s.answer('{"payload":"9000"}');
  await tick();
  assert.match(s.ended[0]?.[2] ?? '', /could not go to the device: device went away/);
});

test('relay: a device going offline drops its pending request (no timeout later); a notice expects no answer', async () => {
  const r = rig();
  r.relay.request('1', IDENT, effect(30), () => {});
  r.relay.deviceOffline('1', IDENT);
  await tick(80);
  assert.deepEqual(r.ended, []);
  r.relay.request('1', IDENT, { kind: 'relay', service: 'tacho-card', request: { payload: null, finish: true }, answer: null }, () => {});
  await tick();
  assert.equal(r.published.at(-1)!.body.transaction, null);
  r.answer('{"payload":"9000"}');
  assert.equal(r.relay.dropped, 1);
});
