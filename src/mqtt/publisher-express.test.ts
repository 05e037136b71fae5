import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from 'aedes';
import { startEmbeddedBroker, type EmbeddedBroker } from './embedded-broker.js';
import { Publisher } from './publisher.js';

/**
 * The express connection (mqtt.express_inflight): a quiet lane's message is published on a second
 * client and so does not wait behind the main connection's queue at the broker; a lane never has
 * messages pending on both connections, so its order holds.
 *
 * The broker here holds every publish of a connection whose id matches `held` until `release()`:
 * it reads a connection's publishes in order, so one held publish holds that connection's later
 * ones too (what a full window looks like from the broker's side).
 */
interface HoldingBroker {
  broker: EmbeddedBroker;
  held: RegExp | null;
  release(): void;
  clients: Client[];
}

async function holdingBroker(): Promise<HoldingBroker> {
  const waiting: (() => void)[] = [];
  const h: HoldingBroker = {
    broker: null as unknown as EmbeddedBroker,
    held: null,
    release() {
      h.held = null;
      for (const w of waiting.splice(0)) w();
    },
    clients: [],
  };
  h.broker = await startEmbeddedBroker({
    host: '127.0.0.1',
    port: 0,
    authorizePublish: (client, _packet, cb) => {
      if (client && h.held?.test(client.id)) waiting.push(() => cb(null));
      else cb(null);
    },
  });
  h.broker.aedes.on('client', (c) => h.clients.push(c));
  return h;
}

const opts = (id: string) => ({ clientId: id, clean: true, reconnectPeriod: 0, keepalive: 0 });

async function connected(pub: Publisher): Promise<void> {
  await pub.waitConnected(5000);
  const deadline = Date.now() + 5000;
  while (!pub.express?.connected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.ok(pub.express?.connected, 'the express connection is up');
}

function publish(pub: Publisher, topic: string, lane: number, priority: number, order: string[]): Promise<void> {
  return new Promise((resolve, reject) => pub.publish(topic, 'x', false, (err) => (err ? reject(err) : (order.push(topic), resolve())), lane, priority));
}

/** A publisher with an express connection (at most 8 in flight) against a holding broker; both closed after `fn`. */
async function withExpress(id: string, fn: (h: HoldingBroker, pub: Publisher) => Promise<void>): Promise<void> {
  const h = await holdingBroker();
  const pub = new Publisher(h.broker.url, opts(id), 100, 10_000, false, 8);
  try {
    await connected(pub);
    await fn(h, pub);
  } finally {
    h.release();
    await pub.close();
    await h.broker.close();
  }
}

test('a quiet lane is confirmed on the express connection while the main one is held', () =>
  withExpress('exp-a', async (h, pub) => {
    h.held = /^exp-a$/;
    const order: string[] = [];
    // busy lanes (a storm: much attained service) go to the main connection, which the broker holds
    const storm = Array.from({ length: 20 }, (_, i) => publish(pub, `storm/${i}`, i + 1, 10_000, order));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(order.length, 0, 'the main connection is held');
    // a lane with little attained service goes express and is confirmed while the storm waits
    await publish(pub, 'live/1', 100, 50, order);
    assert.deepEqual(order, ['live/1']);
    assert.equal(pub.expressSent, 1);
    h.release();
    await Promise.all(storm);
    assert.equal(order.length, 21);
  }));

test('a lane with a message pending on the main connection stays there, in order', () =>
  withExpress('exp-b', async (h, pub) => {
    h.held = /^exp-b$/;
    const order: string[] = [];
    const busy = Array.from({ length: 10 }, (_, i) => publish(pub, `storm/${i}`, i + 1, 10_000, order));
    // lane 5 has storm/4 pending on main: its urgent next message must follow it on main
    const next = publish(pub, 'lane5/next', 5, 1, order);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(order.length, 0, 'nothing of lane 5 overtook on the express connection');
    assert.equal(pub.expressSent, 0);
    h.release();
    await Promise.all([...busy, next]);
    assert.ok(order.indexOf('storm/4') < order.indexOf('lane5/next'), order.join(' '));
  }));

test('a lane pending on the express connection stays there even when it no longer looks quiet', () =>
  withExpress('exp-c', async (h, pub) => {
    const order: string[] = [];
    // the running mean starts high: lane 7's first message is urgent and goes express, held there
    await publish(pub, 'storm/0', 1, 10_000, order);
    h.held = /^exp-c-x$/;
    const first = publish(pub, 'lane7/1', 7, 10, order);
    const second = publish(pub, 'lane7/2', 7, 50_000, order);
    const other = publish(pub, 'storm/1', 1, 10_000, order);
    await other;
    assert.deepEqual(order, ['storm/0', 'storm/1'], 'the main connection is not held');
    assert.equal(pub.expressSent, 2, 'both of lane 7 went express');
    assert.equal(pub.expressInFlight, 2, 'and await their PUBACK there (edge_mqtt_express_inflight)');
    h.release();
    await Promise.all([first, second]);
    assert.equal(pub.expressInFlight, 0);
    assert.deepEqual(order.slice(2), ['lane7/1', 'lane7/2']);
  }));

test('the express connection has its own id and no last will; 0 means one connection', async () => {
  const h = await holdingBroker();
  const will = { topic: 'edge/instance/online', payload: Buffer.from('false'), qos: 1 as const, retain: true };
  const pub = new Publisher(h.broker.url, { ...opts('exp-d'), will }, 100, 10_000, false, 8);
  const single = new Publisher(h.broker.url, opts('exp-e'), 100, 10_000, false, 0);
  try {
    await connected(pub);
    await single.waitConnected(5000);
    await new Promise((r) => setTimeout(r, 50));
    const ids = h.clients.map((c) => c.id).sort();
    assert.deepEqual(ids, ['exp-d', 'exp-d-x', 'exp-e']);
    const x = h.clients.find((c) => c.id === 'exp-d-x') as unknown as { will?: unknown };
    const main = h.clients.find((c) => c.id === 'exp-d') as unknown as { will?: unknown };
    assert.ok(main.will, 'the main connection carries the will');
    assert.ok(!x.will, 'the express connection carries none');
    assert.equal(single.express, null);
  } finally {
    await pub.close();
    await single.close();
    await h.broker.close();
  }
});

test('abandonPending also drops what the express connection holds unconfirmed', () =>
  withExpress('exp-f', async (h, pub) => {
    const order: string[] = [];
    await publish(pub, 'storm/0', 1, 10_000, order);
    h.held = /^exp-f-x$/;
    const live = new Promise<Error | undefined>((resolve) => pub.publish('live/2', 'x', false, resolve, 9, 1));
    await new Promise((r) => setTimeout(r, 30));
    pub.abandonPending('breaker open');
    const err = await live;
    assert.ok(err instanceof Error, 'the express publish failed back to its caller');
    // the lane is free again: its next message may go either way and is confirmed
    h.release();
    await publish(pub, 'live/3', 9, 1, order);
    assert.deepEqual(order, ['storm/0', 'live/3']);
  }));

test('a broker that refuses the express client: it is reported once, and quiet lanes use the main connection', async () => {
  const broker = await startEmbeddedBroker({
    host: '127.0.0.1',
    port: 0,
    authenticate: (client, _u, _p, cb) => {
      if (client.id.endsWith('-x')) {
        const e = Object.assign(new Error('not authorized'), { returnCode: 5 as const });
        cb(e, false);
      } else cb(null, true);
    },
  });
  const pub = new Publisher(broker.url, { ...opts('exp-g'), reconnectPeriod: 50 }, 100, 10_000, false, 8);
  const errors: string[] = [];
  pub.on('mqtt-error', (e: Error) => errors.push(e.message));
  try {
    await pub.waitConnected(5000);
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(pub.express?.connected, false);
    assert.equal(errors.length, 1, errors.join(' | '));
    assert.match(errors[0]!, /express connection exp-g-x: .*main connection meanwhile/);
    const order: string[] = [];
    await publish(pub, 'storm/0', 1, 10_000, order);
    await publish(pub, 'live/1', 2, 1, order);
    assert.deepEqual(order, ['storm/0', 'live/1']);
    assert.equal(pub.expressSent, 0);
  } finally {
    await pub.close();
    await broker.close();
  }
});
