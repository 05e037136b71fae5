import { monitorEventLoopDelay } from 'node:perf_hooks';
/**
 * The load generator, run as a child process of a bench (see load-child.ts): simulated devices
 * (stop-and-wait, like real trackers: the next frame goes out when the previous one's ACK is
 * back), the MQTT subscriber that counts what reached the broker, idle connections and the
 * after-load storm. It is deliberately lean (no promise or timer per frame, latencies in a
 * Float64Array) because on 2 cores every cycle it burns is taken from the server under test.
 */
import { connect, type Socket } from 'node:net';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connectAsync, type MqttClient } from 'mqtt';
import { IMEI, RECORDS_ACK, deviceRecordsFrame, recordsRangeFrame } from './ruptela-frames.js';
import { JT808_TERMINAL_BASE, deviceLocationFrame } from './jt808-frames.js';
import { teltonikaAck, teltonikaAvlFrame, teltonikaLogin } from './teltonika-frames.js';
import { Samples, summarize, sleep } from './stats.js';
import { stallTimeline, type SlowAck } from './stall-trace.js';
import { startEcho, startPinger, startRelay, type Pinger } from './hop-probe.js';
import type {
  DevicesResult, DevicesSpec, IdentifyResult, IdleResult, IdleSpec, LiveResult, LiveSpec, LoadEvent, LoadMessage, LoadReply, LoadRequest, StormResult, StormSpec, SubStats, TrackSpec,
} from './load-protocol.js';

const ACK = Buffer.from(RECORDS_ACK);
const now = (): number => performance.now();
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Matches a fixed ACK (default: the 6-byte Ruptela records ACK) in a TCP byte stream; calls onAck per complete ACK. */
class AckMatcher {
  /** Bytes that were not part of an ACK, over all matchers (there should be none). */
  static mismatches = 0;
  private at = 0;
  constructor(private readonly onAck: () => void, private readonly ack: Uint8Array = ACK) {}
  push(d: Buffer): void {
    const ack = this.ack;
    for (let i = 0; i < d.length; i++) {
      if (d[i] === ack[this.at]) {
        if (++this.at === ack.length) {
          this.at = 0;
          this.onAck();
        }
      } else {
        AckMatcher.mismatches++;
        this.at = d[i] === ack[0] ? 1 : 0;
      }
    }
  }
}

/** A Teltonika IMEI login: resolves true once the server accepted it (0x01), false on anything else. */
function teltonikaLoggedIn(s: Socket, device: number): Promise<boolean> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), 10_000);
    s.once('data', (b: Buffer) => {
      clearTimeout(t);
      resolve(b.length === 1 && b[0] === 0x01);
    });
    s.write(teltonikaLogin(device));
  });
}

/**
 * jt808 replies carry the platform serial, so they are not one fixed byte string: every reply is one
 * 7E-delimited 0x8001 frame. Counts closing delimiters (every second 7E) and checks the message id.
 */
class Jt808ReplyCounter {
  private inFrame = false;
  private pos = 0;
  private id = 0;
  constructor(private readonly onAck: () => void) {}
  push(d: Buffer): void {
    for (let i = 0; i < d.length; i++) {
      const b = d[i]!;
      if (b === 0x7e) {
        if (this.inFrame) {
          if (this.id === 0x8001) this.onAck();
          else AckMatcher.mismatches++;
        }
        this.inFrame = !this.inFrame;
        this.pos = 0;
        this.id = 0;
      } else if (this.inFrame && this.pos < 2) {
        this.id = (this.id << 8) | b; // the message id is never escaped for 0x8001
        this.pos++;
      }
    }
  }
}

async function withConcurrency<T>(n: number, limit: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  const lane = async () => {
    while (next < n) {
      const i = next++;
      out[i] = await fn(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, n) }, lane));
  return out;
}

function tcpConnect(host: string, port: number, localAddress?: string): Promise<{ socket: Socket | null; ms: number; error?: string }> {
  const t0 = now();
  return new Promise((resolve) => {
    const s = connect(localAddress ? { host, port, noDelay: true, localAddress } : { host, port, noDelay: true });
    s.once('connect', () => resolve({ socket: s, ms: now() - t0 }));
    s.once('error', (e: NodeJS.ErrnoException) => resolve({ socket: null, ms: now() - t0, error: e.code ?? e.message }));
  });
}

// ---------------------------------------------------------------- devices (e2e)

interface Dev {
  frames: Buffer[];
  next: number;
  sentAt: number;
  waiting: boolean;
  timedOut: boolean;
  due: number;
  write(b: Buffer): void;
  close(): void;
}

async function runDevices(spec: DevicesSpec): Promise<DevicesResult> {
  const devs: Dev[] = [];
  let phase: 'warmup' | 'measure' | 'drain' = 'warmup';
  let framesAcked = 0;
  let recordsAcked = 0;
  let timeouts = 0;
  let closed = 0;
  let retransmits = 0;
  let connectFailed = 0;
  const lat = new Samples();
  const interval = spec.rateFps > 0 ? (spec.devices / spec.rateFps) * 1000 : 0;
  let drained: (() => void) | null = null;
  let waitingCount = 0;
  const mismatches0 = AckMatcher.mismatches;
  const traceSlow = spec.traceSlowMs ?? 0;
  const slow: SlowAck[] = [];

  const send = (d: Dev) => {
    if (phase === 'drain' || d.waiting) return;
    d.sentAt = now();
    d.waiting = true;
    d.timedOut = false;
    waitingCount++;
    d.write(d.frames[d.next]!);
    d.next = (d.next + 1) % d.frames.length;
  };
  const onAck = (d: Dev) => {
    if (!d.waiting) return;
    const t = now();
    d.waiting = false;
    waitingCount--;
    if (phase === 'measure') {
      framesAcked++;
      recordsAcked += spec.recordsPerFrame;
      lat.push(t - d.sentAt);
      if (traceSlow > 0 && t - d.sentAt > traceSlow && slow.length < 100_000) slow.push({ sentMs: performance.timeOrigin + d.sentAt, latencyMs: t - d.sentAt });
    }
    if (phase === 'drain') {
      if (waitingCount === 0) drained?.();
      return;
    }
    if (interval === 0) send(d);
    else {
      // Offered load: no catch-up bursts after a slow ACK (a late device simply sends later).
      d.due = Math.max(d.due + interval, t - interval);
      if (d.due <= t) send(d);
      else setTimeout(send, d.due - t, d);
    }
  };

  const jt808 = spec.protocol === 'jt808';
  const teltonika = spec.protocol === 'teltonika';
  const frameOf = (i: number, k: number): Uint8Array =>
    jt808 ? deviceLocationFrame(JT808_TERMINAL_BASE + i, k, spec.recordsPerFrame)
      : teltonika ? teltonikaAvlFrame(k, spec.recordsPerFrame)
        : deviceRecordsFrame(spec.imeiBase + i, k, spec.recordsPerFrame, spec.ioCount ?? 12, spec.extended ?? false);
  const framesFor = (i: number) => Array.from({ length: spec.distinctFrames }, (_, k) => Buffer.from(frameOf(i, k)));
  const t0 = now();
  if (spec.transport === 'tcp') {
    await withConcurrency(spec.devices, spec.connectConcurrency, async (i) => {
      const frames = framesFor(i);
      const c = await tcpConnect(spec.host, spec.port);
      if (!c.socket) {
        connectFailed++;
        return;
      }
      const s = c.socket;
      if (teltonika && !(await teltonikaLoggedIn(s, i))) {
        connectFailed++;
        s.destroy();
        return;
      }
      const d: Dev = { frames, next: 0, sentAt: 0, waiting: false, timedOut: false, due: 0, write: (b) => s.write(b), close: () => s.destroy() };
      const m = jt808 ? new Jt808ReplyCounter(() => onAck(d)) : new AckMatcher(() => onAck(d), teltonika ? teltonikaAck(spec.recordsPerFrame) : ACK);
      s.on('data', (b: Buffer) => m.push(b));
      s.on('error', () => {});
      s.on('close', () => {
        if (phase !== 'drain') closed++;
      });
      devs.push(d);
    });
  } else {
    for (let i = 0; i < spec.devices; i++) {
      const sock: UdpSocket = createSocket('udp4');
      await new Promise<void>((r) => sock.connect(spec.port, spec.host, r));
      const d: Dev = { frames: framesFor(i), next: 0, sentAt: 0, waiting: false, timedOut: false, due: 0, write: (b) => sock.send(b), close: () => sock.close() };
      sock.on('message', (m) => {
        if (m.length === ACK.length && m.equals(ACK)) onAck(d);
      });
      sock.on('error', () => {});
      devs.push(d);
    }
  }
  const connectMs = now() - t0;

  const sweep = setInterval(() => {
    const t = now();
    for (const d of devs) {
      if (d.waiting && t - d.sentAt > spec.ackTimeoutMs) {
        if (!d.timedOut) timeouts++;
        d.timedOut = true;
        if (spec.transport === 'udp' && phase !== 'drain') {
          // A UDP device resends an unacknowledged datagram (the channel drops what it cannot take).
          retransmits++;
          d.sentAt = t;
          d.write(d.frames[(d.next + d.frames.length - 1) % d.frames.length]!);
        }
      }
    }
  }, 100);

  // Staggered start so a rate-limited run does not begin with one burst of every device.
  const start = now();
  devs.forEach((d, i) => {
    if (interval === 0) send(d);
    else {
      const off = (i / devs.length) * interval;
      d.due = start + off;
      setTimeout(send, off, d);
    }
  });
  await sleep(spec.warmupMs);
  process.send?.({ event: 'measure-start' } satisfies LoadEvent);
  const c0 = cpuMs();
  const w0 = now();
  phase = 'measure';
  const stalls = traceSlow > 0 ? stallTimeline() : null;
  await sleep(spec.durationMs);
  phase = 'drain';
  const stallList = stalls?.stop();
  process.send?.({ event: 'measure-end' } satisfies LoadEvent);
  const windowMs = now() - w0;
  const cpu = cpuMs() - c0;
  if (waitingCount > 0) {
    await Promise.race([new Promise<void>((r) => (drained = r)), sleep(5_000)]);
  }
  clearInterval(sweep);
  let unanswered = 0;
  for (const d of devs) {
    if (d.waiting) unanswered++;
    d.close();
  }
  return {
    connected: devs.length,
    connectFailed,
    connectMs: Math.round(connectMs),
    windowMs: Math.round(windowMs),
    framesAcked,
    recordsAcked,
    framesPerS: Math.round((framesAcked / windowMs) * 1000),
    recordsPerS: Math.round((recordsAcked / windowMs) * 1000),
    latencyMs: summarize(lat.values()),
    timeouts,
    mismatches: AckMatcher.mismatches - mismatches0,
    closed,
    retransmits,
    unanswered,
    cpuMs: Math.round(cpu),
    cpuPct: Math.round((cpu / windowMs) * 1000) / 10,
    ...(stallList ? { trace: { slow, stalls: stallList } } : {}),
  };
}

// ---------------------------------------------------------------- subscriber

const TS_KEY = Buffer.from(',"timestamp":');
let sub: MqttClient | null = null;
const subStats = { messages: 0, bytes: 0, unique: 0, duplicates: 0, stray: 0, completeAtEpochMs: null as number | null };
let track: { spec: TrackSpec; seen: Uint8Array; total: number } | null = null;

function onSubMessage(topic: string, payload: Buffer): void {
  subStats.messages++;
  subStats.bytes += payload.length;
  if (!track) return;
  const d = Number(topic.slice(topic.lastIndexOf('/') + 1)) - track.spec.identBase;
  if (!(d >= 0 && d < track.spec.devices)) return;
  const at = payload.indexOf(TS_KEY);
  let ts = 0;
  for (let i = at + TS_KEY.length; at >= 0 && i < payload.length; i++) {
    const c = payload[i]!;
    if (c < 48 || c > 57) break;
    ts = ts * 10 + (c - 48);
  }
  const j = ts - track.spec.tsBase;
  if (at < 0 || j < 0 || j >= track.spec.recordsPerDevice) {
    subStats.stray++;
    return;
  }
  const idx = d * track.spec.recordsPerDevice + j;
  if (track.seen[idx]) subStats.duplicates++;
  else {
    track.seen[idx] = 1;
    if (++subStats.unique === track.total) subStats.completeAtEpochMs = Date.now();
  }
}

async function subscribe(url: string, topic: string, qos: 0 | 1, t?: TrackSpec): Promise<{ ok: true }> {
  if (sub) await sub.endAsync();
  Object.assign(subStats, { messages: 0, bytes: 0, unique: 0, duplicates: 0, stray: 0, completeAtEpochMs: null });
  track = t ? { spec: t, seen: new Uint8Array(t.devices * t.recordsPerDevice), total: t.devices * t.recordsPerDevice } : null;
  sub = await connectAsync(url, { clientId: `bench-sub-${process.pid}-${Date.now()}`, clean: true, reconnectPeriod: 0 });
  sub.on('message', onSubMessage);
  // QoS 0 by default: Mosquitto keeps at most max_inflight_messages (20) unacknowledged and
  // max_queued_messages (1000) queued per QoS 1 subscriber and DROPS the rest, which would count
  // as losses that are the broker's configuration, not the channel's (BENCH_SUB_QOS=1 to see it).
  await sub.subscribeAsync(topic, { qos });
  return { ok: true };
}

// ---------------------------------------------------------------- idle connections

const idle: { socket: Socket; m: { acked: boolean } }[] = [];

async function connectIdle(spec: IdleSpec): Promise<IdleResult> {
  const lat = new Samples();
  const errors: Record<string, number> = {};
  let failed = 0;
  const t0 = now();
  const sources = spec.sourceAddresses?.length ? spec.sourceAddresses : [undefined];
  await withConcurrency(spec.count, spec.concurrency, async (i) => {
    // several loopback source addresses: one address's ephemeral ports (~28k) would bound the count
    const c = await tcpConnect(spec.host, spec.port, sources[i % sources.length]);
    lat.push(c.ms);
    if (!c.socket) {
      failed++;
      errors[c.error ?? '?'] = (errors[c.error ?? '?'] ?? 0) + 1;
      return;
    }
    c.socket.on('error', () => {});
    idle.push({ socket: c.socket, m: { acked: false } });
  });
  const totalMs = now() - t0;
  return { connected: idle.length, failed, totalMs: Math.round(totalMs), ratePerS: Math.round((idle.length / totalMs) * 1000), connectMs: summarize(lat.values()), errors };
}

async function identifyIdle(timeoutMs: number): Promise<IdentifyResult> {
  let acked = 0;
  const t0 = now();
  await new Promise<void>((resolve) => {
    if (idle.length === 0) resolve();
    const timer = setTimeout(resolve, timeoutMs);
    idle.forEach((c, i) => {
      const m = new AckMatcher(() => {
        if (c.m.acked) return;
        c.m.acked = true;
        if (++acked === idle.length) {
          clearTimeout(timer);
          resolve();
        }
      });
      c.socket.on('data', (b: Buffer) => m.push(b));
      c.socket.write(deviceRecordsFrame(IMEI.load + i, 0, 1));
    });
  });
  return { acked, failed: idle.length - acked, totalMs: Math.round(now() - t0) };
}

function closeIdle(): { closed: number } {
  const n = idle.length;
  for (const c of idle.splice(0)) c.socket.destroy();
  return { closed: n };
}

// ---------------------------------------------------------------- after-load storm

async function runStorm(spec: StormSpec): Promise<StormResult> {
  const framesPer = Math.ceil(spec.backlogRecords / spec.recordsPerFrame);
  // Build every backlog frame before anything starts: the storm must not wait on our CPU.
  const backlog: Buffer[][] = [];
  for (let d = 0; d < spec.storm; d++) {
    const fs: Buffer[] = [];
    for (let k = 0; k < framesPer; k++) {
      const first = k * spec.recordsPerFrame;
      fs.push(Buffer.from(recordsRangeFrame(IMEI.storm + d, first, Math.min(spec.recordsPerFrame, spec.backlogRecords - first))));
    }
    backlog.push(fs);
  }
  const c0 = cpuMs();
  // This process's own event-loop delay, reported with the storm (on 2 cores the load generator
  // competes with channel and broker).
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  let stormStart = Infinity;
  let stormEnd = Infinity;

  await sleep(spec.preStormMs);

  const connectLat = new Samples();
  const firstAck = new Samples();
  const backlogAck = new Samples();
  let devicesDone = 0;
  let framesAcked = 0;
  let recordsAcked = 0;
  let connectFailures = 0;
  let reconnects = 0;
  let timeouts = 0;
  const stormSockets = new Set<Socket>();
  const stormDone = new Promise<void>((resolve) => {
    const device = (d: number) => {
      let k = 0;
      let sentAt = 0;
      let first = true;
      let done = false;
      const open = (t0: number) => {
        const s = connect({ host: spec.host, port: spec.port, noDelay: true });
        stormSockets.add(s);
        const send = () => {
          sentAt = now();
          s.write(backlog[d]![k]!);
        };
        const m = new AckMatcher(() => {
          const t = now();
          backlogAck.push(t - sentAt);
          if (first) {
            first = false;
            firstAck.push(t - t0);
          }
          framesAcked++;
          recordsAcked += Math.min(spec.recordsPerFrame, spec.backlogRecords - k * spec.recordsPerFrame);
          if (++k < framesPer) send();
          else {
            done = true;
            s.end();
            if (++devicesDone === spec.storm) {
              stormEnd = now();
              resolve();
            }
          }
        });
        s.once('connect', () => {
          connectLat.push(now() - t0);
          send();
        });
        s.on('data', (b: Buffer) => m.push(b));
        s.on('error', () => {});
        s.on('close', (hadError) => {
          stormSockets.delete(s);
          if (done) return;
          // A real device reconnects and resends its unacknowledged frame.
          if (hadError && first) connectFailures++;
          reconnects++;
          setTimeout(() => open(now()), 200);
        });
        const watch = setInterval(() => {
          if (done || s.destroyed) clearInterval(watch);
          else if (sentAt > 0 && now() - sentAt > 30_000) {
            timeouts++;
            clearInterval(watch);
            s.destroy();
          }
        }, 1_000);
        watch.unref();
      };
      open(now());
    };
    stormStart = now();
    loopDelay.enable();
    for (let d = 0; d < spec.storm; d++) device(d);
  });
  const stormStartEpochMs = Date.now();
  const finished = await Promise.race([stormDone.then(() => true), sleep(spec.timeoutMs).then(() => false)]);
  if (!finished) stormEnd = now();
  loopDelay.disable();
  const allAckedMs = finished ? stormEnd - stormStart : null;
  for (const s of stormSockets) s.destroy();
  return {
    stormStartEpochMs,
    allAckedMs: allAckedMs === null ? null : Math.round(allAckedMs),
    devicesDone,
    framesAcked,
    recordsAcked,
    recordsExpected: spec.storm * spec.backlogRecords,
    connectMs: summarize(connectLat.values()),
    firstAckMs: summarize(firstAck.values()),
    backlogAckMs: summarize(backlogAck.values()),
    connectFailures,
    reconnects,
    timeouts,
    loadLoopDelayP99Ms: Math.round(loopDelay.percentile(99) / 1e4) / 100,
    loadLoopDelayMaxMs: Math.round(loopDelay.max / 1e4) / 100,
    cpuMs: Math.round(cpuMs() - c0),
  };
}

/**
 * `spec.live` devices, each sending one 1-record frame every `liveIntervalMs`, stop-and-wait;
 * `onAck(sentAt, latency)` per ACK (times from `now()`). A frame still unanswered at its next tick
 * counts as a timeout (the device waits on).
 */
async function startLive(spec: LiveSpec, onAck: (sentAt: number, latencyMs: number) => void): Promise<{ connected: number; readonly timeouts: number; stop(): void }> {
  let timeouts = 0;
  let stopped = false;
  const sockets: Socket[] = [];
  for (let i = 0; i < spec.live; i++) {
    const c = await tcpConnect(spec.host, spec.port);
    if (!c.socket) continue;
    const s = c.socket;
    sockets.push(s);
    let k = 0;
    let sentAt = 0;
    let waiting = false;
    s.on('error', () => {});
    const m = new AckMatcher(() => {
      if (!waiting) return;
      waiting = false;
      onAck(sentAt, now() - sentAt);
    });
    s.on('data', (b: Buffer) => m.push(b));
    const tick = () => {
      if (stopped) return;
      if (waiting) {
        if (now() - sentAt > spec.liveIntervalMs) timeouts++;
      } else {
        sentAt = now();
        waiting = true;
        s.write(deviceRecordsFrame(IMEI.live + i, k++, 1));
      }
      setTimeout(tick, spec.liveIntervalMs);
    };
    setTimeout(tick, (i / spec.live) * spec.liveIntervalMs);
  }
  return {
    connected: sockets.length,
    get timeouts() {
      return timeouts;
    },
    stop() {
      stopped = true;
      for (const s of sockets) s.destroy();
    },
  };
}

/** The live devices of `live-start`, until `live-stop`. */
let liveRun: { stop(): void; readonly timeouts: number; samples: [number, number][]; loop: ReturnType<typeof monitorEventLoopDelay> } | null = null;

async function liveStart(spec: LiveSpec): Promise<{ connected: number }> {
  liveRun?.stop();
  const samples: [number, number][] = [];
  const loop = monitorEventLoopDelay({ resolution: 10 });
  // epoch ms of the send, so the bench can place each frame before, during or after the storm
  const epochOffset = Date.now() - now();
  const l = await startLive(spec, (sentAt, lat) => samples.push([sentAt + epochOffset, lat]));
  loop.enable();
  liveRun = { stop: () => { l.stop(); loop.disable(); }, get timeouts() { return l.timeouts; }, samples, loop };
  return { connected: l.connected };
}

function liveStop(): LiveResult {
  const r = liveRun;
  liveRun = null;
  if (!r) return { samples: [], timeouts: 0, loopDelayP99Ms: 0, loopDelayMaxMs: 0 };
  r.stop();
  return { samples: r.samples, timeouts: r.timeouts, loopDelayP99Ms: Math.round(r.loop.percentile(99) / 1e4) / 100, loopDelayMaxMs: Math.round(r.loop.max / 1e4) / 100 };
}

// ---------------------------------------------------------------- dispatch

/** The two-hop probe's pinger (hop-probe.ts), between ping-start and ping-stop. */
let pinger: Pinger | null = null;

async function handle(req: LoadRequest): Promise<unknown> {
  switch (req.type) {
    case 'devices':
      return runDevices(req.spec);
    case 'subscribe':
      return subscribe(req.url, req.topic, req.qos, req.track);
    case 'sub-stats': {
      const s: SubStats = { ...subStats, cpuMs: Math.round(cpuMs()), atEpochMs: Date.now() };
      return s;
    }
    case 'unsubscribe':
      if (sub) await sub.endAsync();
      sub = null;
      return { ok: true };
    case 'connect-idle':
      return connectIdle(req.spec);
    case 'identify-idle':
      return identifyIdle(req.timeoutMs);
    case 'close-idle':
      return closeIdle();
    case 'storm':
      return runStorm(req.spec);
    case 'live-start':
      return liveStart(req.spec);
    case 'live-stop':
      return liveStop();
    case 'echo-start':
      return { port: (await startEcho()).port };
    case 'relay-start':
      return { port: (await startRelay(req.toPort)).port };
    case 'ping-start':
      pinger?.stop();
      pinger = await startPinger(req.port, req.intervalMs);
      return { ok: true };
    case 'ping-stop': {
      const samples = pinger?.stop() ?? [];
      pinger = null;
      return { samples };
    }
    case 'cpu':
      return { cpuMs: cpuMs() };
  }
}

process.on('message', (msg: LoadMessage) => {
  handle(msg.req).then(
    (result) => process.send?.({ id: msg.id, ok: true, result } satisfies LoadReply),
    (e: unknown) => process.send?.({ id: msg.id, ok: false, error: e instanceof Error ? e.stack ?? e.message : String(e) } satisfies LoadReply),
  );
});
// The bench that started us is gone: nothing left to do.
process.on('disconnect', () => process.exit(0));
