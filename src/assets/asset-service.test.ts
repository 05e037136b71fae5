import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { makeTopics } from '../mqtt/topics.js';
import { createLogger } from '../util/log.js';
import type { WatchedValues } from '../pool/task-types.js';
import { AssetService } from './asset-service.js';
import { validateConfig } from '../config/validate.js';
import { FileAssetStore } from './file-asset-store.js';
import type { AssetStore } from './asset-store.js';
import type { Asset, AssetRecord, Interval } from './types.js';
import { FakeAssetMqtt as FakeMqtt } from '../../test/support/fake-asset-mqtt.js';

const topics = makeTopics('edge');
const ACTIVE = (id: string) => `edge/state/gw/assets/${id}/active`;
const P = 'tacho.fms.driver.id.1';

interface Rig {
  svc: AssetService;
  mqtt: FakeMqtt;
  clock: { ms: number };
  watch: { names: readonly string[] | null };
  dir: string;
  /** Feeds one message: its device time and watched values; resolves when its durable write (if any) is done. */
  msg(ident: string, t: number, values: Record<string, string | null>, channel?: string): Promise<boolean>;
  request(body: unknown): Promise<Record<string, unknown>>;
}

async function rig(declared: Asset[], opts: { dir?: string; grace?: number; store?: AssetStore; startMs?: number } = {}): Promise<Rig> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'assets-'));
  const mqtt = new FakeMqtt();
  const clock = { ms: opts.startMs ?? 1_700_000_000_000 };
  const watch: { names: readonly string[] | null } = { names: null };
  const svc = new AssetService({
    store: opts.store ?? new FileAssetStore({ dir, fsync: false }),
    mqtt,
    topics,
    settings: { absence_grace_s: opts.grace ?? 0, max_intervals: 1000, max_late_s: 30 * 86400, max_future_s: 300, max_meta_bytes: 8192 },
    declared,
    channelIds: ['1', 'yard'],
    log: createLogger('silent', new Writable({ write: (_c, _e, cb) => cb() })),
    setWatch: (n) => (watch.names = n),
    now: () => clock.ms,
  });
  await svc.start();
  let answers = 0;
  const r: Rig = {
    svc,
    mqtt,
    clock,
    watch,
    dir,
    async msg(ident, t, values, channel = '1') {
      const names = watch.names ?? [];
      const w: WatchedValues = { names, values: [t, ...names.map((n) => values[n] ?? null)] };
      let settled: () => void = () => {};
      const p = new Promise<void>((res) => (settled = res));
      let err: Error | null | undefined = null;
      const took = svc.observe(channel, ident, w, 0, (e) => {
        err = e;
        settled();
      });
      if (took) await p;
      if (err) throw err;
      return took;
    },
    async request(body) {
      mqtt.handler!(topics.assetManagement(), Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)));
      const want = ++answers;
      for (let i = 0; i < 500; i++) {
        const a = mqtt.out.filter((o) => o.topic.startsWith('edge/log/gw/assets/requests/'));
        if (a.length >= want) return { result: a[want - 1]!.topic.split('/').at(-1), ...(JSON.parse(a[want - 1]!.payload) as Record<string, unknown>) };
        await new Promise((res) => setTimeout(res, 2));
      }
      throw new Error('no answer');
    },
  };
  return r;
}

const iv = (id: number, begin: number, end: number, ident: string, source: 'auto' | 'manual' = 'auto', meta: Record<string, unknown> | null = null): Interval => ({ id, begin, end, ident, channel_id: 1, meta, source });
const T0 = 1_699_990_000;
const driver: Asset = { id: 'drv1', name: 'Anna', type: 'driver', match: { parameter: P, value: 'CARD-A' } };

test('automatic: card inserted in one vehicle, removed, inserted in another: intervals, events, retained state, enrichment at device time', async () => {
  const r = await rig([driver]);
  try {
    assert.deepEqual(r.watch.names, [P], 'the decode path is asked for the rule parameter');
    assert.equal(r.mqtt.retained(ACTIVE('drv1')), '', 'start publishes the (empty) active state');
    assert.equal(r.mqtt.out.filter((o) => o.topic === ACTIVE('drv1')).length, 1, 'once: the declared asset\'s start write published it, the start does not repeat it');
    assert.equal(await r.msg('truckA', T0, { [P]: null }), false, 'nothing to write without the card');
    assert.equal(await r.msg('truckA', T0 + 10, { [P]: 'CARD-A' }), true);
    assert.equal(r.svc.enrich('1', 'truckA', T0 + 10), '{"asset.driver.id":"drv1","asset.driver.name":"Anna"}');
    assert.equal(r.svc.enrich('1', 'truckA', T0 + 5), null, 'before the card: nothing');
    assert.deepEqual(JSON.parse(r.mqtt.retained(ACTIVE('drv1'))!), iv(1, T0 + 10, 0, 'truckA'));
    assert.equal(await r.msg('truckA', T0 + 20, { [P]: 'CARD-A' }), false, 'still there: no write');
    assert.equal(await r.msg('truckA', T0 + 30, { [P]: null }), true, 'removed (grace 0): closes at this record');
    assert.equal(r.mqtt.retained(ACTIVE('drv1')), '');
    assert.equal(r.svc.enrich('1', 'truckA', T0 + 30), null);
    assert.equal(r.svc.enrich('1', 'truckA', T0 + 29), '{"asset.driver.id":"drv1","asset.driver.name":"Anna"}', 'a message of that time still gets it');
    await r.msg('truckB', T0 + 50, { [P]: 'CARD-A' });
    assert.deepEqual(r.svc.timeline('drv1')!.intervals, [iv(1, T0 + 10, T0 + 30, 'truckA'), iv(2, T0 + 50, 0, 'truckB')]);
    assert.deepEqual(JSON.parse(r.mqtt.retained(ACTIVE('drv1'))!), iv(2, T0 + 50, 0, 'truckB'));
    const events = r.mqtt.out.filter((o) => o.topic.startsWith('edge/log/gw/assets/drv1/intervals/')).map((o) => `${o.topic.split('/').at(-1)}:${(JSON.parse(o.payload) as Interval).id}`);
    assert.deepEqual(events, ['created:1', 'closed:1', 'created:2']);
    // the card moves straight to another vehicle: the open interval closes at that moment
    await r.msg('truckC', T0 + 60, { [P]: 'CARD-A' });
    assert.deepEqual(r.svc.timeline('drv1')!.intervals.slice(1), [iv(2, T0 + 50, T0 + 60, 'truckB'), iv(3, T0 + 60, 0, 'truckC')]);
  } finally {
    await r.svc.stop(1000);
    rmSync(r.dir, { recursive: true, force: true });
  }
});

test('automatic: another card value closes at once; an absent value closes after the grace period at the first record without it', async () => {
  const other: Asset = { id: 'drv2', name: 'Ben', type: 'driver', match: { parameter: P, value: 'CARD-B' } };
  const r = await rig([driver, other], { grace: 60 });
  try {
    await r.msg('t1', T0, { [P]: 'CARD-A' });
    await r.msg('t1', T0 + 10, { [P]: 'CARD-B' });
    assert.deepEqual(r.svc.timeline('drv1')!.intervals, [iv(1, T0, T0 + 10, 't1')]);
    assert.deepEqual(r.svc.timeline('drv2')!.intervals, [iv(1, T0 + 10, 0, 't1')]);
    assert.equal(await r.msg('t1', T0 + 20, { [P]: null }), false, 'absent 0 s: within grace');
    assert.equal(await r.msg('t1', T0 + 50, { [P]: null }), false, 'absent 30 s: within grace');
    await r.msg('t1', T0 + 55, { [P]: 'CARD-B' });
    await r.msg('t1', T0 + 60, { [P]: null });
    assert.equal(await r.msg('t1', T0 + 119, { [P]: null }), false, 'the card came back at +55: the grace restarts at +60');
    assert.equal(await r.msg('t1', T0 + 120, { [P]: null }), true);
    assert.deepEqual(r.svc.timeline('drv2')!.intervals, [iv(1, T0 + 10, T0 + 60, 't1')], 'closed at the first record without it');
  } finally {
    await r.svc.stop(1000);
    rmSync(r.dir, { recursive: true, force: true });
  }
});

test('late black-box records write intervals at device time into the gap, bounded by later history; conflicting ones do not rewrite it', async () => {
  const r = await rig([driver]);
  try {
    await r.msg('truckB', T0 + 100, { [P]: 'CARD-A' }); // live
    // truckA comes back from an outage and replays its black box: card in at +40, out at +70
    await r.msg('truckA', T0 + 30, { [P]: null });
    await r.msg('truckA', T0 + 40, { [P]: 'CARD-A' });
    assert.deepEqual(r.svc.timeline('drv1')!.intervals, [iv(2, T0 + 40, T0 + 100, 'truckA'), iv(1, T0 + 100, 0, 'truckB')], 'bounded by the interval that began later');
    assert.equal(await r.msg('truckA', T0 + 50, { [P]: 'CARD-A' }), false);
    await r.msg('truckA', T0 + 70, { [P]: null });
    assert.deepEqual(r.svc.timeline('drv1')!.intervals, [iv(2, T0 + 40, T0 + 70, 'truckA'), iv(1, T0 + 100, 0, 'truckB')]);
    assert.equal(r.svc.enrich('1', 'truckA', T0 + 45), '{"asset.driver.id":"drv1","asset.driver.name":"Anna"}', 'the replayed message carries the driver it had then');
    assert.equal(r.svc.enrich('1', 'truckA', T0 + 105), null);
    assert.deepEqual(JSON.parse(r.mqtt.retained(ACTIVE('drv1'))!), iv(1, T0 + 100, 0, 'truckB'), 'the active interval is untouched');
    const kinds = r.mqtt.out.filter((o) => o.topic.includes('/intervals/')).map((o) => o.topic.split('/').at(-1));
    assert.deepEqual(kinds, ['created', 'created', 'updated']);
    // a late record of a third vehicle inside truckA's closed interval: history stays as it is
    assert.equal(await r.msg('truckC', T0 + 60, { [P]: 'CARD-A' }), false);
    assert.equal(r.svc.counters.lateConflicts, 1);
    assert.equal(r.svc.timeline('drv1')!.intervals.length, 2);
  } finally {
    await r.svc.stop(1000);
    rmSync(r.dir, { recursive: true, force: true });
  }
});

test('records with a device time far in the past or ahead of server time move nothing (a wrong device clock)', async () => {
  const r = await rig([driver]);
  const now = r.clock.ms / 1000;
  try {
    assert.equal(await r.msg('t1', 0, { [P]: 'CARD-A' }), false, 'no time yet (1970)');
    assert.equal(await r.msg('t1', now - 31 * 86400, { [P]: 'CARD-A' }), false, 'older than max_late_s');
    assert.equal(await r.msg('t1', now + 301, { [P]: 'CARD-A' }), false, 'ahead by more than max_future_s');
    assert.equal(r.svc.counters.badTime, 3);
    assert.deepEqual(r.svc.timeline('drv1')!.intervals, []);
    assert.equal(await r.msg('t1', now - 29 * 86400, { [P]: 'CARD-A' }), true, 'a 29-day-old black-box record still counts');
  } finally {
    await r.svc.stop(1000);
    rmSync(r.dir, { recursive: true, force: true });
  }
});

test('manual intervals with meta, a planned interval that becomes active at its time, and a restart that keeps the timeline', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'assets-'));
  const r = await rig([], { dir });
  const now = r.clock.ms / 1000;
  try {
    assert.equal(r.watch.names, null, 'no assets: the decode path returns nothing extra');
    let a = await r.request({ op: 'create', request_id: 'r1', asset: { id: 'trl-7', name: 'Trailer 7', type: 'trailer' } });
    assert.deepEqual(a, { result: 'applied', request_id: 'r1', op: 'create', id: 'trl-7' });
    assert.deepEqual(r.watch.names, [], 'an asset without rules: device time only');
    a = await r.request({ op: 'assign', id: 'trl-7', channel_id: 1, ident: 'truck9', meta: { hooked_by: 'yard', note: 'Zoë' } });
    assert.equal(a.result, 'applied');
    const open = iv(1, now, 0, 'truck9', 'manual', { hooked_by: 'yard', note: 'Zoë' });
    assert.deepEqual(a.interval, open);
    assert.deepEqual(JSON.parse(r.mqtt.retained(ACTIVE('trl-7'))!), open);
    assert.equal(r.svc.enrich('1', 'truck9'), '{"asset.trailer.id":"trl-7","asset.trailer.name":"Trailer 7"}');
    // planned: from now+0.2 s to now+100 on truck4; the open interval closes when it begins
    a = await r.request({ op: 'assign', id: 'trl-7', channel_id: '1', ident: 'truck4', begin: now + 0.2, end: now + 100, meta: { plan: 'P-1' } });
    assert.equal(a.result, 'applied', JSON.stringify(a));
    assert.deepEqual(JSON.parse(r.mqtt.retained(ACTIVE('trl-7'))!), open, 'not yet');
    r.clock.ms += 300;
    await waitUntil(() => JSON.parse(r.mqtt.retained(ACTIVE('trl-7')) || '{}').id === 2);
    assert.deepEqual(r.svc.timeline('trl-7')!.intervals, [{ ...open, end: now + 0.2 }, iv(2, now + 0.2, now + 100, 'truck4', 'manual', { plan: 'P-1' })]);
    assert.equal(r.svc.enrich('1', 'truck4'), '{"asset.trailer.id":"trl-7","asset.trailer.name":"Trailer 7"}');
    a = await r.request({ op: 'close', id: 'trl-7', end: now + 50, meta: { unhooked: true } });
    assert.equal(a.result, 'applied', JSON.stringify(a));
    assert.equal(r.mqtt.retained(ACTIVE('trl-7'))!.length > 0, true, 'closed at +50: still active until then');
    const before = r.svc.timeline('trl-7');
    await r.svc.stop(1000);

    // restart: same store; the timeline is back and the retained state is published again
    const r2 = await rig([], { dir, startMs: r.clock.ms });
    try {
      assert.deepEqual(r2.svc.timeline('trl-7'), before);
      assert.deepEqual(JSON.parse(r2.mqtt.retained(ACTIVE('trl-7'))!), iv(2, now + 0.2, now + 50, 'truck4', 'manual', { unhooked: true }));
      a = await r2.request({ op: 'assign', id: 'trl-7', channel_id: 1, ident: 'truck5', begin: now + 50 });
      assert.equal(a.result, 'applied', 'ids continue after a restart');
      assert.equal((a.interval as Interval).id, 3);
    } finally {
      await r2.svc.stop(1000);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad management input is rejected with a reason and nothing is applied', async () => {
  const r = await rig([driver]);
  const now = r.clock.ms / 1000;
  try {
    await r.request({ op: 'create', asset: { id: 'trl', name: 'T', type: 'trailer' } });
    await r.request({ op: 'assign', id: 'trl', channel_id: 1, ident: 'x', begin: now - 100, end: now - 50 });
    const snapshot = JSON.stringify(r.svc.timeline('trl'));
    const cases: [unknown, RegExp][] = [
      ['{"op":"assign",', /malformed JSON/],
      ['[1,2]', /must be a JSON object/],
      [{ op: 'assign', id: 'nope', channel_id: 1, ident: 'x' }, /unknown asset nope/],
      [{ op: 'assign', id: 'trl', channel_id: 1, ident: 'y', begin: now - 80, end: now - 10 }, /overlaps interval 1/],
      [{ op: 'assign', id: 'trl', channel_id: 1, ident: 'y', begin: now - 40, end: now - 45 }, /ends .* before it begins/],
      [{ op: 'assign', id: 'trl', channel_id: 1, ident: 'y', meta: 'x' }, /meta must be a JSON object/],
      [{ op: 'assign', id: 'trl', channel_id: 1, ident: 'y', meta: { big: 'x'.repeat(9000) } }, /over the 8192-byte cap/],
      [{ op: 'close', id: 'trl', interval_id: 1 }, /already closed/],
      [{ op: 'close', id: 'trl' }, /no active interval/],
      [{ op: 'create', asset: { id: 'trl', name: 'T', type: 'trailer' } }, /exists/],
      [{ op: 'create', asset: { id: 'd2', name: 'D', type: 'driver', match: { parameter: P, value: 'CARD-A' } } }, /both match/],
      [{ op: 'create', asset: { id: 'bad/id', name: 'D', type: 'driver' } }, /asset.id must be/],
      [{ op: 'create', asset: { id: 'd3', name: 'D', type: 'Driver!' } }, /asset.type must be/],
      [{ op: 'delete', id: 'drv1' }, /declared in the config file/],
      [{ op: 'update', asset: { id: 'drv1', name: 'x', type: 'driver' } }, /declared in the config file/],
      [{ op: 'frobnicate', id: 'trl' }, /op must be one of/],
      [{ op: 'assign', id: 'trl', channel_id: 1, ident: 'y', extra: 1 }, /unknown key "extra"/],
    ];
    for (const [body, re] of cases) {
      const a = await r.request(body);
      assert.equal(a.result, 'rejected', JSON.stringify(body));
      assert.equal(a.code, 'EDGE_ASSET_REQUEST_INVALID');
      assert.match(String(a.reason), re, JSON.stringify(body));
    }
    for (const channel_id of [9, '2', 'other']) {
      const a = await r.request({ op: 'assign', id: 'trl', channel_id, ident: 'y' });
      assert.equal(a.result, 'rejected', `channel ${channel_id}`);
      assert.equal(a.code, 'EDGE_ASSET_CHANNEL_UNKNOWN');
      assert.match(String(a.reason), /not a channel this server runs \(it runs: 1, yard\)/);
    }
    assert.equal(JSON.stringify(r.svc.timeline('trl')), snapshot, 'timeline unchanged');
    assert.equal(r.svc.timeline('d2'), null);
    assert.equal(r.svc.timeline('d3'), null);
    assert.deepEqual(r.watch.names, [P], 'rules unchanged');
    // the rejected duplicate rule did not take the card away from drv1
    await r.msg('t1', now - 5, { [P]: 'CARD-A' });
    assert.equal(r.svc.timeline('drv1')!.intervals.length, 1);
  } finally {
    await r.svc.stop(1000);
    rmSync(r.dir, { recursive: true, force: true });
  }
});

test('a store write refused by the conditional revision check (another writer) is not acknowledged and the cache is reloaded', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'assets-'));
  const inner = new FileAssetStore({ dir, fsync: false });
  let refuse = false;
  const store: AssetStore = {
    load: () => inner.load(),
    get: (id) => inner.get(id),
    put: (rec: AssetRecord, rev: number) => (refuse ? Promise.resolve(false) : inner.put(rec, rev)),
    delete: (id, rev) => inner.delete(id, rev),
    close: () => inner.close(),
  };
  const r = await rig([driver], { dir, store });
  try {
    await r.msg('t1', T0, { [P]: 'CARD-A' });
    refuse = true;
    await assert.rejects(r.msg('t2', T0 + 10, { [P]: 'CARD-A' }), /changed by another writer/);
    assert.deepEqual(r.svc.timeline('drv1')!.intervals, [iv(1, T0, 0, 't1')], 'back to what the store holds');
    assert.deepEqual(JSON.parse(r.mqtt.retained(ACTIVE('drv1'))!), iv(1, T0, 0, 't1'));
    refuse = false;
    await r.msg('t2', T0 + 10, { [P]: 'CARD-A' });
    assert.deepEqual(r.svc.timeline('drv1')!.intervals, [iv(1, T0, T0 + 10, 't1'), iv(2, T0 + 10, 0, 't2')], 'the device resends, the change applies');
  } finally {
    await r.svc.stop(1000);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a re-read that was in flight when a write was queued does not overwrite that write (the unsure retry meets a resync)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'assets-'));
  const inner = new FileAssetStore({ dir, fsync: false });
  let down = false;
  // a read the test holds back: it reads what is stored when asked, answers when released
  let held: { release: () => void } | null = null;
  let holdNextGet = false;
  let notify: ((id: string | null, rev: number) => void) | null = null;
  const store: AssetStore = {
    load: () => (down ? Promise.reject(new Error('store down')) : inner.load()),
    get: async (id) => {
      if (down) throw new Error('store down');
      const r = await inner.get(id);
      if (!holdNextGet) return r;
      holdNextGet = false;
      await new Promise<void>((res) => (held = { release: res }));
      return r;
    },
    put: (rec: AssetRecord, rev: number) => (down ? Promise.reject(new Error('store down')) : inner.put(rec, rev)),
    delete: (id, rev) => inner.delete(id, rev),
    watch: async (cb) => void (notify = cb),
    close: () => inner.close(),
  };
  const r = await rig([driver], { dir, store });
  try {
    await r.msg('t1', T0, { [P]: 'CARD-A' });
    down = true;
    await assert.rejects(r.msg('t1', T0 + 10, { [P]: null }), /store down/);
    assert.equal(r.svc.timeline('drv1')!.intervals.length, 1);
    // the store is back; the once-a-second retry of the unsure asset starts a read that is held
    down = false;
    holdNextGet = true;
    for (let i = 0; i < 300 && !held; i++) await new Promise((res) => setTimeout(res, 10));
    assert.ok(held, 'the unsure asset is re-read');
    // meanwhile a reconnect compares everything: the asset is read and no longer unsure
    notify!(null, 0);
    for (let i = 0; i < 300 && r.svc.timeline('drv1')!.intervals[0]!.end !== 0; i++) await new Promise((res) => setTimeout(res, 10));
    // the device resends; the held read (of the open interval) answers while the close is queued
    const resend = r.msg('t1', T0 + 10, { [P]: null });
    (held as unknown as { release: () => void }).release();
    assert.equal(await resend, true);
    assert.deepEqual(r.svc.timeline('drv1')!.intervals, [iv(1, T0, T0 + 10, 't1')], 'the cache holds the close');
    assert.deepEqual((await inner.get('drv1'))!.intervals, [iv(1, T0, T0 + 10, 't1')], 'the store holds the close');
    assert.equal(r.mqtt.out.filter((o) => o.topic.endsWith('/intervals/closed')).length, 1);
  } finally {
    await r.svc.stop(1000);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('file store: leftover .tmp files of a crashed write are dropped; an unreadable file is reported and skipped', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'assets-'));
  try {
    writeFileSync(join(dir, 'a-x.json.tmp'), '{"half');
    writeFileSync(join(dir, 'a-y.json'), 'not json');
    const bad: string[] = [];
    const s = new FileAssetStore({ dir, fsync: true, onCorrupt: (i) => bad.push(i.file) });
    assert.deepEqual(await s.load(), []);
    assert.deepEqual(bad, ['a-y.json']);
    assert.ok(!readdirSync(dir).includes('a-x.json.tmp'));
    const rec: AssetRecord = { asset: { id: 'x', name: 'X', type: 'vehicle' }, rev: 1, next_interval_id: 1, intervals: [] };
    assert.equal(await s.put(rec, 0), true);
    assert.equal(await s.put({ ...rec, rev: 2 }, 0), false, 'stale revision');
    assert.deepEqual(await s.get('x'), rec);
    await s.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

async function waitUntil(fn: () => boolean): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (fn()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error('timed out');
}

test('integer asset ids (flespi-style) are accepted in requests and the config, and stay integers in payloads', async () => {
  const r = await rig([{ id: '7', name: 'Seven', type: 'driver' }]);
  try {
    let a = await r.request({ op: 'create', request_id: 'n1', asset: { id: 42, name: 'Trailer 42', type: 'trailer' } });
    assert.deepEqual(a, { result: 'applied', request_id: 'n1', op: 'create', id: 42 });
    a = await r.request({ op: 'assign', id: 42, channel_id: 1, ident: 'truck9' });
    assert.equal(a.result, 'applied', JSON.stringify(a));
    assert.equal(a.id, 42);
    assert.equal(r.svc.enrich('1', 'truck9'), '{"asset.trailer.id":42,"asset.trailer.name":"Trailer 42"}');
    const created = r.mqtt.out.find((o) => o.topic.endsWith('/assets/42/intervals/created'));
    assert.equal((JSON.parse(created!.payload) as Record<string, unknown>)['asset.id'], 42);
    assert.ok(r.mqtt.retained(ACTIVE('42')), 'the active state under the id as a topic level');
    for (const bad of [-1, 1.5, 2 ** 60]) assert.match(String((await r.request({ op: 'delete', id: bad })).reason), /id must name an asset/);
  } finally {
    await r.svc.stop(1000);
    rmSync(r.dir, { recursive: true, force: true });
  }
  // the config takes an integer id where its digits would do
  const cfg = validateConfig({ channels: [{ id: 1, protocol: 'ruptela', tcp_port: 0 }], assets: [{ id: 42, name: 'T', type: 'trailer' }, { id: 'drv-1', name: 'D', type: 'driver' }] });
  assert.deepEqual(cfg.assets.map((x) => x.id), ['42', 'drv-1']);
  assert.throws(() => validateConfig({ channels: [{ id: 1, protocol: 'ruptela', tcp_port: 0 }], assets: [{ id: 42, name: 'T', type: 'trailer' }, { id: '42', name: 'U', type: 'trailer' }] }), /assets\[1\]\.id/);
});
