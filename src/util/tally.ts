/**
 * Counts per-event conditions (a frame not acknowledged, a decode warning, an error event over its
 * budget) between two stats intervals, so a hostile or broken peer produces one summary line per
 * interval instead of one line per frame. `first` is true for the first occurrence of a code in an
 * interval: callers log that one in full, so an operator still sees the detail at once.
 */
export class Tally {
  private counts = new Map<string, number>();

  /** Counts one occurrence; true when it is the first of its code since the last `take`. */
  add(code: string, n = 1): boolean {
    const had = this.counts.get(code);
    this.counts.set(code, (had ?? 0) + n);
    return had === undefined;
  }

  get size(): number {
    return this.counts.size;
  }

  /** The counts since the last call (null when nothing happened), and a fresh interval. */
  take(): Record<string, number> | null {
    if (this.counts.size === 0) return null;
    const out = Object.fromEntries(this.counts);
    this.counts = new Map();
    return out;
  }
}

/** At most `perSecond` events pass per wall-clock second; the rest are only counted by the caller. */
export class PerSecondBudget {
  private second = -1;
  private left = 0;

  constructor(private readonly perSecond: number) {}

  take(nowMs: number): boolean {
    const s = Math.floor(nowMs / 1000);
    if (s !== this.second) {
      this.second = s;
      this.left = this.perSecond;
    }
    return this.left-- > 0;
  }
}
