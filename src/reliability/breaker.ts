import { EventEmitter } from 'node:events';

/**
 * Circuit breaker around the MQTT broker. No timers inside: the owner calls `tick()` from its
 * one housekeeping interval, which keeps the state machine testable with an injected clock.
 *
 *   closed ──failure (PUBACK timeout, publish error, connection lost)──► open
 *   open ──backoff elapsed (tick)──► half_open: the owner sends one probe publish
 *   half_open ──probe PUBACK──► closed          half_open ──probe fails──► open (backoff doubles)
 *
 * Backoff: min(max, min·2^attempt), with "equal jitter" (a random point in its upper half) so
 * many edge instances behind one broker do not probe in lockstep. `hint()` (the MQTT client just
 * reconnected) pulls the next probe forward to a short jittered delay: no waiting out a long
 * backoff when the broker is evidently back.
 */
export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerOptions {
  probeMinMs: number;
  probeMaxMs: number;
  now?: () => number;
  random?: () => number;
}

export interface BreakerChange {
  state: BreakerState;
  from: BreakerState;
  reason: string;
  atMs: number;
  /** When the next probe is due (open only). */
  nextProbeAtMs?: number;
}

export class CircuitBreaker extends EventEmitter {
  private s: BreakerState = 'closed';
  private attempt = 0;
  private nextProbeAt = 0;
  private sinceMs: number;
  private readonly now: () => number;
  private readonly random: () => number;
  lastReason = '';
  opens = 0;

  constructor(private readonly opts: BreakerOptions) {
    super();
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
    this.sinceMs = this.now();
  }

  get state(): BreakerState {
    return this.s;
  }

  get since(): number {
    return this.sinceMs;
  }

  get nextProbeAtMs(): number {
    return this.nextProbeAt;
  }

  /** A publish was confirmed. Closes a half-open breaker (the probe went through). */
  success(): void {
    if (this.s === 'half_open') {
      this.attempt = 0;
      this.set('closed', 'probe confirmed');
    }
  }

  /** A publish failed or timed out (or the connection dropped). Opens the breaker. */
  failure(reason: string): void {
    if (this.s === 'open') return;
    if (this.s === 'half_open') this.attempt++;
    this.nextProbeAt = this.now() + this.backoffMs();
    this.opens++;
    this.set('open', reason);
  }

  /** Called periodically: returns true when the owner must send a probe now (open → half_open). */
  tick(): boolean {
    if (this.s !== 'open' || this.now() < this.nextProbeAt) return false;
    this.set('half_open', 'probing the broker');
    return true;
  }

  /** The connection came back: probe soon rather than after the full backoff. */
  hint(): void {
    if (this.s !== 'open') return;
    const soon = this.now() + Math.round(this.opts.probeMinMs * (0.5 + 0.5 * this.random()));
    if (soon < this.nextProbeAt) this.nextProbeAt = soon;
  }

  backoffMs(): number {
    const base = Math.min(this.opts.probeMaxMs, this.opts.probeMinMs * 2 ** Math.min(this.attempt, 30));
    return Math.round(base / 2 + (base / 2) * this.random());
  }

  private set(state: BreakerState, reason: string): void {
    const from = this.s;
    this.s = state;
    this.lastReason = reason;
    this.sinceMs = this.now();
    const change: BreakerChange = { state, from, reason, atMs: this.sinceMs };
    if (state === 'open') change.nextProbeAtMs = this.nextProbeAt;
    this.emit('change', change);
  }
}
