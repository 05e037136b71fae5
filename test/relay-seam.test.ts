import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChannelHooks } from '../src/channel/channel.js';
import type { RelayEffect } from '../src/protocol/types.js';
import { sleep, waitFor } from './support/harness.js';
import { rig as toyRig, toyProtocol, withDevice } from './support/toy-rig.js';

/**
 * The `relay` decode effect at the pipeline seam, with a toy protocol (frame [len][type][payload],
 * ident "toy-r"): the effect reaches the channel's `relay` hook, and the frame's reply waits until the
 * hook says the request is safe; with no relay hook the frame fails (never a silent drop).
 */
const toy = toyProtocol({
  id: 'toyrelay',
  title: 'Toy relay',
  decode: (frame) => ({
    messages: [],
    replies: [Uint8Array.of(0x11)],
    session: { ident: 'toy-r' },
    warnings: [],
    effects: [{ kind: 'relay', service: 'svc', request: { payload: Buffer.from(frame.subarray(2)).toString('hex'), finish: false }, answer: null }],
  }),
});

async function rig(hooks: ChannelHooks) {
  const r = await toyRig(toy, { channel: { id: 9 }, clientId: 'relay-seam', root: `rs${process.pid}`, deps: { hooks } });
  return withDevice(r);
}

test('relay effect: the hook gets it with the ident, and the frame\'s reply waits until the request is safe', { timeout: 20_000 }, async () => {
  const seen: [string, string, RelayEffect][] = [];
  let release: (() => void) | null = null;
  const r = await rig({ relay: (ch, ident, e, done) => (seen.push([ch, ident, e]), (release = () => done(null))) });
  try {
    r.s.write(Buffer.from([4, 1, 0xab, 0xcd]));
    await waitFor('the relay hook', () => seen.length === 1, 5000);
    assert.deepEqual(seen[0]!.slice(0, 2), ['9', 'toy-r']);
    assert.deepEqual(seen[0]![2].request, { payload: 'abcd', finish: false });
    await sleep(100);
    assert.equal(r.hex(), '', 'no reply before the relay request is confirmed');
    release!();
    await waitFor('the reply', () => r.hex() === '11', 5000);
  } finally {
    await r.close();
  }
});

test('relay effect without a relay hook: the frame is not acknowledged and the connection closes', { timeout: 20_000 }, async () => {
  const r = await rig({});
  try {
    r.s.write(Buffer.from([3, 1, 0xab]));
    await waitFor('the connection to close', () => r.closed(), 5000);
    assert.equal(r.hex(), '');
  } finally {
    await r.close();
  }
});
