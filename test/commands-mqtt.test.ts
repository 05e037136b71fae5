/**
 * Device commands over real MQTT: the command service on its own MQTT.js client, an operator
 * client and the `edge-channel command` CLI, against the embedded broker always and Mosquitto
 * when MQTT_URL is set. The device side is a fake port (the runtime wiring is the lead's); the
 * clock is a fake one, moved by the test, for timeouts.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { CommandService } from '../src/commands/command-service.js';
import { COMMANDS_DEFAULTS } from '../src/config/commands-defaults.js';
import { FileCommandStore } from '../src/commands/file-command-store.js';
import { mqttClientPort } from '../src/commands/mqtt-client-port.js';
import { FakeClock, FakeDevice, IMEI } from './support/command-fakes.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../src/mqtt/embedded-broker.js';
import { makeTopics, type Topics } from '../src/mqtt/topics.js';
import { projectRoot } from '../src/util/paths.js';
import { waitFor } from './support/harness.js';
import { retained } from './support/retained.js';

interface Got {
  topic: string;
  payload: string;
}

interface Rig {
  url: string;
  root: string;
  topics: Topics;
  svc: CommandService;
  device: FakeDevice;
  clock: FakeClock;
  operator: MqttClient;
  got: Got[];
  events(id: string): { status: string; payload: string; body: Record<string, unknown> }[];
  close(): Promise<void>;
}

async function startRig(url: string): Promise<Rig> {
  const root = `c${process.pid}x${Math.floor(Math.random() * 1e9)}`;
  const topics = makeTopics(root);
  const dir = mkdtempSync(join(tmpdir(), 'edge-cmdmqtt-'));
  const clock = new FakeClock(Date.now());
  const device = new FakeDevice();
  const serviceClient = await connectAsync(url, { clientId: `svc-${root}`, clean: true });
  const store = new FileCommandStore({ dir, fsync: true });
  const svc = new CommandService({ device, mqtt: mqttClientPort(serviceClient), topics, store, config: { ...COMMANDS_DEFAULTS, dir }, now: clock.now });
  await svc.start();
  const operator = await connectAsync(url, { clientId: `op-${root}`, clean: true });
  const got: Got[] = [];
  operator.on('message', (topic, payload) => got.push({ topic, payload: payload.toString() }));
  await operator.subscribeAsync(`${root}/log/#`, { qos: 1 });
  return {
    url,
    root,
    topics,
    svc,
    device,
    clock,
    operator,
    got,
    events: (id) =>
      got
        .filter((g) => g.topic.includes('/commands/'))
        .map((g) => ({ status: g.topic.slice(g.topic.lastIndexOf('/') + 1), payload: g.payload, body: JSON.parse(g.payload) as Record<string, unknown> }))
        .filter((e) => e.body.id === id),
    async close() {
      await svc.stop();
      await store.close();
      // leave no retained state behind on a shared broker
      for (const p of await retainedUnder(url, `${root}/state/#`)) await operator.publishAsync(p.topic, '', { qos: 1, retain: true });
      await operator.endAsync();
      await serviceClient.endAsync();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The retained messages a fresh subscriber gets for a filter (the shared reader: until they stop coming). */
async function retainedUnder(url: string, filter: string): Promise<Got[]> {
  return [...(await retained(url, filter))].filter(([, payload]) => payload.length > 0).map(([topic, payload]) => ({ topic, payload }));
}

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(projectRoot(), 'dist/src/cli.js'), 'command', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function suite(name: string, brokerUrl?: string): void {
  let broker: EmbeddedBroker | null = null;
  const url = async () => {
    if (brokerUrl) return brokerUrl;
    broker ??= await startEmbeddedBroker({ host: '127.0.0.1', port: 0 });
    return broker.url;
  };

  test(`${name}: queued while offline, delivered after identification, reply correlated, meta byte for byte`, async () => {
    const r = await startRig(await url());
    try {
      const meta = '{ "ticket": "OPS-42", "operator": {"name": "Zoë", "n": 1.50}, "tags": [ ] }';
      await r.operator.publishAsync(r.topics.commandRequest('1', IMEI), `{"id":"cmd-1","name":"set_io","properties":{"id":175,"value":100},"ttl":600,"meta":${meta}}`, { qos: 1 });
      await waitFor('queued', () => r.events('cmd-1').find((e) => e.status === 'queued'));
      const pending = await retainedUnder(r.url, r.topics.commandQueueState('1', IMEI, 'cmd-1'));
      assert.equal(pending.length, 1, 'the pending command is retained');
      assert.ok(pending[0]!.payload.endsWith(`"meta":${meta}}`));
      assert.equal(r.device.written.length, 0);

      r.device.online.add(`1/${IMEI}`);
      r.svc.deviceOnline('1', IMEI);
      await waitFor('sent', () => r.events('cmd-1').find((e) => e.status === 'sent'));
      assert.deepEqual(r.device.written.map((w) => w.hex), ['000975000000af0000006439cc']);
      assert.deepEqual(r.svc.reply('1', IMEI, { replyKey: 'ruptela:17', executed: true, response: 0 }), { id: 'cmd-1', name: 'set_io' });
      const done = await waitFor('processed', () => r.events('cmd-1').find((e) => e.status === 'processed'));
      assert.deepEqual([done.body.executed, done.body.response, done.body.attempt], [true, 0, 1]);
      assert.deepEqual(r.events('cmd-1').map((e) => e.status), ['queued', 'sent', 'processed']);
      for (const e of r.events('cmd-1')) assert.ok(e.payload.endsWith(`"meta":${meta}}`), `${e.status}: meta byte for byte`);
      await r.svc.settled();
      assert.deepEqual(await retainedUnder(r.url, `${r.root}/state/#`), [], 'the queue entry is cleared once the command ended');
    } finally {
      await r.close();
    }
  });

  test(`${name}: every rejected request is answered with its reason and nothing is queued`, async () => {
    const r = await startRig(await url());
    try {
      const cases: [string, string, string, RegExp][] = [
        ['1', 'r-json', '{"id":"r-json","name":', /not JSON/],
        ['1', 'r-name', '{"id":"r-name","name":"reboot"}', /^name: "reboot" is not a command/],
        ['1', 'r-prop', '{"id":"r-prop","name":"set_io","properties":{"id":1}}', /^properties\.value: is required/],
        ['1', 'r-type', '{"id":"r-type","name":"set_odometer","properties":{"value":"far"}}', /^properties\.value: must be an integer/],
        ['1', 'r-enc', '{"id":"r-enc","name":"set_connection","properties":{"host":"a","port":1,"protocol":"SCTP"}}', /"protocol" must be "TCP" or "UDP"/],
        ['1', 'r-meta', `{"id":"r-meta","name":"get_version","meta":{"x":"${'y'.repeat(9000)}"}}`, /^meta: \d+ bytes exceeds the 8192-byte limit/],
        ['7', 'r-chan', '{"id":"r-chan","name":"get_version"}', /^channel: this server runs no such channel/],
      ];
      for (const [channel, , payload] of cases) await r.operator.publishAsync(r.topics.commandRequest(channel, IMEI), payload, { qos: 1 });
      await waitFor('rejections', () => r.got.filter((g) => g.topic.endsWith('/commands/rejected')).length >= cases.length);
      await r.svc.settled();
      const rejected = r.got.filter((g) => g.topic.endsWith('/commands/rejected')).map((g) => JSON.parse(g.payload) as { id: string | null; reason: string });
      assert.equal(rejected.length, cases.length);
      for (const [, id, , reason] of cases) {
        const ev = id === 'r-json' ? rejected.find((e) => e.id === null) : rejected.find((e) => e.id === id);
        assert.ok(ev, `${id}: rejected`);
        assert.match(ev.reason, reason, id);
      }
      assert.equal(r.got.filter((g) => !g.topic.endsWith('/rejected')).length, 0, 'no other event');
      assert.equal(r.svc.heldFor('1', IMEI).length, 0);
      assert.equal(r.device.written.length, 0);
    } finally {
      await r.close();
    }
  });

  test(`${name}: a device that never answers ends executed false after the timeout`, async () => {
    const r = await startRig(await url());
    try {
      r.device.online.add(`1/${IMEI}`);
      await r.operator.publishAsync(r.topics.commandRequest('1', IMEI), '{"id":"t","name":"get_version","timeout":5}', { qos: 1 });
      await waitFor('sent', () => r.events('t').find((e) => e.status === 'sent'));
      r.clock.advance(5);
      r.svc.tick();
      const p = await waitFor('processed', () => r.events('t').find((e) => e.status === 'processed'));
      assert.deepEqual([p.body.executed, p.body.code, p.body.reason], [false, 'EDGE_COMMAND_TIMEOUT', 'no reply within 5 s']);
    } finally {
      await r.close();
    }
  });

  test(`${name}: edge-channel command prints the lifecycle and exits 0 executed, 1 not executed, 2 rejected`, async () => {
    const r = await startRig(await url());
    try {
      r.device.online.add(`1/${IMEI}`);
      // the fake device answers each set_io: IO 1 fails (result 1), others succeed
      const send = r.device.send.bind(r.device);
      r.device.send = async (ch, ident, bytes) => {
        await send(ch, ident, bytes);
        const ioId = Buffer.from(bytes).readUInt32BE(3);
        setImmediate(() => r.svc.reply(ch, ident, { replyKey: 'ruptela:17', executed: ioId !== 1, response: ioId !== 1 ? 0 : 1 }));
      };
      const base = ['--broker', r.url, '--root', r.root, '--channel', '1', '--ident', IMEI, '--wait', '20'];
      const meta = '{"job": 7,  "by":"cli"}';
      const ok = await runCli([...base, '--name', 'set_io', '--properties', '{"id":175,"value":100}', '--meta', meta, '--id', 'cli-ok']);
      assert.equal(ok.code, 0, ok.stderr);
      const lines = ok.stdout.trim().split('\n');
      assert.deepEqual(lines.map((l) => (JSON.parse(l) as { status: string }).status), ['queued', 'sent', 'processed']);
      for (const l of lines) assert.ok(l.endsWith(`"meta":${meta}}`), 'the CLI sends meta as typed');

      const failed = await runCli([...base, '--name', 'set_io', '--properties', '{"id":1,"value":1}']);
      assert.equal(failed.code, 1, failed.stderr);
      assert.match(failed.stdout, /"executed":false/);

      const rejected = await runCli([...base, '--name', 'set_io', '--properties', '{"id":1}']);
      assert.equal(rejected.code, 2);
      assert.match(rejected.stdout, /properties\.value: is required/);

      const usage = await runCli(['--broker', r.url, '--channel', '1', '--ident', IMEI, '--name', 'get_version', '--meta', '[1]']);
      assert.equal(usage.code, 2);
      assert.match(usage.stderr, /EDGE_CLI_USAGE: --meta must be a JSON object/);
    } finally {
      await r.close();
    }
  });

  // a hook, not a test: the broker outlives every test of the suite, whichever of them run
  after(async () => {
    await broker?.close();
  });
}

suite('embedded broker');
if (process.env.MQTT_URL) suite('Mosquitto', process.env.MQTT_URL);
else test('Mosquitto suite', { skip: 'MQTT_URL is not set (.ci/run sets it)' }, () => {});
