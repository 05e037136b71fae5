import { after, before, describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { Redis } from 'ioredis';
import { deviceFrame, recordsFrame, typicalRecord } from '../protocols/ruptela/device-frames.js';
import { getProtocol } from '../src/protocol/registry.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../src/mqtt/embedded-broker.js';
import { waitFor, sleep } from './support/harness.js';
import { REDIS_URL, redisSkipReason } from './support/redis.js';
import { connectDevice, connectFrom, type DeviceSocket } from './support/device-socket.js';
import { alive, connectionHolder, startMultiProcess, type LogLine, type MultiProcess } from './support/multi-process.js';
import { crc16Kermit } from '../src/codec/crc.js';
import { CARD, CARD_IO } from './support/driver-card.js';
import { runCli } from './support/run-cli.js';
import { reusePortSupport } from '../src/processes/balance.js';

/**
 * One channel on two processes of one box: the real `edge-channel start --processes 2` (a primary
 * forking two full runtimes on the same ports), against a broker of the test's own on an ephemeral
 * port and the test Redis (REDIS_URL or the local default; skipped with the reason when none
 * answers) under a key prefix of its own. What must hold across the processes: devices land on
 * both, a command reaches its device once whichever process holds it, the UDP limit is one count,
 * the blacklist holds in each, a killed process comes back and its devices reconnect, SIGTERM
 * stops all; and a process that cannot start, or keeps dying, ends the primary non-zero.
 */
const skipReason = await redisSkipReason();
if (skipReason) console.log(`# processes tests skipped: ${skipReason}`);

const RECORDS_ACK = '0002640113bc';
const IMEI_BASE = 865_100_000_000_000n + BigInt(randomBytes(2).readUInt16BE() * 1000);

interface Rig {
  mp: MultiProcess;
  broker: EmbeddedBroker;
  sub: MqttClient;
  received: { topic: string; payload: string; retain: boolean }[];
  redis: Redis;
  root: string;
  prefix: string;
  instance: string;
  tcpPort: number;
  udpPort: number;
  balance: 'reuseport' | 'primary';
  pids: number[];
  close(): Promise<void>;
}

const READ_TOKEN = 'processes-read-token-0123456789';

/**
 * The rig's listeners use port 0: the primary picks free ports and the processes bind them about a
 * second later, once MQTT and Redis are connected. Test files run in parallel, so another test's
 * listener can take a picked port in between; the start then fails with EDGE_PORT_IN_USE (as it
 * should) and the rig starts again with fresh ports, once.
 */
async function startRig(channel: Record<string, unknown> = {}, extra: Record<string, unknown> = {}, protocol = 'ruptela'): Promise<Rig> {
  try {
    return await startRigOnce(channel, extra, protocol);
  } catch (e) {
    if (!/EDGE_PORT_IN_USE/.test((e as Error).message)) throw e;
    return startRigOnce(channel, extra, protocol);
  }
}

async function startRigOnce(channel: Record<string, unknown>, extra: Record<string, unknown>, protocol: string): Promise<Rig> {
  const id = randomBytes(4).toString('hex');
  const root = `mp${id}`;
  const prefix = `edge-test-${id}:`;
  const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0 });
  const sub = await connectAsync(broker.url, { clientId: `sub-${root}`, clean: true });
  const received: Rig['received'] = [];
  sub.on('message', (topic, payload, packet) => received.push({ topic, payload: payload.toString(), retain: packet.retain }));
  await sub.subscribeAsync(`${root}/#`, { qos: 1 });
  const mp = startMultiProcess({
    instance_id: root,
    log_level: 'info',
    mqtt: { url: broker.url, topic_root: root },
    redis_url: REDIS_URL,
    redis_prefix: prefix,
    device_lease_s: 2,
    stats_interval_s: 1,
    shutdown_timeout_s: 2,
    spool: { dir: 'spool' },
    channels: [{ id: 1, protocol, host: '127.0.0.1', tcp_port: 0, udp_port: 0, ...channel }],
    ...extra,
  }, ['--processes', '2']);
  const redis = new Redis(REDIS_URL);
  const close = async () => {
    await mp.close();
    await sub.endAsync();
    await broker.close();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  };
  try {
    const ready = await waitFor('all processes ready', () => {
      // a process that lost its picked port: fail now, so startRig starts again at once, not after 30 s
      if (mp.output().includes('EDGE_PORT_IN_USE')) throw new Error('a process reported EDGE_PORT_IN_USE');
      return mp.lines.find((l) => l.process === 'primary' && /^all 2 processes ready$/.test(l.msg));
    }, 30_000);
    const where = mp.lines.find((l) => /connect to tcp:/.test(l.msg))!.msg;
    const [, tcp, udp] = /tcp:\/\/127\.0\.0\.1:(\d+)(?: and udp:\/\/127\.0\.0\.1:(\d+))?/.exec(where)!;
    const plan = mp.lines.find((l) => l.process === 'primary' && /processes serve the channels/.test(l.msg))!;
    return { mp, broker, sub, received, redis, root, prefix, instance: root, tcpPort: Number(tcp), udpPort: Number(udp), balance: plan.balance as Rig['balance'], pids: ready.pids as number[], close };
  } catch (e) {
    await close();
    throw new Error(`${(e as Error).message}\n${mp.output().slice(-3000)}`);
  }
}

/** Which process (p0, p1) holds a device, from its ownership key in Redis. */
async function ownerOf(r: Rig, imei: bigint): Promise<string | null> {
  const v = await r.redis.get(`${r.prefix}own:1:${imei}`);
  return v === null ? null : v.slice(r.instance.length + 1);
}

/** A device that sent one records frame and got its ACK (identified on whichever process took it). */
async function device(r: Rig, imei: bigint): Promise<DeviceSocket> {
  const dev = await connectDevice(r.tcpPort);
  dev.socket.write(recordsFrame(imei, [typicalRecord(1_735_690_500, 1)]));
  await waitFor(`ACK for ${imei}`, () => dev.hex() === RECORDS_ACK, 15_000);
  return dev;
}

/** Log lines of one process that summed: drops by reason over the stats intervals seen so far. */
function drops(r: Rig, reason: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const l of r.mp.lines) {
    if (l.msg !== 'guard drops in the last interval') continue;
    const n = (l.by_reason as Record<string, number> | undefined)?.[reason] ?? 0;
    if (n) out.set(l.process!, (out.get(l.process!) ?? 0) + n);
  }
  return out;
}

const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

function events(r: Rig, ident: string): { status: string; body: Record<string, unknown> }[] {
  const p = `${r.root}/log/gw/channels/1/devices/${ident}/commands/`;
  return r.received.filter((m) => m.topic.startsWith(p)).map((m) => ({ status: m.topic.slice(p.length), body: JSON.parse(m.payload) as Record<string, unknown> }));
}

describe('one channel on two processes (edge-channel start --processes 2)', { skip: skipReason ?? false, timeout: 180_000 }, () => {
  let r: Rig;
  const devices = new Map<bigint, DeviceSocket>();
  before(async () => {
    r = await startRig({ ip_blacklist: ['127.0.0.2'], max_udp_packets_per_minute: 5 }, {
      assets: [{ id: 'drv-1', name: 'Anna Driver', type: 'driver', match: { parameter: 'tacho.fms.driver.id.1', value: CARD } }],
      asset_settings: { absence_grace_s: 0 },
      http: { port: 0, tokens: `read:${READ_TOKEN}` },
    });
  });
  after(async () => {
    for (const d of devices.values()) d.socket.destroy();
    await r?.close();
  });

  it('says how it balances, and every process has its own instance id', () => {
    assert.equal(r.balance, reusePortSupport().ok ? 'reuseport' : 'primary', 'auto: reuseport where this Node and OS have it');
    const starting = r.mp.lines.filter((l) => /^process \d of 2 starting$/.test(l.msg));
    assert.deepEqual(starting.map((l) => l.instance_id).sort(), [`${r.instance}-p0`, `${r.instance}-p1`]);
    assert.equal(r.pids.length, 2);
    assert.ok(r.pids.every(alive));
  });

  it('devices that connect land on both processes', async () => {
    // 20: with reuseport the kernel's hash decides, and all 20 on one process is a 1 in 500,000 chance
    for (let i = 0n; i < 20n; i++) devices.set(IMEI_BASE + i, await device(r, IMEI_BASE + i));
    const owners = await Promise.all([...devices.keys()].map((imei) => ownerOf(r, imei)));
    assert.deepEqual([...new Set(owners)].sort(), ['p0', 'p1'], `owners: ${owners.join(',')}`);
    // the retained connections_count is the box's (each process reports its own into Redis and
    // publishes the sum), not the half of whichever process wrote last
    const count = () => r.received.filter((m) => m.topic === `${r.root}/state/gw/channels/1/connections_count`).at(-1)?.payload;
    await waitFor('connections_count 20', () => count() === '20', 15_000);
    await sleep(1200);
    assert.equal(count(), '20', 'and it stays the box\'s: no process publishes its own half after it');
  });

  it("process 0's /metrics and API count every process: the primary gathers them (metrics summed, channels and devices merged)", async () => {
    const url = String(r.mp.lines.find((l) => l.process === 'p0' && l.msg.startsWith('health and metrics on '))!.url);
    const res = await fetch(`${url}/metrics`);
    assert.equal(res.status, 200);
    const text = await res.text();
    const value = (series: string) => {
      const line = text.split('\n').find((l) => l.startsWith(series + ' '));
      assert.ok(line, `${series} in /metrics`);
      return Number(line.slice(series.length + 1));
    };
    // 20 devices, one records frame each, spread over both processes (the test above)
    assert.equal(value('edge_connections{channel="1"}'), 20);
    assert.equal(value('edge_frames_total{channel="1"}'), 20);
    assert.equal(value('edge_acks_total{channel="1"}'), 20);
    assert.equal(value('edge_mqtt_connected'), 1);
    const instances = [...text.matchAll(/^edge_info\{instance="([^"]+)"/gm)].map((m) => m[1]).sort();
    assert.deepEqual(instances, [`${r.instance}-p0`, `${r.instance}-p1`]);
    assert.equal(text.match(/^# TYPE edge_frames_total /gm)?.length, 1, 'one family, not one per process');
    // process 0's API: the channel's connections and counters are the box's
    const auth = { headers: { authorization: `Bearer ${READ_TOKEN}` } };
    const ch = (await (await fetch(`${url}/api/v1/channels`, auth)).json()) as { items: { id: number; connections: number; counters: Record<string, number> }[]; processes: unknown };
    assert.deepEqual(ch.processes, { count: 2, missing: [] });
    assert.equal(ch.items.length, 1);
    assert.equal(ch.items[0]!.connections, 20);
    assert.equal(ch.items[0]!.counters.frames, 20);
    // the console's device list has every process's devices, each connected
    const list = (await (await fetch(`${url}/api/v1/channels/1/devices?limit=50`, auth)).json()) as { total: number; items: { ident: string; connected: boolean; latest_message: unknown }[]; processes: unknown };
    assert.equal(list.total, 20);
    assert.deepEqual(list.items.map((i) => i.ident).sort(), [...devices.keys()].map(String).sort());
    assert.ok(list.items.every((i) => i.connected && i.latest_message !== null), 'connected, with the latest message from its own process');
    assert.deepEqual(list.processes, { count: 2, missing: [] });
    // and process 0's API says a device on either process is connected, and where
    const byOwner = new Map<string, bigint>();
    for (const imei of devices.keys()) byOwner.set((await ownerOf(r, imei))!, imei);
    for (const [owner, imei] of byOwner) {
      const d = (await (await fetch(`${url}/api/v1/devices/1/${imei}`, auth)).json()) as Record<string, unknown>;
      assert.equal(d.connected, true, `${imei} on ${owner}`);
      assert.equal(d.connected_instance, `${r.instance}-${owner}`);
      assert.equal((d.latest_message as Record<string, unknown> | null)?.ident, String(imei), `the latest message of ${imei}, published by ${owner}`);
    }
    // /api/v1/instance: the box's readiness and MQTT connection, and each process's own
    const inst = (await (await fetch(`${url}/api/v1/instance`, auth)).json()) as { instance_id: string; ready: boolean; mqtt_connected: boolean; instances: { index: number; instance_id: string; ready: boolean; mqtt_connected: boolean }[]; processes: unknown; channels: unknown };
    assert.equal(inst.instance_id, `${r.instance}-p0`);
    assert.equal(inst.ready, true);
    assert.equal(inst.mqtt_connected, true);
    assert.deepEqual(inst.instances.map((i) => [i.index, i.instance_id, i.ready, i.mqtt_connected]), [[0, `${r.instance}-p0`, true, true], [1, `${r.instance}-p1`, true, true]]);
    assert.deepEqual(inst.processes, { count: 2, missing: [] });
    assert.deepEqual(inst.channels, ['1']);
    // /readyz: ready while every process is
    const ready = await fetch(`${url}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { ready: true, reasons: [], processes: { count: 2, missing: [] } });
  });

  it('a command over MQTT reaches its device once, whichever process holds it, with its lifecycle events', async () => {
    const proto = await getProtocol('ruptela');
    const cmd = Buffer.from(proto.encode({ name: 'get_version', properties: {} }, { ident: '0' }).bytes).toString('hex');
    const byOwner = new Map<string, bigint>();
    for (const imei of devices.keys()) byOwner.set((await ownerOf(r, imei))!, imei);
    for (const [owner, imei] of byOwner) {
      const ident = String(imei);
      const dev = devices.get(imei)!;
      const want = Buffer.from(proto.encode({ name: 'get_version', properties: {} }, { ident }).bytes).toString('hex');
      assert.equal(want.length, cmd.length);
      await r.sub.publishAsync(`${r.root}/command/gw/channels/1/devices/${ident}`, JSON.stringify({ id: `c-${owner}`, name: 'get_version', meta: { on: owner } }), { qos: 1 });
      await waitFor(`the command reaches the device on ${owner}`, () => dev.hex() === RECORDS_ACK + want, 15_000);
      dev.socket.write(deviceFrame(imei, 3, Buffer.from('FW 00.03.68.04')));
      const processed = await waitFor('processed', () => events(r, ident).find((e) => e.status === 'processed'), 15_000);
      assert.equal(processed.body.executed, true);
      assert.deepEqual(processed.body.meta, { on: owner });
    }
    // both processes got every request (no shared subscription); Redis admitted each once
    await sleep(1000);
    for (const imei of byOwner.values()) {
      assert.deepEqual(events(r, String(imei)).map((e) => e.status), ['queued', 'sent', 'processed'], 'every lifecycle event once');
      assert.equal(devices.get(imei)!.hex().length, RECORDS_ACK.length + cmd.length, 'written once');
    }
  });

  it('a driver card that moves from a device on one process to a device on the other: one timeline, each change published once', async () => {
    const on = new Map<string, bigint>();
    for (const imei of devices.keys()) on.set((await ownerOf(r, imei))!, imei);
    const [x, y] = [on.get('p0')!, on.get('p1')!];
    const t0 = Math.floor(Date.now() / 1000) - 3600;
    const send = async (imei: bigint, ts: number, card: boolean) => {
      const dev = devices.get(imei)!;
      const want = dev.hex() + RECORDS_ACK;
      dev.socket.write(recordsFrame(imei, [{ timestamp: ts, latitude: 54.68, longitude: 25.28, satellites: 9, ...(card ? { io8: CARD_IO } : {}) }]));
      await waitFor(`ACK for ${imei} at ${ts}`, () => dev.hex() === want, 15_000);
    };
    const events = () => r.received.filter((m) => m.topic.startsWith(`${r.root}/log/gw/assets/drv-1/intervals/`)).map((m) => `${m.topic.split('/').at(-1)}:${String((JSON.parse(m.payload) as { id: number }).id)}`);
    await send(x, t0 + 10, true);
    // the write's notice (Redis pub/sub, sent by the write itself) reaches the other process long before this event reaches us
    await waitFor('opened on the first process', () => events().includes('created:1'), 15_000);
    await send(y, t0 + 40, true);
    await send(x, t0 + 50, false);
    await waitFor('moved', () => events().length >= 3, 15_000);
    await sleep(500);
    assert.deepEqual(events(), ['created:1', 'closed:1', 'created:2'], 'each change published once, by the process that made it');
    const active = r.received.filter((m) => m.topic === `${r.root}/state/gw/assets/drv-1/active`).at(-1)!;
    assert.deepEqual(JSON.parse(active.payload), { id: 2, begin: t0 + 40, end: 0, ident: String(y), channel_id: 1, meta: null, source: 'auto' });
    const message = (imei: bigint, ts: number) => r.received.filter((m) => m.topic === `${r.root}/message/gw/channels/1/${imei}`).map((m) => JSON.parse(m.payload) as Record<string, unknown>).find((m) => m.timestamp === ts);
    const msgs = await waitFor('the three messages', () => {
      const m = [message(x, t0 + 10), message(y, t0 + 40), message(x, t0 + 50)];
      return m.every(Boolean) ? m : undefined;
    }, 15_000);
    assert.deepEqual(msgs.map((m) => m!['asset.driver.id'] ?? null), ['drv-1', 'drv-1', null], 'each message carries the asset at its own time, whichever process published it');
  });

  it('a blacklisted address is dropped by every process', async () => {
    const n = 20;
    const clients = await Promise.all(Array.from({ length: n }, () => connectFrom(r.tcpPort, '127.0.0.2')));
    await waitFor('every blacklisted connection closed', () => clients.every((c) => c.closed), 15_000);
    assert.ok(clients.every((c) => c.got === ''), 'nothing was answered');
    const counted = await waitFor('the drops counted', () => (sum(drops(r, 'blacklist')) >= n ? drops(r, 'blacklist') : undefined), 15_000);
    assert.equal(sum(counted), n);
    assert.deepEqual([...counted.keys()].sort(), ['p0', 'p1'], 'both processes applied the list');
  });

  it('SIGHUP to the primary reloads every process: a new blacklist entry applies in each', async () => {
    const file = join(r.mp.dir, 'config.json');
    const cfg = JSON.parse(readFileSync(file, 'utf8')) as { channels: { ip_blacklist: string[] }[] };
    cfg.channels[0]!.ip_blacklist.push('127.0.0.3');
    writeFileSync(file, JSON.stringify(cfg));
    r.mp.child.kill('SIGHUP');
    await r.mp.waitLine('the primary passed it on', (l) => l.process === 'primary' && /^SIGHUP: every process reloads/.test(l.msg));
    for (const p of ['p0', 'p1']) await r.mp.waitLine(`${p} reloaded on SIGHUP`, (l) => l.process === p && l.msg === 'reloading configuration' && l.why === 'SIGHUP');
    for (const p of ['p0', 'p1']) await r.mp.waitLine(`${p} applied the list`, (l) => l.process === p && /^config reloaded: applied .*ip_blacklist/.test(l.msg));
    const before = sum(drops(r, 'blacklist'));
    const clients = await Promise.all(Array.from({ length: 20 }, () => connectFrom(r.tcpPort, '127.0.0.3')));
    await waitFor('every connection from the new entry closed', () => clients.every((c) => c.closed), 15_000);
    assert.ok(clients.every((c) => c.got === ''));
    await waitFor('counted', () => sum(drops(r, 'blacklist')) - before >= 20, 15_000);
  });

  it('the UDP per-minute limit is one count across the processes (Redis)', async () => {
    const sources = 20;
    const limit = 5;
    const socks: UdpSocket[] = [];
    let replies = 0;
    const before = sum(drops(r, 'rate'));
    try {
      for (let i = 0; i < sources; i++) {
        const s = createSocket('udp4');
        s.on('message', () => replies++);
        await new Promise<void>((ok) => s.bind(0, '127.0.0.1', () => ok()));
        socks.push(s);
      }
      socks.forEach((s, i) => s.send(recordsFrame(IMEI_BASE + 1000n + BigInt(i), [typicalRecord(1_735_690_500, 1)]), r.udpPort, '127.0.0.1'));
      await waitFor(`${limit} datagrams answered`, () => replies >= limit, 15_000);
      const refused = await waitFor('the others refused and counted', () => (sum(drops(r, 'rate')) - before >= sources - limit ? sum(drops(r, 'rate')) - before : undefined), 15_000);
      assert.equal(refused, sources - limit);
      assert.equal(replies, limit, 'exactly the limit passed, whichever process took each datagram');
      const accepted = await Promise.all(Array.from({ length: sources }, (_, i) => ownerOf(r, IMEI_BASE + 1000n + BigInt(i))));
      const counting = new Set([...drops(r, 'rate').keys(), ...accepted.filter((o): o is string => o !== null)]);
      if (r.balance === 'reuseport') assert.deepEqual([...counting].sort(), ['p0', 'p1'], 'with reuseport both processes took datagrams');
      else assert.deepEqual([...counting], ['p0'], 'without reuseport process 0 serves UDP alone');
    } finally {
      for (const s of socks) s.close();
    }
  });

  it('a killed process is started again, and its devices reconnect', async () => {
    const victim = r.pids[1]!;
    const onP1: bigint[] = [];
    for (const imei of devices.keys()) if ((await ownerOf(r, imei)) === 'p1') onP1.push(imei);
    assert.ok(onP1.length > 0);
    process.kill(victim, 'SIGKILL');
    const exit = await r.mp.waitLine('EDGE_PROCESS_EXITED', (l) => l.code === 'EDGE_PROCESS_EXITED' && l.worker_pid === victim);
    assert.equal(exit.worker, 'p1');
    assert.equal(exit.signal, 'SIGKILL');
    await waitFor("process 1's devices see their connection drop", () => onP1.every((imei) => devices.get(imei)!.closed), 15_000);
    const back = await r.mp.waitLine('process 1 is back', (l) => l.msg.startsWith('process 1 is back'), 30_000);
    assert.notEqual(back.worker_pid, victim);
    for (const imei of onP1) devices.set(imei, await device(r, imei));
    // the new process 1 takes connections again
    let owner: string | null = null;
    for (let i = 0n; i < 16n && owner !== 'p1'; i++) {
      const imei = IMEI_BASE + 500n + i;
      devices.set(imei, await device(r, imei));
      owner = await ownerOf(r, imei);
    }
    assert.equal(owner, 'p1');
    r.pids[1] = back.worker_pid as number;
  });

  it('SIGTERM stops every process cleanly (exit 0, each says offline)', async () => {
    r.mp.child.kill('SIGTERM');
    assert.equal(await r.mp.exited, 0, r.mp.output().slice(-3000));
    assert.ok(r.pids.every((p) => !alive(p)), 'no process left behind');
    for (const p of ['p0', 'p1']) {
      const online = r.received.filter((m) => m.topic === `${r.root}/state/gw/instances/${r.instance}-${p}/online`).map((m) => m.payload);
      assert.equal(online.at(-1), 'false', `${p} said it is offline`);
    }
  });
});

test('a process killed five times within a minute: the primary stops everything and exits 1', { skip: skipReason ?? false, timeout: 180_000 }, async () => {
  const r = await startRig();
  try {
    for (let k = 1; k <= 5; k++) {
      const pid = k === 1 ? r.pids[1]! : ((await r.mp.waitLine(`process 1 back (${k})`, (l) => l.msg.startsWith('process 1 is back') && !r.pids.includes(l.worker_pid as number), 60_000)).worker_pid as number);
      r.pids.push(pid);
      process.kill(pid, 'SIGKILL');
      await r.mp.waitLine(`exit ${k} seen`, (l) => (l.code === 'EDGE_PROCESS_EXITED' || l.code === 'EDGE_PROCESS_CRASH_LOOP') && l.worker_pid === pid);
    }
    assert.equal(await r.mp.exited, 1, r.mp.output().slice(-3000));
    const fatal = r.mp.lines.find((l) => l.code === 'EDGE_PROCESS_CRASH_LOOP')!;
    assert.match(fatal.msg, /process 1 died 5 times within 60 s/);
    assert.ok(r.pids.every((p) => !alive(p)), 'process 0 was stopped too');
  } finally {
    await r.close();
  }
});

test('a process that cannot start ends the primary with exit status 2, without restarts', { skip: skipReason ?? false, timeout: 120_000 }, async () => {
  const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0 });
  // readable by the primary's checks, refused by each process's tacho feature at start
  const mp = startMultiProcess({ log_level: 'info', mqtt: { url: broker.url, topic_root: `mpx${randomBytes(4).toString('hex')}` }, redis_url: REDIS_URL, redis_prefix: `edge-test-${randomBytes(4).toString('hex')}:`, tacho: { roots: ['/nonexistent/erca-root.bin'] }, channels: [{ id: 1, protocol: 'ruptela', host: '127.0.0.1', tcp_port: 0 }] }, ['--processes', '2']);
  try {
    assert.equal(await mp.exited, 2, mp.output().slice(-3000));
    const lines: LogLine[] = mp.lines;
    assert.ok(lines.some((l) => l.process?.startsWith('p') && l.code === 'EDGE_CONFIG_INVALID' && /tacho\.roots/.test(l.msg)), 'the process said why');
    assert.ok(lines.some((l) => l.process === 'primary' && l.code === 'EDGE_PROCESS_CRASH_LOOP' && /could not start/.test(l.msg)));
    assert.equal(lines.filter((l) => l.code === 'EDGE_PROCESS_EXITED').length, 0, 'no restart');
  } finally {
    await mp.close();
    await broker.close();
  }
});

test('several processes without redis_url or an external broker: exit 2 naming each key, nothing forked', async () => {
  const mp = startMultiProcess({ log_level: 'info', channels: [{ id: 1, protocol: 'ruptela', host: '127.0.0.1', tcp_port: 0 }] }, ['--processes', '2']);
  try {
    assert.equal(await mp.exited, 2);
    assert.match(mp.output(), /EDGE_CONFIG_INVALID: redis_url: expected a redis:\/\/ URL with processes 2 .*; and 1 more: mqtt\.url: expected an external broker with processes 2/);
    assert.ok(!mp.lines.some((l) => l.process === 'p0'), 'no process was started');
  } finally {
    await mp.close();
  }
  const flag = await runCli(['start', '--processes', 'lots']);
  assert.equal(flag.status, 2);
  assert.match(flag.stderr, /EDGE_CLI_USAGE: --processes expects an integer 1\.\.256 or "auto", got "lots"/);
});

/** A Teltonika DualCam sends one front photo on the camera part (README "Teltonika"); resolves with the process that held the connection. */
async function cameraPhoto(r: Rig, port: number, imei: string, photo: Buffer): Promise<number | null> {
  const cam = await connectDevice(port);
  const packet = (cmd: number, data: Buffer) => Buffer.concat([Buffer.from([cmd >> 8, cmd & 0xff, data.length >> 8, data.length & 0xff]), data]);
  const u32 = (v: number) => Buffer.from([v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff]);
  const crc = crc16Kermit(photo);
  let expected = '';
  const expect = async (what: string, hex: string) => {
    expected += hex;
    await waitFor(what, () => cam.hex() === expected, 15_000);
  };
  try {
    // protocol 5, the IMEI, settings bit 26 (front photo)
    cam.socket.write(Buffer.concat([Buffer.from([0, 0, 0, 5]), Buffer.from(BigInt(imei).toString(16).padStart(16, '0'), 'hex'), u32(1 << 26)]));
    await expect('%photof requested', packet(0x0008, Buffer.from('%photof')).toString('hex'));
    cam.socket.write(packet(0x0001, Buffer.concat([u32(1), Buffer.from([0, 0])]))); // START: 1 packet
    await expect('RESUME 1', '0002000400000001');
    cam.socket.write(Buffer.concat([packet(0x0003, u32(1)), packet(0x0004, Buffer.concat([photo, Buffer.from([crc >> 8, crc & 0xff])]))]));
    await expect('COMPLETE', '0005000400000000');
    return connectionHolder(port, cam.socket.localPort!, r.pids);
  } finally {
    cam.socket.destroy();
  }
}

test('a file stored by either process downloads through the link in its message, served by process 0', { skip: skipReason ?? false, timeout: 120_000 }, async () => {
  const r = await startRig({ udp_port: null, parts: { camera: { tcp_port: 0 } } }, { http: { port: 0 }, media: { dir: 'media' } }, 'teltonika');
  try {
    const listening = r.mp.lines.find((l) => l.process === 'p0' && l.msg === 'channel 1 (teltonika) listening')!;
    const cameraPort = Number(/:(\d+) \(camera\)/.exec(String(listening.tcp))![1]);
    const http = String(r.mp.lines.find((l) => l.process === 'p0' && l.msg.startsWith('health and metrics on '))!.url);
    assert.ok(!r.mp.lines.some((l) => l.process === 'p1' && l.msg.startsWith('health and metrics on ')), 'one HTTP listener, in process 0');
    const byHolder = new Map<number, { imei: string; photo: Buffer }>();
    for (let i = 0; i < 24 && byHolder.size < 2; i++) {
      const imei = String(352_094_082_700_000 + Number(IMEI_BASE % 100_000n) + i);
      const photo = randomBytes(700);
      const holder = await cameraPhoto(r, cameraPort, imei, photo);
      if (holder !== null && !byHolder.has(holder)) byHolder.set(holder, { imei, photo });
    }
    assert.deepEqual([...byHolder.keys()].sort(), [...r.pids].sort(), 'files stored by both processes');
    for (const { imei, photo } of byHolder.values()) {
      const m = await waitFor('the announcement', () => r.received.filter((x) => x.topic === `${r.root}/message/gw/channels/1/${imei}`).map((x) => JSON.parse(x.payload) as Record<string, unknown>).find((x) => x['media.image.1.file.url']), 15_000);
      const url = String(m['media.image.1.file.url']);
      assert.ok(url.startsWith(`${http}/media/`), `${url} is a link to process 0's listener`);
      const res = await fetch(url);
      assert.equal(res.status, 200);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), photo);
    }
  } finally {
    await r.close();
  }
});
