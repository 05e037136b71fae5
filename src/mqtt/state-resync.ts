import type { MessagePublisher } from './publisher.js';
import type { Topics } from './topics.js';
import type { Logger } from '../util/log.js';

/**
 * Retained state that comes back after the broker lost it.
 *
 * A broker can come back without its retained messages (a failover to a replica that does not
 * replicate them, a restart with `persistence false`, a wiped volume). Every piece of retained
 * state is published when it changes, so without this a consumer would read devices offline and
 * assets unassigned until each happened to change again. Each owner of retained state (instance,
 * channels, command queues, assets, the reliability state) republishes what it holds from its
 * stores and live tables:
 *   - on every reconnection to the broker (not the first connection: start-up publishes anyway),
 *   - every `mqtt.resync_interval_s` when set (0 = off),
 *   - on request: any payload on `{root}/command/gw/resync` (every instance answers for its own).
 * Only state is republished, never log events (they are history, not state). Each run ends with
 * one `{root}/log/gw/instances/{instance}/resync` event: why, what each owner republished, how long
 * issuing it took. Runs do not overlap: one asked for while another runs follows it once.
 */
export interface StateOwner {
  /** Short name in the log event (`devices`, `commands`, `assets` ...). */
  readonly name: string;
  /** Issues the retained publishes of everything it owns now; returns how many. */
  republish(): number | Promise<number>;
}

export interface StateResyncOptions {
  publisher: MessagePublisher;
  topics: Topics;
  instanceId: string;
  owners: readonly StateOwner[];
  log: Logger;
  /** 0 = no scheduled resync. */
  intervalS: number;
  /** Subscribe for on-request resyncs (the sink's inbound subscription). */
  subscribe(filter: string, onMessage: (topic: string, payload: Buffer) => void): Promise<void>;
  now?: () => number;
}

export interface ResyncReport {
  reason: string;
  counts: Record<string, number>;
  durationMs: number;
}

export class StateResync {
  private connectedBefore: boolean;
  private running: Promise<ResyncReport> | null = null;
  private again: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly now: () => number;
  /** Resyncs run so far (tests, metrics). */
  runs = 0;
  private readonly onUp = () => {
    // the first connection of the run is start-up, which publishes everything anyway
    if (this.connectedBefore) void this.request('reconnect');
    this.connectedBefore = true;
  };

  constructor(private readonly o: StateResyncOptions) {
    this.now = o.now ?? Date.now;
    this.connectedBefore = o.publisher.connected;
    o.publisher.on('up', this.onUp);
  }

  async start(): Promise<void> {
    await this.o.subscribe(this.o.topics.resyncRequest(), () => void this.request('request'));
    if (this.o.intervalS > 0) {
      this.timer = setInterval(() => void this.request('schedule'), this.o.intervalS * 1000);
      this.timer.unref();
    }
  }

  stop(): void {
    this.stopped = true;
    this.o.publisher.off('up', this.onUp);
    if (this.timer) clearInterval(this.timer);
  }

  /** Runs a resync now, or once right after the one running (several requests meanwhile: one run). */
  request(reason: string): Promise<ResyncReport | null> {
    if (this.stopped) return Promise.resolve(null);
    if (this.running) {
      this.again ??= reason;
      return this.running.then(() => this.running ?? null);
    }
    const run = (this.running = this.run(reason).finally(() => {
      this.running = null;
      const next = this.again;
      this.again = null;
      if (next !== null) void this.request(next);
    }));
    return run;
  }

  private async run(reason: string): Promise<ResyncReport> {
    const started = this.now();
    const counts: Record<string, number> = {};
    for (const owner of this.o.owners) {
      try {
        counts[owner.name] = await owner.republish();
      } catch (e) {
        counts[owner.name] = -1;
        this.o.log.warn({ owner: owner.name, err: (e as Error).message }, `resync: the ${owner.name} state could not be republished`);
      }
    }
    this.runs++;
    const report = { reason, counts, durationMs: this.now() - started };
    const total = Object.values(counts).reduce((a, b) => a + Math.max(0, b), 0);
    this.o.log.info({ reason, ...counts, ms: report.durationMs }, `resync (${reason}): ${total} retained topics republished`);
    this.o.publisher.publishLog(this.o.topics.instanceLog(this.o.instanceId, 'resync'), JSON.stringify({ reason, timestamp: started / 1000, counts, duration_ms: report.durationMs }));
    return report;
  }
}

