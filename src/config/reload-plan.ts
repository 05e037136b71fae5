import type { TSchema } from '@sinclair/typebox';
import { ChannelSchema, ConfigSchema, type EdgeConfig } from './schema.js';

/**
 * What a reload changes, key by key: `live` keys (marked `'x-live'` in the schema) are applied
 * by the running server; every other changed key needs a restart and is listed by name. Channels
 * are matched by id (their position may change); paths use the index in the new file. Values are
 * never part of the result: a changed password is listed as `mqtt.password`, not shown.
 */
export interface ReloadPlan {
  live: string[];
  restart: string[];
}

type Obj = Record<string, unknown>;
type SchemaNode = TSchema & Obj;

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function diff(schema: SchemaNode, a: unknown, b: unknown, path: string, plan: ReloadPlan, skip: ReadonlySet<string> = new Set()): void {
  const props = (schema.properties ?? {}) as Record<string, SchemaNode>;
  const ao = (a ?? {}) as Obj;
  const bo = (b ?? {}) as Obj;
  for (const [k, s] of Object.entries(props)) {
    if (skip.has(k) || same(ao[k], bo[k])) continue;
    const key = path ? `${path}.${k}` : k;
    if (s.type === 'object' && s.properties && s['x-live'] !== true) diff(s, ao[k], bo[k], key, plan);
    else (s['x-live'] === true ? plan.live : plan.restart).push(key);
  }
}

export function planReload(running: EdgeConfig, next: EdgeConfig): ReloadPlan {
  const plan: ReloadPlan = { live: [], restart: [] };
  diff(ConfigSchema, running, next, '', plan, new Set(['channels']));
  next.channels.forEach((nc, i) => {
    const rc = running.channels.find((c) => c.id === nc.id);
    if (!rc) plan.restart.push(`channels[${i}] (new channel ${nc.id})`);
    else diff(ChannelSchema, rc, nc, `channels[${i}]`, plan);
  });
  for (const rc of running.channels) if (!next.channels.some((c) => c.id === rc.id)) plan.restart.push(`channels (channel ${rc.id} removed)`);
  return plan;
}
