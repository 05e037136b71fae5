import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InboundRouter, topicMatches } from './inbound-router.js';

test('topic filters: + is one level, a trailing # any number including none', () => {
  assert.ok(topicMatches('a/+/c', 'a/b/c'));
  assert.ok(!topicMatches('a/+/c', 'a/b/x/c'));
  assert.ok(topicMatches('a/#', 'a'));
  assert.ok(topicMatches('a/#', 'a/b/c'));
  assert.ok(!topicMatches('a/b', 'a/b/c'));
  assert.ok(!topicMatches('a/b/c', 'a/b'));
});

test('InboundRouter calls every matching handler once', () => {
  const r = new InboundRouter();
  const got: string[] = [];
  r.add('x/+', (t) => got.push(`1:${t}`));
  r.add('x/#', (t) => got.push(`2:${t}`));
  assert.equal(r.dispatch('x/y', Buffer.alloc(0)), 2);
  assert.equal(r.dispatch('z', Buffer.alloc(0)), 0);
  assert.deepEqual(got, ['1:x/y', '2:x/y']);
});

test('a shared subscription routes by the filter inside it (messages arrive under their own topic)', () => {
  const r = new InboundRouter();
  const got: string[] = [];
  r.add('$share/edge/root/command/gw/channels/+/devices/+', (t) => got.push(t));
  assert.equal(r.dispatch('root/command/gw/channels/1/devices/42', Buffer.alloc(0)), 1);
  assert.equal(r.dispatch('$share/edge/root/command/gw/channels/1/devices/42', Buffer.alloc(0)), 0);
  assert.equal(r.dispatch('root/command/gw/assets', Buffer.alloc(0)), 0);
  assert.deepEqual(got, ['root/command/gw/channels/1/devices/42']);
});
