/**
 * fMP4 mux bench: how fast the H.264 muxer (src/video/fmp4) remuxes the committed clip
 * (fixtures/video, 320x240, 45 frames), single thread, in each of its shapes: live per GOP, live
 * per frame (one moof/mdat per frame, the low-latency mode) and a whole clip as one file. MB/s
 * counts Annex B input bytes; the clip is muxed again and again (a fresh muxer each pass, the
 * timestamps going on) so a slice holds thousands of frames.
 *
 *   npm run build && node dist/bench/fmp4-bench.js [--quick] [--reps N] [--slice-ms N] [--json]
 *
 * Figures are medians of `reps` time slices after a warm-up. Not part of run-all.
 */
import { createH264Muxer, muxH264Clip, type AccessUnit, type FragmentMode } from '../src/video/fmp4/index.js';
import { clipAccessUnits } from '../test/support/video/h264-clip.js';
import { machineLine } from './lib/machine.js';
import { isMain, numArg, quickMode, runAlone, startReport, check, type BenchReport } from './lib/report.js';
import { round, timeSlices } from './lib/stats.js';
import { mdTable } from './lib/table.js';

export interface Fmp4Case {
  name: string;
  frames_per_pass: number;
  us_per_frame: number;
  frames_per_s: number;
  mb_per_s: number;
  output_bytes_per_pass: number;
}

/** One pass through a live muxer; returns the bytes it produced (so nothing is optimised away). */
function livePass(units: AccessUnit[], fragment: FragmentMode): number {
  const m = createH264Muxer({ fragment });
  let bytes = 0;
  for (const au of units) for (const s of m.push(au)) bytes += s.data.length;
  for (const s of m.flush()) bytes += s.data.length;
  return bytes;
}

export async function main(): Promise<BenchReport<{ cases: Fmp4Case[] }>> {
  const { machine, t0 } = startReport();
  const quick = quickMode();
  const reps = numArg('reps', 'BENCH_REPS', quick ? 2 : 5);
  const sliceMs = numArg('slice-ms', undefined, quick ? 200 : 800);
  const units = clipAccessUnits();
  const inputBytes = units.reduce((n, u) => n + u.data.length, 0);
  const shapes: { name: string; pass: () => number }[] = [
    { name: 'live, a fragment per GOP (15 frames)', pass: () => livePass(units, 'gop') },
    { name: 'live, a fragment every 200 ms', pass: () => livePass(units, { everyMs: 200 }) },
    { name: 'live, a fragment per frame', pass: () => livePass(units, 'frame') },
    { name: 'recorded clip, one file (muxH264Clip)', pass: () => muxH264Clip(units).data.length },
  ];
  const cases: Fmp4Case[] = shapes.map((s) => {
    const ms = timeSlices(s.pass, reps, sliceMs, 20);
    return {
      name: s.name,
      frames_per_pass: units.length,
      us_per_frame: round((ms * 1000) / units.length, 2),
      frames_per_s: Math.round((units.length * 1000) / ms),
      mb_per_s: round(inputBytes / 1e6 / (ms / 1000), 1),
      output_bytes_per_pass: s.pass(),
    };
  });
  const perFrame = cases[2]!;
  const markdown = [
    `### fmp4 mux (${machineLine(machine)}); input ${units.length} frames, ${inputBytes.toLocaleString('en')} bytes of Annex B per pass`,
    '',
    mdTable(
      ['shape', 'µs/frame', 'frames/s', 'MB/s (input)', 'output bytes/pass'],
      cases.map((c) => [c.name, c.us_per_frame, c.frames_per_s, c.mb_per_s, c.output_bytes_per_pass]),
      2,
    ),
  ].join('\n');
  return {
    name: 'fmp4',
    machine,
    options: { quick, reps, sliceMs },
    duration_s: round((performance.now() - t0) / 1000, 1),
    data: { cases },
    targets: [check('H.264 → fMP4 remux cost reported (no target set by the issue)', `${perFrame.us_per_frame} µs/frame per frame, ${perFrame.mb_per_s} MB/s`, null, 'figures only')],
    markdown,
  };
}

if (isMain(import.meta.url)) await runAlone(main);
