import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { Aedes } from 'aedes';
import { chooseBroker } from './broker-choice.js';
import { probeMqttBroker } from '../mqtt/broker-probe.js';
import { startEmbeddedBroker } from '../mqtt/embedded-broker.js';
import { validateConfig } from '../config/validate.js';
import { EdgeError } from '../errors.js';

/** Where the embedded broker would listen: an ephemeral port standing in for 127.0.0.1:1883. */
const configAt = (port: number) => validateConfig({ mqtt: { embedded: { host: '127.0.0.1', port } } });

async function listening(server: Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return (server.address() as { port: number }).port;
}

test('broker next door: a broker that accepts CONNECT is used (and said so); a config file or --mqtt-url decide otherwise', async () => {
  const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0 });
  try {
    const c = configAt(broker.port);
    const found = await chooseBroker(c, {});
    assert.equal(found.config.mqtt.url, `mqtt://127.0.0.1:${broker.port}`);
    assert.match(found.note!, /already listens on 127\.0\.0\.1:\d+ and accepted a CONNECT/);
    assert.equal(c.mqtt.url, '', 'the loaded config is not modified');

    const withFile = await chooseBroker(c, { configFile: 'edge.yaml' });
    assert.equal(withFile.config.mqtt.url, '', 'a config file is followed as written');
    assert.equal(withFile.note, null);

    const flag = await chooseBroker(c, { mqttUrlFlag: 'mqtts://broker.example:8883', configFile: 'edge.yaml' });
    assert.equal(flag.config.mqtt.url, 'mqtts://broker.example:8883');
    assert.match(flag.note!, /--mqtt-url/);
    await assert.rejects(chooseBroker(c, { mqttUrlFlag: 'http://x' }), (e: unknown) => e instanceof EdgeError && e.code === 'EDGE_CLI_USAGE' && /--mqtt-url: expected a broker URL/.test(e.message));
  } finally {
    await broker.close();
  }
});

test('broker next door: nothing listening → embedded, silently; a non-MQTT service or a refusing broker → embedded, with the reason', async () => {
  const free = createServer();
  const freePort = await listening(free);
  await new Promise<void>((r) => free.close(() => r()));
  const none = await chooseBroker(configAt(freePort), {});
  assert.equal(none.config.mqtt.url, '');
  assert.equal(none.note, null);

  // (reads what it gets, or its socket never sees our FIN and close() waits forever)
  const http = createServer((s) => s.resume().end('HTTP/1.1 400 Bad Request\r\n\r\n'));
  const httpPort = await listening(http);
  try {
    const r = await chooseBroker(configAt(httpPort), {});
    assert.equal(r.config.mqtt.url, '');
    assert.match(r.note!, /not a usable MQTT broker/);
  } finally {
    await new Promise<void>((r) => http.close(() => r()));
  }

  // a broker that refuses anonymous clients (CONNACK return code 5)
  const aedes = await Aedes.createBroker({ authenticate: (_c, _u, _p, cb) => cb(null, false) });
  const strict = createServer((s) => aedes.handle(s));
  const strictPort = await listening(strict);
  try {
    const p = await probeMqttBroker('127.0.0.1', strictPort);
    assert.equal(p.answer, 'refused');
    const r = await chooseBroker(configAt(strictPort), {});
    assert.equal(r.config.mqtt.url, '');
    assert.match(r.note!, /speaks MQTT but refused us \(CONNACK return code \d/);
  } finally {
    await new Promise<void>((r) => strict.close(() => r()));
    await new Promise<void>((r) => aedes.close(() => r()));
  }
});
