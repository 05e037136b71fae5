import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { projectRoot } from '../../src/util/paths.js';
import { machineInfo, type MachineInfo } from './machine.js';

/**
 * What every bench returns: machine facts, the options it ran with, its figures (`data`), the
 * targets of the issue with "met / missed" (reported, never asserted), and a Markdown section.
 */
export type TargetStatus = 'met' | 'missed' | 'n/a';

export interface TargetCheck {
  target: string;
  measured: string;
  status: TargetStatus;
  /** What bounds a missed target, or why n/a. */
  note?: string;
}

export interface Chart {
  /** File name under bench/results/ (e.g. pool-throughput.svg). */
  file: string;
  svg: string;
}

export interface BenchReport<T = unknown> {
  name: string;
  machine: MachineInfo;
  options: Record<string, unknown>;
  duration_s: number;
  data: T;
  targets: TargetCheck[];
  markdown: string;
  charts?: Chart[];
}

export function check(target: string, measured: string, ok: boolean | null, note?: string): TargetCheck {
  const t: TargetCheck = { target, measured, status: ok === null ? 'n/a' : ok ? 'met' : 'missed' };
  if (note) t.note = note;
  return t;
}

export function resultsDir(): string {
  const dir = join(projectRoot(), 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  return dir;
}

export function timestamp(d = new Date()): string {
  return d.toISOString().replace(/[:.]/g, '-').replace(/Z$/, '');
}

/** Writes bench/results/<name>-<timestamp>.json and the charts; returns the JSON path. */
export function writeReport(r: BenchReport, ts = timestamp()): string {
  const dir = resultsDir();
  const file = join(dir, `${r.name}-${ts}.json`);
  writeFileSync(file, JSON.stringify(r, null, 2) + '\n');
  for (const c of r.charts ?? []) writeFileSync(join(dir, c.file), c.svg + '\n');
  return file;
}

export function targetsMarkdown(rows: { bench: string; t: TargetCheck }[]): string {
  const lines = ['| bench | target | measured | status | note |', '| --- | --- | --- | --- | --- |'];
  for (const { bench, t } of rows) lines.push(`| ${bench} | ${t.target} | ${t.measured} | ${t.status === 'met' ? 'met' : t.status === 'missed' ? '**missed**' : 'n/a'} | ${t.note ?? ''} |`);
  return lines.join('\n');
}

export function startReport(): { machine: MachineInfo; t0: number } {
  return { machine: machineInfo(), t0: performance.now() };
}

/** Common options: --quick (smaller, for a smoke run), --json (print the JSON too). */
export interface CommonOptions {
  quick: boolean;
}

export function flag(name: string): boolean {
  return process.argv.includes(`--${name}`);
}

/** `--name=value` or `--name value` from argv, else the env variable, else undefined. */
export function arg(name: string, env?: string): string | undefined {
  const argv = process.argv;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === `--${name}` && i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) return argv[i + 1];
    if (a.startsWith(`--${name}=`)) return a.slice(name.length + 3);
  }
  return env ? process.env[env] : undefined;
}

export function numArg(name: string, env: string | undefined, dflt: number): number {
  const v = arg(name, env);
  const n = v === undefined || v === '' ? NaN : Number(v);
  return Number.isFinite(n) ? n : dflt;
}

export function quickMode(): boolean {
  return flag('quick') || process.env.BENCH_QUICK === '1';
}

/** True when the module at `url` is the script node was started with (run-alone mode). */
export function isMain(url: string): boolean {
  return Boolean(process.argv[1]) && url === pathToFileURL(process.argv[1]!).href;
}

/** Run-alone entry: runs the bench, prints its Markdown, writes its JSON. */
export async function runAlone<T>(main: () => Promise<BenchReport<T>>): Promise<void> {
  const r = await main();
  const file = writeReport(r);
  console.log(`\n${r.markdown}\n`);
  console.log(targetsMarkdown(r.targets.map((t) => ({ bench: r.name, t }))));
  console.log(`\nresults: ${file}`);
  if (flag('json')) console.log(JSON.stringify(r, null, 2));
}
