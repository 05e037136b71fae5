import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { freePort } from '../../bench/lib/net-probe.js';
import { REDIS_URL, redisSkipReason, uniquePrefix } from '../../test/support/redis.js';
import { RedisConnectionTotals } from './connection-totals.js';

/**
 * Connection totals against a real Redis (REDIS_URL, as scripts/test-services.js provides it;
 * skipped with the reason when none answers): three instances of one channel, their own key prefix.
 */
const skip = await redisSkipReason();
if (skip) console.log(`# connection-totals: skipped: ${skip}`);

test('every instance\'s count in one total; a leaving instance leaves it at once, a crashed one when its lease lapses', { skip }, async () => {
  const prefix = uniquePrefix('edge-test-conns');
  const mk = (id: string, leaseMs: number) => new RedisConnectionTotals({ url: REDIS_URL, prefix, instanceId: id, leaseMs });
  const a = mk('a', 30_000);
  const b = mk('b', 30_000);
  const c = mk('c', 300);
  try {
    assert.equal(await a.report('1', 3), 3);
    assert.equal(await b.report('1', 5), 8);
    assert.equal(await c.report('1', 2), 10);
    assert.equal(await a.report('2', 7), 7, 'another channel has its own total');
    assert.equal(await a.report('1', 4), 11, 'a report replaces the instance\'s count');
    assert.equal(await b.leave('1'), 6, 'b stopped: its 5 are gone');
    // c crashed (no more reports): its 2 leave the total once its 300 ms lease lapsed
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(await a.report('1', 4), 4);
    assert.equal(await a.report('1', -2), 0, 'a nonsense count is reported as 0, not subtracted');
  } finally {
    const r = new Redis(REDIS_URL);
    const keys = await r.keys(`${prefix}*`);
    if (keys.length) await r.del(...keys);
    await r.quit();
    await Promise.all([a, b, c].map((x) => x.close()));
  }
});

test('Redis unreachable: a report fails with the reason (the channel then publishes nothing)', async () => {
  const t = new RedisConnectionTotals({ url: 'redis://127.0.0.1:1', prefix: 'x:', instanceId: 'a' });
  try {
    await assert.rejects(t.report('1', 1), /ECONNREFUSED|connect|Connection is closed/i);
  } finally {
    await t.close();
  }
});

test('Redis down when the first report goes out: the reports fail, then succeed once it answers (no stuck first connect)', { skip }, async () => {
  const prefix = uniquePrefix('edge-test-conns');
  const port = await freePort();
  const t = new RedisConnectionTotals({ url: `redis://127.0.0.1:${port}`, prefix, instanceId: 'a' });
  // nothing listens yet: the first report (which connects) fails
  await assert.rejects(t.report('1', 2));
  // then Redis appears at that address (a forwarder to the test Redis)
  const target = new URL(REDIS_URL);
  const sockets = new Set<Socket>();
  const fwd = createServer((c) => {
    const r = connect(Number(target.port || 6379), target.hostname);
    for (const s of [c, r]) {
      sockets.add(s);
      s.on('error', () => undefined);
    }
    c.pipe(r).pipe(c);
  });
  await new Promise<void>((resolve) => fwd.listen(port, '127.0.0.1', resolve));
  try {
    let total: number | undefined;
    const deadline = Date.now() + 10_000;
    while (total === undefined && Date.now() < deadline) {
      total = await t.report('1', 2).catch(() => undefined);
      if (total === undefined) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(total, 2, 'a report is answered once Redis is there');
  } finally {
    await t.close();
    for (const s of sockets) s.destroy();
    await new Promise((r) => fwd.close(r));
    const r = new Redis(REDIS_URL);
    const keys = await r.keys(`${prefix}*`);
    if (keys.length) await r.del(...keys);
    await r.quit();
  }
});
