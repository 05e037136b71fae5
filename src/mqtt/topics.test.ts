import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeTopics } from './topics.js';

test('a device state topic parses back into its channel, ident and state name; other topics give null', () => {
  const t = makeTopics('edge');
  assert.deepEqual(t.parseDeviceStateTopic(t.deviceState('7', '860000000000001', 'connected')), { channel: '7', ident: '860000000000001', name: 'connected' });
  // an ident that is not a clean topic level comes back as the level it was published under
  assert.deepEqual(t.parseDeviceStateTopic(t.deviceState('7', 'a/b+c', 'connections_count')), { channel: '7', ident: 'a_b_c', name: 'connections_count' });
  assert.equal(t.parseDeviceStateTopic(t.commandQueueState('7', 'x', 'id1')), null, 'a queue entry is not device state');
  assert.equal(t.parseDeviceStateTopic(t.channelState('7', 'x')), null);
  assert.equal(t.parseDeviceStateTopic('other/state/gw/channels/7/devices/x/connected'), null, 'another topic root');
  assert.equal(t.parseDeviceStateTopic('edge/state/gw/channels//devices/x/connected'), null);
});
