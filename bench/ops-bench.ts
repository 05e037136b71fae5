/**
 * `npm run bench:ops`: what running in production costs and what the broker's Nagle does.
 *
 *  1. metrics: the per-ACK histogram observation (the only per-event metric on the hot path) in ns,
 *     and one /metrics rendering with 4 channels, in ms;
 *  2. PUBACK delay: one device sending frames of two records, one at a time, against a private
 *     Mosquitto without and with `set_tcp_nodelay true` (skipped when the mosquitto binary is
 *     missing): frame ACK latency and whether the runtime's delayed-ACK warning fired.
 *
 * Figures only, nothing asserted; the JSON goes to bench/results/ops-<timestamp>.json.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createMetrics } from '../src/ops/metrics.js';
import { startApp } from '../src/app.js';
import { validateConfig } from '../src/config/validate.js';
import { createLogger } from '../src/util/log.js';
import { recordsFrame, typicalRecord } from '../protocols/ruptela/device-frames.js';
import { machineInfo, machineLine } from './lib/machine.js';
import { freePort } from './lib/net-probe.js';
import { isMain, resultsDir, timestamp } from './lib/report.js';
import { median, percentile, round, sleep } from './lib/stats.js';

function metricsCost(): { observe_ns: number; render_ms: number } {
  const channels = ['1', '2', '3', '4'].map((id) => ({
    id,
    counters: { frames: 1e6, messages: 2e6, acked: 1e6, udpOverloadDrops: 0 },
    connectionCount: 2500,
    guards: { drops: { totals: () => ({ whitelist: 1, blacklist: 2, rate: 3, rate_ip: 4, proxy: 0 }) } },
  }));
  const m = createMetrics({ instanceId: 'bench', version: '0', channels: () => channels, pool: () => ({ pendingFrames: 0 }), publisher: () => ({ connected: true, inFlight: 10, expressInFlight: 0, queued: 0 }) });
  const n = 2_000_000;
  for (let i = 0; i < 100_000; i++) m.acked('1', (i % 50) / 10); // warm up
  const t0 = performance.now();
  for (let i = 0; i < n; i++) m.acked(channels[i & 3]!.id, (i % 50) / 10);
  const observeNs = ((performance.now() - t0) * 1e6) / n;
  return { observe_ns: round(observeNs, 1), render_ms: 0 };
}

async function renderCost(): Promise<number> {
  const channels = ['1', '2', '3', '4'].map((id) => ({ id, counters: { frames: 1, messages: 1, acked: 1, udpOverloadDrops: 0 }, connectionCount: 1, guards: { drops: { totals: () => ({ whitelist: 0, blacklist: 0, rate: 0, rate_ip: 0, proxy: 0 }) } } }));
  const m = createMetrics({ instanceId: 'bench', version: '0', channels: () => channels, pool: () => ({ pendingFrames: 0 }), publisher: () => ({ connected: true, inFlight: 0, expressInFlight: 0, queued: 0 }) });
  for (let i = 0; i < 10_000; i++) m.acked(String((i % 4) + 1), i % 7);
  const xs: number[] = [];
  for (let i = 0; i < 50; i++) {
    const t = performance.now();
    await m.text();
    xs.push(performance.now() - t);
  }
  return round(median(xs), 3);
}

async function startMosquitto(nodelay: boolean): Promise<{ url: string; proc: ChildProcess; dir: string }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'bench-mosq-'));
  writeFileSync(join(dir, 'm.conf'), `listener ${port} 127.0.0.1\nallow_anonymous true\n${nodelay ? 'set_tcp_nodelay true\n' : ''}`);
  const proc = spawn('mosquitto', ['-c', join(dir, 'm.conf')], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((r) => {
      const s = connect(port, '127.0.0.1', () => (s.destroy(), r(true)));
      s.on('error', () => r(false));
    });
    if (up) break;
    await sleep(50);
  }
  return { url: `mqtt://127.0.0.1:${port}`, proc, dir };
}

async function oneDevice(url: string, frames: number): Promise<{ p50_ms: number; p90_ms: number; warned: boolean }> {
  const lines: string[] = [];
  const log = createLogger('warn', new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }));
  const spool = mkdtempSync(join(tmpdir(), 'bench-ops-spool-'));
  const root = `benchops${process.pid}`;
  const app = await startApp(validateConfig({ instance_id: root, mqtt: { url, topic_root: root }, spool: { dir: spool }, channels: [{ id: 1, protocol: 'ruptela', host: '127.0.0.1', tcp_port: 0 }], stats_interval_s: 3600 }), { log, threads: 'inline' });
  const s = connect({ host: '127.0.0.1', port: app.channels[0]!.tcpPort, noDelay: true });
  await new Promise((r) => s.once('connect', r));
  let acks = 0;
  s.on('data', (d: Buffer) => (acks += d.length / 6));
  const lat: number[] = [];
  for (let i = 0; i < frames; i++) {
    const want = acks + 1;
    const t = performance.now();
    s.write(recordsFrame(865000000000001n, [typicalRecord(1735690000 + i * 20, 1), typicalRecord(1735690010 + i * 20, 2)]));
    while (acks < want) await new Promise((r) => setImmediate(r));
    lat.push(performance.now() - t);
  }
  s.destroy();
  await app.stop();
  rmSync(spool, { recursive: true, force: true });
  return { p50_ms: round(median(lat), 2), p90_ms: round(percentile(lat, 90), 2), warned: lines.some((l) => l.includes('set_tcp_nodelay true')) };
}

export async function main(): Promise<Record<string, unknown>> {
  const machine = machineInfo();
  console.log(`ops bench — ${machineLine(machine)}\n`);
  const cost = metricsCost();
  cost.render_ms = await renderCost();
  console.log(`metrics: ACK-latency observation ${cost.observe_ns} ns; /metrics rendering (4 channels + process metrics) ${cost.render_ms} ms`);
  const out: Record<string, unknown> = { machine, metrics: cost };
  if (spawnSync('mosquitto', ['-h']).error) {
    console.log('PUBACK delay: skipped (no mosquitto binary)');
    out.puback = 'skipped: no mosquitto binary';
  } else {
    const frames = Number(process.env.BENCH_FRAMES ?? 60);
    const rows: Record<string, unknown> = {};
    for (const nodelay of [false, true]) {
      const m = await startMosquitto(nodelay);
      try {
        const r = await oneDevice(m.url, frames);
        rows[nodelay ? 'set_tcp_nodelay true' : 'stock (no set_tcp_nodelay)'] = r;
        console.log(`PUBACK delay, Mosquitto ${nodelay ? 'set_tcp_nodelay true      ' : 'stock (no set_tcp_nodelay)'}: one device, ${frames} frames of 2 records, frame ACK p50 ${r.p50_ms} ms p90 ${r.p90_ms} ms; delayed-ACK warning ${r.warned ? 'logged' : 'not logged'}`);
      } finally {
        m.proc.kill('SIGTERM');
        rmSync(m.dir, { recursive: true, force: true });
      }
    }
    out.puback = rows;
  }
  const file = join(resultsDir(), `ops-${timestamp()}.json`);
  writeFileSync(file, JSON.stringify(out, null, 2));
  console.log(`\nwrote ${file}`);
  return out;
}

if (isMain(import.meta.url)) await main();
