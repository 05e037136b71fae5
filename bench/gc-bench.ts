/**
 * What a QoS 1 publisher promotes to V8's old generation (issue #31): the same MQTT.js client with
 * MQTT.js's own outgoing store (a Map: a set and a delete per publish) and with the publisher's
 * (src/mqtt/inflight-store.ts: an array indexed by packet identifier). Each variant runs in a child under `--trace-gc-nvp`; the
 * figure is the main isolate's `promoted=` per young-generation collection (scavenge): bytes that
 * survived two scavenges. A record's objects die within milliseconds of their PUBACK, so what is
 * promoted here is kept alive by the bookkeeping's discarded hash tables, not by use.
 *
 *   node dist/bench/gc-bench.js [--quick] [--rate N] [--burst N] [--duration-ms N] [--runs N]
 *   env: BENCH_PRIVATE_MOSQUITTO=1 (a private Mosquitto), else MQTT_URL (default mqtt://127.0.0.1:1883)
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { scavengePromotions } from './lib/gc-trace.js';
import { benchBroker } from './lib/private-mosquitto.js';
import { machineLine } from './lib/machine.js';
import { check, isMain, numArg, quickMode, runAlone, startReport, type BenchReport } from './lib/report.js';
import { median, round } from './lib/stats.js';
import { mdTable } from './lib/table.js';

/** MQTT.js's store; the publisher's. */
const VARIANTS = ['default', 'edge'];
const CHILD = fileURLToPath(new URL('./lib/gc-publisher.js', import.meta.url));

export interface GcRun {
  variant: string;
  sent: number;
  acked: number;
  scavenges: number;
  promotedMedianKb: number;
  promotedTotalKb: number;
  cpuUsPerMessage: number;
}

function runChild(url: string, variant: string, rate: number, burst: number, durationMs: number): Promise<GcRun> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--trace-gc-nvp', CHILD, url, variant, String(rate), String(burst), String(durationMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    p.on('error', reject);
    p.on('close', (code) => {
      const last = out.trim().split('\n').filter((l) => l.startsWith('{')).pop();
      if (code !== 0 || !last) return reject(new Error(`gc-publisher ${variant} exited with ${code}`));
      const r = JSON.parse(last) as { sent: number; acked: number; cpuUs: number };
      const promoted = scavengePromotions(out);
      resolve({
        variant,
        sent: r.sent,
        acked: r.acked,
        scavenges: promoted.length,
        promotedMedianKb: round(median(promoted) / 1024, 1),
        promotedTotalKb: Math.round(promoted.reduce((a, b) => a + b, 0) / 1024),
        cpuUsPerMessage: round(r.cpuUs / Math.max(1, r.acked), 2),
      });
    });
  });
}

export async function runGcBench(): Promise<BenchReport<{ runs: GcRun[] }>> {
  const { machine, t0 } = startReport();
  const quick = quickMode();
  const rate = numArg('rate', 'BENCH_GC_RATE', 5000);
  const burst = numArg('burst', 'BENCH_GC_BURST', 500);
  const durationMs = numArg('duration-ms', 'BENCH_DURATION_MS', quick ? 2000 : 5000);
  const runs = numArg('runs', 'BENCH_RUNS', quick ? 1 : 3);
  const broker = await benchBroker();
  console.log(`gc bench — ${machineLine(machine)}; ${rate} msg/s in bursts of ${burst}, ${durationMs} ms, broker ${broker.note}`);
  const all: GcRun[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      for (const variant of VARIANTS) {
        const r = await runChild(broker.url, variant, rate, burst, durationMs);
        all.push(r);
        console.log(`  ${variant}: ${r.acked}/${r.sent} acked, ${r.scavenges} scavenges, promoted median ${r.promotedMedianKb} KB, total ${r.promotedTotalKb} KB, ${r.cpuUsPerMessage} µs CPU/msg`);
      }
    }
  } finally {
    await broker.stop();
  }
  const med = (v: string, f: (r: GcRun) => number) => median(all.filter((r) => r.variant === v).map(f));
  const rows = VARIANTS.map((v) => [v, String(med(v, (r) => r.promotedMedianKb)), String(med(v, (r) => r.promotedTotalKb)), String(med(v, (r) => r.scavenges)), String(med(v, (r) => r.cpuUsPerMessage))]);
  const md = `${mdTable(['outgoing store', 'promoted per scavenge, KB (median)', 'promoted in the run, KB', 'scavenges', 'CPU µs per message'], rows)}\n`;
  console.log(`\n${md}`);
  const lost = all.some((r) => r.acked !== r.sent);
  const ratio = med('edge', (r) => r.promotedTotalKb) / Math.max(1, med('default', (r) => r.promotedTotalKb));
  return {
    name: 'gc',
    machine,
    options: { rate, burst, durationMs, runs },
    duration_s: round((performance.now() - t0) / 1000, 1),
    data: { runs: all },
    markdown: md,
    targets: [check('every publish acknowledged in every run', lost ? 'some not acknowledged' : 'all', !lost), check('promoted with the publisher\'s store ÷ with MQTT.js\'s (information)', String(round(ratio, 3)), null)],
  };
}

if (isMain(import.meta.url)) await runAlone(runGcBench);
