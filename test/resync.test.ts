import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import { fromHex } from '../src/codec/hex.js';
import { getProtocol } from '../src/protocol/registry.js';
import { startHarness, waitFor, type Harness } from './support/harness.js';
import { connectDevice } from './support/device-socket.js';
import { freeLoopbackPort } from './support/redis.js';
import { retained } from './support/retained.js';

/**
 * Truthful after an outage (README "Retained state"): a private Mosquitto with `persistence false`
 * is restarted while a device is connected, a command is queued for an offline device and an asset
 * is active. It comes back with no retained message at all; the channel's resync on reconnect puts
 * every piece back. Then the same on request (the management topic) and on a schedule.
 */
const IDENT_FRAME = '002e000316d53d58d6020f4573303430302e30332e36382e30340000c2b3090d0e950000827b000003e80000003c003c1681';
const OFFLINE = '356307042441013';
const hasMosquitto = !spawnSync('mosquitto', ['-h']).error;


/** A throw-away Mosquitto that keeps nothing: a restart loses every retained message. */
class VolatileBroker {
  private proc: ChildProcess | null = null;
  readonly dir = mkdtempSync(join(tmpdir(), 'edge-resync-mosq-'));
  constructor(readonly port: number) {
    writeFileSync(join(this.dir, 'm.conf'), `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n`);
  }
  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }
  async start(): Promise<void> {
    this.proc = spawn('mosquitto', ['-c', join(this.dir, 'm.conf')], { stdio: 'ignore' });
    const deadline = Date.now() + 5000;
    for (;;) {
      try {
        const c = await connectAsync(this.url, { reconnectPeriod: 0, connectTimeout: 500 });
        await c.endAsync();
        return;
      } catch (e) {
        if (Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }
  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((r) => {
      p.once('exit', () => r());
      p.kill('SIGKILL');
    });
  }
}


/** The retained topics the scenario must find: device, queue entry, asset, channel, instance. */
function expected(h: Harness, ident: string): Record<string, (v: string | undefined) => boolean> {
  const st = `${h.root}/state/gw`;
  return {
    [`${st}/channels/1/devices/${ident}/connected`]: (v) => v === 'true',
    [`${st}/channels/1/devices/${OFFLINE}/commands-queue/q-offline`]: (v) => v !== undefined && JSON.parse(v).status === 'queued',
    [`${st}/assets/trl-7/active`]: (v) => v !== undefined && JSON.parse(v).ident === ident,
    [`${st}/channels/1/connections_count`]: (v) => v === '1',
    [`${st}/instances/${h.root}/online`]: (v) => v === 'true',
    [`${st}/channels/1/instance`]: (v) => v === h.root,
  };
}

function missing(h: Harness, ident: string, got: Map<string, string>): string[] {
  return Object.entries(expected(h, ident))
    .filter(([t, ok]) => !ok(got.get(t)))
    .map(([t]) => `${t.slice(h.root.length)}=${got.get(t) ?? '(none)'}`);
}

test('resync: a Mosquitto restarted with persistence false gets the device, command queue, asset, channel and instance state back within 5 s of the reconnect', { skip: hasMosquitto ? false : 'no mosquitto binary', timeout: 60_000 }, async () => {
  const broker = new VolatileBroker(await freeLoopbackPort());
  await broker.start();
  let h: Harness | null = null;
  try {
    h = await startHarness({ brokerUrl: broker.url, extra: { assets: [{ id: 'trl-7', name: 'Trailer 7', type: 'trailer' }] } });
    const proto = await getProtocol('ruptela');
    const ident = String(proto.decode(fromHex(IDENT_FRAME), { transport: 'tcp', session: {}, receivedAtMs: 0, options: {} }).session!.ident);
    const dev = await connectDevice(h.app.channels[0]!.tcpPort);
    dev.socket.write(fromHex(IDENT_FRAME));
    await h.sub.publishAsync(`${h.root}/command/gw/channels/1/devices/${OFFLINE}`, '{"id":"q-offline","name":"get_version","meta":{"t":1}}', { qos: 1 });
    await h.sub.publishAsync(`${h.root}/command/gw/assets`, `{"op":"assign","id":"trl-7","channel_id":1,"ident":"${ident}"}`, { qos: 1 });
    const hh = h;
    await waitFor('all state retained before the outage', () => missing(hh, ident, new Map(hh.received.filter((r) => r.topic.includes('/state/')).map((r) => [r.topic, r.payload]))).length === 0, 10_000);
    assert.deepEqual(missing(h, ident, await retained(broker.url, `${h.root}/state/#`)), [], 'the broker holds it all');
    const runsBefore = h.app.resync.runs;
    const logsBefore = h.received.filter((r) => r.topic.includes('/log/') && !r.topic.endsWith('/resync')).length;

    await broker.stop();
    await waitFor('the channel saw the outage', () => !hh.app.publisher.connected, 10_000);
    await broker.start();
    assert.equal((await retained(broker.url, `${h.root}/state/#`)).size, 0, 'the restarted broker kept nothing');
    await waitFor('reconnected', () => hh.app.publisher.connected, 20_000);
    const upAt = Date.now();
    let got = new Map<string, string>();
    while (Date.now() - upAt < 5000) {
      got = await retained(broker.url, `${h.root}/state/#`);
      if (missing(h, ident, got).length === 0) break;
    }
    assert.deepEqual(missing(h, ident, got), [], `every piece back within 5 s of the reconnect (${Date.now() - upAt} ms)`);
    assert.equal(h.app.resync.runs, runsBefore + 1, 'one resync for the reconnect');
    // state only: no connection, command or asset event is published again
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(h.received.filter((r) => r.topic.includes('/log/') && !r.topic.endsWith('/resync')).length, logsBefore, 'no log event repeated');
    assert.ok(!dev.closed, 'the device stayed connected through the outage');
    dev.socket.destroy();
  } finally {
    await h?.close();
    await broker.stop();
    rmSync(broker.dir, { recursive: true, force: true });
  }
});

test('resync on request and on schedule: the management topic and mqtt.resync_interval_s republish the state; one resync event says what', { timeout: 30_000 }, async () => {
  const h = await startHarness({ extra: { mqtt: { resync_interval_s: 1 }, assets: [{ id: 'a1', name: 'A', type: 'driver' }] } });
  try {
    const events = () => h.received.filter((r) => r.topic === `${h.root}/log/gw/instances/${h.root}/resync`).map((r) => JSON.parse(r.payload) as { reason: string; counts: Record<string, number> });
    await waitFor('a scheduled resync', () => events().some((e) => e.reason === 'schedule'), 5000);
    await h.sub.publishAsync(`${h.root}/command/gw/resync`, '', { qos: 1 });
    const req = await waitFor('a requested resync', () => events().find((e) => e.reason === 'request'), 5000);
    assert.deepEqual(Object.keys(req.counts).sort(), ['assets', 'commands', 'devices', 'instance', 'reliability']);
    assert.equal(req.counts.assets, 1, 'the one asset (its empty active state is republished too)');
    assert.equal(req.counts.instance, 2, 'online and the channel instance');
  } finally {
    await h.close();
  }
});
