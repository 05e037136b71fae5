import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { connectAsync } from 'mqtt';
import { Redis } from 'ioredis';
import { projectRoot } from '../src/util/paths.js';

/**
 * scripts/test-services.js (what `npm test` uses to find or start Mosquitto and Redis): with the
 * usual ports empty, it starts private servers on free ports, which then really serve; variables
 * already set are used as they are.
 */
interface Services {
  env: { MQTT_URL?: string; REDIS_URL?: string };
  lines: string[];
  stop(): void;
}
type TestServices = (env: Record<string, string | undefined>, o?: { mqttPort?: number; redisPort?: number }) => Promise<Services>;

const load = async () => ((await import(pathToFileURL(join(projectRoot(), 'scripts', 'test-services.js')).href)) as { testServices: TestServices }).testServices;
const has = (bin: string) => !spawnSync(bin, ['--help'], { stdio: 'ignore' }).error;

/** A loopback port nothing listens on (bound, then released). */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

test('test services: variables already set are used and nothing is started', async () => {
  const testServices = await load();
  const s = await testServices({ MQTT_URL: 'mqtt://example:1883', REDIS_URL: 'redis://example:6379' });
  assert.deepEqual(s.env, {});
  assert.deepEqual(s.lines, ['Mosquitto suites: MQTT_URL=mqtt://example:1883', 'Redis suites: REDIS_URL=redis://example:6379']);
  s.stop();
});

test('test services: with nothing on the usual ports, private mosquitto and redis-server are started and serve', { skip: has('mosquitto') && has('redis-server') ? false : 'needs the mosquitto and redis-server binaries', timeout: 30_000 }, async () => {
  const testServices = await load();
  const s = await testServices({}, { mqttPort: await closedPort(), redisPort: await closedPort() });
  try {
    assert.match(s.lines[0]!, /^Mosquitto suites: a private mosquitto started on 127\.0\.0\.1:\d+$/);
    assert.match(s.lines[1]!, /^Redis suites: a private redis-server started on 127\.0\.0\.1:\d+$/);
    const mqtt = await connectAsync(s.env.MQTT_URL!, { clientId: `svc-${process.pid}`, reconnectPeriod: 0 });
    await mqtt.publishAsync(`svc${process.pid}/t`, 'x', { qos: 1 });
    await mqtt.endAsync();
    const redis = new Redis(s.env.REDIS_URL!, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    assert.equal(await redis.ping(), 'PONG');
    redis.disconnect();
  } finally {
    s.stop();
  }
});
