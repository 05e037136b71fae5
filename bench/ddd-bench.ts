/**
 * DDD parse bench: how fast `parseDdd` turns tachograph download files into documents, single
 * thread, per sample file and for a 28-day driver card, with and without JSON.stringify of the
 * document (what storing it costs) and with signature verification (a card signed by a test
 * authority, every EF checked against configured roots).
 *
 *   npm run build && node dist/bench/ddd-bench.js [--quick] [--reps N] [--slice-ms N] [--json]
 *
 * The "28-day card" is the Gen1 sample card (24 470 bytes) with its oldest-day pointer moved to
 * the 28th newest day record: a card file always carries its whole ring, only the days decoded
 * change. Figures are medians of `reps` time slices after a warm-up.
 */
import { parseDdd, type DddOptions } from '../src/tacho/ddd/index.js';
import { sample, sampleNames } from '../test/support/tacho/ddd-samples.js';
import * as ca from '../test/support/tacho/test-authority.js';
import { machineLine } from './lib/machine.js';
import { isMain, numArg, quickMode, runAlone, startReport, check, type BenchReport } from './lib/report.js';
import { round, timeSlices } from './lib/stats.js';
import { mdTable } from './lib/table.js';

export interface DddCase {
  name: string;
  bytes: number;
  days: number;
  ms_per_file: number;
  files_per_s: number;
  mb_per_s: number;
  ms_per_file_with_json: number;
}

/** The Gen1 sample card reduced to its newest 28 days (oldest pointer moved; nothing else changes). */
export function card28Days(): Uint8Array {
  const b = Uint8Array.from(sample('card-g1-anon-wp000.ddd'));
  const doc = parseDdd(b);
  const rec = doc.card!.records.find((r) => r.fid === '0504' && r.appendix === 0)!;
  const days = doc.card!.g1!.activity!.days;
  const p = days[days.length - 28]!.offset;
  b[rec.offset + 5] = p >> 8;
  b[rec.offset + 6] = p & 0xff;
  return b;
}

function signedCard(): { bytes: Uint8Array; roots: Uint8Array[] } {
  const root = ca.gen2Key('fd45432001ffff01');
  const msca = ca.gen2Key('1245430100ffff02');
  const card = ca.gen2Key('aabbccddeeff0011');
  const b = sample('card-g2v1-anon-wp003.ddd');
  const parts: Uint8Array[] = [];
  for (const r of parseDdd(b).card!.records) {
    if (r.appendix === 1 || r.appendix === 3) continue;
    const value = b.subarray(r.offset + 5, r.offset + 5 + r.length);
    parts.push(ca.tlvObject(parseInt(r.fid, 16), r.appendix, value));
    if (r.appendix === 2 && r.fid !== '0002' && r.fid !== '0005') parts.push(ca.tlvObject(parseInt(r.fid, 16), 3, ca.gen2Sign(card, value)));
  }
  parts.push(ca.tlvObject(0xc101, 2, ca.gen2Certificate(msca, card, 0x11)), ca.tlvObject(0xc108, 2, ca.gen2Certificate(root, msca, 0x0e)));
  return { bytes: Buffer.concat(parts), roots: [ca.gen2Certificate(root, root, 0x0d)] };
}

export async function main(): Promise<BenchReport<{ cases: DddCase[] }>> {
  const { machine, t0 } = startReport();
  const quick = quickMode();
  const reps = numArg('reps', 'BENCH_REPS', quick ? 2 : 3);
  const sliceMs = numArg('slice-ms', undefined, quick ? 200 : 800);
  const signed = signedCard();
  const inputs: { name: string; bytes: Uint8Array; options?: DddOptions }[] = [
    { name: '28-day Gen1 driver card', bytes: card28Days() },
    ...sampleNames().map((f) => ({ name: f, bytes: sample(f) })),
    { name: 'Gen2 card, 28 EFs signed, verified (P-256)', bytes: signed.bytes, options: { roots: signed.roots } },
  ];
  const cases: DddCase[] = [];
  for (const i of inputs) {
    const d = parseDdd(i.bytes, i.options);
    const days = d.card ? Math.max(d.card.g1?.activity?.days.length ?? 0, d.card.g2?.activity?.days.length ?? 0) : d.vu!.days.length;
    const ms = timeSlices(() => parseDdd(i.bytes, i.options), reps, sliceMs);
    const msJson = timeSlices(() => JSON.stringify(parseDdd(i.bytes, i.options)), reps, sliceMs);
    cases.push({ name: i.name, bytes: i.bytes.length, days, ms_per_file: round(ms, 3), files_per_s: Math.round(1000 / ms), mb_per_s: round(i.bytes.length / 1e6 / (ms / 1000), 1), ms_per_file_with_json: round(msJson, 3) });
  }
  const c28 = cases[0]!;
  const markdown = [
    `### ddd parse (${machineLine(machine)})`,
    '',
    mdTable(
      ['file', 'bytes', 'days', 'ms/file', 'files/s', 'MB/s', 'ms/file incl. JSON.stringify'],
      cases.map((c) => [c.name, c.bytes, c.days, c.ms_per_file, c.files_per_s, c.mb_per_s, c.ms_per_file_with_json]),
      3,
    ),
  ].join('\n');
  return {
    name: 'ddd',
    machine,
    options: { quick, reps, sliceMs },
    duration_s: round((performance.now() - t0) / 1000, 1),
    data: { cases },
    targets: [check('28-day card file parse throughput reported (no target set by the issue)', `${c28.files_per_s} files/s, ${c28.mb_per_s} MB/s`, null, 'figures only')],
    markdown,
  };
}

if (isMain(import.meta.url)) await runAlone(main);
