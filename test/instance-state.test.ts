import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Socket } from 'node:net';
import { Aedes } from 'aedes';
import { Writable } from 'node:stream';
import { connectAsync } from 'mqtt';
import { waitFor } from './support/harness.js';
import { retained } from './support/retained.js';
import { startApp } from '../src/app.js';
import { validateConfig } from '../src/config/validate.js';
import { startEmbeddedBroker } from '../src/mqtt/embedded-broker.js';
import { createLogger } from '../src/util/log.js';

/**
 * Truthful retained state (README "Running in production"): the instance's `online` (true at
 * start, false by the last will on an unclean loss and on a clean stop), the client id keyed by
 * the instance id, and "connected true" left by an earlier run corrected at start.
 */
const quiet = () => createLogger('silent', new Writable({ write: (_c, _e, cb) => cb() }));



test('instance state: online true at start, false by the will when the connection dies, false on a clean stop; stale connected corrected', { timeout: 60_000 }, async () => {
  const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0 });
  const root = `inst${process.pid}x${Math.floor(Math.random() * 1e9)}`;
  const instance = `gw-${root}`;
  const spoolDir = mkdtempSync(join(tmpdir(), 'edge-inst-'));
  const clientIds: string[] = [];
  broker.aedes.on('client', (c) => clientIds.push(c.id));
  const st = (rest: string) => `${root}/state/gw/${rest}`;
  let app: Awaited<ReturnType<typeof startApp>> | null = null;
  try {
    // what an earlier run killed with -9 left behind
    const seed = await connectAsync(broker.url, { clientId: `seed-${root}` });
    await seed.publishAsync(st('channels/1/devices/111/connected'), 'true', { qos: 1, retain: true });
    await seed.publishAsync(st('channels/1/devices/222/connected'), 'false', { qos: 1, retain: true });
    await seed.publishAsync(st('channels/1/connections_count'), '1', { qos: 1, retain: true });
    await seed.publishAsync(st('channels/9/devices/333/connected'), 'true', { qos: 1, retain: true }); // not a channel of ours
    await seed.endAsync();

    const config = validateConfig({
      instance_id: instance,
      log_level: 'silent',
      mqtt: { url: broker.url, topic_root: root },
      spool: { dir: spoolDir },
      channels: [{ id: 1, protocol: 'ruptela', host: '127.0.0.1', tcp_port: 0 }],
      stats_interval_s: 3600,
      shutdown_timeout_s: 2,
    });
    app = await startApp(config, { log: quiet(), threads: 'inline' });
    assert.ok(clientIds.includes(`edge-channel-${instance}`), `client id keyed by the instance id, got ${clientIds.join(', ')}`);

    const s1 = await retained(broker.url, `${root}/state/#`);
    assert.equal(s1.get(st('channels/1/devices/111/connected')), 'false', 'stale connected true corrected');
    assert.equal(s1.get(st('channels/1/devices/222/connected')), 'false');
    assert.equal(s1.get(st('channels/9/devices/333/connected')), 'true', 'another channel is not ours to correct');
    assert.equal(s1.get(st('channels/1/connections_count')), '0');
    assert.equal(s1.get(st(`instances/${instance}/online`)), 'true');
    assert.equal(s1.get(st('channels/1/instance')), instance);

    // the connection dies without DISCONNECT (what kill -9 or a cable cut looks like to the broker)
    const watch = await connectAsync(broker.url, { clientId: `watch-${root}` });
    const online: string[] = [];
    watch.on('message', (_t, p) => online.push(p.toString()));
    await watch.subscribeAsync(st(`instances/${instance}/online`), { qos: 1 });
    await waitFor('the retained online true', () => online.length === 1, 15_000);
    (app!.publisher.client.stream as unknown as Socket).destroy();
    await waitFor('the last will (online false)', () => online.includes('false'), 15_000);
    await waitFor('online true again after the reconnect', () => online.at(-1) === 'true' && online.indexOf('false') < online.length - 1, 15_000);

    await app.stop();
    app = null;
    await waitFor('online false after a clean stop', () => online.at(-1) === 'false', 15_000);
    await watch.endAsync();
    assert.equal((await retained(broker.url, st(`instances/${instance}/online`))).get(st(`instances/${instance}/online`)), 'false');
  } finally {
    await app?.stop();
    await broker.close();
    rmSync(spoolDir, { recursive: true, force: true });
  }
});

test('instance state: with the broker unreachable at start, the correction runs on the first connection', { timeout: 60_000 }, async () => {
  // a broker that holds the channel's CONNECT until the gate opens (the start goes on without it)
  let gateOpen = false;
  const gated: (() => void)[] = [];
  const aedes = await Aedes.createBroker({
    preConnect: (_client, packet, cb) => {
      if (!gateOpen && packet.clientId.startsWith('edge-channel')) gated.push(() => cb(null, true));
      else cb(null, true);
    },
  });
  const server = createServer((s) => aedes.handle(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `mqtt://127.0.0.1:${(server.address() as { port: number }).port}`;
  const root = `instd${process.pid}x${Math.floor(Math.random() * 1e9)}`;
  const spoolDir = mkdtempSync(join(tmpdir(), 'edge-inst-'));
  const topic = `${root}/state/gw/channels/1/devices/111/connected`;
  let app: Awaited<ReturnType<typeof startApp>> | null = null;
  try {
    const seed = await connectAsync(url, { clientId: `seed-${root}` });
    await seed.publishAsync(topic, 'true', { qos: 1, retain: true });
    await seed.endAsync();
    const config = validateConfig({ instance_id: `gw-${root}`, log_level: 'silent', mqtt: { url, topic_root: root }, spool: { dir: spoolDir }, channels: [{ id: 1, protocol: 'ruptela', host: '127.0.0.1', tcp_port: 0 }], stats_interval_s: 3600, shutdown_timeout_s: 2 });
    app = await startApp(config, { log: quiet(), threads: 'inline' });
    assert.equal(app.publisher.connected, false, 'started without the broker');
    assert.equal((await retained(url, topic)).get(topic), 'true', 'nothing corrected yet');
    gateOpen = true;
    for (const f of gated.splice(0)) f();
    await waitFor('the correction after the first connection', () => app!.publisher.connected, 15_000);
    let value: string | undefined = 'true';
    for (let i = 0; i < 50 && value !== 'false'; i++) {
      value = (await retained(url, topic)).get(topic);
      if (value !== 'false') await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(value, 'false');
  } finally {
    await app?.stop();
    await new Promise<void>((r) => server.close(() => r()));
    await new Promise<void>((r) => aedes.close(() => r()));
    rmSync(spoolDir, { recursive: true, force: true });
  }
});
