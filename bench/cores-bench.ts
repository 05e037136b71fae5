/**
 * Cores bench: the e2e bench's Ruptela "max" pass (closed loop, 1,000 stop-and-wait devices, frames
 * of R classic records with 12 IO, ACK after PUBACK) against one channel run by the real
 * `edge-channel start --processes N` (src/processes/): first one process, then two, each started
 * through the multi-process start path with the same config (Redis for both, so the only
 * difference is the process count). Reported per run: records/s, ACK p50/p99, and the CPU of every
 * process of the channel (the primary and each worker, from /proc) per record; then the 2 ÷ 1
 * ratios and a projection for a 16-core host from the records per second per core of channel CPU.
 *
 *   node dist/bench/cores-bench.js [--quick] [--devices N] [--duration-ms N] [--records 1] [--counts 1,2]
 *   env: BENCH_DEVICES, BENCH_DURATION_MS, BENCH_WARMUP_MS, REDIS_URL (default redis://127.0.0.1:6379), MQTT_URL
 *
 * The broker is a Mosquitto of the bench's own (lib/private-mosquitto.ts) when the binary exists,
 * else MQTT_URL. Devices and the counting subscriber run in child processes (lib/load-worker.ts) as
 * in the e2e bench. On a machine with fewer cores than channel processes + broker + load generator,
 * the processes compete with their own load for the same cores: the 2-process figure then shows
 * the machine's ceiling, not the channel's; the output says so.
 */
import '../src/mqtt/quiet-packet-debug.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { projectRoot } from '../src/util/paths.js';
import { startLoadChild, type LoadChild } from './lib/load-child.js';
import type { DevicesResult, SubStats } from './lib/load-protocol.js';
import { machineLine } from './lib/machine.js';
import { freePort, redisPingError } from './lib/net-probe.js';
import { mosquittoBinary, startPrivateMosquitto, type PrivateMosquitto } from './lib/private-mosquitto.js';
import { findMosquittoPid, processCpuMs } from './lib/proc-cpu.js';
import { arg, check, isMain, numArg, quickMode, runAlone, startReport, type BenchReport, type TargetCheck } from './lib/report.js';
import { IMEI } from './lib/ruptela-frames.js';
import { mqttReachable, mqttUrlFromEnv, subscriberQos } from './lib/server.js';
import { round, sleep, type LatencySummary } from './lib/stats.js';
import { mdTable } from './lib/table.js';

export interface CoresOptions {
  quick: boolean;
  devices: number;
  warmupMs: number;
  durationMs: number;
  recordsPerFrame: number;
  /** Process counts to run, in order (default 1,2). */
  counts: number[];
  redisUrl: string;
  /** The host the projection is for. */
  projectCores: number;
}

export interface CoresPass {
  processes: number;
  balance: string;
  devices: number;
  records_per_s: number;
  frames_per_s: number;
  subscriber_msgs_per_s: number;
  ack_latency_ms: LatencySummary;
  /** % of one core over the measure window: every channel process together, then each (primary, p0, p1…). */
  cpu_pct: { channel: number; by_process: Record<string, number>; broker: number | null; devices: number; subscriber: number | null };
  /** Channel CPU (all its processes) µs per acknowledged record. */
  cpu_us_per_record: number;
  /** Records per second per core of channel CPU: records_per_s ÷ (channel CPU % / 100). */
  records_per_s_per_core: number;
  errors: { timeouts: number; unanswered: number; closed: number; mismatches: number };
}

export interface CoresData {
  broker: string;
  redis: string;
  passes: CoresPass[];
  ratios: { records_per_s: number; cpu_us_per_record: number; ack_p99: number } | null;
  projection: { cores: number; assumptions: string[]; records_per_s: { low: number; high: number }; from_per_core: { low: number; high: number } } | null;
  notes: string[];
}

export function defaultCoresOptions(): CoresOptions {
  const quick = quickMode();
  return {
    quick,
    devices: numArg('devices', 'BENCH_DEVICES', quick ? 300 : 1_000),
    warmupMs: numArg('warmup-ms', 'BENCH_WARMUP_MS', quick ? 1_000 : 2_000),
    durationMs: numArg('duration-ms', 'BENCH_DURATION_MS', quick ? 2_000 : 5_000),
    recordsPerFrame: numArg('records', undefined, 1),
    counts: (arg('counts') ?? '1,2').split(',').map(Number).filter((n) => Number.isInteger(n) && n >= 1),
    redisUrl: process.env.REDIS_URL || 'redis://127.0.0.1:6379',
    projectCores: numArg('project-cores', undefined, 16),
  };
}


/** The child processes of `pid` (Linux), i.e. the primary's workers. */
function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

interface Channel {
  child: ChildProcess;
  port: number;
  root: string;
  balance: string;
  /** label → pid: `primary`, `p0`, `p1`… (one process alone: `p0`). */
  pids: Record<string, number>;
  stop(): Promise<void>;
}

/** The channel as `edge-channel start --processes N` runs it, ready once it says where devices connect. */
async function startChannel(n: number, o: CoresOptions, mqttUrl: string, prefix: string): Promise<Channel> {
  const dir = mkdtempSync(join(tmpdir(), 'edge-bench-cores-'));
  const port = await freePort();
  const root = `cores${process.pid}x${n}${randomBytes(3).toString('hex')}`;
  writeFileSync(join(dir, 'config.json'), JSON.stringify({
    instance_id: root,
    log_level: 'info',
    mqtt: { url: mqttUrl, topic_root: root, client_id: 'edge-bench' },
    redis_url: o.redisUrl,
    redis_prefix: prefix,
    spool: { dir: join(dir, 'spool') },
    media: { dir: join(dir, 'media') },
    channels: [{ id: 1, protocol: 'ruptela', host: '127.0.0.1', tcp_port: port, max_connections: o.devices + 1_000 }],
    stats_interval_s: 3600,
    shutdown_timeout_s: 5,
  }));
  // the devices child raises its own open-file limit; the channel's processes need one descriptor per device too
  const child = spawn('bash', ['-c', `ulimit -n ${o.devices + 4_096} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"`, process.execPath, join(projectRoot(), 'dist/src/cli.js'), 'start', '--config', join(dir, 'config.json'), '--processes', String(n)], { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const ready = n === 1 ? /devices of channel 1 \(ruptela\) connect to/ : new RegExp(`all ${n} processes ready`);
  const deadline = Date.now() + 30_000;
  while (!ready.test(out)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`edge-channel start --processes ${n} did not get ready:\n${out.slice(-2000)}`);
    }
    await sleep(50);
  }
  const balance = n === 1 ? 'one process' : (/"balance":"(\w+)"/.exec(out)?.[1] ?? '?');
  const pids: Record<string, number> = n === 1 ? { p0: child.pid! } : { primary: child.pid! };
  if (n > 1) {
    // the workers' own log lines name their pid and index
    for (const m of out.matchAll(/"process":"(p\d+)","pid":(\d+)/g)) pids[m[1]!] = Number(m[2]);
    for (const pid of childPids(child.pid!)) if (!Object.values(pids).includes(pid)) pids[`pid${pid}`] = pid;
  }
  return {
    child, port, root, balance, pids,
    async stop() {
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(20_000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function cpuSnapshot(pids: Record<string, number | null>): Record<string, number | null> {
  return Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, pid === null ? null : processCpuMs(pid)]));
}

async function pass(n: number, o: CoresOptions, ctx: { mqttUrl: string; brokerPid: number | null; devicesChild: LoadChild; subChild: LoadChild; prefix: string }): Promise<CoresPass> {
  const ch = await startChannel(n, o, ctx.mqttUrl, `${ctx.prefix}${n}:`);
  try {
    await ctx.subChild.call({ type: 'subscribe', url: ctx.mqttUrl, topic: `${ch.root}/message/#`, qos: subscriberQos() });
    const w: { t0: number; a: Record<string, number | null>; b: Record<string, number | null>; wall: number; subA: Promise<SubStats> | null; subB: Promise<SubStats> | null } = { t0: 0, a: {}, b: {}, wall: 0, subA: null, subB: null };
    const watched = { ...ch.pids, broker: ctx.brokerPid, sub: ctx.subChild.pid };
    ctx.devicesChild.onEvent = (e) => {
      if (e === 'measure-start') {
        w.t0 = performance.now();
        w.a = cpuSnapshot(watched);
        w.subA = ctx.subChild.call({ type: 'sub-stats' });
      } else {
        w.wall = performance.now() - w.t0;
        w.b = cpuSnapshot(watched);
        w.subB = ctx.subChild.call({ type: 'sub-stats' });
      }
    };
    const res: DevicesResult = await ctx.devicesChild.call({
      type: 'devices',
      spec: {
        protocol: 'ruptela', host: '127.0.0.1', port: ch.port, transport: 'tcp', devices: o.devices, recordsPerFrame: o.recordsPerFrame, ioCount: 12, extended: false, imeiBase: IMEI.load, distinctFrames: 8,
        warmupMs: o.warmupMs, durationMs: o.durationMs, rateFps: 0, ackTimeoutMs: 10_000, connectConcurrency: 200,
      },
    });
    ctx.devicesChild.onEvent = null;
    const [sa, sb] = await Promise.all([w.subA, w.subB]);
    const pct = (k: string): number | null => {
      const a = w.a[k];
      const b = w.b[k];
      return a === null || a === undefined || b === null || b === undefined ? null : round(((b - a) / w.wall) * 100, 1);
    };
    const byProcess: Record<string, number> = {};
    for (const k of Object.keys(ch.pids)) byProcess[k] = pct(k) ?? NaN;
    const channelPct = round(Object.values(byProcess).reduce((s, v) => s + v, 0), 1);
    const records = (res.recordsPerS * w.wall) / 1000;
    const out: CoresPass = {
      processes: n, balance: ch.balance, devices: res.connected, records_per_s: res.recordsPerS, frames_per_s: res.framesPerS,
      subscriber_msgs_per_s: sa && sb ? Math.round(((sb.messages - sa.messages) / Math.max(1, sb.atEpochMs - sa.atEpochMs)) * 1000) : 0,
      ack_latency_ms: res.latencyMs,
      cpu_pct: { channel: channelPct, by_process: byProcess, broker: pct('broker'), devices: res.cpuPct, subscriber: pct('sub') },
      cpu_us_per_record: records > 0 ? round(((channelPct / 100) * w.wall * 1000) / records, 1) : NaN,
      records_per_s_per_core: channelPct > 0 ? Math.round(res.recordsPerS / (channelPct / 100)) : NaN,
      errors: { timeouts: res.timeouts, unanswered: res.unanswered, closed: res.closed, mismatches: res.mismatches },
    };
    console.log(`  ${n} process(es) (${ch.balance}): ${out.records_per_s} rec/s, ACK p50 ${out.ack_latency_ms.p50} ms p99 ${out.ack_latency_ms.p99} ms, channel CPU ${out.cpu_pct.channel}% ${JSON.stringify(byProcess)} = ${out.cpu_us_per_record} µs/rec, ${out.records_per_s_per_core} rec/s per core; broker ${out.cpu_pct.broker ?? '–'}%, devices ${out.cpu_pct.devices}%, subscriber ${out.cpu_pct.subscriber ?? '–'}%`);
    return out;
  } finally {
    await ctx.subChild.call({ type: 'unsubscribe' });
    await ch.stop();
    await sleep(500);
  }
}

/**
 * 16 cores from per-core figures: the channel's records per second per core of its own CPU,
 * measured with one process and with two, times the cores the channel may use there.
 */
function project(passes: CoresPass[], cores: number, recordsPerFrame: number): CoresData['projection'] {
  const perCore = passes.map((p) => p.records_per_s_per_core).filter((v) => Number.isFinite(v) && v > 0);
  if (perCore.length === 0) return null;
  const usable = cores * 0.8;
  const low = Math.min(...perCore);
  const high = Math.max(...perCore);
  return {
    cores,
    assumptions: [
      `the channel runs ${cores} processes (processes: auto) and may use ${usable} cores of ${cores} (80 %: the kernel's network stack, Redis clients, GC and headroom for a reconnect storm take the rest)`,
      'the MQTT broker (or cluster), Redis and the devices are on other hosts: on the bench machine they share its 2 cores, here none of their CPU is counted',
      'per-core throughput stays what was measured: the processes share nothing per record (Redis is used at identification, for commands and the UDP limit, not per TCP frame), and the load is many devices, so the kernel can spread it',
      `the same kind of load: frames of ${recordsPerFrame} classic Ruptela record(s) of 12 IO from stop-and-wait devices, at least ~${Math.round((passes[0]?.devices ?? 1000) / Math.max(...passes.map((p) => p.processes)))} devices per process (enough for each to batch frames per worker task and per write)`,
      'the per-core figure of a VM shared with its own load is a lower bound for a dedicated core',
    ],
    from_per_core: { low, high },
    records_per_s: { low: Math.round(low * usable), high: Math.round(high * usable) },
  };
}

export async function main(partial: Partial<CoresOptions> = {}): Promise<BenchReport<CoresData>> {
  const o = { ...defaultCoresOptions(), ...partial };
  const { machine, t0 } = startReport();
  console.log(`cores bench — ${machineLine(machine)}; ${o.devices} devices, R=${o.recordsPerFrame}, ${o.durationMs} ms windows, processes ${o.counts.join(' then ')}`);
  const notes: string[] = [];
  const priv: PrivateMosquitto | null = mosquittoBinary() ? await startPrivateMosquitto() : null;
  const mqttUrl = priv?.url ?? mqttUrlFromEnv();
  const brokerPid = priv?.pid ?? findMosquittoPid();
  const data: CoresData = { broker: priv ? `${mqttUrl} (private Mosquitto: set_tcp_nodelay, deep queues)` : mqttUrl, redis: o.redisUrl, passes: [], ratios: null, projection: null, notes };
  const redisDown = await redisPingError(o.redisUrl);
  const brokerUp = await mqttReachable(mqttUrl);
  if (!brokerUp) notes.push(`no MQTT broker at ${mqttUrl}: nothing measured (set MQTT_URL or install mosquitto)`);
  if (redisDown) notes.push(`no Redis at ${o.redisUrl} (${redisDown}): several processes need one, so nothing was measured (set REDIS_URL)`);
  const cores = availableParallelism();
  const busiest = Math.max(...o.counts);
  if (cores < busiest + 2) notes.push(`this machine has ${cores} cores for ${busiest} channel process(es), the broker, the devices and the subscriber: the ${busiest}-process figure is bounded by the machine (its load competes for the same cores), not by the channel`);
  const prefix = `edge-bench-cores-${randomBytes(4).toString('hex')}-`;
  if (brokerUp && !redisDown) {
    const devicesChild = await startLoadChild({ nofile: o.devices + 4_096 });
    const subChild = await startLoadChild();
    try {
      for (const n of o.counts) data.passes.push(await pass(n, o, { mqttUrl, brokerPid, devicesChild, subChild, prefix }));
    } finally {
      await devicesChild.close();
      await subChild.close();
      const r = new Redis(o.redisUrl);
      const keys = await r.keys(`${prefix}*`);
      if (keys.length) await r.del(...keys);
      r.disconnect();
    }
  }
  await priv?.stop();
  const one = data.passes.find((p) => p.processes === 1);
  const two = data.passes.find((p) => p.processes === 2);
  if (one && two) data.ratios = { records_per_s: round(two.records_per_s / one.records_per_s, 2), cpu_us_per_record: round(two.cpu_us_per_record / one.cpu_us_per_record, 2), ack_p99: round(two.ack_latency_ms.p99 / Math.max(0.001, one.ack_latency_ms.p99), 2) };
  data.projection = project(data.passes, o.projectCores, o.recordsPerFrame);
  for (const n of notes) console.log(`  note: ${n}`);
  if (data.ratios) console.log(`  2 ÷ 1: records/s ×${data.ratios.records_per_s}, CPU µs per record ×${data.ratios.cpu_us_per_record}, ACK p99 ×${data.ratios.ack_p99}`);
  if (data.projection) {
    const p = data.projection;
    console.log(`  projection for ${p.cores} cores: ${p.records_per_s.low.toLocaleString('en-US')}–${p.records_per_s.high.toLocaleString('en-US')} records/s (${p.from_per_core.low.toLocaleString('en-US')}–${p.from_per_core.high.toLocaleString('en-US')} per core of channel CPU), assuming:`);
    for (const a of p.assumptions) console.log(`    - ${a}`);
  }
  return { name: 'cores', machine, options: { ...o }, duration_s: round((performance.now() - t0) / 1000, 1), data, targets: coresTargets(data), markdown: coresMarkdown(data, o, machineLine(machine)) };
}

function coresTargets(d: CoresData): TargetCheck[] {
  if (!d.ratios) return [check('2 processes ÷ 1, records/s', 'not measured', null, d.notes.join('; '))];
  return [
    check('2 processes ÷ 1, records/s', `×${d.ratios.records_per_s}`, null, 'reported; on a 2-core machine shared with broker and load the 2-process run is bounded by the machine'),
    check('2 processes ÷ 1, channel CPU µs per record', `×${d.ratios.cpu_us_per_record}`, null, 'reported: the cost of a record in one process of two vs one process alone'),
  ];
}

function coresMarkdown(d: CoresData, o: CoresOptions, machine: string): string {
  const rows = d.passes.map((p) => [`${p.processes} (${p.balance})`, p.devices, p.records_per_s, p.frames_per_s, p.subscriber_msgs_per_s, p.ack_latency_ms.p50, p.ack_latency_ms.p99, p.cpu_pct.channel, Object.entries(p.cpu_pct.by_process).map(([k, v]) => `${k} ${v}`).join(', '), p.cpu_us_per_record, p.records_per_s_per_core, p.cpu_pct.broker, p.cpu_pct.devices, p.cpu_pct.subscriber, `${p.errors.timeouts}/${p.errors.unanswered}`]);
  const proj = d.projection;
  return [
    `### cores (${machine})`,
    `${o.devices} stop-and-wait Ruptela devices, R=${o.recordsPerFrame} (12 IO), ${o.warmupMs} ms warm-up + ${o.durationMs} ms window per run; broker ${d.broker}; Redis ${d.redis}; each run is \`edge-channel start --processes N\` (CPU: every process of the channel from /proc, % of one core).`,
    '',
    mdTable(['processes', 'devices', 'records/s', 'frames/s', 'sub msg/s', 'ACK p50 ms', 'ACK p99 ms', 'channel CPU %', 'by process %', 'channel µs/rec', 'rec/s per core', 'broker CPU %', 'devices CPU %', 'sub CPU %', 'timeouts/unanswered'], rows),
    '',
    d.ratios ? `2 ÷ 1: records/s ×${d.ratios.records_per_s}, channel CPU µs per record ×${d.ratios.cpu_us_per_record}, ACK p99 ×${d.ratios.ack_p99}.` : 'No 2 ÷ 1 ratio (see notes).',
    ...(proj ? ['', `Projection for ${proj.cores} cores: ${proj.records_per_s.low.toLocaleString('en-US')}–${proj.records_per_s.high.toLocaleString('en-US')} records/s (${proj.from_per_core.low.toLocaleString('en-US')}–${proj.from_per_core.high.toLocaleString('en-US')} records/s per core of channel CPU), assuming:`, ...proj.assumptions.map((a) => `- ${a}`)] : []),
    ...(d.notes.length ? ['', ...d.notes.map((n) => `Note: ${n}`)] : []),
  ].join('\n');
}

if (isMain(import.meta.url)) await runAlone(() => main());
