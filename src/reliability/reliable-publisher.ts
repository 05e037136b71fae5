import type { IClientOptions } from 'mqtt';
import { EdgeError } from '../errors.js';
import { EventEmitter } from 'node:events';
import { dotted } from '../message/naming.js';
import type { MqttClient } from 'mqtt';
import { Publisher, type MessagePublisher, type PublishCallback } from '../mqtt/publisher.js';
import type { Topics } from '../mqtt/topics.js';
import type { Logger } from '../util/log.js';
import { CircuitBreaker, type BreakerChange } from './breaker.js';
import { WindowControl } from '../util/window-control.js';
import { Fifo } from '../util/fifo.js';
import type { Spool, SpoolRecord } from './spool.js';

/**
 * The publisher the runtime uses when spool.enabled: the QoS 1 Publisher plus a PUBACK timeout,
 * a circuit breaker and the durable spool. The callback of `publish` — what the channel waits
 * for before it acknowledges a frame — fires exactly once: on PUBACK, or once the message is
 * durably in the spool, or with an error when neither can happen (the frame is not acknowledged
 * and the device resends it).
 *
 * Routing of a `{root}/message/...` publish:
 *   - spool not empty, breaker not closed, or not connected → spool. While anything is spooled,
 *     every new message goes behind it: that keeps per-device order without per-device indexes.
 *   - otherwise → direct QoS 1 publish, watched for PUBACK timeout. A direct publish that times
 *     out or fails opens the breaker and is spooled (if its PUBACK arrives later after all, that
 *     PUBACK acknowledges it and the spooled copy becomes a duplicate: at least once, message.id).
 *     When the breaker opens, every direct publish still awaiting PUBACK is spooled at once.
 * Other topics (retained state, logs) are never spooled: while the breaker is open the latest
 * value of each state topic is kept and published when it closes.
 *
 * Timeouts: one FIFO of watched publishes scanned by one interval. All share the same timeout,
 * so deadlines are ordered and the scan stops at the first one not yet due.
 *
 * Drain (breaker closed, connected): spool records in order, as many awaiting PUBACK as the
 * adaptive window allows (util/window-control.ts: grows while drain PUBACK latency stays near its
 * floor, shrinks when it rises, resets on a timeout), at most `drainRate` per second. The drain
 * never waits in the publisher's queue: it sends only into free window room while no other
 * publish is queued, and takes at most half the window, so live publishes never queue behind
 * spooled records. Each PUBACK advances the spool's durable cursor. A failure rewinds to the
 * confirmed prefix (records in flight are sent again).
 *
 * Why one file of ~500 lines: routing, the breaker, the PUBACK timeouts and the drain share one
 * invariant — a message's callback fires exactly once — over one FIFO of watched publishes and one
 * publish window; split across files, that invariant would have no single place to be read.
 */
export interface ReliableOptions {
  spool: Spool;
  topics: Topics;
  log: Logger;
  publishTimeoutMs: number;
  probeMinMs: number;
  probeMaxMs: number;
  /** Cap of spooled records published per second; 0 = no cap (the adaptive window alone limits). */
  drainRate: number;
  /** Largest drain window (spooled records awaiting PUBACK at once); also bounded by half the publisher's window. */
  drainInflight: number;
  /** Periodic metrics (log + retained state), seconds. */
  statsIntervalS: number;
  /** The publisher's window adapts under maxInflight (mqtt.adaptive_inflight; default false). */
  adaptiveInflight?: boolean;
  /** In-flight cap of the express connection for quiet lanes (mqtt.express_inflight; 0 = none). */
  expressInflight?: number;
  now?: () => number;
  random?: () => number;
}

type Kind = 'direct' | 'drain' | 'probe';

interface Watched {
  kind: Kind;
  deadline: number;
  settled: boolean;
  topic: string;
  payload: string | Buffer;
  cb: PublishCallback;
  spooling: boolean;
  epoch: number;
  rec: SpoolRecord | null;
  /** Drain only: when it was sent (PUBACK latency feeds the drain control). */
  sentAt: number;
  /** Counted in unsettledDirect (what flush waits for). */
  counted: boolean;
}

export interface ReliabilityMetrics {
  breaker: string;
  breaker_since: number;
  breaker_reason: string;
  breaker_opens: number;
  spool_records: number;
  spool_bytes: number;
  spool_full: boolean;
  spool_error: string | null;
  oldest_spooled_age_s: number;
  drain_rate: number;
  /** Current adaptive drain window (records awaiting PUBACK at once). */
  drain_window: number;
  /** Current window of every publish, drain included (mqtt.max_inflight when it does not adapt). */
  publish_window: number;
  direct: number;
  spooled: number;
  drained: number;
  timeouts: number;
  spool_write_errors: number;
}

const noop = () => {};
/** Events (non-retained, non-message publishes) held at most while the breaker is open. */
const MAX_HELD_EVENTS = 10_000;

export class ReliablePublisher extends EventEmitter implements MessagePublisher {
  /** The QoS 1 window this composes: every publish to the broker goes through it. */
  readonly window: Publisher;
  readonly breaker: CircuitBreaker;
  readonly spool: Spool;
  private readonly o: ReliableOptions;
  private readonly now: () => number;
  /** Publishes awaiting their PUBACK, in send order (for the timeout); settled ones leave at the next tick. */
  private readonly watch = new Fifo<Watched>();
  private unsettledDirect = 0;
  private drainEpoch = 0;
  private drainInflight = 0;
  private readonly drain: WindowControl;
  private readonly pendingState = new Map<string, { payload: string | Buffer; retain: boolean; cbs: PublishCallback[] }>();
  /** Non-retained events (command lifecycle) held while the breaker is open: each one counts, in order. */
  private pendingEvents: { topic: string; payload: string | Buffer; cb: PublishCallback }[] = [];
  private readonly fullReasons = new Set<string>();
  private readonly tickTimer: NodeJS.Timeout;
  private readonly statsTimer: NodeJS.Timeout;
  private stateTimer: NodeJS.Timeout | null = null;
  private closing = false;
  private lastStatsAt: number;
  private lastDrained = 0;
  private drainRateNow = 0;
  private timeoutLogged = false;
  /**
   * direct: published straight to the broker; spooled: durably written to the spool (a failed
   * write is not counted here but in spoolWriteErrors: records the spool refused, so their frames
   * were not acknowledged); drained: spooled records confirmed by the broker; timeouts: PUBACKs
   * that did not come within publish_timeout_ms.
   */
  readonly counters = { direct: 0, spooled: 0, drained: 0, timeouts: 0, spoolWriteErrors: 0 };

  constructor(url: string, options: IClientOptions, maxInflight: number, maxQueued: number, o: ReliableOptions) {
    super();
    const window = (this.window = new Publisher(url, options, maxInflight, maxQueued, o.adaptiveInflight ?? false, o.expressInflight ?? 0));
    for (const ev of ['up', 'down', 'mqtt-error', 'room'] as const) window.on(ev, (...args: unknown[]) => this.emit(ev, ...args));
    // backpressure: the window's own fullness merges with the spool's
    window.on('full', () => this.setFull('window', true));
    window.on('drain', () => this.setFull('window', false));
    this.o = o;
    this.spool = o.spool;
    this.now = o.now ?? Date.now;
    // at most half the publisher's window: a live publish always finds room
    const maxWindow = Math.max(1, Math.min(o.drainInflight, Math.floor(maxInflight / 2)));
    this.drain = new WindowControl({ maxWindow, rateCap: o.drainRate, now: this.now });
    this.lastStatsAt = this.now();
    const bo: ConstructorParameters<typeof CircuitBreaker>[0] = { probeMinMs: o.probeMinMs, probeMaxMs: o.probeMaxMs, now: this.now };
    if (o.random) bo.random = o.random;
    this.breaker = new CircuitBreaker(bo);
    this.breaker.on('change', (c: BreakerChange) => this.onBreaker(c));
    // our own close() ends the connection on purpose: not a broker failure
    window.on('down', () => !this.closing && this.breaker.failure('connection to the broker lost'));
    window.on('up', () => {
      this.breaker.hint();
      this.pumpDrain();
    });
    this.spool.on('full', () => this.setFull('spool', true));
    this.spool.on('drain', () => this.setFull('spool', false));
    this.spool.on('readable', () => this.pumpDrain());
    this.spool.on('appended', () => this.pumpDrain());
    for (const ev of ['full', 'drain', 'failed', 'recovered', 'empty']) this.spool.on(ev, () => this.stateChanged());
    const tickMs = Math.max(10, Math.min(100, Math.floor(o.publishTimeoutMs / 4)));
    this.tickTimer = setInterval(() => this.tick(), tickMs);
    this.tickTimer.unref();
    this.statsTimer = setInterval(() => this.publishStats(), o.statsIntervalS * 1000);
    this.statsTimer.unref();
    if (this.spool.records > 0) this.stateChanged();
  }

  // ---------- what the window answers ----------

  get client(): MqttClient {
    return this.window.client;
  }

  get connected(): boolean {
    return this.window.connected;
  }

  get queued(): number {
    return this.window.queued;
  }

  hasRoom(): boolean {
    return this.window.hasRoom();
  }

  /** See Publisher.roomBelow. */
  get roomBelow(): number {
    return this.window.roomBelow;
  }

  set roomBelow(n: number) {
    this.window.roomBelow = n;
  }

  get inFlight(): number {
    return this.window.inFlight;
  }

  get expressInFlight(): number {
    return this.window.expressInFlight;
  }

  get onRoundTrip(): ((ms: number, alreadyInFlight: number) => void) | null {
    return this.window.onRoundTrip;
  }

  set onRoundTrip(fn: ((ms: number, alreadyInFlight: number) => void) | null) {
    this.window.onRoundTrip = fn;
  }

  publishLog(topic: string, payload: string): void {
    this.window.publishLog(topic, payload);
  }

  subscribe(filter: string, onMessage: (topic: string, payload: Buffer) => void, qos: 0 | 1 = 1): Promise<void> {
    return this.window.subscribe(filter, onMessage, qos);
  }

  unsubscribe(filter: string, onMessage: (topic: string, payload: Buffer) => void): Promise<void> {
    return this.window.unsubscribe(filter, onMessage);
  }

  waitConnected(timeoutMs: number): Promise<void> {
    return this.window.waitConnected(timeoutMs);
  }

  // ---------- routing ----------

  publish(topic: string, payload: string | Buffer, retain: boolean, cb: PublishCallback, lane = 0, priority = 0): void {
    if (!this.o.topics.isMessage(topic)) {
      this.publishState(topic, payload, retain, cb);
      return;
    }
    const w: Watched = { kind: 'direct', deadline: 0, settled: false, topic, payload, cb, spooling: false, epoch: 0, rec: null, sentAt: 0, counted: false };
    if (this.closing || !this.spool.isEmpty || this.breaker.state !== 'closed' || !this.connected) {
      this.toSpool(w);
      return;
    }
    this.counters.direct++;
    this.unsettledDirect++;
    w.counted = true;
    this.watchIt(w);
    this.window.publish(topic, payload, false, (err) => {
      if (w.settled) return;
      if (!err) {
        this.breaker.success();
        this.settle(w);
        return;
      }
      this.breaker.failure(`publish failed: ${err.message}`);
      if (!w.spooling) this.toSpool(w);
    }, lane, priority);
  }

  /** Retained state and other non-message publishes: direct while closed, else latest value kept. */
  private publishState(topic: string, payload: string | Buffer, retain: boolean, cb: PublishCallback): void {
    if (this.breaker.state === 'closed' && this.connected) {
      this.window.publish(topic, payload, retain, (err) => {
        // abandoned when the breaker opened: keep it for the next close
        if (err && !this.closing && this.breaker.state !== 'closed') this.hold(topic, payload, retain, cb, true);
        else cb(err);
      });
      return;
    }
    this.hold(topic, payload, retain, cb);
  }

  /**
   * While the broker cannot confirm: a retained state keeps only its latest value (that is what a
   * subscriber would get anyway); an event is kept as it is, in order, up to MAX_HELD_EVENTS (beyond
   * that the oldest fails, so memory stays bounded through a long outage).
   */
  private hold(topic: string, payload: string | Buffer, retain: boolean, cb: PublishCallback, abandoned = false): void {
    if (!retain) {
      this.pendingEvents.push({ topic, payload, cb });
      if (this.pendingEvents.length > MAX_HELD_EVENTS) this.pendingEvents.shift()!.cb(new Error('too many events held while the broker is unreachable'));
      return;
    }
    const prev = this.pendingState.get(topic);
    if (prev) {
      // an abandoned publish is older than any value held since: it only adds its callback
      if (!abandoned) prev.payload = payload;
      prev.cbs.push(cb);
    } else this.pendingState.set(topic, { payload, retain, cbs: [cb] });
  }

  private watchIt(w: Watched): void {
    w.deadline = this.now() + this.o.publishTimeoutMs;
    this.watch.push(w);
  }

  private settle(w: Watched, err?: Error): void {
    if (w.settled) return;
    w.settled = true;
    if (w.counted) {
      w.counted = false;
      this.unsettledDirect--;
    }
    const cb = w.cb;
    // the entry waits in `watch` until the next tick: it need not keep the record until then
    w.cb = noop;
    w.payload = '';
    cb(err);
  }

  private toSpool(w: Watched): void {
    w.spooling = true;
    this.spool.append(w.topic, w.payload, (err) => {
      if (err) {
        this.counters.spoolWriteErrors++;
        this.settle(w, err instanceof EdgeError ? err : new EdgeError('EDGE_SPOOL_WRITE_FAILED', String(err)));
      } else {
        this.counters.spooled++;
        this.settle(w);
      }
    });
  }

  // ---------- breaker ----------

  private onBreaker(c: BreakerChange): void {
    const m = this.metrics();
    if (c.state === 'open') {
      this.o.log.warn({ code: 'EDGE_BREAKER_OPEN', reason: c.reason, from: c.from, next_probe_in_ms: (c.nextProbeAtMs ?? 0) - c.atMs, spool_records: m.spool_records }, `EDGE_BREAKER_OPEN: ${c.reason}; messages go to the spool`);
      // stop draining; what was in flight is sent again from the confirmed prefix
      this.drainEpoch++;
      this.drainInflight = 0;
      // and start again from a small window once the broker is back
      this.drain.failed();
      this.spool.rewind();
      // direct publishes still awaiting PUBACK: spool them now instead of waiting for their timeout
      this.watch.forEach((w) => {
        if (w.kind === 'direct' && !w.settled && !w.spooling) this.toSpool(w);
      });
      // everything still queued or unconfirmed in the client is spooled (messages) or kept as
      // pending state: drop it there, or the client would replay it one by one on reconnect
      // before anything new goes out (and every replay is a duplicate)
      this.window.abandonPending('circuit breaker open');
    } else if (c.state === 'closed') {
      this.timeoutLogged = false;
      this.o.log.info({ from: c.from, spool_records: m.spool_records, spool_bytes: m.spool_bytes }, 'circuit breaker closed: publishing to the broker again' + (m.spool_records > 0 ? ', draining the spool' : ''));
      const pending = [...this.pendingState];
      this.pendingState.clear();
      for (const [topic, p] of pending) this.publishState(topic, p.payload, p.retain, (err) => p.cbs.forEach((cb) => cb(err)));
      const events = this.pendingEvents;
      this.pendingEvents = [];
      for (const e of events) this.publishState(e.topic, e.payload, false, e.cb);
      this.pumpDrain();
    } else this.o.log.info({ reason: c.reason }, 'circuit breaker half-open: probing the broker');
    this.stateChanged();
  }

  private probe(): void {
    if (!this.connected) {
      this.breaker.failure('broker not connected');
      return;
    }
    const topic = this.o.topics.reliabilityState('breaker');
    const w: Watched = { kind: 'probe', deadline: 0, settled: false, topic, payload: '', cb: noop, spooling: false, epoch: 0, rec: null, sentAt: 0, counted: false };
    this.watchIt(w);
    this.window.publish(topic, JSON.stringify(this.breakerState()), true, (err) => {
      if (w.settled) return;
      w.settled = true;
      if (this.breaker.state !== 'half_open') return;
      if (err) this.breaker.failure(`probe failed: ${err.message}`);
      else this.breaker.success();
    });
  }

  // ---------- the housekeeping tick: timeouts, probes, drain tokens ----------

  private tick(): void {
    const now = this.now();
    for (let w = this.watch.peek(); w !== undefined; w = this.watch.peek()) {
      if (!w.settled && !(w.kind === 'direct' && w.spooling)) {
        if (w.deadline > now) break;
        this.timedOut(w);
      }
      this.watch.shift();
    }
    if (this.breaker.tick()) this.probe();
    // after a disk error, try the disk again even when no record needs the spool (clears spool_error)
    this.spool.retryDisk();
    this.pumpDrain();
  }

  private timedOut(w: Watched): void {
    this.counters.timeouts++;
    const reason = `no PUBACK within ${this.o.publishTimeoutMs} ms`;
    if (!this.timeoutLogged) {
      this.timeoutLogged = true;
      this.o.log.warn({ code: 'EDGE_PUBLISH_TIMEOUT', kind: w.kind, topic: w.topic }, `EDGE_PUBLISH_TIMEOUT: ${reason}`);
    }
    if (w.kind === 'probe') {
      w.settled = true;
      if (this.breaker.state === 'half_open') this.breaker.failure(`probe: ${reason}`);
      return;
    }
    if (w.kind === 'drain') {
      w.settled = true;
      if (w.epoch === this.drainEpoch) this.breaker.failure(reason);
      return;
    }
    this.breaker.failure(reason);
    if (!w.spooling && !w.settled) this.toSpool(w);
  }

  // ---------- drain ----------

  private pumpDrain(): void {
    if (this.breaker.state !== 'closed' || !this.connected || this.closing || this.spool.records === 0) return;
    // Live first: publishes queued for the window go before any more spooled records, and the
    // drain only ever sends into free room, so it never sits in the queue in front of them.
    while (this.window.queued === 0 && this.window.room() > 0 && this.drain.allowance(this.drainInflight) > 0) {
      const rec = this.spool.next();
      if (!rec) return;
      this.drain.sent();
      this.drainInflight++;
      const epoch = this.drainEpoch;
      const w: Watched = { kind: 'drain', deadline: 0, settled: false, topic: rec.topic, payload: '', cb: noop, spooling: false, epoch, rec, sentAt: this.now(), counted: false };
      this.watchIt(w);
      this.window.publish(rec.topic, rec.payload, false, (err) => {
        if (w.settled) return;
        w.settled = true;
        if (epoch !== this.drainEpoch) return;
        this.drainInflight--;
        if (err) {
          this.breaker.failure(`drain publish failed: ${err.message}`);
          return;
        }
        this.drain.confirmed(this.now() - w.sentAt);
        this.breaker.success();
        this.spool.ack(rec);
        this.counters.drained++;
        this.pumpDrain();
      });
    }
  }

  // ---------- backpressure ----------

  private setFull(reason: string, full: boolean): void {
    const before = this.fullReasons.size;
    if (full) this.fullReasons.add(reason);
    else this.fullReasons.delete(reason);
    if (before === 0 && this.fullReasons.size > 0) this.emit('full');
    else if (before > 0 && this.fullReasons.size === 0) this.emit('drain');
  }

  get isFull(): boolean {
    return this.fullReasons.size > 0;
  }

  // ---------- metrics ----------

  private breakerState(): Record<string, unknown> {
    return { state: this.breaker.state, since: this.breaker.since / 1000, reason: this.breaker.lastReason, opens: this.breaker.opens, timestamp: this.now() / 1000 };
  }

  metrics(): ReliabilityMetrics {
    const oldest = this.spool.oldestAtMs;
    return {
      breaker: this.breaker.state,
      breaker_since: this.breaker.since / 1000,
      breaker_reason: this.breaker.lastReason,
      breaker_opens: this.breaker.opens,
      spool_records: this.spool.records,
      spool_bytes: this.spool.bytes,
      spool_full: this.spool.isFull,
      spool_error: this.spool.error?.message ?? null,
      oldest_spooled_age_s: oldest === null ? 0 : Math.max(0, (this.now() - oldest) / 1000),
      drain_rate: this.drainRateNow,
      drain_window: this.drain.window,
      publish_window: this.window.windowSize,
      direct: this.counters.direct,
      spooled: this.counters.spooled,
      drained: this.counters.drained,
      timeouts: this.counters.timeouts,
      spool_write_errors: this.counters.spoolWriteErrors,
    };
  }

  private publishStats(): void {
    const now = this.now();
    const dt = (now - this.lastStatsAt) / 1000;
    if (dt > 0) this.drainRateNow = Math.round((this.counters.drained - this.lastDrained) / dt);
    this.lastStatsAt = now;
    this.lastDrained = this.counters.drained;
    const m = this.metrics();
    this.o.log.info({ reliability: m }, 'reliability');
    this.publishRetained(m);
  }

  /** Something changed (breaker, spool full/empty/failed): publish the retained state within 1 s. */
  private stateChanged(): void {
    if (this.stateTimer || this.closing) return;
    this.stateTimer = setTimeout(() => {
      this.stateTimer = null;
      this.publishRetained(this.metrics());
    }, 250);
    this.stateTimer.unref();
  }

  /** Resync (src/mqtt/state-resync.ts): the breaker and spool state again. */
  republishState(): number {
    this.publishRetained(this.metrics());
    return 2;
  }

  private publishRetained(m: ReliabilityMetrics): void {
    const t = this.o.topics;
    this.publishState(t.reliabilityState('breaker'), JSON.stringify(this.breakerState()), true, noop);
    const spool: Record<string, unknown> = { ...m, timestamp: this.now() / 1000 };
    for (const k of ['breaker', 'breaker_since', 'breaker_reason', 'breaker_opens']) delete spool[k];
    // published names are dotted lower-case like every payload (spool_records → spool.records)
    this.publishState(t.reliabilityState('spool'), JSON.stringify(dotted(spool)), true, noop);
  }

  // ---------- shutdown ----------

  /** Waits until every message callback fired (PUBACK or durable spool write), then for drain PUBACKs. */
  async flush(timeoutMs: number): Promise<boolean> {
    const deadline = this.now() + timeoutMs;
    const busy = () => this.unsettledDirect > 0 || this.spool.pendingAppends > 0;
    while (busy() && this.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    if (this.breaker.state === 'closed' && this.connected) await this.window.flush(Math.max(0, Math.min(deadline - this.now(), 2000)));
    return !busy();
  }

  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.tickTimer);
    clearInterval(this.statsTimer);
    if (this.stateTimer) clearTimeout(this.stateTimer);
    await this.window.close();
    await this.spool.close();
  }
}
