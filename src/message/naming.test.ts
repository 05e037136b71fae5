import { test } from 'node:test';
import assert from 'node:assert/strict';
import { channelIdValue, dotted, dottedName } from './naming.js';

test('published names are dotted lower-case whatever the internal spelling', () => {
  assert.equal(dottedName('decodeErrors'), 'decode.errors');
  assert.equal(dottedName('udpKernelDrops'), 'udp.kernel.drops');
  assert.equal(dottedName('spool_records'), 'spool.records');
  assert.equal(dottedName('oldest_spooled_age_s'), 'oldest.spooled.age.s');
  assert.equal(dottedName('frames'), 'frames');
  assert.deepEqual(dotted({ decodeErrors: 1, spool_full: false }), { 'decode.errors': 1, 'spool.full': false });
});

test('channel.id is a number for numeric ids and a string otherwise, as in messages', () => {
  assert.equal(channelIdValue('1'), 1);
  assert.equal(channelIdValue('gw-7'), 'gw-7');
  assert.equal(channelIdValue('00012345678901234567'), '00012345678901234567');
});
