import type { FastifyInstance, FastifyRequest } from 'fastify';
import { EdgeError } from '../errors.js';
import { readDeviceRetention, writeDeviceRetention, type DeviceRetention, type RetentionRule } from '../media/retention.js';
import { badRequest } from './errors.js';
import type { Scope } from './tokens.js';

export interface RetentionRoutesOptions {
  mediaDir: string;
  /** The rule a device's files follow now. */
  ruleOf(channel: string, ident: string): Promise<RetentionRule>;
  /** Applies a device's (changed) rule at once; the number of files deleted. */
  applyTo(channel: string, ident: string): Promise<number>;
  /** Channel ids this server runs. */
  channelIds: readonly string[];
  scopeOf(req: FastifyRequest): Scope | null;
}

const LEVEL = /^[\x21-\x7e]{1,64}$/;

/**
 * A device's retention over the API: GET says its own limits and the ones in force, PUT sets or
 * clears its own (`null` = follow the channel's) and applies them at once (full scope).
 */
export function retentionRoutes(app: FastifyInstance, o: RetentionRoutesOptions): void {
  const device = (req: FastifyRequest) => {
    const p = req.params as { channel: string; ident: string };
    if (!o.channelIds.includes(p.channel)) throw new EdgeError('EDGE_HTTP_NOT_FOUND', `no channel ${p.channel.slice(0, 64)} on this server`);
    if (!LEVEL.test(p.ident) || /[#+/]/.test(p.ident)) throw badRequest('ident: expected 1 to 64 printable characters without / # +');
    return p;
  };
  const answer = async (channel: string, ident: string, deleted?: number) => {
    const own = await readDeviceRetention(o.mediaDir, channel, ident);
    const r = await o.ruleOf(channel, ident);
    return { channel_id: channel, ident, own: { ttl_days: own.ttl_days ?? null, rotate_bytes: own.rotate_bytes ?? null }, effective: { ttl_days: r.ttlDays, rotate_bytes: r.rotateBytes }, ...(deleted !== undefined ? { deleted } : {}) };
  };
  app.get('/api/v1/retention/:channel/:ident', async (req) => {
    const { channel, ident } = device(req);
    return answer(channel, ident);
  });
  app.put('/api/v1/retention/:channel/:ident', async (req) => {
    if (o.scopeOf(req) !== 'full') throw new EdgeError('EDGE_HTTP_FORBIDDEN', 'this token has the read scope; changing retention needs a full token');
    const { channel, ident } = device(req);
    const b = req.body;
    if (typeof b !== 'object' || b === null || Array.isArray(b)) throw badRequest('expected a JSON object with "ttl_days" and/or "rotate_bytes" (an integer, or null to follow the channel)');
    const body = b as Record<string, unknown>;
    for (const k of Object.keys(body)) if (k !== 'ttl_days' && k !== 'rotate_bytes') throw badRequest(`${k}: not a retention setting (ttl_days, rotate_bytes)`);
    const own: DeviceRetention = await readDeviceRetention(o.mediaDir, channel, ident);
    for (const [k, max] of [['ttl_days', 36500], ['rotate_bytes', Number.MAX_SAFE_INTEGER]] as const) {
      if (!(k in body)) continue;
      const v = body[k];
      if (v === null) delete own[k];
      else if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= max) own[k] = v;
      else throw badRequest(`${k}: expected an integer 0..${max} or null`);
    }
    await writeDeviceRetention(o.mediaDir, channel, ident, own);
    return answer(channel, ident, await o.applyTo(channel, ident));
  });
}
