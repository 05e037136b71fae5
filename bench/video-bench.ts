/**
 * Video bench (README "Video", bench/README.md "Video"): what live JT/T 1078 streams cost the server
 * and whether they slow other devices down. One server per variant (embedded broker; a Ruptela
 * channel and a jt808 channel with its stream port and the HTTP API), the load in a child process
 * (bench/lib/video-load.ts): N cameras streaming the committed 320×240 15 fps clip in a loop, V
 * viewers each, and D Ruptela devices at R frames/s each timing their ACKs. Per variant:
 *   - server CPU, % of one core (all threads), and per stream over the no-video baseline;
 *   - server RSS while the streams run, over the no-video variant's (same process, same moment of the run);
 *   - glass-to-glass (packet in → fragment out to the first viewer) p50/p99;
 *   - the Ruptela devices' ACK p50/p99, next to the baseline's.
 *
 *   node dist/bench/video-bench.js [--quick] [--duration-ms N] [--devices N] [--rate R]
 */
import '../src/mqtt/quiet-packet-debug.js';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startApp } from '../src/app.js';
import { validateConfig } from '../src/config/validate.js';
import { projectRoot } from '../src/util/paths.js';
import { clockTicks, cpuMeter } from './lib/proc-cpu.js';
import { numArg, quickMode } from './lib/report.js';
import { quietLogger } from './lib/server.js';

const TOKEN = 'video-bench-read-token-0123456789';
const LOAD = fileURLToPath(new URL('./lib/video-load.js', import.meta.url));

interface Variant {
  name: string;
  cameras: number;
  viewers: number;
  codec: 'h264' | 'h265';
}

interface LoadResult {
  g2gP50: number | null;
  g2gP99: number | null;
  g2gSamples: number;
  ackP50: number | null;
  ackP99: number | null;
  acks: number;
  viewerBytes: number;
  viewerErrors: number;
}

async function runVariant(v: Variant, durationMs: number, devices: number, rate: number): Promise<LoadResult & { cpuPct: number; ffmpegPct: number; rssMb: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'edge-video-bench-'));
  const root = `vbench${process.pid}x${Math.floor(Math.random() * 1e6)}`;
  const config = validateConfig({
    instance_id: root,
    log_level: 'silent',
    mqtt: { url: '', topic_root: root, embedded: { host: '127.0.0.1', port: 0 } },
    spool: { dir: join(dir, 'spool') },
    commands: { dir: join(dir, 'commands') },
    credentials: { dir: join(dir, 'credentials') },
    media: { dir: join(dir, 'media') },
    asset_settings: { dir: join(dir, 'assets') },
    http: { port: 0, host: '127.0.0.1', tokens: `read:${TOKEN}` },
    video: { idle_s: 5, max_viewers: 100 },
    channels: [
      { id: 1, protocol: 'ruptela', host: '127.0.0.1', tcp_port: 0 },
      { id: 2, protocol: 'jt808', host: '127.0.0.1', tcp_port: 0, stream_tcp_port: 0 },
    ],
    stats_interval_s: 3600,
    shutdown_timeout_s: 5,
  });
  const app = await startApp(config, { log: quietLogger() });
  try {
    const params = {
      host: '127.0.0.1',
      jt808Port: app.channels[1]!.tcpPort,
      httpPort: app.http!.port,
      token: TOKEN,
      cameras: v.cameras,
      viewers: v.viewers,
      codec: v.codec,
      clip: join(projectRoot(), 'fixtures', 'video', v.codec === 'h264' ? 'clip-h264-320x240-15fps-3s.h264' : 'clip-h265-320x240-15fps-3s.h265'),
      fps: 15,
      durationMs,
      ruptelaPort: app.channels[0]!.tcpPort,
      devices,
      rate,
    };
    const child = spawn(process.execPath, [LOAD, JSON.stringify(params)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    // measured after the start-up (connections, 0x9101, first keyframes): the middle of the run
    await new Promise((r) => setTimeout(r, Math.min(4000, durationMs / 4)));
    const cpu = cpuMeter({ load: child.pid ?? null });
    const ff0 = ffmpegCpu();
    // the end of the load's run, read just before the child exits (its transcoders are still alive then)
    const ended = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    await new Promise((r) => setTimeout(r, durationMs - Math.min(4000, durationMs / 4) - 300));
    const ff1 = ffmpegCpu();
    const c = cpu();
    // resident memory while the streams run, compared across variants (same process, same moment)
    const rssMb = process.memoryUsage().rss / 1048576;
    await ended;
    const r = JSON.parse(out.trim().split('\n').pop() || '{}') as LoadResult;
    // ffmpeg runs as the server's child process: its CPU is the transcoding's and counts for the server
    const ff = ffmpegMs(ff0, ff1);
    return { ...r, cpuPct: Math.round(((c.self_ms + ff) / c.wall_ms) * 1000) / 10, ffmpegPct: Math.round((ff / c.wall_ms) * 1000) / 10, rssMb: Math.round(rssMb * 10) / 10 };
  } finally {
    await app.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** CPU ms so far of each of this process's ffmpeg children (the transcoders), by pid. */
function ffmpegCpu(): Map<number, number> {
  const out = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${d}/stat`, 'utf8');
    } catch {
      continue;
    }
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (comm === 'ffmpeg' && Number(rest[1]) === process.pid) out.set(Number(d), ((Number(rest[11]) + Number(rest[12])) * 1000) / clockTicks());
  }
  return out;
}

/** ffmpeg CPU ms between two snapshots (a transcoder started in between counts whole). */
function ffmpegMs(a: Map<number, number>, b: Map<number, number>): number {
  let ms = 0;
  for (const [pid, end] of b) ms += end - (a.get(pid) ?? 0);
  return ms;
}

async function main(): Promise<void> {
  const quick = quickMode();
  const durationMs = numArg('duration-ms', undefined, quick ? 8000 : 20_000);
  const devices = numArg('devices', undefined, 100);
  const rate = numArg('rate', undefined, 2);
  const variants: Variant[] = [
    { name: 'no video', cameras: 0, viewers: 0, codec: 'h264' },
    { name: 'H.264 ×1, 1 viewer', cameras: 1, viewers: 1, codec: 'h264' },
    { name: 'H.264 ×4, 1 viewer each', cameras: 4, viewers: 1, codec: 'h264' },
    { name: 'H.264 ×1, 20 viewers', cameras: 1, viewers: 20, codec: 'h264' },
    { name: 'H.265 ×1 (ffmpeg), 1 viewer', cameras: 1, viewers: 1, codec: 'h265' },
    ...(quick ? [] : [{ name: 'H.264 ×16, 1 viewer each', cameras: 16, viewers: 1, codec: 'h264' as const }, { name: 'H.264 ×64, 1 viewer each', cameras: 64, viewers: 1, codec: 'h264' as const }, { name: 'H.265 ×4 (ffmpeg), 1 viewer each', cameras: 4, viewers: 1, codec: 'h265' as const }]),
  ];
  console.log(`# video bench: ${devices} Ruptela devices at ${rate} frame/s each beside the streams; ${durationMs} ms per variant; clip 320x240 15 fps`);
  console.log('| variant | server CPU % of a core (of it ffmpeg) | CPU % per stream (over no video) | RSS over no video, MB | glass-to-glass p50 / p99 ms | Ruptela ACK p50 / p99 ms | viewer MB received | viewer errors |');
  console.log('|---|---|---|---|---|---|---|---|');
  // the first server of the process pays for loading and compiling the code: a warm-up, not reported
  await runVariant(variants[0]!, Math.min(durationMs, 8000), devices, rate);
  let base: { cpu: number; rss: number } | null = null;
  for (const v of variants) {
    const r = await runVariant(v, durationMs, devices, rate);
    if (v.cameras === 0) base = { cpu: r.cpuPct, rss: r.rssMb };
    const per = v.cameras > 0 && base !== null ? Math.round(((r.cpuPct - base.cpu) / v.cameras) * 10) / 10 : null;
    const rss = base !== null ? Math.round((r.rssMb - base.rss) * 10) / 10 : 0;
    console.log(`| ${v.name} | ${r.cpuPct} (${r.ffmpegPct}) | ${per ?? '—'} | ${v.cameras ? `${rss} (${Math.round((rss / v.cameras) * 10) / 10} per stream)` : '—'} | ${r.g2gP50 ?? '—'} / ${r.g2gP99 ?? '—'} | ${r.ackP50 ?? '—'} / ${r.ackP99 ?? '—'} | ${Math.round(r.viewerBytes / 10485.76) / 100} | ${r.viewerErrors} |`);
  }
}

main().catch((e: Error) => {
  console.error(e);
  process.exit(1);
});
