import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { waitFor } from '../../test/support/harness.js';
import { REDIS_URL, freeLoopbackPort as freePort, redisServerBin, redisSkipReason, startPrivateRedis as startRedis, uniquePrefix } from '../../test/support/redis.js';
import { createUdpRateLimiter, type UdpRateLimiter, type UdpRateVerdict } from './udp-rate-limit.js';
import { ChannelGuards } from '../channel/channel-guards.js';
import { validateConfig } from '../config/validate.js';
import { createLogger } from '../util/log.js';

/**
 * Shared-limit and fallback behaviour against a real Redis. REDIS_URL is used when set (CI sets
 * it and makes sure Redis runs); otherwise the default local port is tried and the tests that
 * need a running Redis are skipped when it does not answer within a second.
 */

// A fresh key prefix per run, so reruns within one window never see each other's counts.
const KEY_PREFIX = uniquePrefix('edge-test', '');

const skipShared = await redisSkipReason();


function okCount(results: UdpRateVerdict[]): number {
  return results.filter((r) => r === true).length;
}

type LogLine = [level: 'warn' | 'info', msg: string];

test('redis: two instances with the same channel id enforce one combined limit', { skip: skipShared }, async () => {
  const logs: LogLine[] = [];
  const make = () =>
    createUdpRateLimiter({ channelId: 'shared', maxPacketsPerMinute: 100, redisUrl: REDIS_URL, keyPrefix: KEY_PREFIX, log: (l, m) => logs.push([l, m]) });
  const a = make();
  const b = make();
  try {
    await waitFor('both clients ready', () => a.store === 'redis' && b.store === 'redis', 8_000);
    const sends: Promise<UdpRateVerdict>[] = [];
    for (let i = 0; i < 150; i++) sends.push(a.consume(`10.0.0.${i % 9}`), b.consume(`10.0.1.${i % 9}`));
    const results = await Promise.all(sends);
    assert.equal(okCount(results), 100);
    assert.equal(results.filter((r) => r === 'rate').length, 200);
    assert.equal(a.blocked('10.0.0.1'), 'rate');
    assert.equal(b.blocked('10.0.0.1'), 'rate');
    assert.deepEqual(logs, [], 'no fallback happened');

    // Another channel id has its own counter in the same Redis.
    const other = createUdpRateLimiter({ channelId: 'other', maxPacketsPerMinute: 100, redisUrl: REDIS_URL, keyPrefix: KEY_PREFIX });
    await waitFor('client ready', () => other.store === 'redis', 8_000);
    assert.equal(okCount(await Promise.all(Array.from({ length: 120 }, () => other.consume('10.0.0.1')))), 100);
    await other.close();
  } finally {
    await a.close();
    await b.close();
  }
});

test('redis: the per-IP limit is shared too', { skip: skipShared }, async () => {
  const make = () => createUdpRateLimiter({ channelId: 'shared-ip', maxPacketsPerMinute: 1_000, maxPacketsPerMinutePerIp: 7, redisUrl: REDIS_URL, keyPrefix: KEY_PREFIX });
  const a = make();
  const b = make();
  try {
    await waitFor('both clients ready', () => a.store === 'redis' && b.store === 'redis', 8_000);
    const sends: Promise<UdpRateVerdict>[] = [];
    for (let i = 0; i < 20; i++) sends.push(a.consume('192.0.2.1'), b.consume('::ffff:192.0.2.1'), a.consume('192.0.2.2'));
    const results = await Promise.all(sends);
    assert.equal(okCount(results), 14, '7 for each of the two sources, across both instances');
    assert.equal(results.filter((r) => r === 'rate_ip').length, 46);
  } finally {
    await a.close();
    await b.close();
  }
});

test('unreachable Redis: falls back to memory, warns once, still limits', async () => {
  const logs: LogLine[] = [];
  const l = createUdpRateLimiter({
    channelId: 'fallback',
    maxPacketsPerMinute: 50,
    redisUrl: 'redis://edge:s3cret@127.0.0.1:1',
    keyPrefix: KEY_PREFIX,
    log: (level, msg) => logs.push([level, msg]),
  });
  try {
    await waitFor('the fallback warning', () => logs.length > 0, 3_000);
    assert.equal(l.store, 'memory');
    const results = await Promise.all(Array.from({ length: 500 }, () => l.consume('10.0.0.1')));
    assert.equal(okCount(results), 50);
    // Several reconnect attempts fail meanwhile (200 ms, 400 ms, ...): still one line.
    await new Promise((r) => setTimeout(r, 1_300));
    assert.equal(logs.length, 1, JSON.stringify(logs));
    const [level, msg] = logs[0] ?? ['info', ''];
    assert.equal(level, 'warn');
    assert.match(msg, /channel fallback: Redis redis:\/\/127\.0\.0\.1:1 unavailable \(.*ECONNREFUSED.*\)/);
    assert.doesNotMatch(msg, /s3cret/, 'credentials never reach the log');
  } finally {
    await l.close();
  }
});

test(
  'Redis going away and coming back: warn once, count locally, info once, shared again',
  { skip: redisServerBin ? false : 'redis-server is not installed (needed to stop and restart a private Redis)' },
  async (t) => {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    let server = await startRedis(port);
    t.after(() => server.kill('SIGKILL'));
    const logs: LogLine[] = [];
    let l: UdpRateLimiter | undefined;
    const probe = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, retryStrategy: () => null });
    try {
      l = createUdpRateLimiter({ channelId: 'flappy', maxPacketsPerMinute: 12, redisUrl: url, keyPrefix: KEY_PREFIX, log: (lv, m) => logs.push([lv, m]) });
      const limiter = l;
      await waitFor('limiter ready', () => limiter.store === 'redis', 8_000);
      assert.equal(okCount(await Promise.all(Array.from({ length: 10 }, () => limiter.consume('10.0.0.1')))), 10);
      await probe.connect();
      assert.equal(await probe.get(`${KEY_PREFIX}:udp:flappy:all`), '10', 'counted in Redis');
      probe.disconnect();

      server.kill('SIGKILL');
      await waitFor('the fallback warning', () => logs.length >= 1, 8_000);
      assert.equal(limiter.store, 'memory');
      // The local fallback counter starts from zero and still limits.
      assert.equal(okCount(await Promise.all(Array.from({ length: 20 }, () => limiter.consume('10.0.0.1')))), 12);
      assert.equal(limiter.blocked('10.0.0.1'), 'rate');

      server = await startRedis(port);
      await waitFor('the recovery info', () => logs.length >= 2, 8_000);
      await waitFor('limiter on Redis again', () => limiter.store === 'redis', 8_000);
      assert.deepEqual(
        logs.map(([lv]) => lv),
        ['warn', 'info'],
      );
      assert.match(logs[1]?.[1] ?? '', /channel flappy: Redis is back/);
      assert.equal(limiter.blocked('10.0.0.1'), undefined, 'the deadline learnt in fallback is forgotten');
      assert.equal(okCount(await Promise.all(Array.from({ length: 3 }, () => limiter.consume('10.0.0.1')))), 3);
      const probe2 = new Redis(url, { enableOfflineQueue: true, retryStrategy: () => null });
      assert.equal(await probe2.get(`${KEY_PREFIX}:udp:flappy:all`), '3', 'counted in the restarted (empty) Redis');
      probe2.disconnect();
    } finally {
      probe.disconnect();
      await l?.close();
    }
  },
);

test(
  'Redis stalls on a live connection: commands time out into memory, and it recovers without a reconnect',
  { skip: redisServerBin ? false : 'redis-server is not installed (needed to pause a private Redis)' },
  async (t) => {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    const server = await startRedis(port);
    t.after(() => server.kill('SIGKILL'));
    const logs: LogLine[] = [];
    const l = createUdpRateLimiter({ channelId: 'stall', maxPacketsPerMinute: 1_000, redisUrl: url, keyPrefix: KEY_PREFIX, log: (lv, m) => logs.push([lv, m]) });
    const admin = new Redis(url);
    try {
      await waitFor('limiter ready', () => l.store === 'redis', 8_000);
      // Every other client's commands wait 1.5 s: longer than the limiter's 500 ms command timeout.
      await admin.call('CLIENT', 'PAUSE', '1500', 'ALL');
      const during = await Promise.all(Array.from({ length: 5 }, () => l.consume('10.0.0.1')));
      assert.equal(okCount(during), 5, 'answered by the memory limiter, not held for the stall');
      assert.deepEqual(logs.map(([lv]) => lv), ['warn']);
      assert.equal(l.store, 'memory');
      // Recovery needs a quiet period (5 s) with Redis answering again.
      await new Promise((r) => setTimeout(r, 5_300));
      assert.equal(await l.consume('10.0.0.1'), true);
      assert.deepEqual(logs.map(([lv]) => lv), ['warn', 'info']);
      assert.equal(l.store, 'redis');
    } finally {
      admin.disconnect();
      await l.close();
    }
  },
);

test('redis: a channel\'s shared UDP counters live under the deployment\'s redis_prefix', { skip: skipShared }, async () => {
  const prefix = uniquePrefix('edge-test-pfx', ':');
  const cfg = validateConfig({ channels: [{ id: 'pfx', protocol: 'ruptela', udp_port: 0, max_udp_packets_per_minute: 50 }] }).channels[0]!;
  const guards = new ChannelGuards(cfg, REDIS_URL, createLogger('silent'), prefix);
  const redis = new Redis(REDIS_URL);
  try {
    // the limiter counts in memory until its Redis connection is up: admit until the shared keys appear
    let keys: string[] = [];
    const end = Date.now() + 8000;
    while (keys.length === 0 && Date.now() < end) {
      await guards.admitUdp('192.0.2.7');
      keys = await redis.keys(`${prefix.replace(/:$/, '')}:udp:pfx*`);
      if (keys.length === 0) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(keys.length > 0, `counters under the configured prefix (${prefix}): ${keys.join(', ')}`);
    assert.deepEqual(await redis.keys('edge-channel:udp:pfx*'), [], 'none under the built-in default');
  } finally {
    await guards.close();
    await redis.quit();
  }
});
