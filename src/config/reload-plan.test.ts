import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planReload } from './reload-plan.js';
import { validateConfig } from './validate.js';

const base = {
  mqtt: { url: 'mqtt://b:1883', password: 'a' },
  channels: [
    { id: 1, protocol: 'ruptela', tcp_port: 6000 },
    { id: 'two', protocol: 'ruptela', udp_port: 6001 },
  ],
};

test('reload plan: live keys apart, every other changed key listed by name, channels matched by id', () => {
  const running = validateConfig(base);
  assert.deepEqual(planReload(running, validateConfig(base)), { live: [], restart: [] });
  const next = validateConfig({
    log_level: 'debug',
    mqtt: { url: 'mqtt://b:1883', password: 'b', max_inflight: 10, embedded: { port: 0 } },
    spool: { drain_rate: 1 },
    channels: [
      // reordered: matched by id, reported at its new index
      { id: 'two', protocol: 'ruptela', udp_port: 6001, max_udp_packets_per_minute: 5, ip_blacklist: ['10.0.0.1'] },
      { id: 1, protocol: 'ruptela', tcp_port: 6002, idle_timeout_s: 5 },
      { id: 3, protocol: 'ruptela', tcp_port: 6003 },
    ],
  });
  assert.deepEqual(planReload(running, next), {
    live: ['log_level', 'channels[0].ip_blacklist', 'channels[0].max_udp_packets_per_minute'],
    restart: ['mqtt.password', 'mqtt.embedded.port', 'mqtt.max_inflight', 'spool.drain_rate', 'channels[1].tcp_port', 'channels[1].idle_timeout_s', 'channels[2] (new channel 3)'],
  });
  const removed = validateConfig({ ...base, channels: [base.channels[0]] });
  assert.deepEqual(planReload(running, removed), { live: [], restart: ['channels (channel two removed)'] });
});
