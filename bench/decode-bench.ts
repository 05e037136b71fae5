/**
 * Decode bench: per protocol and per fixture, the full decode to a publishable payload (what
 * `decodeFrames()` in src/pool/decode-frames.ts produces in a worker: decode + JSON string with
 * the envelope) next to the decoder alone (message objects, no JSON) and a minimal hand-written
 * reference decoder of the same frame (bench/lib/reference-decoders.ts: fields read, no naming,
 * no JSON). Full − decoder = serialisation; decoder − reference = naming, objects and checks.
 *
 *   node dist/bench/decode-bench.js [--quick] [--reps N] [--slice-ms N]
 *
 * Every protocol folder with golden vectors is picked up (valid vectors that yield messages);
 * protocols may add synthetic cases below. Figures are per published record (message), single
 * thread, medians of `reps` time slices after a warm-up.
 */
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { recordsFrame, typicalRecord } from '../protocols/ruptela/device-frames.js';
import { tcpAvlFrame, type SimRecord } from '../protocols/teltonika/device-frames.js';
import { fromHex } from '../src/codec/hex.js';
import { decodeFrames } from '../src/pool/decode-frames.js';
import { ContextCache } from '../src/pool/context-cache.js';
import { buildDecodeTask, type BenchFrame } from './lib/decode-task.js';
import { GOLDEN_RECEIVED_AT_MS, type GoldenFile } from '../src/protocol/golden.js';
import { loadProtocols } from '../src/protocol/registry.js';
import type { ProtocolModule, SessionState, Transport } from '../src/protocol/types.js';
import { projectRoot } from '../src/util/paths.js';
import { machineLine } from './lib/machine.js';
import { REFERENCE_DECODERS } from './lib/reference-decoders.js';
import { readBasicByHand, readBasicByLayout } from '../protocols/jt808/basic-block.js';
import { DEFAULT_OPTIONS as JT808_OPTIONS } from '../protocols/jt808/constants.js';
import { decodeLocation } from '../protocols/jt808/location.js';
import { check, isMain, numArg, quickMode, runAlone, startReport, type BenchReport } from './lib/report.js';
import { TS_BASE, fortyIoRecord } from './lib/ruptela-frames.js';
import { median, round, spread } from './lib/stats.js';
import { mdTable } from './lib/table.js';

export interface DecodeOptions {
  quick: boolean;
  reps: number;
  sliceMs: number;
  /** Copies of the frame in one task for the full decode (the pool decodes batches, not frames). */
  batch: number;
}

export interface DecodeCase {
  protocol: string;
  name: string;
  bytes: number;
  records: number;
  reference_us: number | null;
  decode_us: number;
  full_us: number;
  full_records_per_s: number;
  full_over_reference: number | null;
  /** Share of the full time spent turning messages into JSON with the envelope. */
  json_share: number;
  full_spread: number;
}

export interface DecodeData {
  cases: DecodeCase[];
}

interface Case {
  protocol: ProtocolModule;
  name: string;
  frame: Uint8Array;
  session: SessionState;
  transport: Transport;
}

export function defaultDecodeOptions(): DecodeOptions {
  const quick = quickMode();
  return { quick, reps: numArg('reps', 'BENCH_REPS', quick ? 1 : 3), sliceMs: numArg('slice-ms', undefined, quick ? 30 : 60), batch: 32 };
}

/** ns per call of fn, measured over one slice after `warm` calls. */
function timeSlice(fn: () => number, sliceMs: number): number {
  let sink = 0;
  let calls = 0;
  const start = process.hrtime.bigint();
  const end = start + BigInt(Math.round(sliceMs * 1e6));
  let now = start;
  while (now < end) {
    for (let k = 0; k < 50; k++) sink += fn();
    calls += 50;
    now = process.hrtime.bigint();
  }
  if (sink === -1) console.log(sink); // keeps results alive
  return Number(now - start) / calls;
}

function medianTime(fn: () => number, o: DecodeOptions): { ns: number; spread: number } {
  for (let i = 0; i < 500; i++) fn(); // warm-up: let the JIT settle before any slice counts
  const xs = Array.from({ length: o.reps }, () => timeSlice(fn, o.sliceMs));
  return { ns: median(xs), spread: spread(xs) };
}

/**
 * A/B ratio on a shared machine: slices of `a` and `b` alternate (after a warm-up of both), so load
 * from other processes hits both sides alike; returns the median of the per-pair ratios a/b and the
 * median times. Used for the jt808 comparisons, where separate measurements varied by 5× under load.
 */
function abRatio(a: () => number, b: () => number, o: DecodeOptions): { aUs: number; bUs: number; ratio: number } {
  for (let i = 0; i < 500; i++) {
    a();
    b();
  }
  const as: number[] = [];
  const bs: number[] = [];
  const rs: number[] = [];
  const pairs = Math.max(5, o.reps * 3);
  for (let k = 0; k < pairs; k++) {
    const ta = timeSlice(a, o.sliceMs / 2);
    const tb = timeSlice(b, o.sliceMs / 2);
    as.push(ta);
    bs.push(tb);
    rs.push(ta / tb);
  }
  return { aUs: round(median(as) / 1000, 3), bUs: round(median(bs) / 1000, 3), ratio: round(median(rs), 2) };
}

function goldenCases(p: ProtocolModule): Case[] {
  const dir = join(projectRoot(), 'protocols', p.id, 'fixtures');
  if (!existsSync(dir)) return [];
  const out: Case[] = [];
  for (const f of readdirSync(dir).filter((n) => /^golden-.*\.json$/.test(n)).sort()) {
    const g = JSON.parse(readFileSync(join(dir, f), 'utf8')) as GoldenFile;
    let taken = 0;
    for (const v of g.vectors ?? []) {
      // at most 16 cases per golden file: jt808 has ~100 valid rows, which would make the bench minutes longer
      if (taken >= 16) break;
      // vectors replayed with non-default options (e.g. jt808 lenient_check) are not what a channel decodes
      if (!v.expect || v.expect.messages.length === 0 || v.options) continue;
      taken++;
      out.push({ protocol: p, name: `${v.id} (${f.replace(/^golden-|\.json$/g, '')})`, frame: fromHex(v.hex), session: v.session ?? {}, transport: v.transport ?? 'tcp' });
    }
  }
  return out;
}

/** Synthetic frames per protocol: sizes the fixtures do not cover (typical and large records). */
function syntheticCases(p: ProtocolModule): Case[] {
  if (p.id === 'teltonika') {
    const mk = (n: number): Case => ({ protocol: p, name: `sim 8E ${n} rec × 11 IO`, frame: tcpAvlFrame(fmbRecords(n)), session: { ident: '356307042441013' }, transport: 'tcp' });
    return [mk(1), mk(4), mk(10)];
  }
  if (p.id !== 'ruptela') return [];
  const imei = 356_307_042_441_013n;
  const mk = (name: string, frame: Uint8Array): Case => ({ protocol: p, name, frame, session: {}, transport: 'tcp' });
  const recs = (n: number, io: number) => Array.from({ length: n }, (_, i) => typicalRecord(TS_BASE + i, i, io));
  return [
    mk('sim classic 1 rec × 12 IO', recordsFrame(imei, recs(1, 12), false)),
    mk('sim extended 1 rec × 12 IO', recordsFrame(imei, recs(1, 12), true)),
    mk('sim extended 1 rec × 40 IO', recordsFrame(imei, [fortyIoRecord(TS_BASE, 1)], true)),
    mk('sim classic 4 rec × 12 IO', recordsFrame(imei, recs(4, 12), false)),
    mk('sim classic 10 rec × 12 IO', recordsFrame(imei, recs(10, 12), false)),
    mk('sim extended 4 rec × 40 IO', recordsFrame(imei, Array.from({ length: 4 }, (_, i) => fortyIoRecord(TS_BASE + i, i)), true)),
  ];
}

function measure(c: Case, o: DecodeOptions): DecodeCase {
  const proto = c.protocol;
  const ctx = { transport: c.transport, session: c.session, receivedAtMs: GOLDEN_RECEIVED_AT_MS, options: proto.defaultOptions };
  const records = proto.decode(c.frame, ctx).messages.length;
  // The full decode runs on a task of `batch` copies, as the pool hands them to a worker.
  const buffer = new ArrayBuffer(c.frame.length * o.batch);
  const frames: BenchFrame[] = [];
  for (let i = 0; i < o.batch; i++) {
    new Uint8Array(buffer, i * c.frame.length, c.frame.length).set(c.frame);
    frames.push({ offset: i * c.frame.length, length: c.frame.length, conn: i, peer: '10.1.2.3:40000', transport: c.transport, receivedAtMs: GOLDEN_RECEIVED_AT_MS, session: c.session });
  }
  const task = buildDecodeTask(proto.id, '1', proto.defaultOptions, buffer, frames);
  const cache = new ContextCache();
  const check0 = decodeFrames(proto, task, cache);
  if (check0.some((f) => f.error)) throw new Error(`${c.name}: ${check0.find((f) => f.error)?.error?.reason}`);
  const full = medianTime(() => decodeFrames(proto, task, cache).length, o);
  const dec = medianTime(() => proto.decode(c.frame, ctx).messages.length, o);
  const refFn = REFERENCE_DECODERS[proto.id];
  let refNs: number | null = null;
  if (refFn && refFn(c.frame, new Float64Array(4096)) > 0) {
    const sink = new Float64Array(4096);
    refNs = medianTime(() => refFn(c.frame, sink), o).ns;
  }
  const fullUs = full.ns / 1000 / (o.batch * records);
  const decUs = dec.ns / 1000 / records;
  const refUs = refNs === null ? null : refNs / 1000 / records;
  return {
    protocol: proto.id,
    name: c.name,
    bytes: c.frame.length,
    records,
    reference_us: refUs === null ? null : round(refUs, 3),
    decode_us: round(decUs, 3),
    full_us: round(fullUs, 3),
    full_records_per_s: Math.round(1e6 / fullUs),
    full_over_reference: refUs === null ? null : round(fullUs / refUs, 2),
    json_share: round(Math.max(0, (fullUs - decUs) / fullUs), 3),
    full_spread: full.spread,
  };
}

/**
 * jt808: the same 0x0200 bodies decoded with the binary-parser layout and with hand-written reads
 * of the basic block (basic-block.ts), everything else equal. The rule: keep binary-parser
 * unless it is more than 1.5× slower.
 */
function jt808LayoutComparison(o: DecodeOptions): { layout_us: number; hand_us: number; ratio: number } {
  // body of Traccar row dec-2 (basic block + items 01, 30, 31, eb)
  const frame = '7e0200006300000000000008f50000000000000000000000000000000000c7000000cc260615100115010400000001300114310108eb39000c00b20000000000000000000000060089fffffffe000600c5ffffffef0006002d00002db4001100d5303030303030303030303030303030c87e';
  const body = fromHex(frame.slice(26, -4));
  const run = (readBasic: typeof readBasicByHand) => {
    const c = { ident: '1', receivedAtS: 0, options: JT808_OPTIONS, warnings: [], readBasic };
    return () => decodeLocation(body, 0, body.length, c)['position.altitude'] as number;
  };
  const r = abRatio(run(readBasicByLayout), run(readBasicByHand), o);
  return { layout_us: r.aUs, hand_us: r.bUs, ratio: r.ratio };
}

/** Typical FMB Codec 8E records (protocols/teltonika/device-frames.ts: 11 IO, iButton among them). */
function fmbRecords(n: number): SimRecord[] {
  return Array.from({ length: n }, (_, i) => ({ timeMs: (TS_BASE + i) * 1000, lat: 54.6872 + i * 1e-4, lon: 25.2797 + i * 1e-4, speedKmh: 40 + i, odometerM: 1000 + i * 25 }));
}

/** One Teltonika Codec 8E record × 11 IO against one Ruptela extended record × 12 IO, decoder only, A/B. */
function teltonikaVersusRuptela(o: DecodeOptions, protos: ProtocolModule[]): { teltonika_us: number; ruptela_us: number; ratio: number } | null {
  const te = protos.find((p) => p.id === 'teltonika');
  const ru = protos.find((p) => p.id === 'ruptela');
  if (!te || !ru) return null;
  const teFrame = tcpAvlFrame(fmbRecords(1));
  const ruFrame = recordsFrame(356_307_042_441_013n, [typicalRecord(TS_BASE, 0, 12)], true);
  const ct = { transport: 'tcp' as const, session: { ident: '356307042441013' }, receivedAtMs: GOLDEN_RECEIVED_AT_MS, options: te.defaultOptions };
  const cr = { transport: 'tcp' as const, session: {}, receivedAtMs: GOLDEN_RECEIVED_AT_MS, options: ru.defaultOptions };
  const r = abRatio(() => te.decode(teFrame, ct).messages.length, () => ru.decode(ruFrame, cr).messages.length, o);
  return { teltonika_us: r.aUs, ruptela_us: r.bUs, ratio: r.ratio };
}

/** jt808 0x0200 (Traccar dec-2) against one Ruptela extended record with 12 IO, decoder only, A/B. */
function jt808VersusRuptela(o: DecodeOptions, protos: ProtocolModule[]): { jt808_us: number; ruptela_us: number; ratio: number } | null {
  const jt = protos.find((p) => p.id === 'jt808');
  const ru = protos.find((p) => p.id === 'ruptela');
  if (!jt || !ru) return null;
  const jtFrame = fromHex('7e0200006300000000000008f50000000000000000000000000000000000c7000000cc260615100115010400000001300114310108eb39000c00b20000000000000000000000060089fffffffe000600c5ffffffef0006002d00002db4001100d5303030303030303030303030303030c87e');
  const ruFrame = recordsFrame(356_307_042_441_013n, [typicalRecord(TS_BASE, 0, 12)], true);
  const ctx = (p: ProtocolModule) => ({ transport: 'tcp' as const, session: {}, receivedAtMs: GOLDEN_RECEIVED_AT_MS, options: p.defaultOptions });
  const cj = ctx(jt);
  const cr = ctx(ru);
  const r = abRatio(() => jt.decode(jtFrame, cj).messages.length, () => ru.decode(ruFrame, cr).messages.length, o);
  return { jt808_us: r.aUs, ruptela_us: r.bUs, ratio: r.ratio };
}

export async function main(partial: Partial<DecodeOptions> = {}): Promise<BenchReport<DecodeData>> {
  const o = { ...defaultDecodeOptions(), ...partial };
  const { machine, t0 } = startReport();
  console.log(`decode bench — ${machineLine(machine)}`);
  const protos = [...(await loadProtocols()).values()];
  const cases: DecodeCase[] = [];
  for (const p of protos) {
    for (const c of [...goldenCases(p), ...syntheticCases(p)]) {
      const r = measure(c, o);
      cases.push(r);
      console.log(`  ${p.id} ${r.name}: full ${r.full_us} µs/rec, decoder ${r.decode_us}, reference ${r.reference_us ?? '–'} (×${r.full_over_reference ?? '–'})`);
    }
  }
  const jt = protos.some((p) => p.id === 'jt808') ? jt808LayoutComparison(o) : null;
  if (jt) console.log(`  jt808 0x0200 body: binary-parser basic block ${jt.layout_us} µs, hand-written ${jt.hand_us} µs (×${jt.ratio})`);
  const jvr = jt808VersusRuptela(o, protos);
  if (jvr) console.log(`  jt808 0x0200 vs Ruptela extended record × 12 IO (decoder, A/B): ${jvr.jt808_us} vs ${jvr.ruptela_us} µs (×${jvr.ratio})`);
  const tvr = teltonikaVersusRuptela(o, protos);
  if (tvr) console.log(`  Teltonika 8E record × 11 IO vs Ruptela extended record × 12 IO (decoder, A/B): ${tvr.teltonika_us} vs ${tvr.ruptela_us} µs (×${tvr.ratio})`);
  const targetCase = cases.find((c) => c.protocol === 'ruptela' && c.name === 'sim extended 1 rec × 12 IO');
  const fixtureExt = cases.find((c) => c.protocol === 'ruptela' && c.name.startsWith('T#1 '));
  const targets = [
    check('full decode of a Ruptela extended record ≤ 3× the reference decoder', targetCase ? `×${targetCase.full_over_reference} (${targetCase.full_us} vs ${targetCase.reference_us} µs, 1 record, 12 IO)` : 'not measured',
      targetCase?.full_over_reference != null ? targetCase.full_over_reference <= 3 : null, targetCase && (targetCase.full_over_reference ?? 0) > 3 ? 'naming + objects + JSON; see bench/README.md' : undefined),
  ];
  if (jt) targets.push(check('jt808: binary-parser basic block ≤ 1.5× hand-written reads (0x0200 body decode, A/B slices)', `×${jt.ratio} (${jt.layout_us} vs ${jt.hand_us} µs)`, jt.ratio <= 1.5, jt.ratio > 1.5 ? 'the decoder uses the hand-written reader for this block; see protocols/jt808/README.md' : undefined));
  if (jvr) targets.push(check('jt808: decode of one 0x0200 ≤ 2× one Ruptela extended record (decoder, A/B slices)', `×${jvr.ratio} (${jvr.jt808_us} vs ${jvr.ruptela_us} µs)`, jvr.ratio <= 2));
  if (tvr) targets.push(check('teltonika: decode of one Codec 8E record × 11 IO vs one Ruptela extended record × 12 IO (decoder, A/B slices; reported)', `×${tvr.ratio} (${tvr.teltonika_us} vs ${tvr.ruptela_us} µs)`, null));
  if (fixtureExt) targets.push(check('same, fixture T#1 (extended, 1 record, VIN joined)', `×${fixtureExt.full_over_reference}`, fixtureExt.full_over_reference != null ? fixtureExt.full_over_reference <= 3 : null));
  const md = [
    `### decode (${machineLine(machine)})`,
    `Single thread, µs per published record (median of ${o.reps} × ${o.sliceMs} ms slices); full = decodeFrames() on a ${o.batch}-frame task (decode + JSON + envelope); decoder = protocol decode() to message objects; reference = hand-written field reader (no naming, no JSON).`,
    '',
    mdTable(['protocol', 'case', 'bytes', 'records', 'reference µs', 'decoder µs', 'full µs', 'full records/s', 'full ÷ ref', 'JSON share', 'spread'],
      cases.map((c) => [c.protocol, c.name, c.bytes, c.records, c.reference_us, c.decode_us, c.full_us, c.full_records_per_s, c.full_over_reference, `${Math.round(c.json_share * 100)} %`, c.full_spread]), 2),
  ].join('\n');
  return { name: 'decode', machine, options: { ...o }, duration_s: round((performance.now() - t0) / 1000, 1), data: { cases }, targets, markdown: md };
}

if (isMain(import.meta.url)) await runAlone(() => main());
