/**
 * When the primary starts a process again after it died, and when it gives up (config
 * `processes`). Pure, with the clock passed in, so tests drive it without timers.
 *
 * Each process slot (index) keeps the times of its recent exits: the wait before the next start
 * doubles with every exit in the window (0.5 s, 1 s, 2 s, … up to maxDelayMs), and once a slot has
 * died `maxExits` times within `windowMs` the primary stops every process and exits non-zero: a
 * process that cannot stay up (a disk that fails at start, a bug on the first frame) would
 * otherwise restart forever and hide the cause in a log nobody reads. A process that stays up
 * longer than the window is forgotten, so rare crashes over days never add up.
 */
export interface RestartPolicyOptions {
  baseDelayMs?: number;
  maxDelayMs?: number;
  maxExits?: number;
  windowMs?: number;
}

export class RestartPolicy {
  private readonly exits = new Map<number, number[]>();
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly maxExits: number;
  readonly windowMs: number;

  constructor(o: RestartPolicyOptions = {}) {
    this.baseDelayMs = o.baseDelayMs ?? 500;
    this.maxDelayMs = o.maxDelayMs ?? 30_000;
    this.maxExits = o.maxExits ?? 5;
    this.windowMs = o.windowMs ?? 60_000;
  }

  /** Process `slot` died at `nowMs`: ms to wait before starting it again, or null to give up. */
  exited(slot: number, nowMs: number): number | null {
    const recent = (this.exits.get(slot) ?? []).filter((t) => nowMs - t < this.windowMs);
    recent.push(nowMs);
    this.exits.set(slot, recent);
    if (recent.length >= this.maxExits) return null;
    return Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (recent.length - 1));
  }

  /** Exits of `slot` within the window before `nowMs` (for the log line). */
  recentExits(slot: number, nowMs: number): number {
    return (this.exits.get(slot) ?? []).filter((t) => nowMs - t < this.windowMs).length;
  }
}
