import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { fromHex } from '../src/codec/hex.js';
import { deviceFrame } from '../protocols/ruptela/device-frames.js';
import { getProtocol } from '../src/protocol/registry.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../src/mqtt/embedded-broker.js';
import { projectRoot } from '../src/util/paths.js';
import { startHarness, waitFor, sleep, type Harness } from './support/harness.js';
import { REDIS_URL, redisSkipReason } from './support/redis.js';
import { connectDevice, type DeviceSocket } from './support/device-socket.js';

/**
 * Several instances as one channel: two servers on loopback sharing Redis (REDIS_URL, or the local
 * default; skipped with a reason when none answers) and one MQTT broker (MQTT_URL's Mosquitto when
 * set, with a shared subscription group; else an embedded broker without one). Each test has its
 * own Redis key prefix and topic root.
 */
const MQTT_URL = process.env.MQTT_URL;
const IDENT_FRAME = '002e000316d53d58d6020f4573303430302e30332e36382e30340000c2b3090d0e950000827b000003e80000003c003c1681';
const IDENT_ACK = '00027301cb25';

const skipReason = await redisSkipReason();
if (skipReason) console.log(`# scale-out tests skipped: ${skipReason}`);

type Event = { status: string; body: Record<string, unknown>; raw: string };

function events(h: Harness, ident: string): Event[] {
  const prefix = `${h.root}/log/gw/channels/1/devices/${ident}/commands/`;
  return h.received.filter((r) => r.topic.startsWith(prefix)).map((r) => ({ status: r.topic.slice(prefix.length), body: JSON.parse(r.payload) as Record<string, unknown>, raw: r.payload }));
}

interface Cluster {
  root: string;
  prefix: string;
  url: string;
  config(instance: string): Record<string, unknown>;
  close(): Promise<void>;
}

async function cluster(): Promise<Cluster> {
  const id = randomBytes(4).toString('hex');
  const root = `so${id}`;
  const prefix = `edge-test-${id}:`;
  let broker: EmbeddedBroker | null = null;
  let url = MQTT_URL;
  if (!url) {
    broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0 });
    url = broker.url;
  }
  const dirs: string[] = [];
  return {
    root,
    prefix,
    url,
    config(instance) {
      const dir = mkdtempSync(join(tmpdir(), 'edge-scale-'));
      dirs.push(dir);
      return {
        instance_id: `${root}-${instance}`,
        log_level: 'silent',
        mqtt: { url, topic_root: root },
        spool: { dir: join(dir, 'spool') },
        commands: { dir: join(dir, 'commands'), ...(MQTT_URL ? { share_group: `g${id}` } : {}) },
        media: { dir: join(dir, 'media') },
        channels: [{ id: 1, protocol: 'ruptela', host: '127.0.0.1', tcp_port: 0 }],
        redis_url: REDIS_URL,
        redis_prefix: prefix,
        device_lease_s: 2,
        stats_interval_s: 3600,
        shutdown_timeout_s: 2,
      };
    },
    async close() {
      if (broker) await broker.close();
      const r = new Redis(REDIS_URL);
      const keys = await r.keys(`${prefix}*`);
      if (keys.length) await r.del(...keys);
      r.disconnect();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
  };
}

async function instance(c: Cluster, name: string): Promise<Harness> {
  // the harness builds mqtt, channels and the data directories itself
  const { mqtt: _m, channels, spool: _s, media: _d, commands, ...rest } = c.config(name) as Record<string, unknown>;
  const { dir: _c, ...cmd } = commands as Record<string, unknown>;
  return startHarness({ root: c.root, brokerUrl: c.url, channels: channels as Record<string, unknown>[], extra: { ...rest, ...(Object.keys(cmd).length ? { commands: cmd } : {}) } });
}

/** Two instances, A and B, sharing Redis and the broker; closed with the cluster whatever the test does. */
async function withPair(fn: (p: { c: Cluster; a: Harness; b: Harness }) => Promise<void>): Promise<void> {
  const c = await cluster();
  const a = await instance(c, 'a');
  const b = await instance(c, 'b');
  try {
    await fn({ c, a, b });
  } finally {
    await a.close();
    await b.close();
    await c.close();
  }
}

/** A device connected to an instance's device port that sent its identification and got the ACK. */
async function identifiedOn(port: number, name: string): Promise<DeviceSocket> {
  const dev = await connectDevice(port);
  dev.socket.write(fromHex(IDENT_FRAME));
  await waitFor(`identified on ${name}`, () => dev.hex() === IDENT_ACK, 10_000);
  return dev;
}

async function identOf(): Promise<string> {
  const proto = await getProtocol('ruptela');
  return String(proto.decode(fromHex(IDENT_FRAME), { transport: 'tcp', session: {}, receivedAtMs: 0, options: {} }).session!.ident);
}

async function encoded(name: string, properties: Record<string, unknown>, ident: string): Promise<string> {
  const proto = await getProtocol('ruptela');
  return Buffer.from(proto.encode({ name, properties }, { ident }).bytes).toString('hex');
}

test('a command queued on A for an offline device is delivered once by B, where the device connects, with its meta', { skip: skipReason ?? false, timeout: 60_000 }, async () => {
  await withPair(async ({ c, a, b }) => {
    const ident = await identOf();
    const meta = '{"ticket":"OPS-9","n":[1,2.50]}';
    await a.sub.publishAsync(`${c.root}/command/gw/channels/1/devices/${ident}`, `{"id":"x1","name":"get_version","meta":${meta}}`, { qos: 1 });
    await waitFor('queued', () => events(a, ident).some((e) => e.status === 'queued'), 10_000);
    await sleep(500); // both instances got the request (or one, with a shared group): one queued event either way
    assert.equal(events(a, ident).filter((e) => e.status === 'queued').length, 1, 'queued once');

    const dev = await connectDevice(b.app.channels[0]!.tcpPort);
    dev.socket.write(fromHex(IDENT_FRAME));
    const cmd = await encoded('get_version', {}, ident);
    await waitFor('B writes the command after the ident ACK', () => dev.hex() === IDENT_ACK + cmd, 10_000);
    dev.socket.write(deviceFrame(BigInt(ident), 3, Buffer.from('FW 00.03.68.04')));
    const processed = await waitFor('processed', () => events(a, ident).find((e) => e.status === 'processed'), 10_000);
    assert.equal(processed.body.executed, true);
    assert.ok(processed.raw.includes(`"meta":${meta}`), processed.raw);
    await sleep(500);
    assert.deepEqual(events(a, ident).map((e) => e.status), ['queued', 'sent', 'processed'], 'every lifecycle event once');
    assert.equal(dev.hex(), IDENT_ACK + cmd, 'written once');
    assert.deepEqual(a.app.commands.heldFor('1', ident), []);
    dev.socket.destroy();
  });
});

test('ident collision across instances: the device connects to B while A holds it, A closes its connection with code 12', { skip: skipReason ?? false, timeout: 60_000 }, async () => {
  await withPair(async ({ c, a, b }) => {
    const ident = await identOf();
    const onA = await identifiedOn(a.app.channels[0]!.tcpPort, 'A');
    const onB = await identifiedOn(b.app.channels[0]!.tcpPort, 'B');
    await waitFor('A closed its connection', () => onA.closed, 10_000);
    const closed = await waitFor('closed event', () => a.received.find((r) => r.topic.endsWith('/closed') && r.payload.includes('"close_code":12')), 10_000);
    assert.match(closed.payload, new RegExp(`connected to instance ${c.root}-b`));
    assert.equal(onB.closed, false, 'the new connection stays');
    assert.equal(b.app.channels[0]!.isOnline(ident), true);
    assert.equal(a.app.channels[0]!.isOnline(ident), false);
    onB.socket.destroy();
  });
});

test('an instance that starts does not mark devices another instance holds as disconnected', { skip: skipReason ?? false, timeout: 60_000 }, async () => {
  const c = await cluster();
  const a = await instance(c, 'a');
  let b: Harness | null = null;
  try {
    const ident = await identOf();
    const dev = await connectDevice(a.app.channels[0]!.tcpPort);
    dev.socket.write(fromHex(IDENT_FRAME));
    const topic = `${c.root}/state/gw/channels/1/devices/${ident}/connected`;
    await waitFor('connected true', () => a.received.some((r) => r.topic === topic && r.payload === 'true'), 10_000);
    b = await instance(c, 'b');
    // B's start-up scan saw the retained "true" (its harness subscriber got it too) and asked Redis
    await waitFor('B saw the retained state', () => b!.received.some((r) => r.topic === topic && r.retain && r.payload === 'true'), 10_000);
    await sleep(1000);
    assert.deepEqual(a.received.filter((r) => r.topic === topic).map((r) => r.payload), ['true'], 'never corrected to false while A holds the device');
    dev.socket.destroy();
    await waitFor('false once it disconnects', () => a.received.some((r) => r.topic === topic && r.payload === 'false'), 10_000);
  } finally {
    await a.close();
    await b?.close();
    await c.close();
  }
});

function startChild(config: Record<string, unknown>): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [join(projectRoot(), 'dist/test/support/instance-child.js'), JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error('child did not start in 20 s')), 20_000);
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /port (\d+)\n/.exec(buf);
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]) });
      }
    });
    child.once('exit', (code) => reject(new Error(`child exited (${code})`)));
  });
}

test('SIGKILL of A: its device reconnects to B, which delivers the commands A held (the unanswered one again, then the queued one)', { skip: skipReason ?? false, timeout: 60_000 }, async () => {
  const c = await cluster();
  const { child, port } = await startChild(c.config('a'));
  const b = await instance(c, 'b');
  try {
    const ident = await identOf();
    const dev = await identifiedOn(port, 'A');
    const topic = `${c.root}/command/gw/channels/1/devices/${ident}`;
    await b.sub.publishAsync(topic, '{"id":"k1","name":"get_version","meta":{"k":1}}', { qos: 1 });
    const first = await encoded('get_version', {}, ident);
    await waitFor('A wrote k1', () => dev.hex() === IDENT_ACK + first, 10_000);
    await b.sub.publishAsync(topic, '{"id":"k2","name":"text","properties":{"text":"hi"},"meta":{"k":2}}', { qos: 1 });
    await waitFor('k2 queued', () => events(b, ident).some((e) => e.status === 'queued' && e.body.id === 'k2'), 10_000);
    // A has k1 in flight (no reply yet) and k2 queued behind it; then A dies without a word
    child.kill('SIGKILL');
    await new Promise((r) => child.once('close', r));
    await waitFor('device sees the connection drop', () => dev.closed, 10_000);

    const again = await connectDevice(b.app.channels[0]!.tcpPort);
    again.socket.write(fromHex(IDENT_FRAME));
    await waitFor('B writes k1 again', () => again.hex() === IDENT_ACK + first, 10_000);
    again.socket.write(deviceFrame(BigInt(ident), 3, Buffer.from('FW 1')));
    const second = await encoded('text', { text: 'hi' }, ident);
    await waitFor('then k2', () => again.hex() === IDENT_ACK + first + second, 10_000);
    const p1 = await waitFor('k1 processed', () => events(b, ident).find((e) => e.status === 'processed' && e.body.id === 'k1'), 10_000);
    assert.equal(p1.body.attempt, 2, 'written once by A, once by B');
    assert.equal((p1.body.meta as { k: number }).k, 1);
    again.socket.destroy();
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await b.close();
    await c.close();
  }
});

test('cancel and expiry across instances: each reported once, a canceled command never reaches the device', { skip: skipReason ?? false, timeout: 60_000 }, async () => {
  await withPair(async ({ c, a, b }) => {
    const ident = await identOf();
    const dev = await identifiedOn(b.app.channels[0]!.tcpPort, 'B');
    const topic = `${c.root}/command/gw/channels/1/devices/${ident}`;
    await a.sub.publishAsync(topic, '{"id":"m1","name":"get_version"}', { qos: 1 });
    const first = await encoded('get_version', {}, ident);
    await waitFor('B wrote m1', () => dev.hex() === IDENT_ACK + first, 10_000);
    await a.sub.publishAsync(topic, '{"id":"m2","name":"text","properties":{"text":"no"}}', { qos: 1 });
    await waitFor('m2 queued', () => events(a, ident).some((e) => e.status === 'queued' && e.body.id === 'm2'), 10_000);
    // the cancel may be taken by either instance: B holds m2 in memory, Redis holds it for both
    await a.sub.publishAsync(`${topic}/cancel`, '{"id":"m2"}', { qos: 1 });
    await waitFor('m2 canceled', () => events(a, ident).some((e) => e.status === 'canceled' && e.body.id === 'm2'), 10_000);
    dev.socket.write(deviceFrame(BigInt(ident), 3, Buffer.from('FW 2')));
    await waitFor('m1 processed', () => events(a, ident).some((e) => e.status === 'processed' && e.body.id === 'm1'), 10_000);

    // a device nobody holds: its command expires, reported by one instance
    const offline = '351234567890123';
    await a.sub.publishAsync(`${c.root}/command/gw/channels/1/devices/${offline}`, '{"id":"m3","name":"get_version","ttl":1}', { qos: 1 });
    await waitFor('m3 expired', () => events(a, offline).some((e) => e.status === 'expired'), 10_000);
    await sleep(1500);
    assert.deepEqual(events(a, offline).map((e) => e.status), ['queued', 'expired']);
    assert.deepEqual(events(a, ident).filter((e) => e.body.id === 'm2').map((e) => e.status), ['queued', 'canceled']);
    assert.equal(dev.hex(), IDENT_ACK + first, 'm2 was never written');
    dev.socket.destroy();
  });
});
