/**
 * Reliability bench: what the durable spool costs and how fast it drains.
 *
 *   npm run build && node dist/bench/reliability-bench.js [--json] [--records N]
 *
 *   1. spool append with fsync group commit: records/s and per-append latency (p50/p99) with
 *      `concurrency` appends outstanding (a busy channel: many frames waiting for their ACK),
 *      with fsync on and off, for a typical ~600-byte message;
 *   2. drain: a spool of N records published to an embedded broker by the ReliablePublisher
 *      (window 100, no rate cap), next to the bare Publisher's direct QoS 1 rate (window 1000)
 *      over the same broker — the ratio says how fast a backlog clears relative to live traffic.
 *
 * Figures on a shared 2-core VM with a virtual disk vary a lot (fsync latency is the disk's);
 * compare runs on the same machine only.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { connectAsync } from 'mqtt';
import { startEmbeddedBroker } from '../src/mqtt/embedded-broker.js';
import { Publisher, mqttClientOptions } from '../src/mqtt/publisher.js';
import { makeTopics } from '../src/mqtt/topics.js';
import { validateConfig } from '../src/config/validate.js';
import { ReliablePublisher } from '../src/reliability/reliable-publisher.js';
import { Spool } from '../src/reliability/spool.js';
import { createLogger } from '../src/util/log.js';

export interface ReliabilityBenchResult {
  machine: { cpu: string; cores: number; node: string };
  append: { fsync: boolean; concurrency: number; records_per_s: number; p50_ms: number; p99_ms: number; syncs_per_s: number }[];
  drain: { records: number; drain_per_s: number; direct_per_s: number; ratio: number };
}

const PAYLOAD = JSON.stringify({
  ident: '863071018192903', timestamp: 1735689000, 'position.latitude': 54.6873, 'position.longitude': 25.2797, 'position.altitude': 112.5,
  'position.direction': 10, 'position.satellites': 12, 'position.speed': 41, 'position.hdop': 0.8, 'event.enum': 7,
  ...Object.fromEntries(Array.from({ length: 24 }, (_, i) => [`io.${100 + i}`, 100000 + i])),
  'message.id': '1-863071018192903-1735689000-3fa9c1d2e4b5', 'server.timestamp': 1735689001.123, 'channel.id': 1, 'protocol.id': 'ruptela', peer: '127.0.0.1:50000',
});
const TOPIC = 'edge/message/gw/channels/1/863071018192903';
const quiet = () => createLogger('silent', new Writable({ write: (_c, _e, cb) => cb() }));

async function appendBench(fsync: boolean, concurrency: number, durationMs: number) {
  const dir = mkdtempSync(join(tmpdir(), 'edge-spool-bench-'));
  const spool = await Spool.open({ dir, maxBytes: 8 * 1024 * 1024 * 1024, segmentBytes: 16 * 1024 * 1024, fsync });
  const lat: number[] = [];
  let done = 0;
  const t0 = performance.now();
  const end = t0 + durationMs;
  await new Promise<void>((resolve) => {
    let outstanding = 0;
    const one = () => {
      if (performance.now() >= end) {
        if (outstanding === 0) resolve();
        return;
      }
      outstanding++;
      const s = performance.now();
      spool.append(TOPIC, PAYLOAD, (e) => {
        outstanding--;
        if (e) throw e;
        lat.push(performance.now() - s);
        done++;
        one();
      });
    };
    for (let i = 0; i < concurrency; i++) one();
  });
  const secs = (performance.now() - t0) / 1000;
  const batches = spool.stats.writeBatches;
  await spool.close();
  rmSync(dir, { recursive: true, force: true });
  lat.sort((a, b) => a - b);
  const q = (p: number) => Math.round((lat[Math.min(lat.length - 1, Math.floor(lat.length * p))] ?? 0) * 100) / 100;
  return { fsync, concurrency, records_per_s: Math.round(done / secs), p50_ms: q(0.5), p99_ms: q(0.99), syncs_per_s: Math.round(batches / secs) };
}

async function drainBench(records: number) {
  const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0 });
  const cfg = validateConfig({ mqtt: { url: broker.url, topic_root: 'edge' } });
  const sub = await connectAsync(broker.url, { clientId: 'bench-sub' });
  let got = 0;
  sub.on('message', () => got++);
  await sub.subscribeAsync('edge/message/#', { qos: 1 });
  const dir = mkdtempSync(join(tmpdir(), 'edge-spool-drain-'));
  try {
    // fill the spool (no broker involved)
    const filler = await Spool.open({ dir, maxBytes: 8 * 1024 * 1024 * 1024, segmentBytes: 16 * 1024 * 1024, fsync: false });
    await new Promise<void>((resolve) => {
      let left = records;
      for (let i = 0; i < records; i++) filler.append(TOPIC, PAYLOAD, () => --left === 0 && resolve());
    });
    await filler.close();
    // direct: the bare publisher, window 1000
    const bare = new Publisher(broker.url, mqttClientOptions(cfg.mqtt, 'bench-bare'), 1000, 1_000_000);
    await bare.waitConnected(5000);
    let t = performance.now();
    await new Promise<void>((resolve) => {
      let left = records;
      for (let i = 0; i < records; i++) bare.publish(TOPIC, PAYLOAD, false, () => --left === 0 && resolve());
    });
    const directPerS = records / ((performance.now() - t) / 1000);
    await bare.close();
    while (got < records) await new Promise((r) => setTimeout(r, 5));
    got = 0;
    // drain: reopen the filled spool under a ReliablePublisher
    const spool = await Spool.open({ dir, maxBytes: 8 * 1024 * 1024 * 1024, segmentBytes: 16 * 1024 * 1024, fsync: true });
    t = performance.now();
    const rp = new ReliablePublisher(broker.url, mqttClientOptions(cfg.mqtt, 'bench-rel'), 1000, 1_000_000, {
      spool, topics: makeTopics('edge'), log: quiet(), publishTimeoutMs: 10_000, probeMinMs: 500, probeMaxMs: 30_000, drainRate: 0, drainInflight: 100, statsIntervalS: 3600,
    });
    while (spool.records > 0) await new Promise((r) => setTimeout(r, 5));
    const drainPerS = records / ((performance.now() - t) / 1000);
    await rp.close();
    return { records, drain_per_s: Math.round(drainPerS), direct_per_s: Math.round(directPerS), ratio: Math.round((drainPerS / directPerS) * 100) / 100 };
  } finally {
    await sub.endAsync();
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runReliabilityBench(opts: { records?: number; durationMs?: number } = {}): Promise<ReliabilityBenchResult> {
  const d = opts.durationMs ?? 1500;
  const append = [];
  for (const [fsync, c] of [[true, 1], [true, 64], [true, 1000], [false, 1000]] as const) append.push(await appendBench(fsync, c, d));
  const drain = await drainBench(opts.records ?? 20_000);
  const cpu = cpus()[0];
  return { machine: { cpu: cpu?.model ?? 'unknown', cores: cpus().length, node: process.version }, append, drain };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const ri = args.indexOf('--records');
  const r = await runReliabilityBench({ records: ri >= 0 ? Number(args[ri + 1]) : 20_000 });
  if (args.includes('--json')) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
  else {
    console.log(`machine: ${r.machine.cpu} × ${r.machine.cores}, Node ${r.machine.node}`);
    console.log('spool append (typical ~900-byte message):');
    console.log('  fsync  concurrency  records/s  syncs/s  p50 ms  p99 ms');
    for (const a of r.append) console.log(`  ${String(a.fsync).padEnd(5)}  ${String(a.concurrency).padStart(11)}  ${String(a.records_per_s).padStart(9)}  ${String(a.syncs_per_s).padStart(7)}  ${String(a.p50_ms).padStart(6)}  ${String(a.p99_ms).padStart(6)}`);
    console.log(`drain of ${r.drain.records} records: ${r.drain.drain_per_s}/s (window 100, uncapped); bare direct publish ${r.drain.direct_per_s}/s (window 1000); ratio ${r.drain.ratio}`);
  }
  process.exit(0);
}
