import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { MessagePublisher, PublishCallback } from '../mqtt/publisher.js';
import { makeTopics } from '../mqtt/topics.js';
import { MessageSink } from './message-sink.js';

/** Records what the sink publishes; confirms at once. */
function fakePublisher(): MessagePublisher & { sent: { topic: string; payload: string }[] } {
  const sent: { topic: string; payload: string }[] = [];
  const p = Object.assign(new EventEmitter(), {
    sent,
    publish(topic: string, payload: string | Buffer, _retain: boolean, cb: PublishCallback) {
      sent.push({ topic, payload: String(payload) });
      cb();
    },
  });
  return p as unknown as MessagePublisher & { sent: typeof sent };
}

test('sink: the latest message per device is kept only when someone can read it (keepLatest), and read back as text', () => {
  const pub = fakePublisher();
  const sink = new MessageSink(pub, makeTopics('root'));
  sink.message('1', '123', '{"a":1}', () => {}, 0, 0);
  assert.equal(sink.latest('1', '123'), null, 'off by default: no payload retained per device');
  assert.deepEqual([...sink.devices('1')], [['123', null]]);
  sink.keepLatest = true;
  sink.message('1', '123', '{"a":2}', () => {}, 0, 0, '{"command.id":"c1"}');
  assert.equal(sink.latest('1', '123'), '{"a":2,"command.id":"c1"}', 'the published text, frame fields included');
  assert.deepEqual(pub.sent.map((s) => s.payload), ['{"a":1}', '{"a":2,"command.id":"c1"}']);
  assert.equal(pub.sent[0]!.topic, pub.sent[1]!.topic);
});
