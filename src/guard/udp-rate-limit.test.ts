import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { createUdpRateLimiter, type UdpRateVerdict } from './udp-rate-limit.js';
import { EdgeError } from '../errors.js';

function tally(results: UdpRateVerdict[]): { ok: number; rate: number; rate_ip: number } {
  const t = { ok: 0, rate: 0, rate_ip: 0 };
  for (const r of results) {
    if (r === true) t.ok++;
    else t[r]++;
  }
  return t;
}

test('memory: exactly the limit passes per window, concurrent or sequential', async () => {
  const concurrent = createUdpRateLimiter({ channelId: 'c1', maxPacketsPerMinute: 50 });
  assert.equal(concurrent.store, 'memory');
  const all = await Promise.all(Array.from({ length: 500 }, (_, i) => concurrent.consume(`10.0.0.${i % 7}`)));
  assert.deepEqual(tally(all), { ok: 50, rate: 450, rate_ip: 0 });
  assert.deepEqual(all.slice(0, 50), Array(50).fill(true), 'the first 50 in arrival order pass');
  assert.equal(concurrent.blocked('10.9.9.9'), 'rate', 'the exhausted window is known synchronously');
  await concurrent.close();

  const sequential = createUdpRateLimiter({ channelId: 'c2', maxPacketsPerMinute: 50 });
  const seq: UdpRateVerdict[] = [];
  for (let i = 0; i < 500; i++) seq.push(await sequential.consume('10.0.0.1'));
  assert.deepEqual(tally(seq), { ok: 50, rate: 450, rate_ip: 0 });
  await sequential.close();
});

test('memory: per-IP limit, and a refused source does not spend the channel budget', async () => {
  const l = createUdpRateLimiter({ channelId: 'c3', maxPacketsPerMinute: 12, maxPacketsPerMinutePerIp: 5 });
  const a = tally(await Promise.all(Array.from({ length: 50 }, () => l.consume('192.0.2.1'))));
  assert.deepEqual(a, { ok: 5, rate: 0, rate_ip: 45 });
  assert.equal(l.blocked('192.0.2.1'), 'rate_ip');
  assert.equal(l.blocked('192.0.2.2'), undefined);
  // The mapped spelling of the same source shares its counter.
  assert.equal(await l.consume('::ffff:192.0.2.1'), 'rate_ip');
  const b = tally(await Promise.all(Array.from({ length: 50 }, () => l.consume('::ffff:192.0.2.2'))));
  assert.deepEqual(b, { ok: 5, rate: 0, rate_ip: 45 });
  // 10 of 12 spent: a third source gets the last 2, then the channel limit applies.
  const c = tally(await Promise.all(Array.from({ length: 50 }, () => l.consume('192.0.2.3'))));
  assert.equal(c.ok, 2);
  assert.equal(c.ok + c.rate + c.rate_ip, 50);
  assert.equal(l.blocked('192.0.2.4'), 'rate');
  await l.close();
});

test('memory: per-IP limit alone (no channel-wide limit)', async () => {
  const l = createUdpRateLimiter({ channelId: 'c4', maxPacketsPerMinute: 0, maxPacketsPerMinutePerIp: 3 });
  const r = tally(await Promise.all(Array.from({ length: 40 }, (_, i) => l.consume(`198.51.100.${i % 4}`))));
  assert.deepEqual(r, { ok: 12, rate: 0, rate_ip: 28 });
  await l.close();
});

test('no limits configured: everything passes', async () => {
  const l = createUdpRateLimiter({ channelId: 'c5', maxPacketsPerMinute: 0, redisUrl: 'redis://127.0.0.1:1' });
  assert.equal(l.store, 'memory', 'no Redis client is made when there is nothing to count');
  const r = tally(await Promise.all(Array.from({ length: 100 }, () => l.consume('10.0.0.1'))));
  assert.deepEqual(r, { ok: 100, rate: 0, rate_ip: 0 });
  await l.close();
});

test('a new window starts 60 s after the first datagram', async (t) => {
  mock.timers.enable({ apis: ['Date', 'setTimeout'], now: 1_700_000_000_000 });
  t.after(() => mock.timers.reset());
  const l = createUdpRateLimiter({ channelId: 'c6', maxPacketsPerMinute: 10, maxPacketsPerMinutePerIp: 4 });
  const first = tally(await Promise.all(Array.from({ length: 30 }, (_, i) => l.consume(`10.0.0.${i % 5}`))));
  assert.equal(first.ok, 10);
  mock.timers.tick(59_000);
  assert.equal(l.blocked('10.0.0.9'), 'rate');
  assert.equal(await l.consume('10.0.0.9'), 'rate');
  mock.timers.tick(1_001);
  assert.equal(l.blocked('10.0.0.9'), undefined);
  assert.equal(l.blocked('10.0.0.0'), undefined, 'per-IP deadlines expire with the window');
  const second = tally(await Promise.all(Array.from({ length: 30 }, (_, i) => l.consume(`10.0.0.${i % 5}`))));
  assert.equal(second.ok, 10);
  await l.close();
});

test('bad limits throw EDGE_CONFIG_INVALID', () => {
  for (const bad of [-1, 1.5, Number.NaN]) {
    assert.throws(
      () => createUdpRateLimiter({ channelId: 'c7', maxPacketsPerMinute: bad }),
      (e: unknown) => e instanceof EdgeError && e.code === 'EDGE_CONFIG_INVALID' && e.reason.startsWith('max_udp_packets_per_minute:'),
    );
  }
});
