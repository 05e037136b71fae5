/**
 * Small statistics helpers. Benchmarks on a shared 2-core machine are noisy, so every figure
 * that matters is a median of repetitions; latencies are reported as percentiles of all samples
 * (nearest-rank, no interpolation: a p99 is a latency some request really saw).
 */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Nearest-rank percentile of unsorted samples; p in 0..100. */
export function percentile(xs: readonly number[] | Float64Array, p: number): number {
  if (xs.length === 0) return NaN;
  const s = Float64Array.from(xs).sort();
  return percentileSorted(s, p);
}

export function percentileSorted(s: Float64Array, p: number): number {
  if (s.length === 0) return NaN;
  const rank = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[rank]!;
}

export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export function summarize(xs: readonly number[] | Float64Array): LatencySummary {
  const s = Float64Array.from(xs).sort();
  let sum = 0;
  for (const v of s) sum += v;
  return {
    count: s.length,
    p50: round(percentileSorted(s, 50), 3),
    p90: round(percentileSorted(s, 90), 3),
    p99: round(percentileSorted(s, 99), 3),
    max: round(s.length ? s[s.length - 1]! : NaN, 3),
    mean: round(s.length ? sum / s.length : NaN, 3),
  };
}

/** Relative spread (max-min)/median of repetitions, to show how much to trust a median. */
export function spread(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = median(xs);
  return m === 0 ? 0 : round((Math.max(...xs) - Math.min(...xs)) / m, 3);
}

export function round(v: number, digits = 2): number {
  if (!Number.isFinite(v)) return v;
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/**
 * Latency samples in a growable Float64Array (an Array of 400k doubles costs ~4x the memory and
 * GC scanning in the load process, which shares the CPU with the server).
 */
export class Samples {
  private buf = new Float64Array(1024);
  length = 0;

  push(v: number): void {
    if (this.length === this.buf.length) {
      const next = new Float64Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.length++] = v;
  }

  values(): Float64Array {
    return this.buf.subarray(0, this.length);
  }

  clear(): void {
    this.length = 0;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Median time per call of `fn`, in ms, over `reps` slices of `sliceMs` each, after `warmup` calls
 * (JIT). Slices rather than a fixed call count: each figure gets the same wall time whatever one call costs.
 */
export function timeSlices(fn: () => unknown, reps: number, sliceMs: number, warmup = 5): number {
  for (let i = 0; i < warmup; i++) fn();
  const perCall: number[] = [];
  for (let r = 0; r < reps; r++) {
    let calls = 0;
    const start = performance.now();
    let now = start;
    while (now - start < sliceMs) {
      fn();
      calls++;
      now = performance.now();
    }
    perCall.push((now - start) / calls);
  }
  return median(perCall);
}
