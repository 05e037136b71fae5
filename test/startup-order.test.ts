import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { startApp } from '../src/app.js';
import { createLogger } from '../src/util/log.js';
import { startHarness, sleep, waitFor } from './support/harness.js';
import { freeLoopbackPort as freePort } from './support/redis.js';

/**
 * Startup order (README "Running in production"): ports are checked before the MQTT connection, so
 * a second start of the same instance on a host where it already runs fails with EDGE_PORT_IN_USE
 * and touches nothing: the running instance keeps its broker session (same client id), its
 * retained `online true` and its `channels/{id}/instance`.
 */
test('a second start that cannot bind its port fails before connecting to MQTT: the running instance is untouched', { timeout: 30_000 }, async () => {
  const port = await freePort();
  const h = await startHarness({ channels: [{ id: 1, protocol: 'ruptela', host: '127.0.0.1', tcp_port: port }] });
  try {
    const onlineTopic = `${h.root}/state/gw/instances/${h.app.config.instance_id}/online`;
    await waitFor('retained online true', () => h.received.some((r) => r.topic === onlineTopic && r.payload === 'true'));
    // and the rest of the running instance's start-up state, which may arrive after `online` on a
    // loaded machine: only what comes after it can be blamed on the second start
    for (const state of ['instance', 'connections_count']) await waitFor(`retained channel ${state}`, () => h.received.some((r) => r.topic === `${h.root}/state/gw/channels/1/${state}`));
    let downs = 0;
    h.app.publisher.on('down', () => downs++);
    const before = h.received.length;

    // the same config again (same instance id = same MQTT client id, same port)
    const quiet = createLogger('silent', new Writable({ write: (_c, _e, cb) => cb() }));
    await assert.rejects(startApp(h.app.config, { log: quiet, threads: 'inline' }), (e: unknown) => {
      const err = e as { code?: string; message: string };
      return err.code === 'EDGE_PORT_IN_USE' && err.message.includes('channels[0].tcp_port') && err.message.includes(`127.0.0.1:${port}`);
    });
    await sleep(1000);
    assert.equal(downs, 0, 'the running instance kept its MQTT session (a client with its id would have taken it over)');
    assert.equal(h.app.publisher.connected, true);
    const after = h.received.slice(before);
    assert.deepEqual(after.map((r) => `${r.topic}=${r.payload}`), [], 'nothing published by the failed start (no online false, no channel instance)');
  } finally {
    await h.close();
  }
});
