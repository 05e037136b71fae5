import type { LatencySummary } from './stats.js';
import type { SlowAck, Stall } from './stall-trace.js';

/**
 * Messages between a bench (the server side) and its load child (bench/lib/load-worker.ts).
 * Load runs in another process so the server's CPU figures are its own; on 2 cores the two still
 * compete for CPU, which every result says.
 */
export interface DevicesSpec {
  /** Device protocol (default ruptela): which frames are sent and how ACKs are recognised (teltonika: TCP only, after an IMEI login). */
  protocol?: 'ruptela' | 'jt808' | 'teltonika';
  host: string;
  port: number;
  transport: 'tcp' | 'udp';
  devices: number;
  recordsPerFrame: number;
  /** IO elements per record (default 12) and the extended record format (cmd 68, 2-byte IO ids). */
  ioCount?: number;
  extended?: boolean;
  imeiBase: number;
  /** Distinct frames per device, cycled (each carries different timestamps). */
  distinctFrames: number;
  warmupMs: number;
  durationMs: number;
  /** Total frames per second over all devices; 0 = each device sends its next frame on ACK. */
  rateFps: number;
  /** After this long without its ACK a frame counts as timed out (UDP: sent again). */
  ackTimeoutMs: number;
  connectConcurrency: number;
  /** > 0: list the ACKs slower than this (ms) and this process's event-loop stalls (stall-trace.ts). */
  traceSlowMs?: number;
}

export interface DevicesResult {
  connected: number;
  connectFailed: number;
  connectMs: number;
  windowMs: number;
  framesAcked: number;
  recordsAcked: number;
  framesPerS: number;
  recordsPerS: number;
  latencyMs: LatencySummary;
  timeouts: number;
  mismatches: number;
  closed: number;
  retransmits: number;
  /** Frames still waiting for their ACK after the drain period. */
  unanswered: number;
  cpuMs: number;
  cpuPct: number;
  /** With spec.traceSlowMs: the slow ACKs of the measure window and this process's stalls. */
  trace?: { slow: SlowAck[]; stalls: Stall[] };
}

export interface TrackSpec {
  identBase: number;
  devices: number;
  recordsPerDevice: number;
  tsBase: number;
}

export interface SubStats {
  messages: number;
  bytes: number;
  unique: number;
  duplicates: number;
  /** Messages of tracked idents with a timestamp outside the expected range. */
  stray: number;
  completeAtEpochMs: number | null;
  cpuMs: number;
  atEpochMs: number;
}

export interface IdleSpec {
  host: string;
  port: number;
  count: number;
  concurrency: number;
  /** Local addresses the connections are spread over (127.0.0.x); default: the kernel's choice. */
  sourceAddresses?: string[];
}

export interface IdleResult {
  connected: number;
  failed: number;
  totalMs: number;
  ratePerS: number;
  connectMs: LatencySummary;
  errors: Record<string, number>;
}

export interface IdentifyResult {
  acked: number;
  failed: number;
  totalMs: number;
}

export interface StormSpec {
  host: string;
  port: number;
  storm: number;
  backlogRecords: number;
  recordsPerFrame: number;
  /** The storm starts this long after the request (the live devices, in their own process, get a baseline meanwhile). */
  preStormMs: number;
  timeoutMs: number;
}

/**
 * Live devices, one 1-record frame per interval each, stop-and-wait. After-load runs them in a process
 * of their own (`live-start` … `live-stop`), so the storm generator's loop stalls stay out of their latency.
 */
export interface LiveSpec {
  host: string;
  port: number;
  live: number;
  liveIntervalMs: number;
}

export interface LiveResult {
  /** Every ACKed live frame: epoch ms it was sent, then its ACK latency (ms). */
  samples: [number, number][];
  timeouts: number;
  /** This process's own event-loop delay while the live devices ran. */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}

export interface StormResult {
  stormStartEpochMs: number;
  /** Storm start → last backlog ACK. */
  allAckedMs: number | null;
  devicesDone: number;
  framesAcked: number;
  recordsAcked: number;
  recordsExpected: number;
  connectMs: LatencySummary;
  /** connect() call → ACK of the device's first frame. */
  firstAckMs: LatencySummary;
  backlogAckMs: LatencySummary;
  connectFailures: number;
  reconnects: number;
  timeouts: number;
  /** The storm generator's own event-loop delay during the storm. */
  loadLoopDelayP99Ms: number;
  loadLoopDelayMaxMs: number;
  cpuMs: number;
}

export type LoadRequest =
  | { type: 'devices'; spec: DevicesSpec }
  | { type: 'subscribe'; url: string; topic: string; qos: 0 | 1; track?: TrackSpec }
  | { type: 'sub-stats' }
  | { type: 'unsubscribe' }
  | { type: 'connect-idle'; spec: IdleSpec }
  | { type: 'identify-idle'; timeoutMs: number }
  | { type: 'close-idle' }
  | { type: 'storm'; spec: StormSpec }
  | { type: 'live-start'; spec: LiveSpec }
  | { type: 'live-stop' }
  | { type: 'echo-start' }
  | { type: 'relay-start'; toPort: number }
  | { type: 'ping-start'; port: number; intervalMs: number }
  | { type: 'ping-stop' }
  | { type: 'cpu' };

export interface LoadReplies {
  devices: DevicesResult;
  subscribe: { ok: true };
  'sub-stats': SubStats;
  unsubscribe: { ok: true };
  'connect-idle': IdleResult;
  'identify-idle': IdentifyResult;
  'close-idle': { closed: number };
  storm: StormResult;
  'live-start': { connected: number };
  'live-stop': LiveResult;
  'echo-start': { port: number };
  'relay-start': { port: number };
  'ping-start': { ok: true };
  /** Every answered ping: epoch ms it was sent, then its round trip (ms); see hop-probe.ts. */
  'ping-stop': { samples: [number, number][] };
  cpu: { cpuMs: number };
}

export type LoadMessage = { id: number; req: LoadRequest };
export type LoadReply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

/** Unsolicited notes from the child, so the bench's CPU meters cover the same window. */
export type LoadEvent = { event: 'measure-start' | 'measure-end' };
