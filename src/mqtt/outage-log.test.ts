import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { createLogger } from '../util/log.js';
import { logBrokerOutages } from './outage-log.js';
import { Publisher, RECONNECT_MAX_MS, RECONNECT_MIN_MS, nextReconnectMs } from './publisher.js';

/** A logger writing its JSON lines into `lines`. */
function capture(): { lines: Record<string, unknown>[]; log: ReturnType<typeof createLogger> } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({ write: (chunk: Buffer, _e, cb) => (lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>), cb()) });
  return { lines, log: createLogger('info', sink) };
}

test('a broker outage logs one "lost" line, one aggregated line per interval and one "connected" line, not one per attempt', async () => {
  const { lines, log } = capture();
  const p = new EventEmitter();
  let t = 0;
  const o = logBrokerOutages(p, log, { intervalMs: 40, url: 'mqtt://b', lostMessage: 'MQTT connection lost', now: () => t });
  try {
    p.emit('up');
    assert.deepEqual(lines.map((l) => l.msg), ['MQTT connected']);
    p.emit('down');
    // 600 failed attempts (10 minutes at the old fixed 1 s) with their errors: no line each
    for (let i = 0; i < 600; i++) {
      p.emit('mqtt-error', new Error('connect ECONNREFUSED'));
      p.emit('down');
    }
    t = 14_000;
    await new Promise((r) => setTimeout(r, 100));
    const msgs = lines.map((l) => l.msg);
    assert.equal(msgs.filter((m) => m === 'MQTT connection lost').length, 1);
    const agg = lines.filter((l) => l.msg === 'MQTT broker still unreachable');
    assert.ok(agg.length >= 1 && agg.length <= 4, `${agg.length} aggregated lines in 100 ms at a 40 ms interval`);
    assert.deepEqual({ code: agg[0]!.code, attempts: agg[0]!.attempts, err: agg[0]!.err, down_s: agg[0]!.down_s }, { code: 'EDGE_MQTT_UNREACHABLE', attempts: 600, err: 'connect ECONNREFUSED', down_s: 14 });
    assert.equal(lines.length, 2 + agg.length, 'nothing else logged');
    p.emit('up');
    assert.deepEqual({ ...lines.at(-1), time: 0, pid: 0, hostname: '' }, { level: 30, time: 0, pid: 0, hostname: '', app: 'edge-channel', url: 'mqtt://b', down_s: 14, attempts: 600, msg: 'MQTT connected' });
    const n = lines.length;
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(lines.length, n, 'no aggregated line once connected');
    p.emit('mqtt-error', new Error('subscribe failed'));
    assert.equal(lines.at(-1)?.err, 'subscribe failed', 'an error while connected is logged at once');
  } finally {
    o.stop();
  }
});

test('reconnect delay doubles per failed attempt up to 30 s', () => {
  const seq = [RECONNECT_MIN_MS];
  while (seq.length < 8) seq.push(nextReconnectMs(seq.at(-1)!));
  assert.deepEqual(seq, [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
  assert.equal(RECONNECT_MAX_MS, 30_000);
});

test('the MQTT client backs off against a port nobody answers: the attempts get further apart', { timeout: 30_000 }, async () => {
  // a port that was free a moment ago: connections are refused at once
  const port = await new Promise<number>((r) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => r(typeof a === 'object' && a ? a.port : 0));
    });
  });
  const p = new Publisher(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: RECONNECT_MIN_MS, connectTimeout: 2000 }, 10, 10);
  p.on('mqtt-error', () => {});
  const downs: number[] = [];
  const periods: number[] = [];
  try {
    await new Promise<void>((resolve) => {
      p.on('down', () => {
        downs.push(performance.now());
        periods.push(p.client.options.reconnectPeriod ?? 0);
        if (downs.length === 3) resolve();
      });
    });
    assert.deepEqual(periods, [2000, 4000, 8000]);
    // lower bounds only (load can delay a timer, never advance it): the fixed 1 s retry would make both gaps ~1 s
    assert.ok(downs[1]! - downs[0]! >= 1900, `first gap ${Math.round(downs[1]! - downs[0]!)} ms`);
    assert.ok(downs[2]! - downs[1]! >= 3900, `second gap ${Math.round(downs[2]! - downs[1]!)} ms`);
  } finally {
    await p.close();
  }
});
