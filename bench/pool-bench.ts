/**
 * Pool bench: the decode pool alone (no sockets, no MQTT), closed loop with `window` frames
 * outstanding from `conns` connections, as the channel submits them. Measures records/s and the
 * main thread's CPU per record (/proc/self/task/<pid>/stat; event-loop utilisation beside it).
 *
 *   node dist/bench/pool-bench.js [--quick] [--duration-ms N] [--reps N]
 *
 * 1. batch size × thread count through the runtime's DecodePool (plus inline decode);
 * 2. threads 1 vs 2 at the default batch, repeated and interleaved (the ratio is the median of
 *    per-repetition ratios: both halves of a ratio see the same machine load);
 * 3. design alternatives through a mini pool with the same batching: transferred buffer vs
 *    per-frame cloned bytes, returned JSON strings vs message objects (serialised on the main thread).
 *
 * On 2 cores, 2 workers + the main thread + the OS share 2 CPUs: "2 threads" cannot reach 2×.
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { DecodePool, type PoolFrame } from '../src/pool/decode-pool.js';
import type { FrameOutcome } from '../src/pool/task-types.js';
import type { BenchFrame } from './lib/decode-task.js';
import type { PoolConnection } from '../src/pool/decode-pool.js';
import { getProtocol } from '../src/protocol/registry.js';
import type { ProtocolModule } from '../src/protocol/types.js';
import { DEFAULT_CONFIG } from '../src/config/defaults.js';
import { machineLine } from './lib/machine.js';
import type { ObjectOutcome, VariantTask } from './lib/pool-variant-worker.js';
import { cpuMeter } from './lib/proc-cpu.js';
import { check, isMain, numArg, quickMode, runAlone, startReport, type BenchReport } from './lib/report.js';
import { IMEI, deviceRecordsFrame } from './lib/ruptela-frames.js';
import { median, round, sleep, spread } from './lib/stats.js';
import { lineChart } from './lib/svg-chart.js';
import { mdTable } from './lib/table.js';

export interface PoolOptions {
  quick: boolean;
  durationMs: number;
  warmupMs: number;
  reps: number;
  recordsPerFrame: number;
  conns: number;
  window: number;
  batches: number[];
  threads: number[];
}

export interface PoolRun {
  mode: string;
  threads: number | 'inline';
  batch: number;
  records_per_s: number;
  main_us_per_record: number | null;
  elu_us_per_record: number;
  process_cpu_pct: number;
  main_thread_pct: number | null;
}

export interface PoolData {
  matrix: PoolRun[];
  scaling: { one_thread: number[]; two_threads: number[]; ratios: number[]; median_ratio: number };
  variants: PoolRun[];
  defaults: { threads: number; resolved_threads: number; max_batch_frames: number };
  best: { threads: number | 'inline'; batch: number; records_per_s: number };
}

export function defaultPoolOptions(): PoolOptions {
  const quick = quickMode();
  const cores = availableParallelism();
  return {
    quick,
    durationMs: numArg('duration-ms', 'BENCH_POOL_MS', quick ? 500 : 1_000),
    warmupMs: quick ? 200 : 300,
    reps: numArg('reps', 'BENCH_REPS', quick ? 1 : 3),
    recordsPerFrame: 4,
    conns: 1_000,
    window: 2_000,
    batches: quick ? [16, 64, 1024] : [16, 64, 256, 1024],
    threads: [...new Set([1, 2, cores])].sort((a, b) => a - b),
  };
}

interface Driver {
  submit(frames: PoolFrame[]): void;
  close(): Promise<void>;
}

/** Closed loop: keeps `window` frames outstanding; returns the meters of the measured window. */
async function closedLoop(o: PoolOptions, frames: Uint8Array[], driver: Driver, mode: string, threads: number | 'inline', batch: number): Promise<PoolRun> {
  let records = 0;
  let measuring = false;
  let stopped = false;
  let outstanding = 0;
  let next = 0;
  const conns: PoolConnection[] = Array.from({ length: o.conns }, (_, c) => benchConnection(c));
  const make = (): PoolFrame => {
    const i = next++ % frames.length;
    return {
      bytes: frames[i]!, connection: conns[i % o.conns]!, receivedAtMs: Date.now(),
      done: (out: FrameOutcome) => {
        outstanding--;
        if (measuring) records += out.payloads.length;
        if (!stopped) {
          outstanding++;
          // Deferred: inline decode calls done() from inside the pool's flush loop, and a
          // synchronous resubmit there would keep that loop running forever.
          queueMicrotask(() => driver.submit([make()]));
        }
      },
    };
  };
  for (let i = 0; i < o.window; i++) {
    outstanding++;
    driver.submit([make()]);
  }
  await sleep(o.warmupMs);
  const meter = cpuMeter();
  measuring = true;
  await sleep(o.durationMs);
  measuring = false;
  const c = meter();
  stopped = true;
  const until = Date.now() + 5_000;
  while (outstanding > 0 && Date.now() < until) await sleep(5);
  await driver.close();
  const perRec = (ms: number | null) => (ms === null || records === 0 ? null : round((ms * 1000) / records, 3));
  return {
    mode, threads, batch,
    records_per_s: Math.round((records / c.wall_ms) * 1000),
    main_us_per_record: perRec(c.main_thread_ms),
    elu_us_per_record: perRec(c.elu * c.wall_ms) ?? NaN,
    process_cpu_pct: c.self_pct,
    main_thread_pct: c.main_thread_pct,
  };
}

function runtimePool(threads: number | 'inline', batch: number): Driver {
  const pool = new DecodePool({ threads, maxBatchFrames: batch, maxPending: 1e9 });
  let proto: ProtocolModule | null = null;
  const ready = getProtocol('ruptela').then((p) => (proto = p));
  return {
    submit(fs) {
      if (proto) pool.submit(proto, '1', {}, fs);
      else void ready.then(() => pool.submit(proto!, '1', {}, fs));
    },
    close: () => pool.close(),
  };
}

/** A pool with DecodePool's batching (one flush per tick, cut at `batch`) and a variant worker. */
function variantPool(threads: number, batch: number, input: 'transfer' | 'clone', output: 'strings' | 'objects'): Driver {
  const piscina = new Piscina({ filename: new URL('./lib/pool-variant-worker.js', import.meta.url).href, minThreads: threads, maxThreads: threads, idleTimeout: 60_000 });
  let queue: PoolFrame[] = [];
  let scheduled = false;
  const run = (batchFrames: PoolFrame[]) => {
    const metas: BenchFrame[] = new Array(batchFrames.length);
    let buffer: ArrayBuffer | null = null;
    let bytes: Uint8Array[] | null = null;
    if (input === 'transfer') {
      let total = 0;
      for (const f of batchFrames) total += f.bytes.length;
      buffer = new ArrayBuffer(total);
      const view = new Uint8Array(buffer);
      let off = 0;
      batchFrames.forEach((f, i) => {
        view.set(f.bytes, off);
        metas[i] = benchFrame(f, off);
        off += f.bytes.length;
      });
    } else {
      // Best case for cloning: each frame its own small copy (a socket Buffer slice would drag
      // its whole pooled ArrayBuffer into the clone).
      bytes = batchFrames.map((f) => f.bytes.slice());
      batchFrames.forEach((f, i) => (metas[i] = benchFrame(f, 0)));
    }
    const task: VariantTask = { input, output, protocolId: 'ruptela', channelId: '1', options: {}, buffer, bytes, frames: metas };
    void (piscina.run(task, buffer ? { transferList: [buffer] } : {}) as Promise<FrameOutcome[] | ObjectOutcome[]>).then((outs) => {
      for (let i = 0; i < batchFrames.length; i++) {
        const o = outs[i]!;
        if ('payloads' in o) batchFrames[i]!.done(o);
        else {
          // Objects must become strings before MQTT can send them: that work lands here.
          const payloads = o.messages.map((m) => JSON.stringify(m));
          batchFrames[i]!.done({ idents: o.idents, payloads, replies: o.replies });
        }
      }
    });
  };
  return {
    submit(fs) {
      for (const f of fs) queue.push(f);
      if (!scheduled) {
        scheduled = true;
        setImmediate(() => {
          scheduled = false;
          const q = queue;
          queue = [];
          for (let i = 0; i < q.length; i += batch) run(q.slice(i, i + batch));
        });
      }
    },
    close: () => piscina.destroy(),
  };
}

export async function main(partial: Partial<PoolOptions> = {}): Promise<BenchReport<PoolData>> {
  const o = { ...defaultPoolOptions(), ...partial };
  const { machine, t0 } = startReport();
  console.log(`pool bench — ${machineLine(machine)}; ${o.recordsPerFrame} records/frame, ${o.window} frames outstanding`);
  await getProtocol('ruptela');
  const frames = Array.from({ length: o.conns }, (_, i) => deviceRecordsFrame(IMEI.load + i, 0, o.recordsPerFrame));
  const say = (r: PoolRun) => console.log(`  ${r.mode} threads=${r.threads} batch=${r.batch}: ${r.records_per_s} rec/s, main ${r.main_us_per_record ?? '–'} µs/rec (ELU ${r.elu_us_per_record}), process CPU ${r.process_cpu_pct}%`);

  const matrix: PoolRun[] = [];
  for (const threads of o.threads) {
    for (const batch of o.batches) {
      const r = await closedLoop(o, frames, runtimePool(threads, batch), 'DecodePool', threads, batch);
      matrix.push(r);
      say(r);
    }
  }
  const inline = await closedLoop(o, frames, runtimePool('inline', DEFAULT_CONFIG.pool.max_batch_frames), 'DecodePool inline', 'inline', DEFAULT_CONFIG.pool.max_batch_frames);
  matrix.push(inline);
  say(inline);

  // Thread scaling at the default batch: interleaved repetitions, median of per-pair ratios.
  const batch = DEFAULT_CONFIG.pool.max_batch_frames;
  const one: number[] = [];
  const two: number[] = [];
  for (let i = 0; i < o.reps; i++) {
    one.push((await closedLoop(o, frames, runtimePool(1, batch), 'DecodePool', 1, batch)).records_per_s);
    two.push((await closedLoop(o, frames, runtimePool(2, batch), 'DecodePool', 2, batch)).records_per_s);
  }
  const ratios = one.map((v, i) => round(two[i]! / v, 3));
  const scaling = { one_thread: one, two_threads: two, ratios, median_ratio: round(median(ratios), 3) };
  console.log(`  scaling at batch ${batch}: 1 thread ${one.join(', ')} / 2 threads ${two.join(', ')} rec/s → ×${scaling.median_ratio}`);

  const resolved = DEFAULT_CONFIG.pool.threads > 0 ? DEFAULT_CONFIG.pool.threads : availableParallelism();
  const variants: PoolRun[] = [];
  for (const [input, output] of [['transfer', 'strings'], ['clone', 'strings'], ['transfer', 'objects']] as const) {
    const r = await closedLoop(o, frames, variantPool(resolved, batch, input, output), `${input} in, ${output} out`, resolved, batch);
    variants.push(r);
    say(r);
  }

  const pooled = matrix.filter((r) => r.threads !== 'inline');
  const best = [...pooled].sort((a, b) => b.records_per_s - a.records_per_s)[0]!;
  const dflt = matrix.find((r) => r.threads === resolved && r.batch === batch);
  const data: PoolData = {
    matrix, scaling, variants,
    defaults: { threads: DEFAULT_CONFIG.pool.threads, resolved_threads: resolved, max_batch_frames: batch },
    best: { threads: best.threads, batch: best.batch, records_per_s: best.records_per_s },
  };
  const targets = [
    check('main-thread cost ≤ 2 µs per record (defaults)', dflt ? `${dflt.main_us_per_record ?? '–'} µs (ELU ${dflt.elu_us_per_record} µs)` : 'not measured', dflt?.main_us_per_record != null ? dflt.main_us_per_record <= 2 : null),
    check('2 threads ≥ 1.6× one thread (decode-bound)', `×${scaling.median_ratio} (median of ${o.reps}, spread ${spread(ratios)})`, scaling.median_ratio >= 1.6,
      scaling.median_ratio < 1.6 ? `${machine.cores} cores shared by 2 workers, the main thread and the OS` : undefined),
    check(`defaults (threads 0 → cores, batch ${batch}) are the best measured`, dflt ? `default ${dflt.records_per_s} rec/s; best ${best.records_per_s} (threads ${best.threads}, batch ${best.batch})` : 'not measured',
      dflt ? dflt.records_per_s >= best.records_per_s * 0.95 : null, dflt && dflt.records_per_s < best.records_per_s * 0.95 ? 'within 5 % counts as best (noise)' : undefined),
  ];
  const chart = lineChart({
    title: `Decode pool throughput (${o.recordsPerFrame} records/frame, ${machine.cores} cores)`,
    xLabel: 'max_batch_frames', yLabel: 'records/s',
    xs: o.batches,
    series: [
      ...o.threads.map((t) => ({ name: `${t} thread${t > 1 ? 's' : ''}`, ys: o.batches.map((b) => matrix.find((r) => r.threads === t && r.batch === b)?.records_per_s ?? null) })),
      { name: 'inline', ys: o.batches.map(() => inline.records_per_s) },
    ],
  });
  const md = [
    `### pool (${machineLine(machine)})`,
    `${o.recordsPerFrame} records/frame, ${o.window} frames outstanding from ${o.conns} connections, ${o.durationMs} ms windows. Main µs/record = main-thread CPU (/proc) ÷ records; ELU µs/record = event-loop busy time ÷ records. Chart: bench/results/pool-throughput.svg.`,
    '',
    mdTable(['mode', 'threads', 'batch', 'records/s', 'main µs/rec', 'ELU µs/rec', 'process CPU %', 'main thread %'],
      [...matrix, ...variants].map((r) => [r.mode, String(r.threads), r.batch, r.records_per_s, r.main_us_per_record, r.elu_us_per_record, r.process_cpu_pct, r.main_thread_pct]), 2),
    '',
    `Thread scaling at batch ${batch}: 1 thread ${one.join(' / ')} rec/s, 2 threads ${two.join(' / ')} rec/s, ratios ${ratios.join(' / ')} → median ×${scaling.median_ratio}.`,
  ].join('\n');
  return { name: 'pool', machine, options: { ...o }, duration_s: round((performance.now() - t0) / 1000, 1), data, targets, markdown: md, charts: [{ file: 'pool-throughput.svg', svg: chart }] };
}

if (isMain(import.meta.url)) await runAlone(() => main());

/** A bench connection: its context never changes, so it travels once per worker (or on a miss). */
function benchConnection(num: number): PoolConnection {
  const ctx = { conn: num, version: 1, peer: `127.0.0.1:${40000 + num}`, transport: 'tcp' as const, session: {} };
  return { num, contextVersion: 1, contextSent: 0, context: () => ctx };
}

/** The variant tasks' per-frame description of a pool frame (they predate the context cache). */
function benchFrame(f: PoolFrame, offset: number): BenchFrame {
  const c = f.connection.context();
  return { offset, length: f.bytes.length, conn: c.conn, peer: c.peer, transport: c.transport, receivedAtMs: f.receivedAtMs, session: c.session };
}
