import { channelIdValue, dotted } from '../message/naming.js';
import { askEveryProcess, type BoxAnswers } from '../processes/cluster-query.js';
import type { Readiness } from '../ops/readiness.js';
import type { Runtime } from './runtime.js';

/**
 * What one process knows of its channels and devices, and how process 0 merges every process's
 * answer into the box's (config `processes` above 1; processes/cluster-query.ts carries them).
 * Alone, a process's own view is the box's.
 */
export interface ChannelView {
  id: string | number;
  protocol: string;
  tcp_port: number | null;
  udp_port: number | null;
  connections: number;
  reading_paused: string[];
  counters: Record<string, unknown>;
}

/** A device this process has seen: its latest published message (text) and when. */
export interface DeviceRow {
  ident: string;
  last: string | null;
  at: number | null;
}

/** What a process says of itself (GET /api/v1/instance). */
export interface InstanceView extends Readiness {
  instance_id: string;
  mqtt_connected: boolean;
}

export interface ProcessesNote {
  count: number;
  /** Processes whose figures are not in the answer (being restarted, failed, too slow). */
  missing: { index: number; reason: string }[];
}

export function channelViews(rt: Runtime): ChannelView[] {
  return rt.channels.list.map((c) => ({ id: channelIdValue(c.id), protocol: c.proto.id, tcp_port: c.tcpPort || null, udp_port: c.udpPort || null, connections: c.connectionCount, reading_paused: [...c.pausedFor], counters: dotted(c.counters) }));
}

/** A channel's devices as one process saw them: every ident, and the newest `limit` rows. */
export interface DeviceList {
  idents: string[];
  rows: DeviceRow[];
}

/** The channel's devices this process saw (a message since start, or connected now), newest first. */
export function deviceRows(rt: Runtime, channelId: string, limit: number): DeviceList | null {
  const c = rt.channels.get(channelId);
  if (!c) return null;
  const rows = new Map<string, DeviceRow>();
  for (const [ident, last] of rt.sink.devices(c.id)) rows.set(ident, { ident, last, at: last ? serverTime(last) : null });
  for (const ident of c.onlineIdents()) if (!rows.has(ident)) rows.set(ident, { ident, last: null, at: null });
  return { idents: [...rows.keys()], rows: newestFirst([...rows.values()]).slice(0, limit) };
}

/** Channels by id: connections and counters summed, pause reasons joined; the shape of one process's. */
export function mergeChannels(parts: readonly ChannelView[][]): ChannelView[] {
  const byId = new Map<string, ChannelView>();
  for (const views of parts) {
    for (const v of views) {
      const key = String(v.id);
      const m = byId.get(key);
      if (!m) {
        byId.set(key, { ...v, reading_paused: [...v.reading_paused], counters: { ...v.counters } });
        continue;
      }
      m.connections += v.connections;
      for (const r of v.reading_paused) if (!m.reading_paused.includes(r)) m.reading_paused.push(r);
      for (const [k, n] of Object.entries(v.counters)) m.counters[k] = typeof n === 'number' && typeof m.counters[k] === 'number' ? (m.counters[k] as number) + n : (m.counters[k] ?? n);
    }
  }
  return [...byId.values()];
}

/** One row per device (the newest message any process has of it), newest first, at most `limit`; total: distinct devices. */
export function mergeDeviceLists(parts: readonly (DeviceList | null)[], limit: number): DeviceList {
  const idents = new Set<string>();
  const byIdent = new Map<string, DeviceRow>();
  for (const p of parts) {
    if (!p) continue;
    for (const i of p.idents) idents.add(i);
    for (const r of p.rows) {
      const m = byIdent.get(r.ident);
      if (!m || (r.at ?? -1) > (m.at ?? -1)) byIdent.set(r.ident, r);
    }
  }
  return { idents: [...idents], rows: newestFirst([...byIdent.values()]).slice(0, limit) };
}

export function processesNote<T>(count: number, a: BoxAnswers<T>): ProcessesNote {
  return { count, missing: a.missing };
}

/**
 * What one process answers about itself: the same functions serve process 0's own view and, with
 * several processes, the questions the others get (ops.ts registers them with answerQueries).
 */
export function ownAnswers(rt: Runtime, readiness: () => Readiness) {
  return {
    instance: (): InstanceView => ({ instance_id: rt.config.instance_id, ...readiness(), mqtt_connected: rt.publisher.connected }),
    channels: (): ChannelView[] => channelViews(rt),
    devices: (q: { channel: string; limit: number }): DeviceList | null => deviceRows(rt, q.channel, q.limit),
    latest: (q: { channel: string; ident: string }): string | null => rt.sink.latest(q.channel, q.ident),
  };
}

export type OwnAnswers = ReturnType<typeof ownAnswers>;

/**
 * Every process's answer to `kind` (several processes: through the primary, with the missing ones
 * noted), or this process's own when it runs alone. Callers merge `values` the same way in both cases.
 */
export async function fromEveryProcess<K extends keyof OwnAnswers>(rt: Runtime, own: OwnAnswers, kind: K, arg: Parameters<OwnAnswers[K]>[0]): Promise<{ values: ReturnType<OwnAnswers[K]>[]; processes?: ProcessesNote }> {
  type V = ReturnType<OwnAnswers[K]>;
  if (rt.process.count === 1) return { values: [(own[kind] as (a: typeof arg) => V)(arg)] };
  const a = await askEveryProcess<V>(kind, arg);
  return { values: a.answers.map((x) => x.value), processes: processesNote(rt.process.count, a) };
}

/** The newest of a device's latest payloads as several processes published them (null: none). */
export function newestPayload(payloads: readonly (string | null)[]): string | null {
  let best: string | null = null;
  let at = -Infinity;
  for (const p of payloads) {
    if (p === null) continue;
    const t = serverTime(p) ?? -Infinity;
    if (best === null || t > at) {
      best = p;
      at = t;
    }
  }
  return best;
}

/**
 * The box's /readyz: the readiness of the instance view (boxInstance): ready while every process
 * that answers is ready (a process being restarted is listed, not counted: the others serve its
 * devices meanwhile), and process 0 among them. Never throws.
 */
export async function boxReadiness(rt: Runtime, own: OwnAnswers): Promise<Readiness & { processes?: ProcessesNote }> {
  const { ready, reasons, processes } = await boxInstance(rt, own);
  return processes ? { ready, reasons, processes } : { ready, reasons };
}

/**
 * GET /api/v1/instance. Alone: this process. Of several: process 0's instance id, the box's readiness
 * and MQTT connection (true while every process that answers is connected), and each process's own
 * view under `instances`, so one disconnected process is not hidden behind process 0. Never throws
 * (the console's login and /readyz ask it): a primary that does not answer makes it not ready, with
 * the reason.
 */
export async function boxInstance(rt: Runtime, own: OwnAnswers): Promise<InstanceView & { instances?: (InstanceView & { index: number })[]; processes?: ProcessesNote }> {
  const self = own.instance();
  if (rt.process.count === 1) return self;
  let a: BoxAnswers<InstanceView>;
  try {
    a = await askEveryProcess<InstanceView>('instance', null);
  } catch (e) {
    return { ...self, ready: false, reasons: [...self.reasons, `the other processes cannot be asked: ${(e as Error).message}`], instances: [{ index: rt.process.index, ...self }] };
  }
  const reasons = a.answers.flatMap((x) => (x.value.ready ? [] : x.value.reasons.map((r) => `process ${x.index}: ${r}`)));
  if (!a.answers.some((x) => x.index === 0)) reasons.push('process 0 did not answer');
  const connected = a.answers.length > 0 && a.answers.every((x) => x.value.mqtt_connected);
  return { instance_id: self.instance_id, ready: reasons.length === 0, reasons, mqtt_connected: connected, instances: a.answers.map((x) => ({ index: x.index, ...x.value })), processes: processesNote(rt.process.count, a) };
}

function newestFirst(rows: DeviceRow[]): DeviceRow[] {
  return rows.sort((a, b) => (b.at ?? 0) - (a.at ?? 0));
}

/** `server.timestamp` of a published payload, without parsing the whole message. */
function serverTime(payload: string): number | null {
  const m = /"server\.timestamp":(-?[0-9.eE+-]+)/.exec(payload);
  return m ? Number(m[1]) : null;
}
