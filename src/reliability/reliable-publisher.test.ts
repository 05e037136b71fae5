import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { connect } from 'mqtt';
import { startEmbeddedBroker } from '../mqtt/embedded-broker.js';
import { makeTopics } from '../mqtt/topics.js';
import { createLogger } from '../util/log.js';
import { ReliablePublisher, type ReliableOptions } from './reliable-publisher.js';
import { Spool, type SpoolOp } from './spool.js';
import { freePort as deadPort } from '../../bench/lib/net-probe.js';

/**
 * The reliable publisher against the in-process aedes broker (or against a port where nothing
 * listens): counters, the spool error's lifecycle, and the drain's window and priority.
 */
const quiet = createLogger('silent', new Writable({ write: (_c, _e, cb) => cb() }));
const topics = makeTopics('rp');
const tmp = () => mkdtempSync(join(tmpdir(), 'edge-rp-'));

function options(spool: Spool, extra: Partial<ReliableOptions> = {}): ReliableOptions {
  return { spool, topics, log: quiet, publishTimeoutMs: 5000, probeMinMs: 100, probeMaxMs: 500, drainRate: 0, drainInflight: 100, statsIntervalS: 3600, ...extra };
}

function publish(p: ReliablePublisher, topic: string, payload: string): Promise<Error | undefined> {
  return new Promise((resolve) => p.publish(topic, payload, false, (e) => resolve(e)));
}

async function waitUntil(what: string, cond: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('reliable publisher: `spooled` counts durable writes only, refused records count as spool_write_errors, and spool_error clears once the disk is healthy with no record needing the spool', async () => {
  const dir = tmp();
  let fault: SpoolOp | null = 'sync';
  const spool = await Spool.open({ dir, maxBytes: 1 << 24, segmentBytes: 1 << 20, fsync: true, failFastMs: 200, faultHook: (op) => (op === fault ? Object.assign(new Error('injected'), { code: 'EIO' }) : null) });
  // no broker: every message needs the spool
  const p = new ReliablePublisher(`mqtt://127.0.0.1:${await deadPort()}`, { reconnectPeriod: 60_000 }, 100, 1000, options(spool));
  try {
    const m = topics.message('1', 'dev');
    const errs = await Promise.all([publish(p, m, 'a'), publish(p, m, 'b'), publish(p, m, 'c')]);
    assert.ok(errs.every((e) => (e as Error & { code?: string })?.code === 'EDGE_SPOOL_WRITE_FAILED'), 'the spool refused them: their frames are not acknowledged');
    let x = p.metrics();
    assert.deepEqual([x.spooled, x.spool_write_errors], [0, 3], 'a refused record is not counted as spooled');
    assert.match(String(x.spool_error), /EIO/);
    fault = null;
    // nothing is appended from here on: the tick's disk probe must find out the disk is back
    await waitUntil('spool_error cleared', () => p.metrics().spool_error === null, 5000);
    assert.equal(await publish(p, m, 'd'), undefined);
    assert.equal(await publish(p, m, 'e'), undefined);
    x = p.metrics();
    assert.deepEqual([x.spooled, x.spool_write_errors, x.spool_records], [2, 3, 2]);
  } finally {
    await p.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('reliable publisher: the drain window adapts upwards on a fast broker, records arrive in order, and live publishes never queue behind the drain', async () => {
  const dir = tmp();
  const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0 });
  const total = 4000;
  const spool = await Spool.open({ dir, maxBytes: 1 << 26, segmentBytes: 1 << 20, fsync: false });
  for (let i = 0; i < total; i++) spool.append(topics.message('1', 'dev'), JSON.stringify({ i }), () => {});
  await waitUntil('spool filled', () => spool.records === total);
  const got: number[] = [];
  const sub = connect(broker.url, { reconnectPeriod: 0 });
  await new Promise<void>((resolve, reject) => {
    sub.on('connect', () => sub.subscribe('rp/message/#', { qos: 1 }, (e) => (e ? reject(e) : resolve())));
    sub.on('error', reject);
  });
  sub.on('message', (_t, b) => got.push((JSON.parse(b.toString()) as { i: number }).i));
  // a small publisher window (16): the drain may use at most half of it, whatever drain_inflight says
  const p = new ReliablePublisher(broker.url, { reconnectPeriod: 200 }, 16, 1000, options(spool, { drainInflight: 500 }));
  try {
    let liveSent = 0;
    let liveQueued = 0;
    let maxDrainWindow = 0;
    const live = setInterval(() => {
      maxDrainWindow = Math.max(maxDrainWindow, p.metrics().drain_window);
      if (!p.connected || spool.records === 0) return;
      p.publish(topics.deviceState('1', 'dev', 'connected'), 'true', true, () => {});
      liveSent++;
      // sent to the socket at once, not parked in the queue behind spooled records
      if (p.queued > 0) liveQueued++;
    }, 2);
    await waitUntil('spool drained', () => spool.records === 0 && got.length >= total, 30_000);
    clearInterval(live);
    assert.ok(liveSent > 0, 'live publishes happened during the drain');
    assert.equal(liveQueued, 0, `${liveQueued} of ${liveSent} live publishes had to queue`);
    assert.ok(maxDrainWindow > 4 && maxDrainWindow <= 8, `the window grew from 4 and stayed within half the publisher window: ${maxDrainWindow}`);
    assert.deepEqual(got.slice(0, total), Array.from({ length: total }, (_, i) => i), 'in spool order, once each');
    const x = p.metrics();
    assert.deepEqual([x.drained, x.spool_records], [total, 0]);
  } finally {
    await p.close();
    sub.end(true);
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('reliable publisher: while the broker is unreachable, events are held in order (each one), retained state keeps its latest value', async () => {
  const dir = tmp();
  const port = await deadPort();
  const spool = await Spool.open({ dir, maxBytes: 1 << 20, segmentBytes: 1 << 16, fsync: false });
  const p = new ReliablePublisher(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 500 }, 100, 1000, options(spool));
  let broker: Awaited<ReturnType<typeof startEmbeddedBroker>> | null = null;
  const sub = { client: null as ReturnType<typeof connect> | null };
  try {
    const done: (Error | undefined)[] = [];
    const ev = topics.commandEvent('1', 'dev', 'queued');
    const st = topics.deviceState('1', 'dev', 'connected');
    for (const [t, v, retain] of [[ev, 'e1', false], [st, 's1', true], [ev, 'e2', false], [st, 's2', true]] as const) p.publish(t, v, retain, (e) => done.push(e));
    broker = await startEmbeddedBroker({ host: '127.0.0.1', port });
    const got: string[] = [];
    const c = (sub.client = connect(broker.url));
    c.on('message', (t, b) => got.push(`${t === ev ? 'event' : 'state'}:${b.toString()}`));
    await new Promise<void>((resolve, reject) => c.once('connect', () => c.subscribe(`${topics.commandEvent('1', 'dev', '+').split('/+')[0]}/#`, { qos: 1 }, (e) => (e ? reject(e) : resolve()))));
    await new Promise<void>((resolve, reject) => c.subscribe(st, { qos: 1 }, (e) => (e ? reject(e) : resolve())));
    await waitUntil('every held publish confirmed', () => done.length === 4, 15_000);
    assert.deepEqual(done, [undefined, undefined, undefined, undefined]);
    await waitUntil('both events and the state delivered', () => got.filter((g) => g.startsWith('event')).length === 2 && got.some((g) => g.startsWith('state')), 5_000);
    assert.deepEqual(got.filter((g) => g.startsWith('event')), ['event:e1', 'event:e2'], 'each event, in order (it used to keep only the last one)');
    assert.deepEqual(got.filter((g) => g.startsWith('state')), ['state:s2'], 'the latest state only');
  } finally {
    await p.close();
    sub.client?.end(true);
    if (broker) await broker.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
