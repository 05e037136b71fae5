import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DelayedAckCheck, sameHost } from './delayed-ack-check.js';
import { startEmbeddedBroker } from './embedded-broker.js';
import { startApp } from '../app.js';
import { validateConfig } from '../config/validate.js';
import { createLogger } from '../util/log.js';

test('delayed-ACK check: PUBACKs held ~40 ms by a local broker are flagged once; fast, loaded or far-away round trips are not', () => {
  const held = new DelayedAckCheck({ samples: 8 });
  held.connected(true, 3);
  const verdicts = [41, 43, 40, 44, 42, 41, 43, 40, 42, 44].map((ms) => held.sample(ms, 0));
  assert.deepEqual(verdicts.filter((v) => v !== null), [42], 'one verdict: the median of the held round trips');
  assert.ok(held.done);

  // frames of two records: the first PUBACK is immediate, the second waits for the delayed ACK
  const bursts = new DelayedAckCheck({ samples: 8 });
  bursts.connected(true, 3);
  const v2 = [0.6, 42.7, 0.7, 42.8, 0.6, 42.6, 0.7, 42.7].map((ms, i) => bursts.sample(ms, i % 2));
  assert.equal(v2.at(-1), 42.7);

  const fast = new DelayedAckCheck({ samples: 8 });
  fast.connected(true, 2);
  for (let i = 0; i < 50; i++) assert.equal(fast.sample(0.4 + (i % 3) * 0.1, i % 4), null);

  const loaded = new DelayedAckCheck({ samples: 8 });
  loaded.connected(true, 2);
  for (let i = 0; i < 50; i++) assert.equal(loaded.sample(45, 200), null, 'queueing explains slow round trips under load');

  const far = new DelayedAckCheck({ samples: 8 });
  far.connected(false, 84); // 42 ms network round trip
  for (let i = 0; i < 50; i++) assert.equal(far.sample(43, 0), null, 'a broker 42 ms away is not a Nagle stall');

  const rare = new DelayedAckCheck({ samples: 8 });
  rare.connected(true, 2);
  for (const ms of [0.5, 41, 0.6, 0.4, 42, 0.5, 0.4, 0.6]) assert.equal(rare.sample(ms, 0), null, 'an occasional slow one (GC, scheduling) is not flagged');

  assert.equal(sameHost('127.0.0.1', '127.0.0.1'), true);
  assert.equal(sameHost('::ffff:10.1.2.3', '10.1.2.3'), true);
  assert.equal(sameHost('10.1.2.4', '10.1.2.3'), false);
  assert.equal(sameHost(undefined, '10.1.2.3'), false);
});

test('delayed-ACK check in the runtime: a broker that holds PUBACKs ~40 ms gets one warning naming set_tcp_nodelay', { timeout: 60_000 }, async () => {
  // aedes acknowledges a QoS 1 publish when authorizePublish calls back: hold it 40 ms, as Nagle would
  const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, authorizePublish: (_c, _p, cb) => setTimeout(() => cb(null), 40) });
  const lines: string[] = [];
  const log = createLogger('warn', new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }));
  const dir = mkdtempSync(join(tmpdir(), 'edge-nagle-'));
  const config = validateConfig({
    instance_id: `nagle-${process.pid}`,
    mqtt: { url: broker.url, topic_root: `nagle${process.pid}` },
    spool: { dir },
    channels: [{ id: 1, protocol: 'ruptela', host: '127.0.0.1', tcp_port: 0 }],
    stats_interval_s: 3600,
  });
  const app = await startApp(config, { log, threads: 'inline' });
  try {
    // one publish at a time, like a single device sending frames
    for (let i = 0; i < 20; i++) await new Promise<void>((r) => app.publisher.publish(`nagle${process.pid}/message/gw/channels/1/x`, '{}', false, () => r()));
    const warnings = lines.filter((l) => /set_tcp_nodelay true/.test(l));
    assert.equal(warnings.length, 1, lines.join(''));
    assert.match(warnings[0]!, /"puback_median_ms":4\d/);
  } finally {
    await app.stop();
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
