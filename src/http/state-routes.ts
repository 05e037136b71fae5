import type { FastifyInstance, FastifyRequest } from 'fastify';
import { EdgeError } from '../errors.js';
import { badRequest } from './errors.js';

/** What the runtime can say about itself; each read from the state the runtime itself keeps (its stores and live tables), never a copy. */
export interface StateSources {
  /** This instance (of several processes: the box's readiness and MQTT connection, and each process's own). */
  instance(): Promise<Record<string, unknown>>;
  /** The channels (of several processes: the box's, with the processes whose figures are missing). */
  channels(): Promise<{ items: readonly object[]; processes?: { count: number; missing: { index: number; reason: string }[] } }>;
  /** Null: no such channel on this server. */
  device(channel: string, ident: string): Promise<Record<string, unknown> | null>;
  /** The device's held commands (queued, in flight) in queue order, and how its last ones ended; null: no such channel. */
  commands(channel: string, ident: string): Promise<{ held: Record<string, unknown>[]; recent: Record<string, unknown>[] } | null>;
  assets(): Record<string, unknown>[];
  /** An asset with its intervals, or null. */
  asset(id: string): { asset: Record<string, unknown>; intervals: { begin: number; end: number }[] } | null;
  /** The device's tachograph download schedule (`schedule` null: none for it); null: no such channel. */
  tachoSchedule(channel: string, ident: string): Record<string, unknown> | null;
}

const LEVEL = /^[\x21-\x7e]{1,64}$/;

/**
 * Read APIs for what otherwise lives only on MQTT (README "HTTP API"): the instance and its
 * channels, a device's connection and held commands, the assets and an asset's intervals (a time
 * range, paged). Read scope.
 */
export function stateRoutes(app: FastifyInstance, s: StateSources): void {
  const ident = (req: FastifyRequest) => {
    const p = req.params as { channel: string; ident: string };
    if (!LEVEL.test(p.ident) || /[#+/]/.test(p.ident)) throw badRequest('ident: expected 1 to 64 printable characters without / # +');
    return p;
  };
  app.get('/api/v1/instance', async () => s.instance());
  app.get('/api/v1/channels', async () => s.channels());
  app.get('/api/v1/devices/:channel/:ident', async (req) => {
    const { channel, ident: id } = ident(req);
    const d = await s.device(channel, id);
    if (!d) throw new EdgeError('EDGE_HTTP_NOT_FOUND', `no channel ${channel.slice(0, 64)} on this server`);
    return d;
  });
  app.get('/api/v1/devices/:channel/:ident/commands', async (req) => {
    const { channel, ident: id } = ident(req);
    const c = await s.commands(channel, id);
    if (!c) throw new EdgeError('EDGE_HTTP_NOT_FOUND', `no channel ${channel.slice(0, 64)} on this server`);
    return c;
  });
  app.get('/api/v1/devices/:channel/:ident/tacho-schedule', async (req) => {
    const { channel, ident: id } = ident(req);
    const t = s.tachoSchedule(channel, id);
    if (!t) throw new EdgeError('EDGE_HTTP_NOT_FOUND', `no channel ${channel.slice(0, 64)} on this server`);
    return t;
  });
  app.get('/api/v1/assets', async () => ({ items: s.assets() }));
  app.get('/api/v1/assets/:id', async (req) => {
    const id = (req.params as { id: string }).id;
    const q = req.query as Record<string, string | undefined>;
    const a = s.asset(id);
    if (!a) throw new EdgeError('EDGE_HTTP_NOT_FOUND', `no asset ${id.slice(0, 64)}`);
    const from = q.from === undefined ? -Infinity : num(q.from, 'from');
    const to = q.to === undefined ? Infinity : num(q.to, 'to');
    if (to <= from) throw badRequest('to: expected a time after from');
    const limit = q.limit === undefined ? 100 : int(q.limit, 'limit', 1, 1000);
    const offset = q.offset === undefined ? 0 : int(q.offset, 'offset', 0, Number.MAX_SAFE_INTEGER);
    // an interval is in the range when it overlaps it (an open one, end 0, reaches to now and on)
    const all = a.intervals.filter((i) => i.begin < to && (i.end === 0 || i.end > from));
    return { asset: a.asset, total: all.length, intervals: all.slice(offset, offset + limit) };
  });
}

function num(v: string, name: string): number {
  const n = Number(v);
  if (v === '' || !Number.isFinite(n)) throw badRequest(`${name}: expected a Unix time in seconds, got "${v.slice(0, 40)}"`);
  return n;
}

function int(v: string, name: string, min: number, max: number): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < min || n > max) throw badRequest(`${name}: expected an integer ${min}..${max}, got "${v.slice(0, 40)}"`);
  return n;
}
