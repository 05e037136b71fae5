/**
 * Capture bench: what traffic capture (config channels[].capture) costs on the main thread.
 *
 *   npm run build && node dist/bench/capture-bench.js [--json]
 *
 * Measures DeviceLink.write of a 6-byte Ruptela ACK with no capture (the default: one null check)
 * and with capture on, and the inbound tap of a 1 KiB TCP read. Capture-on figures are the main
 * thread's share (hex, row text, queue); the appends run in libuv's threadpool and are awaited
 * between batches (not timed), so no row is dropped by the queue bound and the rows counted are
 * all on disk. Figures on a shared 2-core machine vary by ±20 %.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { DeviceLink } from '../src/channel/device-link.js';
import { TrafficCapture } from '../src/channel/traffic-capture.js';
import { createLogger } from '../src/util/log.js';

const BATCH = 1_000;
const BATCHES = 30;

export interface CaptureBenchResult {
  machine: { cpu: string; cores: number; node: string };
  write_ns: { no_capture: number; capture: number };
  inbound_1k_ns: number;
  rows_written: number;
  rows_dropped: number;
  file_bytes: number;
}

const ack = Uint8Array.of(0x00, 0x02, 0x64, 0x01, 0x13, 0xbc);
const read1k = Buffer.alloc(1024, 0x5a);

function newLink(): DeviceLink {
  const io = { write: () => {}, pendingBytes: () => 0, pause: () => {}, resume: () => {}, end: () => {}, destroy: () => {} };
  const l = new DeviceLink('tcp', '127.0.0.1:40000', '127.0.0.1', io, Date.now());
  l.session = { ident: '013226008765520' };
  return l;
}

/** ns per call of `fn`, over BATCHES × BATCH calls; `between` runs untimed after each batch. */
async function timed(fn: () => void, between: () => Promise<void>): Promise<number> {
  for (let i = 0; i < BATCH; i++) fn(); // warm-up (JIT)
  await between();
  let ns = 0n;
  for (let b = 0; b < BATCHES; b++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < BATCH; i++) fn();
    ns += process.hrtime.bigint() - t0;
    await between();
  }
  return Number(ns) / (BATCHES * BATCH);
}

export async function main(): Promise<CaptureBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'edge-capture-bench-'));
  try {
    const counters = { captureRows: 0, captureDroppedRows: 0, captureWriteErrors: 0 };
    const log = createLogger('warn', new Writable({ write: (_c, _e, cb) => cb() }));
    const capture = new TrafficCapture({ enabled: true, idents: [], dir, max_bytes: 1024 * 1024 * 1024 }, { channelId: 'bench', now: Date.now, log, counters });
    const plain = newLink();
    const noCapture = await timed(() => plain.write(ack), async () => {});
    const tapped = newLink();
    tapped.tap = capture.tap(tapped);
    // between batches, wait until every row so far is on disk (or counted as dropped)
    let rows = 0;
    const settle = async () => {
      rows += BATCH;
      while (counters.captureRows + counters.captureDroppedRows < rows) await new Promise((r) => setTimeout(r, 5));
    };
    const withCapture = await timed(() => tapped.write(ack), settle);
    const inbound = await timed(() => tapped.tap!.inbound(read1k), settle);
    await capture.close();
    return {
      machine: { cpu: cpus()[0]?.model ?? '?', cores: cpus().length, node: process.version },
      write_ns: { no_capture: round(noCapture), capture: round(withCapture) },
      inbound_1k_ns: round(inbound),
      rows_written: counters.captureRows,
      rows_dropped: counters.captureDroppedRows,
      file_bytes: statSync(capture.file).size,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const round = (n: number) => Math.round(n * 10) / 10;

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const r = await main();
  if (process.argv.includes('--json')) console.log(JSON.stringify(r, null, 2));
  else {
    console.log(`capture bench (${r.machine.cpu}, ${r.machine.cores} cores, Node ${r.machine.node})`);
    console.log(`DeviceLink.write, 6-byte ACK, no capture   ${r.write_ns.no_capture} ns`);
    console.log(`DeviceLink.write, 6-byte ACK, capture on   ${r.write_ns.capture} ns  (ratio ${round(r.write_ns.capture / r.write_ns.no_capture)}x)`);
    console.log(`inbound tap, 1 KiB TCP read, capture on    ${r.inbound_1k_ns} ns`);
    console.log(`rows written ${r.rows_written}, dropped ${r.rows_dropped}, file ${r.file_bytes} bytes`);
  }
}
