// The services the integration suites use, found or started for `npm test` (scripts/run-tests.js):
//   MQTT_URL  (the Mosquitto suites): the variable if set; else a broker on 127.0.0.1:1883 that
//             accepts an MQTT CONNECT; else a private `mosquitto` on a free loopback port;
//   REDIS_URL (the Redis suites): the variable if set; else a Redis on 127.0.0.1:6379 answering
//             PING; else a private `redis-server` on a free loopback port.
// Otherwise the suites are skipped, and the runner prints which and why.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** MQTT 3.1.1 CONNECT (clean session, keepalive 10 s, the given client id); CONNACK 20 02 00 00 = accepted. */
function connectPacket(clientId) {
  const id = Buffer.from(clientId);
  const body = Buffer.concat([Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 2, 0, 10, 0, id.length]), id]);
  return Buffer.concat([Buffer.from([0x10, body.length]), body]);
}

/** Sends `hello` and resolves with whether the first bytes back satisfy `ok`, within timeoutMs. */
function ask(host, port, hello, ok, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    let got = Buffer.alloc(0);
    const done = (v) => {
      clearTimeout(t);
      s.destroy();
      resolve(v);
    };
    const t = setTimeout(() => done(false), timeoutMs);
    s.on('connect', () => s.write(hello));
    s.on('data', (d) => {
      got = Buffer.concat([got, d]);
      if (got.length >= 4) done(ok(got));
    });
    s.on('error', () => done(false));
    s.on('close', () => done(false));
  });
}

const mqttAnswers = (host, port) => ask(host, port, connectPacket(`edge-test-probe-${process.pid}`), (b) => b[0] === 0x20 && b[3] === 0);
const redisAnswers = (host, port) => ask(host, port, Buffer.from('*1\r\n$4\r\nPING\r\n'), (b) => b.toString().startsWith('+PONG'));

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

const hasBinary = (bin) => !spawnSync(bin, ['--help'], { stdio: 'ignore' }).error;

async function startPrivate(what, bin, args, answers, port, cleanupDir) {
  const proc = spawn(bin, args, { stdio: 'ignore' });
  const failed = new Promise((r) => proc.once('error', () => r(true)).once('exit', () => r(true)));
  for (let i = 0; i < 100; i++) {
    if (await answers('127.0.0.1', port)) return { proc, stop: () => (proc.kill('SIGTERM'), cleanupDir && rmSync(cleanupDir, { recursive: true, force: true })) };
    if (await Promise.race([failed, new Promise((r) => setTimeout(() => r(false), 100))])) break;
  }
  proc.kill('SIGKILL');
  if (cleanupDir) rmSync(cleanupDir, { recursive: true, force: true });
  throw new Error(`${what} did not answer on 127.0.0.1:${port}`);
}

/**
 * Returns { env, lines, stop }: variables to pass to the test process, one line per service saying
 * what is used or why its suites are skipped, and a function stopping what was started here.
 */
export async function testServices(env = process.env, { mqttPort = 1883, redisPort = 6379 } = {}) {
  const out = {};
  const lines = [];
  const stops = [];

  if (env.MQTT_URL) lines.push(`Mosquitto suites: MQTT_URL=${env.MQTT_URL}`);
  else if (await mqttAnswers('127.0.0.1', mqttPort)) {
    out.MQTT_URL = `mqtt://127.0.0.1:${mqttPort}`;
    lines.push(`Mosquitto suites: the broker answering on 127.0.0.1:${mqttPort} (MQTT_URL not set)`);
  } else if (hasBinary('mosquitto')) {
    try {
      const port = await freePort();
      const dir = mkdtempSync(join(tmpdir(), 'edge-test-mosquitto-'));
      writeFileSync(join(dir, 'mosquitto.conf'), `listener ${port} 127.0.0.1\nallow_anonymous true\nset_tcp_nodelay true\n`);
      const p = await startPrivate('mosquitto', 'mosquitto', ['-c', join(dir, 'mosquitto.conf')], mqttAnswers, port, dir);
      stops.push(p.stop);
      out.MQTT_URL = `mqtt://127.0.0.1:${port}`;
      lines.push(`Mosquitto suites: a private mosquitto started on 127.0.0.1:${port}`);
    } catch (e) {
      lines.push(`Mosquitto suites: SKIPPED (no broker on 127.0.0.1:${mqttPort}, and a private mosquitto failed: ${e.message})`);
    }
  } else lines.push(`Mosquitto suites: SKIPPED (MQTT_URL not set, no broker answers on 127.0.0.1:${mqttPort}, no mosquitto binary)`);

  if (env.REDIS_URL) lines.push(`Redis suites: REDIS_URL=${env.REDIS_URL}`);
  else if (await redisAnswers('127.0.0.1', redisPort)) {
    out.REDIS_URL = `redis://127.0.0.1:${redisPort}`;
    lines.push(`Redis suites: the Redis answering on 127.0.0.1:${redisPort} (REDIS_URL not set)`);
  } else if (hasBinary('redis-server')) {
    try {
      const port = await freePort();
      const p = await startPrivate('redis-server', 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], redisAnswers, port);
      stops.push(p.stop);
      out.REDIS_URL = `redis://127.0.0.1:${port}`;
      lines.push(`Redis suites: a private redis-server started on 127.0.0.1:${port}`);
    } catch (e) {
      lines.push(`Redis suites: SKIPPED (no Redis on 127.0.0.1:${redisPort}, and a private redis-server failed: ${e.message})`);
    }
  } else lines.push(`Redis suites: SKIPPED (REDIS_URL not set, no Redis answers on 127.0.0.1:${redisPort}, no redis-server binary)`);

  return { env: out, lines, stop: () => stops.forEach((s) => s()) };
}
