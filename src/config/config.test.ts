import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig } from './validate.js';
import { loadConfig } from './load.js';
import { EdgeError } from '../errors.js';

const invalid = (raw: unknown, re: RegExp) =>
  assert.throws(() => validateConfig(raw), (e: unknown) => e instanceof EdgeError && e.code === 'EDGE_CONFIG_INVALID' && re.test(e.message), `expected ${re}`);

test('the default config runs out of the box: embedded broker and a Ruptela channel on TCP 5046', () => {
  const c = validateConfig({});
  assert.equal(c.mqtt.url, '');
  assert.deepEqual(c.mqtt.embedded, { host: '127.0.0.1', port: 1883 });
  assert.equal(c.mqtt.topic_root, 'edge');
  assert.equal(c.channels.length, 1);
  assert.equal(c.channels[0]!.protocol, 'ruptela');
  assert.equal(c.channels[0]!.tcp_port, 5046);
  assert.equal(c.channels[0]!.udp_port, null);
});

test('channel entries get defaults and keep what is given', () => {
  const c = validateConfig({ channels: [{ id: 7, protocol: 'ruptela', udp_port: 0, idle_timeout_s: 30, ip_whitelist: ['10.0.0.0/8'] }] });
  const ch = c.channels[0]!;
  assert.equal(ch.id, '7');
  assert.equal(ch.name, 'ruptela');
  assert.equal(ch.tcp_port, null);
  assert.equal(ch.udp_port, 0);
  assert.equal(ch.idle_timeout_s, 30);
  assert.deepEqual(ch.ip_whitelist, ['10.0.0.0/8']);
  assert.equal(ch.max_connections, 10000);
});

test('errors name the key and the expected form', () => {
  invalid({ channels: [{ id: 1, protocol: 'ruptela', tcp_port: 'abc' }] }, /channels\[0\]\.tcp_port: expected an integer 0\.\.65535, got "abc"/);
  invalid({ channels: [{ id: 1, protocol: 'ruptela' }] }, /channels\[0\]: expected tcp_port and\/or udp_port/);
  invalid({ channels: [{ id: 'a/b', protocol: 'ruptela', tcp_port: 1 }] }, /channels\[0\]\.id/);
  invalid({ channels: [{ id: 1, protocol: 'ruptela', tcp_port: 1, colour: 'red' }] }, /channels\[0\]\.colour: unknown key/);
  invalid({ channels: [{ id: 1, protocol: 'ruptela', tcp_port: 1 }, { id: 1, protocol: 'ruptela', tcp_port: 2 }] }, /channels\[1\]\.id: expected an id not used by another channel/);
  invalid({ mqtt: { url: 'http://x' } }, /mqtt\.url: expected a broker URL/);
  invalid({ mqtt: { topic_root: 'a/#' } }, /mqtt\.topic_root/);
  invalid({ log_level: 'loud' }, /log_level: expected one of/);
  invalid({ channels: [] }, /channels: expected a non-empty list/);
  invalid([1, 2], /\(top level\)/);
});

test('loadConfig reads YAML and JSON files and reports unreadable or malformed files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'edge-cfg-'));
  const yml = join(dir, 'c.yaml');
  writeFileSync(yml, 'mqtt:\n  url: mqtt://127.0.0.1:1883\nchannels:\n  - id: 2\n    protocol: ruptela\n    tcp_port: 6000\n');
  assert.equal(loadConfig(yml).channels[0]!.tcp_port, 6000);
  const json = join(dir, 'c.json');
  writeFileSync(json, JSON.stringify({ channels: [{ id: 3, protocol: 'ruptela', udp_port: 6001 }] }));
  assert.equal(loadConfig(json).channels[0]!.udp_port, 6001);
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'channels: [\n');
  assert.throws(() => loadConfig(bad), (e: unknown) => e instanceof EdgeError && e.code === 'EDGE_CONFIG_FILE');
  assert.throws(() => loadConfig(join(dir, 'missing.yaml')), (e: unknown) => e instanceof EdgeError && e.code === 'EDGE_CONFIG_FILE');
  rmSync(dir, { recursive: true, force: true });
});

test('instance_id defaults to the host name as a topic level; http is off unless a port is given', async () => {
  const { defaultInstanceId } = await import('./defaults.js');
  const c = validateConfig({});
  assert.match(c.instance_id, /^[A-Za-z0-9_.-]+$/);
  assert.equal(c.instance_id, defaultInstanceId());
  assert.equal(defaultInstanceId('edge-01.example.com'), 'edge-01.example.com');
  assert.equal(defaultInstanceId('a b/c'), 'a_b_c');
  assert.equal(defaultInstanceId('///'), 'edge-channel');
  assert.deepEqual(c.http, { host: '127.0.0.1', port: null });
  assert.deepEqual(validateConfig({ http: { port: 9464 } }).http, { host: '127.0.0.1', port: 9464 });
  assert.equal(validateConfig({ instance_id: 'gw-7' }).instance_id, 'gw-7');
  invalid({ instance_id: 'a/b' }, /instance_id: expected an instance id/);
  invalid({ http: { port: 'x' } }, /http\.port: expected an integer 0\.\.65535/);
  invalid({ http: { bind: 'x' } }, /http\.bind: unknown key/);
});
