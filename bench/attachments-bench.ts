/**
 * Attachment upload bench: how fast one dashcam's alarm upload goes through the attachment server
 * (splitter, decode in the workers, upload tracker, media store writes with and without fdatasync,
 * sha256 and rename at the end, the linking message).
 *
 *   npm run build && node dist/bench/attachments-bench.js [--mib N] [--chunk-kib K] [--json]
 *
 * The simulated dashcam (protocols/jt808/attachments/dashcam-sim.ts) uploads one video of N MiB
 * (default 32) in K KiB chunks (default 64) in shuffled order. The figure is the simulated session's
 * wall time minus the time the simulator needs to generate the file (measured separately), over N:
 * registration, the alarm and 0x9208 are included (milliseconds). Loopback, the embedded broker, 2
 * decode threads. Figures on a shared 2-core machine vary by ±20 %.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { startApp } from '../src/app.js';
import { validateConfig } from '../src/config/validate.js';
import { startEmbeddedBroker } from '../src/mqtt/embedded-broker.js';
import { getProtocol } from '../src/protocol/registry.js';
import { simulationIo } from '../src/replay/sim-io.js';
import { createLogger } from '../src/util/log.js';
import { simulatedFile } from '../protocols/jt808/attachments/device-frames.js';

export interface AttachmentsBenchResult {
  machine: { cpu: string; cores: number; node: string };
  file_mib: number;
  chunk_kib: number;
  generate_ms: number;
  mib_per_s: { fsync: number; no_fsync: number };
}

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

async function run(mib: number, chunkKib: number, fsync: boolean, generateMs: number): Promise<number> {
  const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0 });
  const dir = mkdtempSync(join(tmpdir(), 'edge-attach-bench-'));
  const root = `b${process.pid}x${Math.floor(Math.random() * 1e9)}`;
  const log = createLogger('silent', new Writable({ write: (_c, _e, cb) => cb() }));
  const app = await startApp(
    validateConfig({
      instance_id: root,
      mqtt: { url: broker.url, topic_root: root },
      spool: { dir: join(dir, 'spool') },
      commands: { dir: join(dir, 'commands') },
      media: { dir: join(dir, 'media'), fsync, max_file_bytes: (mib + 1) * 1024 * 1024 },
      channels: [{ id: 1, protocol: 'jt808', host: '127.0.0.1', tcp_port: 0, options: { active_safety: true }, parts: { attachments: { tcp_port: 0 } } }],
      stats_interval_s: 3600,
    }),
    { log, threads: 2 },
  );
  try {
    const jt808 = await getProtocol('jt808');
    const params = {
      terminal: { phone: '13900000001', terminal_id: 'BENCH01' },
      alarm: { time: 1774597965, alarm_id: 1, type: 1, level: 1, lat: 31.2, lon: 121.4, speed_kmh: 50, sequence: 1 },
      files: [{ kind: 'video', size: mib * 1024 * 1024, seed: 1 }],
      chunk_bytes: chunkKib * 1024,
      shuffle_seed: 1,
      timeout_ms: 120_000,
    };
    const t0 = performance.now();
    const report = await jt808.simulations!.dashcam!(params, simulationIo({ host: '127.0.0.1', port: app.channels[0]!.tcpPort }, () => {}));
    const ms = performance.now() - t0 - generateMs;
    if (!report.ok) throw new Error(`the simulated upload failed: ${String(report.problem)}`);
    return mib / (ms / 1000);
  } finally {
    await app.stop();
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function main(): Promise<AttachmentsBenchResult> {
  const mib = arg('mib', 32);
  const chunkKib = arg('chunk-kib', 64);
  const g0 = performance.now();
  simulatedFile('video', mib * 1024 * 1024, 1);
  const generateMs = performance.now() - g0;
  const fsync = await run(mib, chunkKib, true, generateMs);
  const noFsync = await run(mib, chunkKib, false, generateMs);
  const c = cpus();
  return { machine: { cpu: c[0]?.model ?? '?', cores: c.length, node: process.version }, file_mib: mib, chunk_kib: chunkKib, generate_ms: Math.round(generateMs), mib_per_s: { fsync: Math.round(fsync * 10) / 10, no_fsync: Math.round(noFsync * 10) / 10 } };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const r = await main();
  if (process.argv.includes('--json')) process.stdout.write(JSON.stringify(r) + '\n');
  else {
    process.stdout.write(`attachment upload, one ${r.file_mib} MiB video in ${r.chunk_kib} KiB chunks (${r.machine.cpu}, ${r.machine.cores} cores, node ${r.machine.node})\n`);
    process.stdout.write(`  fdatasync per chunk: ${r.mib_per_s.fsync} MiB/s\n  no fsync:            ${r.mib_per_s.no_fsync} MiB/s\n  (file generation, ${r.generate_ms} ms, subtracted)\n`);
  }
}
