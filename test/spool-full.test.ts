import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { recordsFrame, typicalRecord } from '../protocols/ruptela/device-frames.js';
import { startHarness, waitFor } from './support/harness.js';

/**
 * Spool at its size cap: the broker withholds PUBACKs, so publishes time out, the breaker opens and
 * messages fill a small spool; at the cap frames stop being acknowledged and device sockets pause
 * (devices keep their black box). Once the broker confirms again, the spool drains, every frame
 * is acknowledged and every record reaches the broker. Nothing is dropped.
 */
const ACK = '0002640113bc';

test('a full spool stops ACKs and pauses sockets; after the broker returns everything is delivered', async () => {
  const h = await startHarness({
    extra: {
      spool: { max_bytes: 64 * 1024, segment_bytes: 8 * 1024, publish_timeout_ms: 300, probe_min_ms: 100, probe_max_ms: 300, drain_rate: 0 },
      stats_interval_s: 1,
    },
  });
  const devices: { s: Socket; got: string }[] = [];
  try {
    h.holdPubacks = true;
    const frames = 12;
    for (let d = 0; d < 5; d++) {
      const s = connect({ host: '127.0.0.1', port: h.app.channels[0]!.tcpPort, noDelay: true });
      const dev = { s, got: '' };
      s.on('data', (b) => (dev.got += b.toString('hex')));
      s.on('error', () => {});
      devices.push(dev);
      for (let f = 0; f < frames; f++) {
        s.write(recordsFrame(866000000000000n + BigInt(d), [0, 1, 2, 3].map((k) => typicalRecord(1735691000 + f * 10 + k, k, 20)), true));
      }
    }
    await waitFor('sockets paused because the spool is full', () => h.app.channels[0]!.pausedFor.includes('mqtt'), 10000);
    const ackedWhileFull = devices.reduce((n, d) => n + d.got.length / ACK.length, 0);
    assert.ok(ackedWhileFull < 5 * frames, `only what fits in the spool is acknowledged (${ackedWhileFull} of ${5 * frames})`);
    h.releasePubacks();
    await waitFor('every frame acknowledged after the broker returns', () => devices.every((d) => d.got === ACK.repeat(frames)), 30000);
    // the subscriber's copy may trail the PUBACK that let a frame be acknowledged: wait for it
    // (bounded), then compare; a record that never arrives still fails here
    const ids = () => new Set(h.received.filter((r) => r.topic.startsWith(`${h.root}/message/`)).map((r) => (JSON.parse(r.payload) as { 'message.id': string })['message.id']));
    await waitFor('every record at the subscriber', () => ids().size >= 5 * frames * 4, 5000).catch(() => {});
    assert.equal(ids().size, 5 * frames * 4, 'every record reached the broker (distinct message ids)');
    assert.deepEqual(h.app.channels[0]!.pausedFor, []);
  } finally {
    for (const d of devices) d.s.destroy();
    await h.close();
  }
});
