import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { validateConfig } from '../config/validate.js';
import { EdgeError } from '../errors.js';
import { balanceNote, chooseBalance, reusePortSupport } from './balance.js';
import { checkProcessConfig, planEnv, planFromEnv, planProcesses, processCount, type ProcessPlan } from './process-plan.js';
import { RestartPolicy } from './restart-policy.js';
import { workerConfig, workerRole } from './worker-config.js';

test('reusePort is there from Node 22.12 and 23.1, and balances on Linux only', () => {
  for (const v of ['v22.12.0', 'v22.23.3', 'v23.1.0', 'v24.0.0', 'v26.1.0']) assert.equal(reusePortSupport(v, 'linux').ok, true, v);
  for (const v of ['v20.20.2', 'v22.11.0', 'v23.0.0', 'v18.20.0']) assert.equal(reusePortSupport(v, 'linux').ok, false, v);
  assert.equal(reusePortSupport('v24.0.0', 'darwin').ok, false);
});

test('balance: auto takes reuseport where it exists; reuseport where Node lacks it is a config error naming the key', () => {
  const yes = reusePortSupport('v24.0.0', 'linux');
  const no = reusePortSupport('v20.20.2', 'linux');
  assert.equal(chooseBalance('auto', yes), 'reuseport');
  assert.equal(chooseBalance('auto', no), 'primary');
  assert.equal(chooseBalance('auto', reusePortSupport('v24.0.0', 'darwin')), 'primary');
  assert.equal(chooseBalance('primary', yes), 'primary');
  assert.equal(chooseBalance('reuseport', yes), 'reuseport');
  // an operator who knows the kernel (FreeBSD) may ask for it where Node has the option
  assert.equal(chooseBalance('reuseport', reusePortSupport('v24.0.0', 'freebsd')), 'reuseport');
  assert.throws(() => chooseBalance('reuseport', no), (e: unknown) => e instanceof EdgeError && e.code === 'EDGE_CONFIG_INVALID' && /^EDGE_CONFIG_INVALID: processes_balance: expected auto or primary \(Node v20\.20\.2 has no reusePort/.test(e.message));
  assert.match(balanceNote('primary', 'auto', no), /UDP is served by process 0 only/);
  assert.match(balanceNote('reuseport', 'auto', yes), /SO_REUSEPORT/);
});

test('processes: "auto" is the cores, at least 1', () => {
  assert.equal(processCount('auto', 16), 16);
  assert.equal(processCount('auto', 0), 1);
  assert.equal(processCount(3, 16), 3);
});

test('several processes need redis_url and an external broker: config errors naming each key', () => {
  const both = validateConfig({ processes: 2 });
  assert.throws(() => checkProcessConfig(both, 2), (e: unknown) => e instanceof EdgeError && e.code === 'EDGE_CONFIG_INVALID' && /^EDGE_CONFIG_INVALID: redis_url: expected a redis:\/\/ URL with processes 2 .*; and 1 more: mqtt\.url: expected an external broker/.test(e.message));
  assert.throws(() => checkProcessConfig(validateConfig({ redis_url: 'redis://r:6379' }), 2), /EDGE_CONFIG_INVALID: mqtt\.url: expected an external broker with processes 2 \(the embedded broker runs inside one process/);
  assert.doesNotThrow(() => checkProcessConfig(validateConfig({ redis_url: 'redis://r:6379', mqtt: { url: 'mqtt://b:1883' } }), 2));
});

const plan = (o: Partial<ProcessPlan> = {}): ProcessPlan => ({ count: 3, balance: 'primary', mqttUrl: null, ports: {}, poolThreads: 2, ...o });

test('each process owns its instance id, spool, credentials, tacho state and captures; process 0 keeps the configured directories', () => {
  const c = validateConfig({
    instance_id: 'box1',
    mqtt: { url: 'mqtt://b:1883' },
    redis_url: 'redis://r:6379',
    spool: { dir: '/var/lib/e/spool' },
    media: { dir: '/var/lib/e/media' },
    credentials: { dir: '/var/lib/e/cred' },
    tacho: { dir: '/var/lib/e/tacho' },
    channels: [{ id: 1, protocol: 'ruptela', tcp_port: 5046, capture: { dir: '/var/lib/e/capture' } }],
  });
  const p0 = workerConfig(c, plan(), 0);
  const p2 = workerConfig(c, plan(), 2);
  assert.equal(p0.instance_id, 'box1-p0');
  assert.equal(p2.instance_id, 'box1-p2');
  assert.equal(p0.spool.dir, '/var/lib/e/spool', 'process 0 drains what a single process spooled');
  assert.equal(p2.spool.dir, '/var/lib/e/spool/p2');
  assert.equal(p2.credentials.dir, '/var/lib/e/cred/p2');
  assert.equal(p2.tacho.dir, '/var/lib/e/tacho/p2');
  assert.equal(p2.channels[0]!.capture.dir, '/var/lib/e/capture/p2');
  assert.equal(p2.media.dir, '/var/lib/e/media', 'the media folder is shared');
  assert.equal(p2.pool.threads, 2, 'pool.threads 0: the cores shared out');
  assert.equal(workerConfig({ ...c, pool: { ...c.pool, threads: 5 } }, plan(), 1).pool.threads, 5, 'a configured thread count stays');
  assert.equal(p2.mqtt.url, 'mqtt://b:1883');
  assert.equal(workerConfig(c, plan({ mqttUrl: 'mqtt://flag:1883' }), 1).mqtt.url, 'mqtt://flag:1883', "the primary's --mqtt-url wins, as in one process");
  assert.equal(c.instance_id, 'box1', 'the loaded config is not changed');
});

test('ports left to the OS are the ones the primary picked, the same in every process; fixed ports stay', () => {
  const c = validateConfig({ mqtt: { url: 'mqtt://b:1883' }, http: { port: 0 }, channels: [{ id: 1, protocol: 'jt808', tcp_port: 0, stream_tcp_port: 7200, parts: { attachments: { tcp_port: 0 } } }, { id: 2, protocol: 'ruptela', tcp_port: 5046, udp_port: 0 }] });
  const ports = { 'http.port': 9001, 'channels[0].tcp_port': 9002, 'channels[0].parts.attachments.tcp_port': 9003, 'channels[1].udp_port': 9004 };
  for (const i of [0, 1]) {
    const w = workerConfig(c, plan({ ports }), i);
    assert.equal(w.http.port, 9001, 'every process keeps the port: its media links point at process 0');
    assert.equal(w.channels[0]!.tcp_port, 9002);
    assert.equal(w.channels[0]!.stream_tcp_port, 7200);
    assert.equal(w.channels[0]!.parts.attachments!.tcp_port, 9003);
    assert.equal(w.channels[1]!.tcp_port, 5046);
    assert.equal(w.channels[1]!.udp_port, 9004);
  }
});

test('roles: with reuseport every process opens UDP; without, process 0 only; HTTP on process 0', () => {
  assert.deepEqual(workerRole(plan({ balance: 'reuseport' }), 1), { index: 1, count: 3, reusePort: true, udp: true, http: false });
  assert.deepEqual(workerRole(plan(), 0), { index: 0, count: 3, reusePort: false, udp: true, http: true });
  assert.deepEqual(workerRole(plan(), 2), { index: 2, count: 3, reusePort: false, udp: false, http: false });
});

test('the plan travels in the environment to a worker', () => {
  const p = plan({ ports: { 'channels[0].tcp_port': 9002 } });
  assert.deepEqual(planFromEnv(planEnv(p, 2)), { plan: p, index: 2 });
  assert.equal(planFromEnv({}), null);
  assert.equal(planFromEnv(planEnv(p, 3)), null, 'an index outside the plan is not a worker of it');
});

test('planProcesses picks one port per port 0 and refuses a fixed port that is taken', async () => {
  const held = createServer();
  await new Promise<void>((r) => held.listen(0, '127.0.0.1', () => r()));
  const taken = (held.address() as { port: number }).port;
  try {
    const base = { mqtt: { url: 'mqtt://b:1883' }, redis_url: 'redis://r:6379' };
    const p = await planProcesses(validateConfig({ ...base, channels: [{ id: 1, protocol: 'ruptela', host: '127.0.0.1', tcp_port: 0, udp_port: 0 }] }), { count: 2, balance: 'primary', mqttUrl: null, cores: 8 });
    assert.deepEqual(Object.keys(p.ports).sort(), ['channels[0].tcp_port', 'channels[0].udp_port']);
    assert.ok(Object.values(p.ports).every((n) => n > 0));
    // 8 cores for 2 processes: 4 each, one of them the process's main thread
    assert.equal(p.poolThreads, 3);
    await assert.rejects(
      planProcesses(validateConfig({ ...base, channels: [{ id: 1, protocol: 'ruptela', host: '127.0.0.1', tcp_port: taken }] }), { count: 2, balance: 'primary', mqttUrl: null }),
      (e: unknown) => e instanceof EdgeError && e.code === 'EDGE_PORT_IN_USE' && e.message.includes('channels[0].tcp_port'),
    );
  } finally {
    held.close();
  }
});

test('restart policy: the wait doubles with each exit in the window, and the fifth exit in a minute gives up', () => {
  const p = new RestartPolicy();
  assert.deepEqual([0, 1000, 2000, 3000].map((t) => p.exited(1, t)), [500, 1000, 2000, 4000]);
  assert.equal(p.exited(1, 4000), null, 'fifth exit within 60 s');
  assert.equal(p.exited(0, 4000), 500, 'slots count apart');
  const q = new RestartPolicy({ maxDelayMs: 1500 });
  assert.deepEqual([0, 1, 2, 3].map((t) => q.exited(0, t)), [500, 1000, 1500, 1500], 'capped');
  const r = new RestartPolicy();
  for (const t of [0, 70_000, 140_000, 210_000, 280_000, 350_000]) assert.equal(r.exited(0, t), 500, 'exits further apart than the window never add up');
  assert.equal(r.recentExits(0, 350_000), 1);
});
