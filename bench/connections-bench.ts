/**
 * Connections bench: as many concurrent idle TCP device connections as one process may open (the
 * open-file limit), held by the channel. Reports the accept rate and the server's RSS per
 * connection, both right after connect (a bare accepted socket) and after each device sent one
 * records frame and got its ACK (identified: session, framer, retained "connected" state on the
 * broker); the channel's CPU while it holds them idle; then live devices among them (1 frame/s
 * each, stop-and-wait) and their ACK latency. The figures feed the README's sizing section.
 *
 *   node dist/bench/connections-bench.js [--quick] [--connections N] [--live N]
 *   env: BENCH_CONNECTIONS (default: as many as the limits allow), BENCH_LIVE (50)
 *
 * Limits: run alone, the bench raises its soft open-file limit to the hard one (it re-executes
 * itself through `bash -c 'ulimit -n <hard>'`, since Node has no setrlimit) and reports which bound
 * it hit. Clients live in a child process started with the same raised limit, spread over several
 * loopback source addresses (127.0.0.1-8) so one address's ephemeral ports do not bound them.
 * RSS is measured after a forced GC; kernel socket buffers are not part of RSS (kernel memory).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { startLoadChild } from './lib/load-child.js';
import type { DevicesResult, IdleResult, IdentifyResult } from './lib/load-protocol.js';
import { cpuMeter } from './lib/proc-cpu.js';
import { IMEI } from './lib/ruptela-frames.js';
import { machineLine, openFileLimits } from './lib/machine.js';
import { check, isMain, numArg, quickMode, runAlone, startReport, type BenchReport } from './lib/report.js';
import { mqttReachable, startBenchServer } from './lib/server.js';
import { benchBroker } from './lib/private-mosquitto.js';
import { round, sleep } from './lib/stats.js';
import { mdTable } from './lib/table.js';

export interface ConnectionsOptions {
  quick: boolean;
  connections: number;
  concurrency: number;
  /** Live devices (1 frame/s each) run among the idle connections. */
  live: number;
}

export interface ConnectionsData {
  requested: number;
  bound_by: string;
  broker: string;
  idle: IdleResult;
  accepted: number;
  accept_ms: number;
  accept_rate_per_s: number;
  rss_baseline_mb: number;
  rss_idle_mb: number;
  rss_identified_mb: number;
  rss_per_idle_conn_kb: number;
  rss_per_identified_conn_kb: number;
  heap_per_identified_conn_kb: number;
  identify: IdentifyResult;
  /** The channel process's CPU (% of one core) while it holds every connection, identified and idle. */
  idle_cpu_pct: number;
  live: { devices: number; result: DevicesResult; cpu_pct: number } | null;
  open_files: { soft: number | null; hard: number | null };
  source_addresses: string[];
}

/** Loopback source addresses the clients spread over (each has its own ~28k ephemeral ports). */
const SOURCES = Array.from({ length: 8 }, (_, i) => `127.0.0.${i + 1}`);
/** File descriptors each process keeps for everything else (workers, spool, broker link, stdio). */
const FD_RESERVE = 512;

export function defaultConnectionsOptions(): ConnectionsOptions {
  const quick = quickMode();
  return { quick, connections: numArg('connections', 'BENCH_CONNECTIONS', quick ? 2_000 : 1_000_000), concurrency: 256, live: numArg('live', 'BENCH_LIVE', quick ? 20 : 50) };
}

function gcFn(): () => void {
  // npm run bench starts node without --expose-gc; RSS per connection needs a settled heap.
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

async function settledRss(gc: () => void): Promise<{ rss: number; heap: number }> {
  for (let i = 0; i < 3; i++) {
    gc();
    await sleep(100);
  }
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed };
}

export async function main(partial: Partial<ConnectionsOptions> = {}): Promise<BenchReport<ConnectionsData>> {
  const o = { ...defaultConnectionsOptions(), ...partial };
  const { machine, t0 } = startReport();
  const self = openFileLimits();
  const serverRoom = (self.soft ?? 1_024) - FD_RESERVE - o.live;
  const childRoom = (self.hard ?? self.soft ?? 1_024) - FD_RESERVE - o.live;
  const n = Math.max(1, Math.min(o.connections, serverRoom, childRoom));
  const boundBy = n < o.connections
    ? (n === serverRoom ? `bench process open-file soft limit ${self.soft}${self.soft === self.hard ? ' (= hard limit)' : ''}` : `open-file hard limit ${self.hard}`)
    : 'requested count';
  console.log(`connections bench — ${machineLine(machine)}; ${n} connections (${boundBy})`);
  const broker = await benchBroker();
  const mqttUrl = broker.url;
  const external = await mqttReachable(mqttUrl);
  // Mosquitto when there, so the broker's memory is not in the channel's RSS.
  const srv = await startBenchServer({ mqttUrl: external ? mqttUrl : '', maxConnections: n + 1_000 });
  const child = await startLoadChild({ nofile: n + 1_024 });
  const gc = gcFn();
  try {
    await sleep(300);
    const base = await settledRss(gc);
    const a0 = performance.now();
    const idleP = child.call({ type: 'connect-idle', spec: { host: '127.0.0.1', port: srv.channel.tcpPort, count: n, concurrency: o.concurrency, sourceAddresses: SOURCES } });
    let acceptMs = NaN;
    let done = false;
    void idleP.then(() => (done = true));
    // Accept time as the server sees it: until the channel holds every connection the client got.
    for (;;) {
      const count = srv.channel.connectionCount;
      if (count >= n) {
        acceptMs = performance.now() - a0;
        break;
      }
      if (done) {
        const idleNow = await idleP;
        if (count >= idleNow.connected) {
          acceptMs = performance.now() - a0;
          break;
        }
      }
      if (performance.now() - a0 > 120_000) break;
      await sleep(20);
    }
    const idle = await idleP;
    const accepted = srv.channel.connectionCount;
    const afterIdle = await settledRss(gc);
    const identify = await child.call({ type: 'identify-idle', timeoutMs: 60_000 });
    await sleep(500);
    const afterIdent = await settledRss(gc);
    // CPU of holding them: identified, idle (timers, the broker link, GC of a bigger heap)
    const idleMeter = cpuMeter();
    await sleep(o.quick ? 1_000 : 3_000);
    const idleCpu = idleMeter();
    // live devices among them: stop-and-wait, one 1-record frame per second each
    let live: ConnectionsData['live'] = null;
    if (o.live > 0) {
      const liveMeter = cpuMeter();
      const result = await child.call({
        type: 'devices',
        spec: {
          host: '127.0.0.1', port: srv.channel.tcpPort, transport: 'tcp', devices: o.live, recordsPerFrame: 1, imeiBase: IMEI.live, distinctFrames: 8,
          warmupMs: 1_000, durationMs: o.quick ? 2_000 : 5_000, rateFps: o.live, ackTimeoutMs: 10_000, connectConcurrency: 50,
        },
      });
      live = { devices: o.live, result, cpu_pct: liveMeter().self_pct };
    }
    await child.call({ type: 'close-idle' });
    const until = Date.now() + 10_000;
    while (srv.channel.connectionCount > 0 && Date.now() < until) await sleep(50);
    const mb = (b: number) => round(b / 2 ** 20, 1);
    const perKb = (b: number, count: number) => (count > 0 ? round(b / 1024 / count, 2) : NaN);
    const data: ConnectionsData = {
      requested: o.connections, bound_by: boundBy, broker: external ? broker.note : 'embedded aedes (in this process)', idle, accepted,
      accept_ms: Math.round(acceptMs), accept_rate_per_s: Math.round((accepted / acceptMs) * 1000),
      rss_baseline_mb: mb(base.rss), rss_idle_mb: mb(afterIdle.rss), rss_identified_mb: mb(afterIdent.rss),
      rss_per_idle_conn_kb: perKb(afterIdle.rss - base.rss, accepted),
      rss_per_identified_conn_kb: perKb(afterIdent.rss - base.rss, identify.acked),
      heap_per_identified_conn_kb: perKb(afterIdent.heap - base.heap, identify.acked),
      identify,
      idle_cpu_pct: idleCpu.self_pct,
      live,
      open_files: { soft: self.soft, hard: self.hard },
      source_addresses: SOURCES,
    };
    console.log(`  ${accepted} accepted in ${data.accept_ms} ms (${data.accept_rate_per_s}/s); RSS ${data.rss_per_idle_conn_kb} KB/idle conn, ${data.rss_per_identified_conn_kb} KB/identified conn; idle CPU ${data.idle_cpu_pct}%`);
    if (live) console.log(`  ${live.devices} live devices among them: ${live.result.framesPerS} frames/s, ACK p50 ${live.result.latencyMs.p50} ms p99 ${live.result.latencyMs.p99} ms, ${live.result.timeouts} timeouts`);
    const targets = [
      check('≤ 8 KB RSS per idle connection', `${data.rss_per_idle_conn_kb} KB (${accepted} conns)`, accepted > 0 ? data.rss_per_idle_conn_kb <= 8 : null),
      check('(info) RSS per connection after one frame (identified)', `${data.rss_per_identified_conn_kb} KB`, null, 'not a target: a real idle device has sent at least one frame'),
      check('as many connections as the open-file limit allows', `${accepted} of ${n} (${boundBy})`, accepted >= n, accepted < n ? `${idle.failed} connects failed: ${JSON.stringify(idle.errors)}` : undefined),
      ...(live ? [check(`live devices among them answered: ACK p99 ≤ 20 ms`, `${live.result.latencyMs.p99} ms (${live.devices} devices, ${live.result.framesPerS} frames/s, ${live.result.timeouts} timeouts)`, live.result.latencyMs.p99 <= 20 && live.result.timeouts === 0)] : []),
    ];
    const md = [
      `### connections (${machineLine(machine)})`,
      `Broker: ${data.broker}. Clients in a child process (${o.concurrency} connects in flight). RSS of the channel process after forced GC.`,
      '',
      mdTable(['connections', 'client connect time ms', 'client connect p99 ms', 'server accept time ms', 'accept rate /s', 'RSS base MB', 'RSS idle MB', 'KB / idle conn', 'RSS identified MB', 'KB / identified conn', 'heap KB / identified conn', 'identify ms'], [[
        accepted, idle.totalMs, idle.connectMs.p99, data.accept_ms, data.accept_rate_per_s, data.rss_baseline_mb, data.rss_idle_mb, data.rss_per_idle_conn_kb, data.rss_identified_mb, data.rss_per_identified_conn_kb, data.heap_per_identified_conn_kb, identify.totalMs,
      ]], 2),
      idle.failed ? `\nConnect failures: ${idle.failed} (${JSON.stringify(idle.errors)})` : '',
      '',
      `Open files: soft ${self.soft}, hard ${self.hard} (bound: ${boundBy}); clients from ${SOURCES[0]}–${SOURCES[SOURCES.length - 1]}. Channel CPU holding them idle: ${data.idle_cpu_pct} % of a core.`,
      live ? `Live devices among them: ${live.devices} × 1 frame/s → ${live.result.framesPerS} frames/s, ACK p50 ${live.result.latencyMs.p50} ms, p99 ${live.result.latencyMs.p99} ms, max ${live.result.latencyMs.max} ms, ${live.result.timeouts} timeouts; channel CPU ${live.cpu_pct} %.` : '',
    ].join('\n');
    return { name: 'connections', machine, options: { ...o }, duration_s: round((performance.now() - t0) / 1000, 1), data, targets, markdown: md };
  } finally {
    await child.close();
    await srv.stop();
    await broker.stop();
  }
}

/**
 * Run alone with a soft open-file limit under the hard one: start again through bash with the soft
 * limit raised (Node cannot call setrlimit); BENCH_NOFILE_RAISED stops a second round.
 */
function reexecWithRaisedLimit(): boolean {
  const { soft, hard } = openFileLimits();
  if (process.env.BENCH_NOFILE_RAISED || soft === null || hard === null || soft >= hard) return false;
  const script = fileURLToPath(import.meta.url);
  const r = spawnSync('bash', ['-c', 'ulimit -n "$(ulimit -Hn)" && exec "$0" "$@"', process.execPath, ...process.execArgv, script, ...process.argv.slice(2)], {
    stdio: 'inherit', env: { ...process.env, BENCH_NOFILE_RAISED: '1' },
  });
  process.exitCode = r.status ?? 1;
  return true;
}

if (isMain(import.meta.url) && !reexecWithRaisedLimit()) await runAlone(() => main());
