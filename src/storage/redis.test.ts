import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { handledResubscribe } from './redis.js';
import { freePort } from '../../bench/lib/net-probe.js';

test('a SUBSCRIBE nobody awaits (ioredis resubscribing after a reconnect) rejected by a close is handled; an awaited one still rejects', async () => {
  // nothing listens there: the client queues its commands until it is closed
  const port = await freePort();
  // unwrapped, the dropped promise's rejection is unhandled and node:test fails this test with it
  // (what a stop during a Redis restart met in the command store's outage test)
  const c = handledResubscribe(new Redis({ host: '127.0.0.1', port, lazyConnect: true, retryStrategy: () => 50 }));
  c.on('error', () => undefined);
  void c.connect().catch(() => undefined);
  void c.subscribe('ch');
  const awaited = c.subscribe('other');
  c.disconnect();
  await assert.rejects(awaited, /Connection is closed/);
  await new Promise((r) => setTimeout(r, 50));
});
