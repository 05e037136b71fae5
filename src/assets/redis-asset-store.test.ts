import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { waitFor } from '../../test/support/harness.js';
import { REDIS_URL, redisSkipReason, uniquePrefix } from '../../test/support/redis.js';
import { FakeAssetMqtt } from '../../test/support/fake-asset-mqtt.js';
import { makeTopics } from '../mqtt/topics.js';
import { createLogger } from '../util/log.js';
import type { WatchedValues } from '../pool/task-types.js';
import { AssetService } from './asset-service.js';
import type { AssetStore } from './asset-store.js';
import { RedisAssetStore } from './redis-asset-store.js';
import type { Asset, AssetRecord, Interval } from './types.js';

/**
 * The Redis asset store against a real Redis (REDIS_URL, as scripts/test-services.js provides it;
 * skipped with the reason when none answers), and two AssetServices on one Redis as two instances
 * of the channel would be. Every test uses its own key prefix (other suites share the server).
 */

const skip = await redisSkipReason();
if (skip) console.log(`# redis-asset-store: skipped: ${skip}`);

const prefixes: string[] = [];
function prefix(): string {
  const p = uniquePrefix('edge-test-assets');
  prefixes.push(p);
  return p;
}

test.after(async () => {
  if (skip) return;
  const r = new Redis(REDIS_URL);
  for (const p of prefixes) {
    const keys = await r.keys(`${p}*`);
    if (keys.length) await r.del(...keys);
  }
  await r.quit();
});

const P = 'tacho.fms.driver.id.1';
const driver: Asset = { id: 'drv1', name: 'Anna', type: 'driver', match: { parameter: P, value: 'CARD-A' } };
const T0 = 1_699_990_000;
const NOW_MS = 1_700_000_000_000;
const topics = makeTopics('edge');
const ACTIVE = (id: string) => `edge/state/gw/assets/${id}/active`;
const iv = (id: number, begin: number, end: number, ident: string): Interval => ({ id, begin, end, ident, channel_id: 1, meta: null, source: 'auto' });
const rec = (id: string, rev: number, intervals: Interval[] = []): AssetRecord => ({ asset: { id, name: id, type: 'driver' }, rev, next_interval_id: intervals.length + 1, intervals });


/** What Redis holds for drv1 under prefix `p`, read by a store of its own. */
async function stored(url: string, p: string): Promise<Interval[] | undefined> {
  const s = new RedisAssetStore({ url, prefix: p });
  try {
    return (await s.get('drv1'))?.intervals;
  } finally {
    await s.close();
  }
}

class FakeMqtt extends FakeAssetMqtt {
  events(kind: string): Record<string, unknown>[] {
    return this.out.filter((o) => o.topic === `edge/log/gw/assets/drv1/intervals/${kind}`).map((o) => JSON.parse(o.payload) as Record<string, unknown>);
  }
}

/** Hides `watch`: an instance that never hears of the other's writes (a lost or late notice). */
function deaf(s: AssetStore): AssetStore {
  return { load: () => s.load(), get: (id) => s.get(id), put: (r, e) => s.put(r, e), delete: (id, e) => s.delete(id, e), close: () => s.close() };
}

interface Instance {
  svc: AssetService;
  mqtt: FakeMqtt;
  /** One message of a device; resolves true if it started a durable write, rejects if the frame would not be acknowledged. */
  msg(ident: string, t: number, card: string | null): Promise<boolean>;
  timeline(): Interval[];
}

async function instance(store: AssetStore, grace = 0): Promise<Instance> {
  const mqtt = new FakeMqtt();
  const watch: { names: readonly string[] | null } = { names: null };
  const svc = new AssetService({
    store,
    mqtt,
    topics,
    settings: { absence_grace_s: grace, max_intervals: 1000, max_late_s: 30 * 86400, max_future_s: 300, max_meta_bytes: 8192 },
    declared: [driver],
    log: createLogger('silent', new Writable({ write: (_c, _e, cb) => cb() })),
    setWatch: (n) => (watch.names = n),
    now: () => NOW_MS,
  });
  await svc.start();
  return {
    svc,
    mqtt,
    async msg(ident, t, card) {
      const names = watch.names ?? [];
      const w: WatchedValues = { names, values: [t, ...names.map((n) => (n === P ? card : null))] };
      let err: Error | null | undefined = null;
      let settled: () => void = () => {};
      const p = new Promise<void>((res) => (settled = res));
      const took = svc.observe('1', ident, w, 0, (e) => {
        err = e;
        settled();
      });
      if (took) await p;
      if (err) throw err;
      return took;
    },
    timeline: () => svc.timeline('drv1')?.intervals ?? [],
  };
}

test('redis store: conditional put and delete, get, load', { skip }, async () => {
  const s = new RedisAssetStore({ url: REDIS_URL, prefix: prefix() });
  try {
    assert.deepEqual(await s.load(), []);
    assert.equal(await s.get('a'), null);
    assert.equal(await s.put(rec('a', 1), 0), true, 'created');
    assert.equal(await s.put(rec('a', 1), 0), false, 'expected absent, but it exists');
    assert.deepEqual(await s.get('a'), rec('a', 1));
    assert.equal(await s.put(rec('a', 2, [iv(1, T0, 0, 'x')]), 1), true);
    assert.equal(await s.put(rec('a', 2), 1), false, 'revision 1 is gone');
    assert.equal(await s.put(rec('a', 4), 3), false, 'a revision never stored');
    assert.deepEqual(await s.get('a'), rec('a', 2, [iv(1, T0, 0, 'x')]));
    assert.equal(await s.put(rec('b', 1), 0), true);
    assert.deepEqual((await s.load()).map((r) => [r.asset.id, r.rev]), [['a', 2], ['b', 1]]);
    assert.equal(await s.delete('a', 1), false, 'stale delete refused');
    assert.equal(await s.delete('a', 2), true);
    assert.equal(await s.get('a'), null);
    assert.equal(await s.delete('c', 0), true, 'an asset never stored: nothing to delete');
    assert.deepEqual((await s.load()).map((r) => r.asset.id), ['b']);
  } finally {
    await s.close();
  }
});

test('redis store: a deleted and re-created asset is not overwritten by a writer that saw the old one (same rev)', { skip }, async () => {
  const p = prefix();
  const a = new RedisAssetStore({ url: REDIS_URL, prefix: p });
  const b = new RedisAssetStore({ url: REDIS_URL, prefix: p });
  try {
    assert.equal(await a.put(rec('x', 1), 0), true);
    assert.equal((await b.load()).length, 1);
    assert.equal(await a.delete('x', 1), true);
    assert.equal(await a.put(rec('x', 1, [iv(1, T0, 0, 'new')]), 0), true, 're-created at rev 1');
    assert.equal(await b.put(rec('x', 2), 1), false, 'b saw the old asset at rev 1: refused');
    assert.equal(await b.delete('x', 1), false);
    assert.deepEqual((await b.get('x'))?.intervals, [iv(1, T0, 0, 'new')]);
    assert.equal(await b.put(rec('x', 2), 1), true, 'after reading it, b may write');
  } finally {
    await a.close();
    await b.close();
  }
});

test('redis store: concurrent writers of one revision: exactly one wins, every round', { skip }, async () => {
  const p = prefix();
  const stores = Array.from({ length: 5 }, () => new RedisAssetStore({ url: REDIS_URL, prefix: p }));
  try {
    assert.equal(await stores[0]!.put(rec('c', 1), 0), true);
    for (let round = 1; round <= 10; round++) {
      for (const s of stores) await s.get('c');
      const results = await Promise.all(stores.map((s, k) => s.put(rec('c', round + 1, [iv(1, T0 + k, 0, `w${k}`)]), round)));
      assert.equal(results.filter(Boolean).length, 1, `round ${round}: ${results.join(',')}`);
      const winner = results.indexOf(true);
      assert.deepEqual((await stores[0]!.get('c'))?.intervals, [iv(1, T0 + winner, 0, `w${winner}`)], 'the stored record is the winner’s');
    }
    // creation races too
    const created = await Promise.all(stores.map((s) => s.put(rec('d', 1), 0)));
    assert.equal(created.filter(Boolean).length, 1);
  } finally {
    await Promise.all(stores.map((s) => s.close()));
  }
});

test('redis store: every write is noticed by the other stores (rev, and 0 for a delete)', { skip }, async () => {
  const p = prefix();
  const a = new RedisAssetStore({ url: REDIS_URL, prefix: p });
  const b = new RedisAssetStore({ url: REDIS_URL, prefix: p });
  const seen: [string | null, number][] = [];
  try {
    await b.watch((id, rev) => seen.push([id, rev]));
    await a.put(rec('n', 1), 0);
    await a.put(rec('n', 2), 1);
    await a.delete('n', 2);
    await waitFor('3 notices', () => seen.length >= 3);
    assert.deepEqual(seen, [['n', 1], ['n', 2], ['n', 0]]);
  } finally {
    await a.close();
    await b.close();
  }
});

test('redis store: no Redis at the URL: load fails with EDGE_ASSET_STORE_FAILED and a reason, nothing crashes', { skip }, async () => {
  const port = await new Promise<number>((res) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const a = srv.address() as { port: number };
      srv.close(() => res(a.port));
    });
  });
  const s = new RedisAssetStore({ url: `redis://127.0.0.1:${port}`, prefix: prefix(), commandTimeoutMs: 500 });
  try {
    await assert.rejects(s.load(), (e: Error & { code?: string }) => e.code === 'EDGE_ASSET_STORE_FAILED' && /cannot connect/.test(e.message));
  } finally {
    await s.close();
  }
});

test('two instances: a card that moves from truck X on A to truck Y on B: A’s interval closes at B’s device time; A does not reopen it', { skip }, async () => {
  const p = prefix();
  const a = await instance(new RedisAssetStore({ url: REDIS_URL, prefix: p }), 60);
  const b = await instance(new RedisAssetStore({ url: REDIS_URL, prefix: p }), 60);
  try {
    assert.equal(await a.msg('truckX', T0 + 10, 'CARD-A'), true, 'A opens the interval');
    await waitFor('B to hear of A’s write', () => b.timeline().length === 1);
    assert.equal(await b.msg('truckY', T0 + 40, 'CARD-A'), true, 'B takes the card');
    const want = [iv(1, T0 + 10, T0 + 40, 'truckX'), iv(2, T0 + 40, 0, 'truckY')];
    assert.deepEqual(b.timeline(), want);
    await waitFor('A to hear of B’s write', () => a.timeline().length === 2);
    assert.deepEqual(a.timeline(), want);
    // truck X goes on without the card past A's grace period: A no longer tracks the interval
    assert.equal(await a.msg('truckX', T0 + 50, null), false);
    assert.equal(await a.msg('truckX', T0 + 200, null), false, 'A does not close (again) what B closed');
    assert.deepEqual(a.timeline(), want);
    // B's grace for its own interval is unaffected
    assert.equal(await b.msg('truckY', T0 + 210, null), false, 'within the grace period');
    assert.equal(await b.msg('truckY', T0 + 280, null), true, 'grace over: closed at the first record without the card');
    const closed = [iv(1, T0 + 10, T0 + 40, 'truckX'), iv(2, T0 + 40, T0 + 210, 'truckY')];
    assert.deepEqual(b.timeline(), closed);
    await waitFor('A to hear of the close', () => a.timeline()[1]?.end === T0 + 210);
    assert.deepEqual(await stored(REDIS_URL, p), closed, 'Redis holds exactly these intervals');
    // events: each published once, by the instance that made the change
    assert.deepEqual(a.mqtt.events('created').map((e) => e.id), [1]);
    assert.deepEqual(a.mqtt.events('closed'), []);
    assert.deepEqual(b.mqtt.events('created').map((e) => e.id), [2]);
    assert.deepEqual(b.mqtt.events('closed').map((e) => [e.id, e.end]), [[1, T0 + 40], [2, T0 + 210]]);
    assert.equal(b.mqtt.retained(ACTIVE('drv1')), '', 'B cleared the active state');
    assert.deepEqual(a.mqtt.out.filter((o) => o.retain && o.payload).map((o) => JSON.parse(o.payload) as Interval), [iv(1, T0 + 10, 0, 'truckX')], 'A published its own interval only');
    assert.notEqual(a.mqtt.retained(ACTIVE('drv1')), '', 'nor cleared it after B’s change (B did)');
    // enrichment on both sides follows the shared timeline
    assert.equal(a.svc.enrich('1', 'truckY', T0 + 100), '{"asset.driver.id":"drv1","asset.driver.name":"Anna"}');
    assert.equal(a.svc.enrich('1', 'truckX', T0 + 100), null);
  } finally {
    await a.svc.stop(1000);
    await b.svc.stop(1000);
  }
});

test('two instances that miss each other’s notices: the refused write reloads, the frame is not acknowledged, its resend decides right', { skip }, async () => {
  const p = prefix();
  const a = await instance(deaf(new RedisAssetStore({ url: REDIS_URL, prefix: p })));
  const b = await instance(deaf(new RedisAssetStore({ url: REDIS_URL, prefix: p })));
  try {
    assert.equal(await a.msg('truckX', T0 + 10, 'CARD-A'), true);
    assert.deepEqual(b.timeline(), [], 'B has not heard of it');
    await assert.rejects(b.msg('truckY', T0 + 40, 'CARD-A'), (e: Error & { code?: string }) => e.code === 'EDGE_ASSET_STORE_FAILED', 'built on a stale copy: refused, not acknowledged');
    assert.deepEqual(b.timeline(), [iv(1, T0 + 10, 0, 'truckX')], 'B reloaded the asset');
    assert.deepEqual(b.mqtt.events('created'), [], 'nothing published for the refused change');
    assert.equal(await b.msg('truckY', T0 + 40, 'CARD-A'), true, 'the resent frame');
    const want = [iv(1, T0 + 10, T0 + 40, 'truckX'), iv(2, T0 + 40, 0, 'truckY')];
    assert.deepEqual(b.timeline(), want);
    // A still thinks X holds the card: its close at T0+60 is refused, A reloads, the resend does nothing
    await assert.rejects(a.msg('truckX', T0 + 60, null), (e: Error & { code?: string }) => e.code === 'EDGE_ASSET_STORE_FAILED');
    assert.deepEqual(a.timeline(), want);
    assert.equal(await a.msg('truckX', T0 + 60, null), false);
    assert.deepEqual(await b.svc.timeline('drv1')?.intervals, want);
    assert.deepEqual(await stored(REDIS_URL, p), want, 'Redis holds exactly these intervals');
    assert.deepEqual(a.mqtt.events('closed'), [], 'A published no close of its own');
    assert.deepEqual(JSON.parse(b.mqtt.retained(ACTIVE('drv1'))!), want[1]);
  } finally {
    await a.svc.stop(1000);
    await b.svc.stop(1000);
  }
});

/** A TCP relay to Redis that can be cut and restored on the same port: a Redis outage seen by one client. */
class Relay {
  private server: Server | null = null;
  private readonly socks = new Set<Socket>();
  port = 0;
  async up(): Promise<void> {
    const target = new URL(REDIS_URL);
    this.server = createServer((c) => {
      const r = connect({ host: target.hostname.replace(/^\[|\]$/g, ''), port: Number(target.port || 6379) });
      for (const s of [c, r]) {
        this.socks.add(s);
        s.on('error', () => undefined);
        s.on('close', () => (this.socks.delete(s), c.destroy(), r.destroy()));
      }
      c.pipe(r).pipe(c);
    });
    await new Promise<void>((res) => this.server!.listen(this.port, '127.0.0.1', res));
    this.port = (this.server.address() as { port: number }).port;
  }
  async down(): Promise<void> {
    for (const s of this.socks) s.destroy();
    await new Promise<void>((res) => this.server!.close(() => res()));
  }
}

test('Redis outage: the change is refused (frame not acknowledged), the asset stays unsure until Redis is back, then the resend is stored', { skip }, async () => {
  const p = prefix();
  const relay = new Relay();
  await relay.up();
  const a = await instance(new RedisAssetStore({ url: `redis://127.0.0.1:${relay.port}`, prefix: p, commandTimeoutMs: 500 }));
  try {
    assert.equal(await a.msg('truckX', T0 + 10, 'CARD-A'), true);
    await relay.down();
    await assert.rejects(a.msg('truckX', T0 + 20, null), (e: Error & { code?: string }) => e.code === 'EDGE_ASSET_STORE_FAILED', 'not stored: not acknowledged (first)');
    // the cache cannot be trusted (the reload failed too): the resend is refused as well, not acknowledged on a guess
    await assert.rejects(a.msg('truckX', T0 + 20, null), (e: Error & { code?: string }) => e.code === 'EDGE_ASSET_STORE_FAILED' && /cannot be read/.test(e.message));
    assert.deepEqual(a.mqtt.events('closed'), []);
    await relay.up();
    let ok = false;
    for (let i = 0; i < 100 && !ok; i++) {
      await new Promise((r) => setTimeout(r, 100));
      ok = await a.msg('truckX', T0 + 20, null).then(
        () => true,
        () => false,
      );
    }
    assert.ok(ok, 'the resent frame is accepted once Redis is back');
    const want = [iv(1, T0 + 10, T0 + 20, 'truckX')];
    assert.deepEqual(a.timeline(), want);
    assert.deepEqual(await stored(REDIS_URL, p), want);
    assert.deepEqual(a.mqtt.events('closed').map((e) => e.id), [1], 'the close published once');
  } finally {
    await a.svc.stop(1000);
    await relay.down().catch(() => undefined);
  }
});

test('two instances starting at once with the same declared asset both start; one record is stored', { skip }, async () => {
  for (let round = 0; round < 5; round++) {
    const p = prefix();
    const [a, b] = await Promise.all([instance(new RedisAssetStore({ url: REDIS_URL, prefix: p })), instance(new RedisAssetStore({ url: REDIS_URL, prefix: p }))]);
    try {
      const s = new RedisAssetStore({ url: REDIS_URL, prefix: p });
      const all = await s.load();
      await s.close();
      assert.deepEqual(all.map((r) => [r.asset.id, r.asset.declared, r.intervals.length]), [['drv1', true, 0]]);
      assert.equal(await a.msg('truckX', T0 + 10, 'CARD-A'), true, 'A writes on what it loaded or reloaded');
      await waitFor('B to hear of it', () => b.timeline().length === 1);
    } finally {
      await a.svc.stop(1000);
      await b.svc.stop(1000);
    }
  }
});

test('notices lost while the connection was down: after reconnecting, every asset is compared again and the other instance’s change is read', { skip }, async () => {
  const p = prefix();
  const relay = new Relay();
  await relay.up();
  const a = await instance(new RedisAssetStore({ url: `redis://127.0.0.1:${relay.port}`, prefix: p, commandTimeoutMs: 500 }));
  const b = await instance(new RedisAssetStore({ url: REDIS_URL, prefix: p }));
  try {
    assert.equal(await a.msg('truckX', T0 + 10, 'CARD-A'), true);
    await waitFor('B to hear of it', () => b.timeline().length === 1);
    await relay.down();
    assert.equal(await b.msg('truckY', T0 + 40, 'CARD-A'), true, 'B moves the card while A cannot hear');
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(a.timeline(), [iv(1, T0 + 10, 0, 'truckX')], 'A missed the notice');
    await relay.up();
    await waitFor('A to compare again after reconnecting', () => a.timeline().length === 2, 15_000);
    assert.deepEqual(a.timeline(), [iv(1, T0 + 10, T0 + 40, 'truckX'), iv(2, T0 + 40, 0, 'truckY')]);
    assert.equal(await a.msg('truckX', T0 + 60, null), false, 'nothing left for A to close');
  } finally {
    await a.svc.stop(1000);
    await b.svc.stop(1000);
    await relay.down().catch(() => undefined);
  }
});
