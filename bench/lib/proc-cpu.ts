import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';

/**
 * CPU and memory sampling for attribution: which process (and which thread) paid for a run.
 *
 * - process.cpuUsage() is process-wide: it includes worker threads, so it is the channel's total.
 * - The main thread alone (what the pool bench's "main-thread cost" means) comes from
 *   /proc/self/task/<pid>/stat; eventLoopUtilization() is reported next to it but counts time the
 *   loop was busy even while the OS had it descheduled, which on 2 shared cores inflates it.
 * - Other processes (Mosquitto, the load generator) are read from /proc/<pid>/stat: utime+stime in
 *   clock ticks (usually 10 ms: fine for runs of a second or more, not for shorter ones).
 */
let ticks: number | undefined;

export function clockTicks(): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

function statCpuMs(path: string): number | null {
  try {
    const s = readFileSync(path, 'utf8');
    // comm (field 2) may contain spaces and parentheses: fields are counted after the last ')'.
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    const utime = Number(rest[11]);
    const stime = Number(rest[12]);
    if (!Number.isFinite(utime) || !Number.isFinite(stime)) return null;
    return ((utime + stime) * 1000) / clockTicks();
  } catch {
    return null;
  }
}

/** Total CPU (user + system, all threads) of a process in ms, or null if unreadable. */
export function processCpuMs(pid: number): number | null {
  return statCpuMs(`/proc/${pid}/stat`);
}

/** CPU of this process's main thread in ms (Linux), or null. */
export function mainThreadCpuMs(): number | null {
  return statCpuMs(`/proc/self/task/${process.pid}/stat`);
}

/** Resident set size of another process in bytes (Linux), or null. */
export function processRss(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** PID of the local Mosquitto (the broker whose CPU the e2e bench reports), or null. */
export function findMosquittoPid(): number | null {
  try {
    const out = execFileSync('pgrep', ['-x', 'mosquitto'], { encoding: 'utf8' }).trim().split('\n')[0];
    const pid = Number(out);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

export interface CpuDelta {
  wall_ms: number;
  /** This process, all threads (user + system), ms and % of one core. */
  self_ms: number;
  self_pct: number;
  /** This process's main thread only (null when /proc is not available). */
  main_thread_ms: number | null;
  main_thread_pct: number | null;
  /** Event-loop utilisation of the main thread, 0..1. */
  elu: number;
  /** Other processes by label (ms and % of one core); null when not readable. */
  others: Record<string, { ms: number | null; pct: number | null }>;
  /**
   * Every thread of this process that used CPU in the window: OS thread id minus the process id
   * (0 = main; V8's GC/compiler helpers start right after it, decode workers later), ms.
   */
  threads: Record<string, number>;
}

function threadCpu(): Map<number, number> {
  const out = new Map<number, number>();
  try {
    for (const t of readdirSync(`/proc/self/task`)) {
      const ms = statCpuMs(`/proc/self/task/${t}/stat`);
      if (ms !== null) out.set(Number(t), ms);
    }
  } catch {
    // not Linux: no per-thread figures
  }
  return out;
}

/** The threads of this process now, as CpuDelta.threads names them (OS thread id minus the pid). */
export function threadIds(): Set<string> {
  return new Set([...threadCpu().keys()].map((tid) => String(tid - process.pid)));
}

/** Snapshot now, call the returned function later for the deltas. */
export function cpuMeter(others: Record<string, number | null> = {}): () => CpuDelta {
  const t0 = performance.now();
  const u0 = process.cpuUsage();
  const m0 = mainThreadCpuMs();
  const e0: EventLoopUtilization = performance.eventLoopUtilization();
  const th0 = threadCpu();
  const o0 = Object.fromEntries(Object.entries(others).map(([k, pid]) => [k, pid === null ? null : processCpuMs(pid)]));
  return () => {
    const wall = performance.now() - t0;
    const u = process.cpuUsage(u0);
    const m1 = mainThreadCpuMs();
    const elu = performance.eventLoopUtilization(e0).utilization;
    const selfMs = (u.user + u.system) / 1000;
    const pct = (ms: number | null) => (ms === null ? null : Math.round((ms / wall) * 1000) / 10);
    const out: CpuDelta['others'] = {};
    for (const [k, pid] of Object.entries(others)) {
      const a = o0[k];
      const b = pid === null ? null : processCpuMs(pid);
      const ms = a === null || a === undefined || b === null ? null : b - a;
      out[k] = { ms, pct: pct(ms) };
    }
    const mainMs = m0 === null || m1 === null ? null : m1 - m0;
    const threads: Record<string, number> = {};
    for (const [tid, ms] of threadCpu()) {
      const d = ms - (th0.get(tid) ?? 0);
      if (d > 0) threads[String(tid - process.pid)] = Math.round(d);
    }
    return { wall_ms: Math.round(wall), self_ms: Math.round(selfMs), self_pct: pct(selfMs)!, main_thread_ms: mainMs, main_thread_pct: pct(mainMs), elu: Math.round(elu * 1000) / 1000, others: out, threads };
  };
}

/** Samples RSS (this process, or another pid) every `everyMs`; stop() returns the peak in MiB. */
export function rssPeak(everyMs = 100, pid?: number): { stop(): number } {
  const read = () => (pid === undefined ? process.memoryUsage.rss() : (processRss(pid) ?? 0));
  let peak = read();
  const t = setInterval(() => {
    const r = read();
    if (r > peak) peak = r;
  }, everyMs);
  t.unref();
  return {
    stop() {
      clearInterval(t);
      peak = Math.max(peak, read());
      return Math.round((peak / 2 ** 20) * 10) / 10;
    },
  };
}
