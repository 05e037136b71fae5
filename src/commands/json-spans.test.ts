import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeTopics } from '../mqtt/topics.js';
import { jsonDepth, topLevelValueSpans } from './json-spans.js';
import { topicMatches } from '../mqtt/inbound-router.js';

test('top-level value spans: the exact text of each member, through strings, escapes and nesting', () => {
  const text = ' { "a" : 1.50 , "s":"x\\"}]{[", "meta" :{ "k": [1, {"z": "}"}], "e": "\\u00e9" } ,"n":null,"t":true, "meta2":[ ] } ';
  const spans = topLevelValueSpans(text);
  const at = (k: string) => text.slice(...spans.get(k)!);
  assert.equal(at('a'), '1.50');
  assert.equal(at('s'), '"x\\"}]{["');
  assert.equal(at('meta'), '{ "k": [1, {"z": "}"}], "e": "\\u00e9" }');
  assert.equal(at('n'), 'null');
  assert.equal(at('t'), 'true');
  assert.equal(at('meta2'), '[ ]');
  assert.deepEqual(JSON.parse(at('meta')), (JSON.parse(text) as { meta: unknown }).meta);
  assert.equal(topLevelValueSpans('{"meta":{"v":1},"meta":{"v":2}}').get('meta')!.join(), '23,30', 'the last duplicate wins, as in JSON.parse');
  assert.equal(topLevelValueSpans('{}').size, 0);
  assert.deepEqual([jsonDepth(1), jsonDepth({}), jsonDepth({ a: [1] }), jsonDepth([[[]]])], [0, 1, 2, 3]);
});

test('command topics: built, matched by the subscription filters and parsed back', () => {
  const t = makeTopics('edge');
  assert.equal(t.commandRequest('1', '123'), 'edge/command/gw/channels/1/devices/123');
  assert.equal(t.commandCancel('1', '123'), 'edge/command/gw/channels/1/devices/123/cancel');
  assert.equal(t.commandEvent('1', 'a/b', 'queued'), 'edge/log/gw/channels/1/devices/a_b/commands/queued');
  assert.equal(t.commandQueueState('1', '123', 'c-1'), 'edge/state/gw/channels/1/devices/123/commands-queue/c-1');
  assert.ok(topicMatches(t.commandRequestFilter(), t.commandRequest('1', '123')));
  assert.ok(!topicMatches(t.commandRequestFilter(), t.commandCancel('1', '123')));
  assert.ok(topicMatches(t.commandCancelFilter(), t.commandCancel('1', '123')));
  assert.ok(topicMatches('edge/#', 'edge') && topicMatches('edge/#', 'edge/a/b') && !topicMatches('edge/+', 'edge/a/b'));
  assert.deepEqual(t.parseCommandTopic('edge/command/gw/channels/1/devices/123'), { channel: '1', ident: '123', kind: 'request' });
  assert.deepEqual(t.parseCommandTopic('edge/command/gw/channels/1/devices/cancel'), { channel: '1', ident: 'cancel', kind: 'request' });
  assert.deepEqual(t.parseCommandTopic('edge/command/gw/channels/1/devices/123/cancel'), { channel: '1', ident: '123', kind: 'cancel' });
  for (const bad of ['edge/command/gw/channels/1/devices/123/other', 'edge/command/gw/channels/1/idents/123', 'other/command/gw/channels/1/devices/1', 'edge/command/gw/channels//devices/1']) {
    assert.equal(t.parseCommandTopic(bad), null, bad);
  }
});
