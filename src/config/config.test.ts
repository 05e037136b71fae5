import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig } from './validate.js';
import { loadConfig } from './load.js';
import { EdgeError } from '../errors.js';
import { checkChannelProtocols } from './protocol-check.js';
import { loadProtocols } from '../protocol/registry.js';
import { checkOptions, optionDefaults, type OptionSpecs } from '../protocol/options.js';

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

test('every schema error of a file is reported at once, the first one in full', () => {
  const raw = { log_level: 'loud', channels: [{ id: 1, protocol: 'ruptela', tcp_port: 'abc', colour: 'red' }], spool: { max_bytes: -1 } };
  assert.throws(
    () => validateConfig(raw),
    (e: unknown) =>
      e instanceof EdgeError &&
      /^EDGE_CONFIG_INVALID: log_level: expected .*; and 3 more: /.test(e.message) &&
      /channels\[0\]\.tcp_port: expected an integer 0\.\.65535, got "abc"/.test(e.message) &&
      /channels\[0\]\.colour: unknown key/.test(e.message) &&
      /spool\.max_bytes: expected/.test(e.message),
  );
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
  invalid({ assets: [{ id: 'd1', name: 'A', type: 'driver' }, { id: 'd1', name: 'B', type: 'driver' }] }, /assets\[1\]\.id: expected an id not used by another asset/);
  invalid({ assets: [{ id: 'd1', name: 'A', type: 'driver', match: { parameter: 'ibutton.code', value: '01' } }, { id: 'd2', name: 'B', type: 'driver', match: { parameter: 'ibutton.code', value: '01' } }] }, /assets\[1\]\.match: expected a parameter value no other asset matches \(asset d1/);
  invalid({ assets: [{ id: 'd1', name: 'A', type: 'Driver' }] }, /assets\[0\]\.type/);
  invalid({ assets: [{ id: 'd/1', name: 'A', type: 'driver' }] }, /assets\[0\]\.id/);
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

test('host must be an IP address or a host name, named by its key', () => {
  invalid({ channels: [{ id: 1, protocol: 'ruptela', host: '999.1.1.1', tcp_port: 1 }] }, /channels\[0\]\.host: expected an IP address .* got "999\.1\.1\.1"/);
  invalid({ channels: [{ id: 1, protocol: 'ruptela', host: '1.2.3', tcp_port: 1 }] }, /channels\[0\]\.host/);
  invalid({ channels: [{ id: 1, protocol: 'ruptela', host: ':::1', tcp_port: 1 }] }, /channels\[0\]\.host/);
  invalid({ channels: [{ id: 1, protocol: 'ruptela', host: 'bad host', tcp_port: 1 }] }, /channels\[0\]\.host/);
  invalid({ mqtt: { embedded: { host: '300.0.0.1' } } }, /mqtt\.embedded\.host: expected an IP address/);
  for (const h of ['0.0.0.0', '::', '::1', '127.0.0.1', 'localhost', 'gw-1.example.org', 'fe80::1']) {
    assert.equal(validateConfig({ channels: [{ id: 1, protocol: 'ruptela', host: h, tcp_port: 1 }] }).channels[0]!.host, h);
  }
});

test('two listeners on one port and transport are a config error naming the second key', () => {
  invalid({ channels: [{ id: 1, protocol: 'ruptela', tcp_port: 6000 }, { id: 2, protocol: 'ruptela', tcp_port: 6000 }] }, /channels\[1\]\.tcp_port: expected a TCP port not used by channels\[0\]\.tcp_port \(0\.0\.0\.0:6000\), got 6000/);
  invalid({ channels: [{ id: 1, protocol: 'ruptela', host: '127.0.0.1', udp_port: 6000 }, { id: 2, protocol: 'ruptela', host: '::', udp_port: 6000 }] }, /channels\[1\]\.udp_port: expected a UDP port not used by channels\[0\]\.udp_port/);
  // the embedded broker's port, unless an external broker is used
  invalid({ channels: [{ id: 1, protocol: 'ruptela', tcp_port: 1883 }] }, /channels\[0\]\.tcp_port: expected a TCP port not used by mqtt\.embedded\.port \(127\.0\.0\.1:1883\), got 1883/);
  assert.equal(validateConfig({ mqtt: { url: 'mqtt://127.0.0.1:1883' }, channels: [{ id: 1, protocol: 'ruptela', tcp_port: 1883 }] }).channels[0]!.tcp_port, 1883);
  // what can bind side by side stays valid: TCP and UDP on one port, distinct addresses, ephemeral ports
  const ok = validateConfig({
    channels: [
      { id: 1, protocol: 'ruptela', tcp_port: 6000, udp_port: 6000 },
      { id: 2, protocol: 'ruptela', host: '127.0.0.1', tcp_port: 0 },
      { id: 3, protocol: 'ruptela', host: '127.0.0.1', tcp_port: 0 },
      { id: 4, protocol: 'ruptela', host: '127.0.0.2', tcp_port: 6001 },
      { id: 5, protocol: 'ruptela', host: '127.0.0.3', tcp_port: 6001 },
    ],
  });
  assert.equal(ok.channels.length, 5);
});

test('channel options are checked against the protocol declared options', async () => {
  const protocols = await loadProtocols();
  const check = (raw: unknown, re: RegExp) =>
    assert.throws(() => checkChannelProtocols(validateConfig(raw), protocols), (e: unknown) => e instanceof EdgeError && re.test(e.message), `expected ${re}`);
  check({ channels: [{ id: 1, protocol: 'ruptela', tcp_port: 1, options: { foo: 1 } }] }, /: channels\[0\]\.options\.foo: unknown option \(options of ruptela: tacho_card_timeout_s, tacho_apdu_reply_sub_id\)$/);
  check({ channels: [{ id: 1, protocol: 'ruptela', tcp_port: 1, options: { tacho_card_timeout_s: 0 } }] }, /channels\[0\]\.options\.tacho_card_timeout_s/);
  check({ channels: [{ id: 1, protocol: 'nope', tcp_port: 1 }] }, /: channels\[0\]\.protocol: unknown protocol "nope"; registered: .*ruptela/);
  assert.equal(checkChannelProtocols(validateConfig({ channels: [{ id: 1, protocol: 'ruptela', tcp_port: 1, options: {} }] }), protocols)[0]!.id, 'ruptela');
});

test('option specs: types, ranges and enums, each error naming the key', () => {
  const specs: OptionSpecs = {
    tz_offset_min: { type: 'integer', description: 'device clock offset', default: 0, min: -720, max: 840 },
    mode: { type: 'string', description: 'mode', default: 'a', enum: ['a', 'b'] },
    strict: { type: 'boolean', description: 'strict', default: false },
    ratio: { type: 'number', description: 'ratio', default: 1, min: 0 },
  };
  assert.deepEqual({ ...optionDefaults(specs) }, { tz_offset_min: 0, mode: 'a', strict: false, ratio: 1 });
  const bad = (given: Record<string, unknown>, re: RegExp) =>
    assert.throws(() => checkOptions(specs, given, 'channels[2].options', 'x'), (e: unknown) => e instanceof EdgeError && e.code === 'EDGE_CONFIG_INVALID' && re.test(e.message), `expected ${re}`);
  bad({ tz_offset_min: 1.5 }, /: channels\[2\]\.options\.tz_offset_min: expected an integer -720\.\.840, got 1\.5$/);
  bad({ tz_offset_min: 900 }, /tz_offset_min: expected an integer -720\.\.840, got 900/);
  bad({ mode: 'c' }, /: channels\[2\]\.options\.mode: expected one of "a", "b", got "c"$/);
  bad({ strict: 'yes' }, /strict: expected true or false, got "yes"/);
  bad({ ratio: -1 }, /ratio: expected a number >= 0, got -1/);
  bad({ toString: 1 }, /options\.toString: unknown option \(options of x: tz_offset_min, mode, strict, ratio\)/);
  checkOptions(specs, { tz_offset_min: -60, mode: 'b', strict: true, ratio: 0.5 }, 'channels[2].options', 'x');
});

test('EDGE_* environment variables override the file, typed by the schema, and errors name the variable', () => {
  const dir = mkdtempSync(join(tmpdir(), 'edge-cfg-'));
  try {
    const file = join(dir, 'c.yaml');
    writeFileSync(file, 'log_level: info\nmqtt:\n  url: mqtt://file:1883\n  username: fromfile\nchannels:\n  - { id: 1, protocol: ruptela, tcp_port: 6000 }\n');
    const c = loadConfig(file, { EDGE_MQTT_URL: 'mqtts://env:8883', EDGE_LOG_LEVEL: 'debug', EDGE_POOL_THREADS: '2', EDGE_REDIS_URL: 'redis://r:6379', EDGE_MQTT_USERNAME: '' });
    assert.equal(c.mqtt.url, 'mqtts://env:8883');
    assert.equal(c.log_level, 'debug');
    assert.equal(c.pool.threads, 2);
    assert.equal(c.redis_url, 'redis://r:6379');
    assert.equal(c.mqtt.username, 'fromfile', 'an empty variable counts as unset');
    assert.equal(loadConfig(undefined, { EDGE_MQTT_TOPIC_ROOT: 'site1' }).mqtt.topic_root, 'site1', 'without a file too');
    assert.throws(() => loadConfig(file, { EDGE_POOL_THREADS: 'two' }), /EDGE_CONFIG_INVALID: pool\.threads \(from EDGE_POOL_THREADS\): expected an integer 0\.\.256, got "two"/);
    assert.throws(() => loadConfig(file, { EDGE_LOG_LEVEL: 'loud' }), /log_level \(from EDGE_LOG_LEVEL\): expected one of/);
    // a union of an integer and a word: digits become the integer, the word stays text
    assert.equal(loadConfig(file, { EDGE_PROCESSES: '4' }).processes, 4);
    assert.equal(loadConfig(file, { EDGE_PROCESSES: 'auto' }).processes, 'auto');
    assert.throws(() => loadConfig(file, { EDGE_PROCESSES: 'many' }), /processes \(from EDGE_PROCESSES\): expected an integer 1\.\.256 or "auto", got "many"/);
    assert.throws(() => loadConfig(file, { EDGE_PROCESSES: '0' }), /processes \(from EDGE_PROCESSES\): expected an integer 1\.\.256 or "auto", got 0/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('secrets from files: password_file and EDGE_MQTT_PASSWORD_FILE; both forms, or an unreadable file, are errors naming the key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'edge-cfg-'));
  try {
    const secret = join(dir, 'pw');
    writeFileSync(secret, 's3cret\n');
    const redisSecret = join(dir, 'redis');
    writeFileSync(redisSecret, 'redis://:pw@r:6379');
    const file = join(dir, 'c.yaml');
    writeFileSync(file, `mqtt:\n  url: mqtt://b:1883\n  password_file: ${secret}\nredis_url_file: ${redisSecret}\n`);
    const c = loadConfig(file, {});
    assert.equal(c.mqtt.password, 's3cret', 'one trailing newline dropped');
    assert.equal(c.redis_url, 'redis://:pw@r:6379');
    assert.equal('password_file' in c.mqtt, false);
    assert.equal('redis_url_file' in c, false);

    const inline = join(dir, 'inline.yaml');
    writeFileSync(inline, 'mqtt:\n  password: infile\n');
    assert.equal(loadConfig(inline, { EDGE_MQTT_PASSWORD_FILE: secret }).mqtt.password, 's3cret', 'the environment wins over the file');
    assert.equal(loadConfig(inline, {}).mqtt.password, 'infile');

    const both = join(dir, 'both.yaml');
    writeFileSync(both, `mqtt:\n  password: x\n  password_file: ${secret}\n`);
    assert.throws(() => loadConfig(both, {}), /mqtt\.password_file: expected either mqtt\.password or mqtt\.password_file, got both/);
    assert.throws(() => loadConfig(inline, { EDGE_MQTT_PASSWORD: 'a', EDGE_MQTT_PASSWORD_FILE: secret }), /EDGE_MQTT_PASSWORD and EDGE_MQTT_PASSWORD_FILE: expected one of them, got both/);
    assert.throws(() => loadConfig(inline, { EDGE_MQTT_PASSWORD_FILE: join(dir, 'nope') }), /mqtt\.password_file \(from EDGE_MQTT_PASSWORD_FILE\): expected a readable file, got ".*nope" \(ENOENT\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
test('instance_id defaults to the host name as a topic level; http is off unless a port is given', async () => {
  const { defaultInstanceId } = await import('./instance-id.js');
  const c = validateConfig({});
  assert.match(c.instance_id, /^[A-Za-z0-9_.-]+$/);
  assert.equal(c.instance_id, defaultInstanceId());
  assert.equal(defaultInstanceId('edge-01.example.com'), 'edge-01.example.com');
  assert.equal(defaultInstanceId('a b/c'), 'a_b_c');
  assert.equal(defaultInstanceId('///'), 'edge-channel');
  assert.deepEqual(c.http, { host: '127.0.0.1', port: null, public_url: '', link_ttl_s: 0, max_properties_bytes: 4096 }, 'no tokens: no API');
  assert.deepEqual(validateConfig({ http: { port: 9464 } }).http, { host: '127.0.0.1', port: 9464, public_url: '', link_ttl_s: 0, max_properties_bytes: 4096 });
  assert.equal(validateConfig({ instance_id: 'gw-7' }).instance_id, 'gw-7');
  invalid({ instance_id: 'a/b' }, /instance_id: expected an instance id/);
  invalid({ http: { port: 'x' } }, /http\.port: expected an integer 0\.\.65535/);
  invalid({ http: { bind: 'x' } }, /http\.bind: unknown key/);
});

test('attachment_tcp_port / attachment_advertise_host are the attachments part of the channel, and cannot also be given under parts', () => {
  const c = validateConfig({ channels: [{ id: 1, protocol: 'jt808', tcp_port: 0, attachment_tcp_port: 0, attachment_advertise_host: 'video.example.com' }] });
  assert.deepEqual(c.channels[0]!.parts, { attachments: { tcp_port: 0, udp_port: null, advertise_host: 'video.example.com' } });
  const both = { channels: [{ id: 1, protocol: 'jt808', tcp_port: 0, attachment_tcp_port: 7612, parts: { attachments: { tcp_port: 7613 } } }] };
  invalid(both, /channels\[0\]\.attachment_tcp_port.*not both/);
  invalid({ channels: [{ id: 1, protocol: 'jt808', tcp_port: 0, attachment_tcp_port: 70000 }] }, /channels\[0\]\.attachment_tcp_port/);
  invalid({ channels: [{ id: 1, protocol: 'jt808', tcp_port: 0, attachment_tcp_port: 1, attachment_advertise_host: 'no host!' }] }, /channels\[0\]\.attachment_advertise_host/);
});

test('http secrets: malformed tokens and a short link key are refused by position and length, never echoed', () => {
  const secret = 'read:abc';
  assert.throws(() => validateConfig({ http: { tokens: `full:${'x'.repeat(20)} ${secret}` } }), (e: unknown) => {
    const m = (e as Error).message;
    return /http\.tokens: expected "read:<token>" or "full:<token>" entries/.test(m) && m.includes('entry 2 of 2') && !m.includes('abc') && !m.includes('xxxx');
  });
  assert.throws(() => validateConfig({ http: { link_key: 'short-key' } }), (e: unknown) => {
    const m = (e as Error).message;
    return m.includes('http.link_key') && m.includes('a secret of 9 characters') && !m.includes('short-key');
  });
  assert.equal(validateConfig({ http: { tokens: `read:${'r'.repeat(16)}\nfull:${'f'.repeat(16)}` } }).http.tokens?.length, 43);
});
