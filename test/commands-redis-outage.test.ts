import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RedisCommandStore } from '../src/cluster/redis-command-store.js';
import { CommandService } from '../src/commands/command-service.js';
import { COMMANDS_DEFAULTS } from '../src/config/commands-defaults.js';
import { FakeDevice, FakeMqtt, IMEI } from './support/command-fakes.js';
import { makeTopics } from '../src/mqtt/topics.js';
import { waitFor } from './support/harness.js';
import { freeLoopbackPort, redisServerBin, startPrivateRedis, uniquePrefix } from './support/redis.js';

/**
 * A Redis outage under the shared command store (redis_url): a command request published while
 * Redis is down is answered with `rejected` / EDGE_COMMAND_STORE_FAILED (README "Commands": never
 * silent), and requests are queued again once Redis is back. The test kills its own redis-server
 * on an ephemeral port, never the machine's shared one.
 */
test(
  'Redis killed under the shared command store: a request is rejected with EDGE_COMMAND_STORE_FAILED, and queued again after a restart',
  { skip: redisServerBin ? false : 'redis-server is not installed (needed to kill a private Redis)' },
  async (t) => {
    const port = await freeLoopbackPort();
    let server = await startPrivateRedis(port);
    t.after(() => server.kill('SIGKILL'));
    const mqtt = new FakeMqtt();
    const topics = makeTopics('edge');
    const store = new RedisCommandStore({ url: `redis://127.0.0.1:${port}`, prefix: uniquePrefix() });
    const svc = new CommandService({ device: new FakeDevice(), mqtt, topics, store, config: { ...COMMANDS_DEFAULTS } });
    await svc.start();
    const statusOf = (id: string) => mqtt.published.filter((p) => p.topic.includes('/commands/') && (JSON.parse(p.payload) as { id?: string }).id === id).map((p) => p.topic.slice(p.topic.lastIndexOf('/') + 1));
    const request = (id: string) => mqtt.inject(topics.commandRequest('1', IMEI), JSON.stringify({ id, name: 'text', properties: { text: id } }));
    try {
      request('before');
      await waitFor('queued before the outage', () => statusOf('before').includes('queued'));

      server.kill('SIGKILL');
      await new Promise((r) => server.once('exit', r));
      request('during');
      await waitFor('rejected during the outage', () => statusOf('during').length > 0, 30_000);
      assert.deepEqual(statusOf('during'), ['rejected']);
      const ev = mqtt.published.find((p) => p.topic.endsWith('/rejected'));
      assert.equal((JSON.parse(ev!.payload) as { code?: string }).code, 'EDGE_COMMAND_STORE_FAILED');
      assert.match((JSON.parse(ev!.payload) as { reason?: string }).reason ?? '', /./, 'with a reason');

      server = await startPrivateRedis(port);
      request('after');
      await waitFor('queued after the restart', () => statusOf('after').includes('queued'), 30_000);
      assert.deepEqual(statusOf('after'), ['queued']);
    } finally {
      await svc.stop();
      await store.close();
    }
  },
);
