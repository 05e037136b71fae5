import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { REDIS_URL, redisSkipReason, uniquePrefix } from '../../test/support/redis.js';
import type { StoredCommand } from '../commands/command-store.js';
import { RedisCommandStore } from './redis-command-store.js';
import { redisKeys } from '../storage/redis.js';
import { CommandService } from '../commands/command-service.js';
import { COMMANDS_DEFAULTS } from '../config/commands-defaults.js';
import { makeTopics } from '../mqtt/topics.js';
import { FakeDevice, FakeMqtt } from '../../test/support/command-fakes.js';

/**
 * The shared command store against a real Redis (REDIS_URL or the local default; skipped with the
 * reason when none answers): two stores stand for two instances racing for the same command.
 */
const skip = await redisSkipReason();

const cmd = (id: string, ident = '100', expiresAtMs = Date.now() + 60_000): StoredCommand => ({
  id,
  channelId: '1',
  ident,
  name: 'text',
  properties: { text: id },
  meta: '{"a": 1}',
  queuedAtMs: Date.now(),
  expiresAtMs,
  timeoutMs: 15_000,
  attempts: 0,
});

async function pair(): Promise<{ a: RedisCommandStore; b: RedisCommandStore; prefix: string; close(): Promise<void> }> {
  const prefix = uniquePrefix();
  const a = new RedisCommandStore({ url: REDIS_URL, prefix });
  const b = new RedisCommandStore({ url: REDIS_URL, prefix });
  await a.load();
  await b.load();
  return {
    a,
    b,
    prefix,
    async close() {
      await a.close();
      await b.close();
      const r = new Redis(REDIS_URL);
      const keys = await r.keys(`${prefix}*`);
      if (keys.length) await r.del(...keys);
      r.disconnect();
    },
  };
}

test('shared store: the same id added by two instances at once is admitted once; ended ids stay refused; meta kept as text', { skip }, async () => {
  const s = await pair();
  try {
    const results = await Promise.all([s.a.addOnce(cmd('c1'), 10), s.b.addOnce(cmd('c1'), 10), s.a.addOnce(cmd('c1'), 10)]);
    assert.deepEqual(results.sort(), ['added', 'duplicate', 'duplicate']);
    const got = await s.b.get('c1');
    assert.equal(got?.meta, '{"a": 1}');
    const removed = await Promise.all([s.a.remove('c1'), s.b.remove('c1')]);
    assert.deepEqual(removed.sort(), [false, true], 'one instance removes it (and reports it)');
    assert.equal(await s.a.addOnce(cmd('c1'), 10), 'duplicate', 'a repeated request for an ended id is not queued again');
  } finally {
    await s.close();
  }
});

test('shared store: per-device queue order, attempts, the per-device limit and change announcements', { skip }, async () => {
  const s = await pair();
  try {
    const changed: string[] = [];
    s.b.onChanged((ch, ident) => changed.push(`${ch}/${ident}`));
    for (const id of ['q1', 'q2', 'q3']) assert.equal(await s.a.addOnce(cmd(id, '200'), 3), 'added');
    assert.equal(await s.a.addOnce(cmd('q4', '200'), 3), 'full');
    await s.a.setAttempts('q2', 2);
    const list = await s.b.loadDevice('1', '200');
    assert.deepEqual(list.map((c) => [c.id, c.attempts]), [['q1', 0], ['q2', 2], ['q3', 0]]);
    await s.b.remove('q2');
    assert.deepEqual((await s.a.loadDevice('1', '200')).map((c) => c.id), ['q1', 'q3']);
    const deadline = Date.now() + 3000;
    while (changed.length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(changed, ['1/200', '1/200', '1/200', '1/200'], 'three adds and one remove announced');
  } finally {
    await s.close();
  }
});

test('shared store: expired commands are taken once, and not while an instance holds their device', { skip }, async () => {
  const s = await pair();
  const r = new Redis(REDIS_URL);
  try {
    const past = Date.now() - 1000;
    await s.a.addOnce(cmd('e1', '300', past), 10);
    await s.a.addOnce(cmd('e2', '301', past), 10);
    await s.a.addOnce(cmd('e3', '300', Date.now() + 60_000), 10);
    // device 301 is held by an instance: its owner expires it, the sweep leaves it alone
    await r.set(redisKeys(s.prefix).owner('1', '301'), 'other', 'PX', 60_000);
    const [x, y] = await Promise.all([s.a.takeExpired(Date.now(), 100), s.b.takeExpired(Date.now(), 100)]);
    assert.deepEqual([...x, ...y].map((c) => c.id), ['e1']);
    assert.ok(await s.a.get('e2'));
    assert.deepEqual((await s.a.loadDevice('1', '300')).map((c) => c.id), ['e3']);
    assert.equal(await s.a.firstToReport('tok'), true);
    assert.equal(await s.b.firstToReport('tok'), false);
  } finally {
    r.disconnect();
    await s.close();
  }
});

test('shared store: a resync republishes the queue entry of a command whose device no instance holds (the claim winner does), and each instance holds nothing at start', { skip }, async () => {
  const s = await pair();
  const services: CommandService[] = [];
  try {
    await s.a.addOnce(cmd('r1', '400'), 10);
    const make = async (store: RedisCommandStore) => {
      const mqtt = new FakeMqtt();
      const svc = new CommandService({ device: new FakeDevice(), mqtt, topics: makeTopics('edge'), store, config: { ...COMMANDS_DEFAULTS, fsync: false } });
      services.push(svc);
      await svc.start();
      await svc.settled();
      return { svc, mqtt };
    };
    const x = await make(s.a);
    const y = await make(s.b);
    assert.deepEqual(x.svc.heldFor('1', '400'), [], 'held in memory only where the device is connected');
    assert.deepEqual(await y.svc.queueOf('1', '400'), [{ id: 'r1', name: 'text', state: 'queued', attempts: 0 }], 'the read side asks the shared store');
    const entry = makeTopics('edge').commandQueueState('1', '400', 'r1');
    const before = [x, y].map((i) => i.mqtt.published.filter((p) => p.topic === entry).length);
    assert.deepEqual(before, [0, 0], 'start publishes nothing for a device no instance holds');
    const counts = await Promise.all([x.svc.republishQueue(), y.svc.republishQueue()]);
    await Promise.all([x.svc.settled(), y.svc.settled()]);
    assert.deepEqual([...counts].sort(), [0, 1], 'one instance republishes it');
    const published = [x, y].flatMap((i) => i.mqtt.published.filter((p) => p.topic === entry));
    assert.equal(published.length, 1);
    assert.equal(published[0]!.retain, true);
    assert.equal(JSON.parse(published[0]!.payload).status, 'queued');
  } finally {
    for (const svc of services) await svc.stop(1000);
    await s.close();
  }
});
