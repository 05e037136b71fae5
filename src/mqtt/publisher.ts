// first: mqtt-packet's loggers are created when mqtt / aedes load (quiet-packet-debug.ts)
import './quiet-packet-debug.js';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { readFileSync } from 'node:fs';
import { FairQueue } from './fair-queue.js';
import { InflightStore } from './inflight-store.js';
import { InboundRouter } from './inbound-router.js';
import { WindowControl } from '../util/window-control.js';

/**
 * QoS 1 publisher with a bounded in-flight window. `publish` calls back when the broker's PUBACK
 * arrives, which is what the runtime waits for before acknowledging a device frame.
 *
 * Why our own window: MQTT.js writes every publish to the socket at once; under after-load that
 * means unbounded memory and no backpressure signal. Here at most `maxInflight` publishes await
 * PUBACK; the rest queue, and beyond `maxQueued` the publisher emits 'full' (the channels pause
 * their device sockets) and 'drain' once the queue is under half again.
 *
 * With `adaptive` (mqtt.adaptive_inflight) the window adapts under `maxInflight`
 * (util/window-control.ts, delay-based): it grows while PUBACKs come back near their floor and
 * shrinks once they queue at the broker. The broker serves a connection's publishes in order, so a
 * full window of 1,000 at ~20,000 publishes/s puts ~50 ms of queue in front of every message, a
 * live device's too; queued here instead, a live device's message overtakes the storm
 * (fair-queue.ts). It is off by default: on a saturated box the smaller window cost about 7 % of
 * the throughput and drained a storm more slowly (bench/README.md, "Fifth pass"), for a live p99
 * about half as long.
 *
 * The express connection (mqtt.express_inflight > 0) is the other way past that queue: a second
 * client, publishing only, for the messages of connections that send little (their `priority`,
 * the recently attained service, under half the running mean: a live device among devices flushing
 * a black box). The broker reads each connection's publishes in order but serves its connections
 * in turn, so such a message no longer waits behind the main connection's full window, and the
 * main window stays fixed at max_inflight for throughput (bench/README.md, "Sixth pass"). A lane
 * keeps its order: it switches connection only when nothing of it is pending on the other one.
 */
export type PublishCallback = (err?: Error) => void;

/**
 * What the runtime publishes through: the plain QoS 1 Publisher, or the ReliablePublisher that
 * composes one with a breaker, a spool and a drain (src/reliability/). Events: 'up', 'down',
 * 'mqtt-error', 'full'/'drain' for backpressure (device sockets), and 'room' after `hasRoom()`
 * said no (the decode pool goes on).
 */
export interface MessagePublisher extends EventEmitter {
  readonly client: MqttClient;
  readonly connected: boolean;
  readonly isFull: boolean;
  readonly queued: number;
  /**
   * Whether the queue behind the window is short enough for the decode pool to hand over more
   * messages (under `roomBelow`). False also arms one 'room' event, emitted once it is.
   */
  hasRoom(): boolean;
  /** The queue length `hasRoom` compares with (Infinity: always room). */
  roomBelow: number;
  /** Publishes awaiting PUBACK right now on the main connection (the window). */
  readonly inFlight: number;
  /** Publishes awaiting PUBACK on the express connection (mqtt.express_inflight; 0 without one). */
  readonly expressInFlight: number;
  /** PUBACK round trips at low load (fewer than 8 already in flight) for the delayed-ACK check; null = not measured. */
  onRoundTrip: ((ms: number, alreadyInFlight: number) => void) | null;
  publish(topic: string, payload: string | Buffer, retain: boolean, cb: PublishCallback, lane?: number, priority?: number): void;
  publishLog(topic: string, payload: string): void;
  subscribe(filter: string, onMessage: (topic: string, payload: Buffer) => void, qos?: 0 | 1): Promise<void>;
  /** Ends a subscription made by `subscribe` with this handler (the broker's one once no handler wants the filter). */
  unsubscribe(filter: string, onMessage: (topic: string, payload: Buffer) => void): Promise<void>;
  waitConnected(timeoutMs: number): Promise<void>;
  flush(timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * MQTT.js calls its `debug` logger ~15 times per QoS 1 publish and PUBACK, arguments evaluated even
 * when debug output is off (1.3 % of the main thread under e2e load, issue #15's profile). Unless
 * DEBUG asks for mqttjs output, the client gets a no-op logger.
 */
const mqttDebugWanted = /mqttjs|^\*$/.test(process.env.DEBUG ?? '');
const noLog = (): void => {};
/** Publishes per write at most (~70 KB of 1 KB messages): batching without holding a long turn's first ones. */
const CORK_MAX = 64;

interface Queued {
  topic: string;
  payload: string | Buffer;
  retain: boolean;
  cb: PublishCallback;
  lane: number;
}

/** A lane goes express when its priority is under the running mean divided by this (decode-pool.ts uses the same). */
const EXPRESS_URGENT_RATIO = 2;
/** Lanes tracked before the zero entries are swept (as in fair-queue.ts). */
const SPARE_LANE_COUNTS = 4096;

/** Reconnect delay after the first failure, and its ceiling (doubling: 1, 2, 4, ... 30 s). */
export const RECONNECT_MIN_MS = 1000;
export const RECONNECT_MAX_MS = 30_000;

/** The delay before the next reconnect attempt after one at `currentMs` failed (never below `baseMs`). */
export function nextReconnectMs(currentMs: number, baseMs = RECONNECT_MIN_MS): number {
  return Math.max(baseMs, Math.min(RECONNECT_MAX_MS, currentMs * 2));
}

/**
 * Reconnect backoff: mqtt.js retries at a fixed options.reconnectPeriod, read when a closed
 * connection or failed attempt schedules the next one. A lost connection is retried after the
 * minimum; each failed attempt doubles the delay (prepended, so it is set before mqtt.js
 * schedules: `connected` still tells which of the two closed).
 */
function reconnectWithBackoff(client: MqttClient, basePeriod: number): void {
  client.prependListener('close', () => {
    const p = client.options.reconnectPeriod;
    if (p) client.options.reconnectPeriod = client.connected ? basePeriod : nextReconnectMs(p, basePeriod);
  });
  client.on('connect', () => {
    if (client.options.reconnectPeriod) client.options.reconnectPeriod = basePeriod;
  });
}

export class Publisher extends EventEmitter implements MessagePublisher {
  readonly client: MqttClient;
  private inflight = 0;
  /** Publishes waiting behind the window, one lane per device connection (served round-robin). */
  private readonly queue = new FairQueue<Queued>();
  private full = false;
  private readonly inbound = new InboundRouter();
  private readonly filters: { filter: string; qos: 0 | 1 }[] = [];
  /** PUBACK round trips at low load (fewer than 8 already in flight) for the delayed-ACK check; null = not measured. */
  onRoundTrip: ((ms: number, alreadyInFlight: number) => void) | null = null;
  /** The socket corked by `send` until the end of this event-loop turn (null: not corked). */
  private corked: Socket | null = null;
  /** Publishes written into the corked socket so far. */
  private corkedCount = 0;
  private readonly uncork = (): void => {
    const s = this.corked;
    this.corked = null;
    if (s && !s.destroyed) s.uncork();
  };

  /**
   * Queued publishes under which `hasRoom()` says yes. The runtime sets it: frames then wait
   * undecoded in the decode pool (bytes, ordered by urgency) rather than as messages here (ten
   * strings and objects per storm frame that outlive young collections; bench/README.md "Fourth pass").
   */
  roomBelow = Infinity;
  private roomWanted = false;
  /** True while `pump` runs (see there). */
  private pumping = false;
  /** The adaptive window under maxInflight (null: fixed at maxInflight). */
  private readonly window: WindowControl | null;
  /** The express connection (null: mqtt.express_inflight is 0). */
  readonly express: MqttClient | null = null;
  private expressInflight = 0;
  /** Messages sent on the express connection (for metrics and the bench). */
  expressSent = 0;
  /**
   * Per lane, what is pending (queued or awaiting PUBACK): n > 0 on the main connection, -n on the
   * express one. Only kept while the express connection exists; a lane never has both.
   */
  private readonly lanePending = new Map<number, number>();
  /** `lanePending` is swept of its zero entries when it reaches this size (then twice what is left). */
  private sweepLanesAt = SPARE_LANE_COUNTS;
  private meanPriority = -1;

  constructor(
    url: string,
    options: IClientOptions,
    private readonly maxInflight: number,
    private readonly maxQueued: number,
    adaptive = false,
    private readonly expressMax = 0,
  ) {
    super();
    // the floor of 32 keeps a slow first round from starving a start-up burst
    this.window = adaptive && maxInflight > 32 ? new WindowControl({ maxWindow: maxInflight, minWindow: 32, rateCap: 0 }) : null;
    // the given period is the first delay (1 s from mqttClientOptions; tests pass shorter ones)
    const basePeriod = options.reconnectPeriod ?? RECONNECT_MIN_MS;
    // the QoS 1 window in an array store, not MQTT.js's Map: see inflight-store.ts (garbage collection)
    const withStore: IClientOptions = { outgoingStore: new InflightStore(), ...options };
    this.client = connect(url, mqttDebugWanted || options.log ? withStore : { ...withStore, log: noLog });
    this.client.on('connect', () => {
      // Nagle + delayed ACK on a QoS 1 window stalls every round trip by up to 40 ms.
      const stream = this.client.stream as unknown as Socket;
      if (typeof stream.setNoDelay === 'function') stream.setNoDelay(true);
      // clean sessions: every (re)connect subscribes again
      for (const f of this.filters) this.sendSubscribe(f.filter, f.qos).catch((e: Error) => this.emit('mqtt-error', e));
      this.emit('up');
    });
    reconnectWithBackoff(this.client, basePeriod);
    this.client.on('close', () => this.emit('down'));
    this.client.on('message', (topic, payload) => this.inbound.dispatch(topic, payload));
    this.client.on('error', (e) => this.emit('mqtt-error', e));
    if (expressMax > 0) this.express = this.connectExpress(url, options);
  }

  /**
   * The express client: the main one's settings with its own id (`-x`) and no last will (the will
   * is the instance's `online false`, which must not follow this connection). It only publishes;
   * its state ('up'/'down') is not the instance's: while it is down, lanes simply stay on the main
   * connection, and what it had in flight is resent when it is back (or spooled on timeout).
   */
  private connectExpress(url: string, options: IClientOptions): MqttClient {
    const id = `${options.clientId ?? 'edge-channel'}-x`;
    const o: IClientOptions = { outgoingStore: new InflightStore(), ...options, clientId: id };
    delete o.will;
    if (!(mqttDebugWanted || options.log)) o.log = noLog;
    const c = connect(url, o);
    reconnectWithBackoff(c, options.reconnectPeriod ?? RECONNECT_MIN_MS);
    // An error of this connection is reported once until it connects again: a broker that refuses
    // the second client id (an ACL) would otherwise log at every retry while the main one works.
    let reported = '';
    c.on('connect', () => {
      reported = '';
      const stream = c.stream as unknown as Socket;
      if (typeof stream.setNoDelay === 'function') stream.setNoDelay(true);
    });
    c.on('error', (e) => {
      if (e.message === reported) return;
      reported = e.message;
      this.emit('mqtt-error', new Error(`express connection ${id}: ${e.message} (quiet devices' messages use the main connection meanwhile)`));
    });
    return c;
  }

  get connected(): boolean {
    return this.client.connected;
  }

  get queued(): number {
    return this.queue.size;
  }

  get inFlight(): number {
    return this.inflight;
  }

  get expressInFlight(): number {
    return this.expressInflight;
  }

  get isFull(): boolean {
    return this.full;
  }

  hasRoom(): boolean {
    if (this.queue.size < this.roomBelow) return true;
    this.roomWanted = true;
    return false;
  }

  /** Publishes allowed in flight right now (maxInflight when the window is fixed). */
  get windowSize(): number {
    return this.window ? this.window.window : this.maxInflight;
  }

  /**
   * Publishes that may go out now without queueing. A caller that sends only into this room (the
   * spool's drain) reaches the window's limit through it, which is what lets the window grow.
   */
  room(): number {
    return this.window ? this.window.allowance(this.inflight) : this.maxInflight - this.inflight;
  }

  private open(): boolean {
    return this.room() > 0;
  }

  /** Resolves once connected, or rejects after timeoutMs (the client keeps retrying regardless). */
  waitConnected(timeoutMs: number): Promise<void> {
    if (this.client.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.off('up', ok);
        reject(new Error(`no connection to the MQTT broker within ${timeoutMs} ms`));
      }, timeoutMs);
      const ok = () => {
        clearTimeout(t);
        resolve();
      };
      this.once('up', ok);
    });
  }

  /**
   * QoS 1 publish; cb fires on PUBACK (or with an error if the client is closed). `lane` groups
   * publishes that must keep their order (a device connection); lanes share the window fairly, and
   * `priority` (the connection's recently attained service) lets a quiet lane overtake busy ones.
   */
  publish(topic: string, payload: string | Buffer, retain: boolean, cb: PublishCallback, lane = 0, priority = 0): void {
    if (this.express !== null && lane !== 0) {
      const p = this.lanePending.get(lane) ?? 0;
      this.meanPriority = this.meanPriority < 0 ? priority : this.meanPriority + (priority - this.meanPriority) / 256;
      if (p < 0 || (p === 0 && this.expressInflight < this.expressMax && priority * EXPRESS_URGENT_RATIO < this.meanPriority && this.express.connected)) {
        this.lanePending.set(lane, p - 1);
        this.sendExpress(topic, payload, retain, cb, lane);
        return;
      }
      if (p === 0 && this.lanePending.size >= this.sweepLanesAt) this.sweepLanes();
      this.lanePending.set(lane, p + 1);
    }
    if (this.queue.size === 0 && this.open()) {
      this.send(topic, payload, retain, cb, lane);
      return;
    }
    this.queue.push(lane, { topic, payload, retain, cb, lane }, priority);
    if (!this.full && this.queued > this.maxQueued) {
      this.full = true;
      this.emit('full');
    }
  }

  /**
   * Inbound: subscribes with QoS 1 and routes matching messages to `onMessage`. When connected,
   * resolves once the broker granted the subscription; every later connect subscribes again.
   */
  async subscribe(filter: string, onMessage: (topic: string, payload: Buffer) => void, qos: 0 | 1 = 1): Promise<void> {
    this.inbound.add(filter, onMessage);
    this.filters.push({ filter, qos });
    // not connected: the next connect subscribes (start-up must not wait for the broker)
    if (this.client.connected) await this.sendSubscribe(filter, qos);
  }

  /**
   * Ends one `subscribe` (the same filter and handler). The broker's subscription ends once no
   * other handler holds the filter, so a feature that subscribes only while someone looks (the web
   * console's live feed) costs nothing once it unsubscribed.
   */
  async unsubscribe(filter: string, onMessage: (topic: string, payload: Buffer) => void): Promise<void> {
    if (!this.inbound.remove(filter, onMessage)) return;
    const i = this.filters.findIndex((f) => f.filter === filter);
    if (i >= 0) this.filters.splice(i, 1);
    if (this.filters.some((f) => f.filter === filter) || !this.client.connected) return;
    await this.client.unsubscribeAsync(filter);
  }

  private async sendSubscribe(filter: string, qos: 0 | 1): Promise<void> {
    const granted = await this.client.subscribeAsync(filter, { qos });
    if (granted.some((g) => g.qos === 128)) throw new Error(`the broker refused the subscription to ${filter}`);
  }

  /** Fire-and-forget QoS 0 (log events): not worth a PUBACK round trip, never blocks data. */
  publishLog(topic: string, payload: string): void {
    if (this.client.connected) this.client.publish(topic, payload, { qos: 0 });
  }

  /** One lane's message on the express connection (no window of its own beyond expressMax for new lanes). */
  private sendExpress(topic: string, payload: string | Buffer, retain: boolean, cb: PublishCallback, lane: number): void {
    this.expressInflight++;
    this.expressSent++;
    this.express!.publish(topic, payload, { qos: 1, retain }, (err) => {
      this.expressInflight--;
      this.laneDone(lane, 1);
      cb(err ?? undefined);
    });
  }

  /** A lane's message left its connection (confirmed or failed): +1 for express, -1 for main. */
  private laneDone(lane: number, step: number): void {
    const p = this.lanePending.get(lane);
    if (p !== undefined) this.lanePending.set(lane, p + step);
  }

  /** Drops the lanes with nothing pending (connections gone or idle), keeping the map bounded. */
  private sweepLanes(): void {
    for (const [k, n] of this.lanePending) if (n === 0) this.lanePending.delete(k);
    // more lanes than that with messages pending: the next sweep waits until the map doubles
    this.sweepLanesAt = Math.max(SPARE_LANE_COUNTS, this.lanePending.size * 2);
  }

  private send(topic: string, payload: string | Buffer, retain: boolean, cb: PublishCallback, lane: number): void {
    const before = this.inflight;
    const t0 = this.window || (this.onRoundTrip && before < 8) ? performance.now() : -1;
    this.inflight++;
    // One write per event-loop turn for every PUBLISH of that turn, instead of one per publish:
    // mqtt-packet corks the socket per packet and uncorks on the next tick, and PUBACKs are handled
    // one per tick, so each publish released by a PUBACK was its own writev (20 % of the main
    // thread at 4 records per frame, bench/README.md). setImmediate runs after this turn's I/O.
    // A long turn (an after-load storm) must not hold its first publishes until its end: the
    // socket is uncorked every CORK_MAX publishes as well.
    if (this.corked === null) {
      const s = this.client.stream as unknown as Socket | undefined;
      if (s && typeof s.cork === 'function' && !s.destroyed && this.client.connected) {
        s.cork();
        this.corked = s;
        this.corkedCount = 0;
        setImmediate(this.uncork);
      }
    } else if (++this.corkedCount >= CORK_MAX) this.uncork();
    this.client.publish(topic, payload, { qos: 1, retain }, (err) => {
      this.inflight--;
      if (lane !== 0 && this.express !== null) this.laneDone(lane, -1);
      if (t0 >= 0) {
        const ms = performance.now() - t0;
        if (err) this.window?.failed();
        else {
          this.window?.confirmed(ms);
          if (before < 8) this.onRoundTrip?.(ms, before);
        }
      }
      cb(err ?? undefined);
      this.pump();
    });
  }

  private pump(): void {
    // MQTT.js calls back synchronously when it refuses a publish (the client is ending): without
    // this guard each refusal would pump the next one from inside its callback, one stack frame
    // per queued publish, and a long queue overflowed the stack
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.queue.size > 0 && this.open()) {
        const q = this.queue.shift()!;
        this.send(q.topic, q.payload, q.retain, q.cb, q.lane);
      }
    } finally {
      this.pumping = false;
    }
    if (this.roomWanted && this.queue.size < this.roomBelow) {
      this.roomWanted = false;
      this.emit('room');
    }
    if (this.full && this.queued < this.maxQueued / 2) {
      this.full = false;
      this.emit('drain');
    }
  }

  /**
   * Fails every publish still waiting behind the window (callbacks get an error) and drops the
   * client's unconfirmed QoS 1 publishes, so nothing is replayed when the connection returns. For
   * the reliable publisher only, when its breaker opens: it has already spooled those messages.
   */
  abandonPending(reason: string): void {
    for (const e of this.queue.takeAll()) {
      if (e.lane !== 0 && this.express !== null) this.laneDone(e.lane, -1);
      e.cb(new Error(reason));
    }
    for (const c of this.express ? [this.client, this.express] : [this.client]) {
      for (const [id, o] of Object.entries(c.outgoing)) if (o.cmd === 'publish') c.removeOutgoingMessage(Number(id));
    }
    if (this.roomWanted) {
      this.roomWanted = false;
      this.emit('room');
    }
    if (this.full) {
      this.full = false;
      this.emit('drain');
    }
  }


  /** Waits for every queued and in-flight publish to be confirmed (or timeoutMs). */
  async flush(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while ((this.inflight > 0 || this.expressInflight > 0 || this.queued > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    return this.inflight === 0 && this.expressInflight === 0 && this.queued === 0;
  }

  close(): Promise<void> {
    const ends = [this.client, ...(this.express ? [this.express] : [])].map((c) => new Promise<void>((resolve) => c.end(false, {}, () => resolve())));
    return Promise.all(ends).then(() => undefined);
  }
}

/**
 * Client options from the config. The client id is `{client_id}-{suffix}` where the runtime passes
 * the instance id: stable across restarts and distinct per replica (a pid is 1 in every container,
 * and two clients with one id take over each other's session). `will` is the last will (the
 * instance's retained `online false`).
 */
/**
 * What the client options are made of (the config's `mqtt` section has this shape); declared here so
 * the MQTT layer does not depend on the configuration schema (ARCHITECTURE.md §2, layers).
 */
export interface MqttClientSettings {
  client_id: string;
  username?: string | undefined;
  password?: string | undefined;
  tls?: { ca?: string | undefined; cert?: string | undefined; key?: string | undefined; reject_unauthorized: boolean } | undefined;
}

export function mqttClientOptions(cfg: MqttClientSettings, clientIdSuffix: string, will?: IClientOptions['will']): IClientOptions {
  const o: IClientOptions = {
    clientId: `${cfg.client_id}-${clientIdSuffix}`,
    clean: true,
    reconnectPeriod: RECONNECT_MIN_MS,
    connectTimeout: 10_000,
    keepalive: 30,
    protocolVersion: 4,
  };
  if (will) o.will = will;
  if (cfg.username !== undefined) o.username = cfg.username;
  if (cfg.password !== undefined) o.password = cfg.password;
  if (cfg.tls) {
    o.rejectUnauthorized = cfg.tls.reject_unauthorized;
    if (cfg.tls.ca) o.ca = readFileSync(cfg.tls.ca);
    if (cfg.tls.cert) o.cert = readFileSync(cfg.tls.cert);
    if (cfg.tls.key) o.key = readFileSync(cfg.tls.key);
  }
  return o;
}
