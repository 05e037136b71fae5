import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// Each case runs in a fresh process: what matters is the state at the moment mqtt-packet loads.
const quiet = fileURLToPath(new URL('./quiet-packet-debug.js', import.meta.url));
const probe = (debugEnv: string | undefined) => {
  const script = `
    await import(${JSON.stringify(quiet)});
    const { createRequire } = await import('node:module');
    const here = createRequire(${JSON.stringify(quiet)});
    const fromPacket = createRequire(here.resolve('mqtt-packet'));
    const createDebug = fromPacket('debug');
    const packetLog = createDebug('mqtt-packet:writeToStream');
    const otherLog = createDebug('mqttjs:client');
    const mqttPacket = fromPacket('mqtt-packet');
    const bytes = mqttPacket.generate({ cmd: 'publish', topic: 't', payload: 'x', qos: 1, messageId: 1, retain: false, dup: false });
    packetLog('probe line');
    console.log(JSON.stringify({ packetEnabled: packetLog.enabled, packetNamespace: packetLog.namespace ?? null, otherNamespace: otherLog.namespace ?? null, bytes: bytes.toString('hex') }));
  `;
  const env = { ...process.env };
  delete env.DEBUG;
  if (debugEnv !== undefined) env.DEBUG = debugEnv;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return { out: JSON.parse(r.stdout.trim()) as { packetEnabled: boolean; packetNamespace: string | null; otherNamespace: string | null; bytes: string }, stderr: r.stderr };
};

test('mqtt-packet gets a do-nothing logger unless DEBUG enables it; other loggers and the packets are untouched', () => {
  const off = probe(undefined);
  assert.equal(off.out.packetEnabled, false);
  assert.equal(off.out.packetNamespace, null, 'the do-nothing logger, not a debug instance');
  assert.equal(off.out.otherNamespace, 'mqttjs:client', 'other packages keep the real debug');
  assert.equal(off.out.bytes, '3206000174000178', 'PUBLISH QoS 1 encoded as usual');
  assert.doesNotMatch(off.stderr, /probe line/);
  const on = probe('mqtt-packet:*');
  assert.equal(on.out.packetEnabled, true);
  assert.equal(on.out.packetNamespace, 'mqtt-packet:writeToStream');
  assert.match(on.stderr, /mqtt-packet:writeToStream probe line/, 'DEBUG=mqtt-packet:* still prints');
  assert.equal(on.out.bytes, off.out.bytes);
});
