/**
 * How many publishes may await PUBACK at once, adapted to what the broker confirms (delay-based, in
 * the spirit of TCP Vegas), plus an optional rate cap. Two users: the spool's drain (with the
 * `spool.drain_rate` cap) and the publisher's QoS 1 window itself (`mqtt.max_inflight` is its ceiling).
 *
 * The window is the lever: throughput ≈ window / PUBACK latency. While a larger window buys
 * throughput the latency stays near its floor; once the broker (or our own event loop, or the
 * network) is the bottleneck, a larger window only lengthens queues and the latency rises. So:
 *
 *   base   = lowest PUBACK latency over the last ~10–20 s (windowed minimum)
 *   target = max(2·base, base + slackMs)
 *   once per round (about one window of confirmations), with L = the round's lowest latency:
 *     L ≤ target and the window was the limit → window ·= 1 + 0.25·(1 − L/target)
 *     L > target                             → window ·= max(0.5, target/L)
 *   a timeout or publish error               → window = minWindow (the breaker opens too)
 *
 * The lowest latency of a round is the congestion signal (as in Vegas): a queue at the broker
 * delays every record of the round, while a pause of our own event loop (GC, a burst of device
 * frames) inflates only the confirmations that arrive during it. The mean would read every such
 * pause on a busy 2-core machine as congestion and keep the window small.
 * The step shrinks as the latency approaches the target, so the window settles near the knee
 * instead of sawing between a cap and half of it. The window only grows when it actually held
 * the sender back, so a sender limited by the rate cap or by its own supply does not inflate a
 * window it never uses (which would then burst). No timers: the owner calls in, `now` is
 * injected, so tests drive time.
 */
export interface WindowControlOptions {
  /** Largest window (the drain: spool.drain_inflight; the publisher: mqtt.max_inflight). */
  maxWindow: number;
  /** Records per second at most (spool.drain_rate); 0 = no cap. */
  rateCap: number;
  /** Smallest window and the window after a failure (default min(4, maxWindow)). */
  minWindow?: number;
  /** Latency the window may add above its floor before it backs off (default 10 ms). */
  slackMs?: number;
  now?: () => number;
}

/** The windowed minimum keeps two buckets of this length: the floor follows a path that got slower. */
const BASE_BUCKET_MS = 10_000;

export class WindowControl {
  private w: number;
  private readonly minW: number;
  private readonly maxW: number;
  private readonly slackMs: number;
  private readonly now: () => number;
  private readonly cap: number;
  private readonly burst: number;
  private tokens = 0;
  private tokensAt: number;
  // windowed minimum of the latency
  private minCur = Infinity;
  private minPrev = Infinity;
  private bucketAt: number;
  // the current round
  private roundN = 0;
  private roundMin = Infinity;
  private roundSize: number;
  private limited = false;
  /** Adjustments made (for metrics and tests): increases, decreases, resets after failure. */
  readonly stats = { increases: 0, decreases: 0, resets: 0 };

  constructor(o: WindowControlOptions) {
    this.maxW = Math.max(1, o.maxWindow);
    this.minW = Math.max(1, Math.min(o.minWindow ?? 4, this.maxW));
    this.slackMs = o.slackMs ?? 10;
    this.now = o.now ?? Date.now;
    this.cap = Math.max(0, o.rateCap);
    // a fifth of a second of tokens: smooths the tick granularity without a big burst
    this.burst = this.cap > 0 ? Math.max(1, Math.ceil(this.cap / 5)) : 0;
    this.tokensAt = this.bucketAt = this.now();
    this.w = this.minW;
    this.roundSize = this.minW;
  }

  /** The current window (records awaiting PUBACK at once). */
  get window(): number {
    return Math.floor(this.w);
  }

  /** The latency floor in ms (null before the first confirmation). */
  get baseMs(): number | null {
    const b = Math.min(this.minCur, this.minPrev);
    return Number.isFinite(b) ? b : null;
  }

  /** How many records may be sent now with `inflight` of them awaiting PUBACK. */
  allowance(inflight: number): number {
    const byWindow = this.window - inflight;
    if (byWindow <= 0) {
      this.limited = true;
      return 0;
    }
    if (this.cap === 0) return byWindow;
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.tokensAt) * this.cap) / 1000);
    this.tokensAt = now;
    return Math.max(0, Math.min(byWindow, Math.floor(this.tokens)));
  }

  /** One record was sent (spends a token of the rate cap). */
  sent(): void {
    if (this.cap > 0) this.tokens -= 1;
  }

  /** A publish was confirmed `latencyMs` after it was sent. */
  confirmed(latencyMs: number): void {
    const now = this.now();
    if (now - this.bucketAt >= BASE_BUCKET_MS) {
      this.minPrev = this.minCur;
      this.minCur = Infinity;
      this.bucketAt = now;
    }
    if (latencyMs < this.minCur) this.minCur = latencyMs;
    this.roundN++;
    if (latencyMs < this.roundMin) this.roundMin = latencyMs;
    if (this.roundN < this.roundSize) return;
    const low = this.roundMin;
    const base = this.baseMs ?? low;
    const target = Math.max(2 * base, base + this.slackMs);
    if (low > target) {
      this.w = Math.max(this.minW, this.w * Math.max(0.5, target / low));
      this.stats.decreases++;
    } else if (this.limited && this.w < this.maxW) {
      this.w = Math.min(this.maxW, this.w * (1 + 0.25 * (1 - low / target)));
      this.stats.increases++;
    }
    this.newRound();
  }

  /** A publish timed out or failed: start again from the smallest window. */
  failed(): void {
    this.w = this.minW;
    this.stats.resets++;
    this.newRound();
  }

  private newRound(): void {
    this.roundN = 0;
    this.roundMin = Infinity;
    this.limited = false;
    this.roundSize = Math.max(this.minW, this.window);
  }
}
