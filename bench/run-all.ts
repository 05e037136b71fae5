/**
 * `npm run bench`: runs every benchmark in sequence in this process, writes
 * bench/results/<name>-<timestamp>.json per bench plus bench/results/latest.md, and prints the
 * Markdown summary with each target and "met / missed". Nothing here asserts: figures only.
 *
 *   node dist/bench/run-all.js [--quick] [--only decode,ddd,pool,guard,e2e,connections,after-load]
 *
 * Knobs (env or --flag): BENCH_DEVICES, BENCH_DURATION_MS, BENCH_CONNECTIONS,
 * BENCH_STORM_DEVICES, BENCH_BACKLOG, BENCH_REPS, BENCH_SUB_QOS, MQTT_URL. See bench/README.md.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { main as afterLoad } from './after-load-bench.js';
import { main as udpFlood } from './udp-flood-bench.js';
import { main as connections } from './connections-bench.js';
import { main as ddd } from './ddd-bench.js';
import { main as decode } from './decode-bench.js';
import { main as e2e } from './e2e-bench.js';
import { main as guard } from './guard-bench.js';
import { machineLine } from './lib/machine.js';
import { main as pool } from './pool-bench.js';
import { arg, quickMode, resultsDir, startReport, targetsMarkdown, timestamp, writeReport, type BenchReport } from './lib/report.js';
import { round } from './lib/stats.js';
import { mdTable } from './lib/table.js';

async function guardReport(): Promise<BenchReport> {
  const { machine, t0 } = startReport();
  const r = await guard();
  const rows = [
    ...Object.entries(r.ip_filter_ns).map(([k, v]) => [`IpFilter.check ${k}`, `${Math.round(v)} ns`]),
    ...Object.entries(r.consume_us).map(([k, v]) => [`consume ${k}`, v === null ? `n/a (${r.redis})` : `${v.toFixed(3)} µs`]),
    ...Object.entries(r.drops_per_s).map(([k, v]) => [`drops/s ${k}`, v.toLocaleString('en-US')]),
  ];
  return {
    name: 'guard', machine, options: {}, duration_s: round((performance.now() - t0) / 1000, 1), data: r, targets: [],
    markdown: [`### guard (${machineLine(machine)})`, '', mdTable(['figure', 'value'], rows)].join('\n'),
  };
}

const BENCHES: Record<string, () => Promise<BenchReport>> = {
  decode: () => decode(),
  ddd: () => ddd(),
  pool: () => pool(),
  guard: guardReport,
  'udp-flood': () => udpFlood(),
  e2e: () => e2e(),
  connections: () => connections(),
  'after-load': () => afterLoad(),
  // the same storm with the broker unreachable for its first part (issue: never lose an ACKed record)
  // (half the devices; two passes: the old fixed 5,000 records/s drain, then the adaptive one)
  'after-load-outage': () => afterLoad({ brokerDownMs: quickMode() ? 3_000 : 5_000, devices: quickMode() ? 250 : 1_000 }),
};

const only = arg('only')?.split(',').map((s) => s.trim()).filter(Boolean);
const names = Object.keys(BENCHES).filter((n) => !only || only.includes(n));
const ts = timestamp();
const { machine, t0 } = startReport();
console.log(`edge-channel benchmarks${quickMode() ? ' (quick)' : ''} — ${machineLine(machine)}\n`);
const reports: BenchReport[] = [];
const failed: string[] = [];
for (const n of names) {
  const started = performance.now();
  try {
    const r = await BENCHES[n]!();
    reports.push(r);
    writeReport(r, ts);
    console.log(`  → ${n} done in ${round((performance.now() - started) / 1000, 1)} s\n`);
  } catch (e) {
    failed.push(`${n}: ${e instanceof Error ? e.message : String(e)}`);
    console.error(`  → ${n} FAILED: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  }
}
const md = [
  `# edge-channel benchmarks — ${machine.date}`,
  '',
  `Machine: ${machineLine(machine)}. Total ${round((performance.now() - t0) / 1000, 1)} s${quickMode() ? ' (--quick)' : ''}. Targets are reported, not asserted; see bench/README.md for how to read noisy numbers.`,
  '',
  '## Targets',
  '',
  targetsMarkdown(reports.flatMap((r) => r.targets.map((t) => ({ bench: r.name, t })))),
  ...(failed.length ? ['', '## Failed', '', ...failed.map((f) => `- ${f}`)] : []),
  '',
  '## Figures',
  '',
  ...reports.map((r) => `${r.markdown}\n`),
].join('\n');
writeFileSync(join(resultsDir(), 'latest.md'), md + '\n');
console.log(md);
console.log(`\nresults: bench/results/*-${ts}.json, bench/results/latest.md`);
// Piscina pools and MQTT clients are closed by each bench; exit explicitly in case a library keeps a handle.
process.exit(failed.length ? 1 : 0);
