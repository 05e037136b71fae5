import { cpus, freemem, loadavg, totalmem, release, availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';

/**
 * Facts about the machine a result came from. Every result carries them: a number without the
 * machine (and how busy it was — load average at start) cannot be compared with another run.
 */
export interface MachineInfo {
  cpu: string;
  cores: number;
  node: string;
  os: string;
  total_mem_mb: number;
  free_mem_mb: number;
  loadavg_1m: number;
  /** Soft/hard open-file limits of the bench process (bounds the connections bench). */
  nofile: { soft: number | null; hard: number | null };
  date: string;
}

export function machineInfo(): MachineInfo {
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: availableParallelism(),
    node: process.version,
    os: `${process.platform} ${release()}`,
    total_mem_mb: Math.round(totalmem() / 2 ** 20),
    free_mem_mb: Math.round(freemem() / 2 ** 20),
    loadavg_1m: Math.round((loadavg()[0] ?? 0) * 100) / 100,
    nofile: openFileLimits(),
    date: new Date().toISOString(),
  };
}

export function machineLine(m: MachineInfo): string {
  return `${m.cpu}, ${m.cores} cores, ${Math.round(m.total_mem_mb / 1024)} GiB, Node ${m.node}, ${m.os}, load ${m.loadavg_1m} at start`;
}

/** Max open files of a process from /proc/<pid>/limits (Linux); nulls elsewhere. */
export function openFileLimits(pid: number | 'self' = 'self'): { soft: number | null; hard: number | null } {
  try {
    const line = readFileSync(`/proc/${pid}/limits`, 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const m = line ? /Max open files\s+(\S+)\s+(\S+)/.exec(line) : null;
    const n = (s: string | undefined) => (s === undefined || s === 'unlimited' ? null : Number(s));
    return { soft: n(m?.[1]), hard: n(m?.[2]) };
  } catch {
    return { soft: null, hard: null };
  }
}
