import type { Logger } from '../util/log.js';

/**
 * Logging for a failure that repeats (a disk that keeps refusing writes, a segment that cannot be
 * read): the first failure is logged at once, later ones are counted and summed up in one line
 * per interval, and the recovery line carries the totals. A broken disk under load fails many
 * times a second; one line per failure would bury everything else in the log.
 * No timers: the summary is written by the next failure after the interval has passed (a
 * failure that stops repeating is summed up by the recovery line). The clock is injected.
 */
export interface FailureLogOptions {
  log?: Logger | undefined;
  intervalMs: number;
  now: () => number;
}

export class FailureLog {
  private failing = false;
  private since = 0;
  private lastLineAt = 0;
  /** Failures since the last line, and since the first failure. */
  private sinceLine = 0;
  private total = 0;
  private lastMessage = '';

  constructor(private readonly o: FailureLogOptions) {}

  /**
   * One more failure. `fields` (with the error code) go into the log line; `message` is the
   * line's text. A failure whose message differs from the previous one is logged at once too.
   */
  failed(fields: Record<string, unknown>, message: string): void {
    const now = this.o.now();
    if (!this.failing) {
      this.failing = true;
      this.since = now;
      this.total = 0;
      this.sinceLine = 0;
    }
    this.total++;
    this.sinceLine++;
    if (this.total === 1 || message !== this.lastMessage) this.line(now, 'error', fields, message);
    else if (now - this.lastLineAt >= this.o.intervalMs) this.line(now, 'warn', fields, `${message} (still failing)`);
    this.lastMessage = message;
  }

  /** A success: logs the recovery with the totals once; nothing when it was not failing. */
  recovered(fields: Record<string, unknown>, message: string): void {
    if (!this.failing) return;
    this.o.log?.info({ ...fields, failures: this.total, failed_for_s: Math.round((this.o.now() - this.since) / 1000) }, message);
    this.failing = false;
    this.lastMessage = '';
  }

  private line(now: number, level: 'error' | 'warn', fields: Record<string, unknown>, message: string): void {
    this.o.log?.[level]({ ...fields, failures_since_last_line: this.sinceLine, failures: this.total, failing_for_s: Math.round((now - this.since) / 1000) }, message);
    this.lastLineAt = now;
    this.sinceLine = 0;
  }
}
