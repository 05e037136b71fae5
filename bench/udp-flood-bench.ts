/**
 * Guards under a real UDP flood: how many flood datagrams per second the channel drops, and what
 * it costs the real devices on the same channel. A child process floods the channel's UDP port
 * from 127.0.0.2 (blacklisted) and then from 127.0.0.3 (over max_udp_packets_per_minute), while
 * 20 TCP devices send 1-record frames stop-and-wait; the same devices without a flood are the
 * baseline. Drops per second per core = drops/s ÷ the channel main thread's share of a core.
 *
 *   node dist/bench/udp-flood-bench.js [--quick]    env: BENCH_FLOOD_MS
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { openTcpDevice, type DeviceClient } from '../src/replay/device-client.js';
import { recordsFrame, typicalRecord } from '../protocols/ruptela/device-frames.js';
import { machineLine } from './lib/machine.js';
import { cpuMeter } from './lib/proc-cpu.js';
import { isMain, numArg, quickMode, runAlone, startReport, type BenchReport } from './lib/report.js';
import { startBenchServer, type BenchServer } from './lib/server.js';
import { round, summarize } from './lib/stats.js';
import { mdTable } from './lib/table.js';

const ACK = Buffer.from('0002640113bc', 'hex');
const DEVICES = 20;

interface Phase {
  phase: string;
  flood_sent_per_s: number | null;
  dropped_per_s: number;
  admitted: number;
  main_thread_pct: number | null;
  drops_per_s_per_core: number | null;
  device_frames_per_s: number;
  device_ack_p50_ms: number;
  device_ack_p99_ms: number;
}

async function devicesFor(srv: BenchServer, ms: number): Promise<{ frames: number; lat: number[] }> {
  const clients: DeviceClient[] = await Promise.all(Array.from({ length: DEVICES }, () => openTcpDevice('127.0.0.1', srv.channel.tcpPort)));
  const lat: number[] = [];
  let frames = 0;
  const until = performance.now() + ms;
  await Promise.all(clients.map(async (c, i) => {
    let k = 0;
    while (performance.now() < until) {
      const o = await c.send(recordsFrame(868000000000000n + BigInt(i), [typicalRecord(1735693000 + k++, i)]), ACK, 5000);
      if (o.kind === 'acked') {
        frames++;
        lat.push(o.latencyMs);
      }
    }
  }));
  for (const c of clients) c.close();
  return { frames, lat };
}

function flood(port: number, local: string, ms: number): Promise<{ sent: number; ms: number }> {
  const script = fileURLToPath(new URL('./lib/udp-flooder.js', import.meta.url));
  const hex = Buffer.from(recordsFrame(869000000000000n, [typicalRecord(1735693000, 1)])).toString('hex');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, '127.0.0.1', String(port), local, String(ms), hex], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', () => {
      try {
        resolve(JSON.parse(out) as { sent: number; ms: number });
      } catch {
        reject(new Error(`flooder printed ${out}`));
      }
    });
  });
}

async function phase(name: string, srv: BenchServer, ms: number, floodFrom: string | null): Promise<Phase> {
  srv.channel.guards.snapshot(); // reset the interval
  const framesBefore = srv.channel.counters.frames;
  const meter = cpuMeter();
  const [dev, fl] = await Promise.all([devicesFor(srv, ms), floodFrom ? flood(srv.channel.udpPort, floodFrom, ms) : Promise.resolve(null)]);
  const cpu = meter();
  const drops = srv.channel.guards.snapshot()?.total ?? 0;
  const seconds = cpu.wall_ms / 1000;
  const l = summarize(dev.lat);
  const dropsPerS = Math.round(drops / seconds);
  return {
    phase: name,
    flood_sent_per_s: fl ? Math.round(fl.sent / (fl.ms / 1000)) : null,
    dropped_per_s: dropsPerS,
    admitted: srv.channel.counters.frames - framesBefore - dev.frames,
    main_thread_pct: cpu.main_thread_pct,
    drops_per_s_per_core: cpu.main_thread_pct ? Math.round(dropsPerS / (cpu.main_thread_pct / 100)) : null,
    device_frames_per_s: Math.round(dev.frames / seconds),
    device_ack_p50_ms: l.p50,
    device_ack_p99_ms: l.p99,
  };
}

export async function main(): Promise<BenchReport<Phase[]>> {
  const ms = numArg('flood-ms', 'BENCH_FLOOD_MS', quickMode() ? 1500 : 3000);
  const { machine, t0 } = startReport();
  console.log(`udp-flood bench — ${machineLine(machine)}; ${DEVICES} TCP devices, ${ms} ms per phase`);
  const phases: Phase[] = [];
  const a = await startBenchServer({ mqttUrl: '', udp: true, channel: { host: '127.0.0.1', ip_blacklist: ['127.0.0.2'] } });
  try {
    phases.push(await phase('no flood (baseline)', a, ms, null));
    phases.push(await phase('flood from a blacklisted IP', a, ms, '127.0.0.2'));
  } finally {
    await a.stop();
  }
  const b = await startBenchServer({ mqttUrl: '', udp: true, channel: { host: '127.0.0.1', max_udp_packets_per_minute: 1000 } });
  try {
    phases.push(await phase('flood over max_udp_packets_per_minute (1000)', b, ms, '127.0.0.3'));
  } finally {
    await b.stop();
  }
  for (const p of phases) console.log(`  ${p.phase}: dropped ${p.dropped_per_s}/s (${p.drops_per_s_per_core ?? '–'}/s per core of main thread), devices ${p.device_frames_per_s} fr/s p99 ${p.device_ack_p99_ms} ms`);
  const md = [
    `### udp-flood (${machineLine(machine)})`,
    `A child process floods the channel's UDP port with valid-looking Ruptela datagrams while ${DEVICES} TCP devices send 1-record frames stop-and-wait (embedded broker). The flooder and the channel share the 2 cores, so drops/s is bounded by what the kernel delivers to the socket; "per core" divides by the channel main thread's CPU share.`,
    '',
    mdTable(['phase', 'flood sent/s', 'dropped/s', 'admitted', 'main thread %', 'drops/s per core', 'device frames/s', 'device ACK p50 ms', 'device ACK p99 ms'],
      phases.map((p) => [p.phase, p.flood_sent_per_s, p.dropped_per_s, p.admitted, p.main_thread_pct, p.drops_per_s_per_core, p.device_frames_per_s, p.device_ack_p50_ms, p.device_ack_p99_ms]), 1),
  ].join('\n');
  return { name: 'udp-flood', machine, options: { ms, devices: DEVICES }, duration_s: round((performance.now() - t0) / 1000, 1), data: phases, targets: [], markdown: md };
}

if (isMain(import.meta.url)) await runAlone(() => main());
