/**
 * Parsing and validation of command requests and cancels published by clients (README "Device
 * commands"). Nothing here touches a device: a request either becomes a `ValidRequest` or a
 * `Rejection` whose reason names the field, and the service publishes it as a `rejected` event.
 *
 *   { "id"?: string, "name": string, "properties"?: object, "ttl"?: s, "timeout"?: s, "meta"?: object }
 *   cancel: { "id": string }
 */
import type { ErrorCode } from '../errors.js';
import type { CommandPropertySpec, CommandSpec } from '../protocol/types.js';
import type { CommandsConfig } from '../config/commands-defaults.js';
import { jsonDepth, topLevelValueSpans } from './json-spans.js';

export interface ValidRequest {
  ok: true;
  id: string;
  name: string;
  properties: Record<string, unknown>;
  /** `meta` exactly as the sender wrote it (JSON text), or null when none was given. */
  meta: string | null;
  ttlS: number;
  timeoutS: number;
}

/** What is known of a rejected request: as much as could be read, echoed on the `rejected` event. */
export interface Rejection {
  ok: false;
  code: ErrorCode;
  reason: string;
  id: string | null;
  name: string | null;
  properties: unknown;
  meta: string | null;
  /** EDGE_COMMAND_DUPLICATE: where the first command with this id stands (`queued`, `sent`, `processed` ...). */
  firstStatus?: string;
}

export type RequestLimits = Pick<CommandsConfig, 'default_ttl_s' | 'max_ttl_s' | 'default_timeout_s' | 'max_timeout_s' | 'max_meta_bytes' | 'max_meta_depth'>;

/** Ids become a topic level (`commands-queue/{id}`), so they keep to a safe alphabet. */
const ID_RE = /^[A-Za-z0-9_.:-]{1,128}$/;
const REQUEST_KEYS = new Set(['id', 'name', 'properties', 'ttl', 'timeout', 'meta']);
/** Beyond meta, a request is a name and a few scalar properties; anything far larger is not one. */
const MAX_REQUEST_OVERHEAD_BYTES = 64 * 1024;

const utf8 = new TextDecoder('utf-8', { fatal: true });

type Parsed = { ok: true; text: string; obj: Record<string, unknown> } | { ok: false; reason: string };

function parseObject(payload: Buffer, maxBytes: number, what: string): Parsed {
  if (payload.length > maxBytes) return { ok: false, reason: `${what} payload of ${payload.length} bytes exceeds ${maxBytes}` };
  let text: string;
  try {
    text = utf8.decode(payload);
  } catch {
    return { ok: false, reason: `${what} payload is not valid UTF-8` };
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return { ok: false, reason: `${what} payload is not JSON (${(e as Error).message})` };
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return { ok: false, reason: `${what} payload must be a JSON object` };
  return { ok: true, text, obj: v as Record<string, unknown> };
}

function describe(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

/** Checks one property value against its schema; returns the problem or null. */
export function propertyProblem(ps: CommandPropertySpec, v: unknown): string | null {
  const range = `${ps.min ?? '-∞'}..${ps.max ?? '∞'}`;
  switch (ps.type) {
    case 'string':
      if (typeof v !== 'string' || v.length === 0) return `must be a non-empty string, got ${describe(v)}`;
      if (ps.min !== undefined && v.length < ps.min) return `must be at least ${ps.min} characters`;
      if (ps.max !== undefined && v.length > ps.max) return `must be at most ${ps.max} characters`;
      return null;
    case 'integer':
      if (typeof v !== 'number' || !Number.isInteger(v)) return `must be an integer, got ${describe(v)}`;
      if ((ps.min !== undefined && v < ps.min) || (ps.max !== undefined && v > ps.max)) return `must be within ${range}, got ${v}`;
      return null;
    case 'boolean':
      return typeof v === 'boolean' ? null : `must be true or false, got ${describe(v)}`;
    case 'hex':
      if (typeof v !== 'string' || !/^(?:[0-9a-fA-F]{2})*$/.test(v)) return `must be a string of hex byte pairs, got ${describe(v)}`;
      if (ps.min !== undefined && v.length / 2 < ps.min) return `must be at least ${ps.min} bytes`;
      if (ps.max !== undefined && v.length / 2 > ps.max) return `must be at most ${ps.max} bytes`;
      return null;
  }
}

function seconds(v: unknown, field: string, dflt: number, max: number): number | string {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > max) return `${field}: must be a number of seconds in (0, ${max}], got ${describe(v)}`;
  return v;
}

/**
 * Parses a request payload. `specs` is the channel's command list (undefined: the server has no
 * such channel). `newId` supplies an id when the request has none (also for a rejection, so every
 * event can be correlated).
 */
export function parseCommandRequest(payload: Buffer, specs: readonly CommandSpec[] | undefined, limits: RequestLimits, newId: () => string): ValidRequest | Rejection {
  const p = parseObject(payload, limits.max_meta_bytes + MAX_REQUEST_OVERHEAD_BYTES, 'request');
  if (!p.ok) return { ok: false, code: 'EDGE_COMMAND_MALFORMED', reason: p.reason, id: null, name: null, properties: null, meta: null };
  const o = p.obj;
  const rawId = o.id;
  const idOk = rawId === undefined || (typeof rawId === 'string' && ID_RE.test(rawId));
  const id = typeof rawId === 'string' && idOk ? rawId : rawId === undefined ? newId() : null;
  const name = typeof o.name === 'string' ? o.name : null;
  const properties = o.properties === undefined ? {} : o.properties;
  // meta is echoed on the rejection too, unless it is itself what is wrong
  const span = topLevelValueSpans(p.text).get('meta');
  const metaText = span ? p.text.slice(span[0], span[1]) : null;
  const metaBytes = metaText === null ? 0 : Buffer.byteLength(metaText);
  const metaProblem =
    o.meta === undefined
      ? null
      : o.meta === null || typeof o.meta !== 'object' || Array.isArray(o.meta)
        ? `meta: must be a JSON object, got ${describe(o.meta)}`
        : metaBytes > limits.max_meta_bytes
          ? `meta: ${metaBytes} bytes exceeds the ${limits.max_meta_bytes}-byte limit`
          : jsonDepth(o.meta) > limits.max_meta_depth
            ? `meta: nesting depth ${jsonDepth(o.meta)} exceeds ${limits.max_meta_depth}`
            : null;
  const meta = metaProblem === null ? metaText : null;
  const reject = (code: ErrorCode, reason: string): Rejection => ({ ok: false, code, reason, id, name, properties, meta });

  if (!idOk) return reject('EDGE_COMMAND_MALFORMED', `id: must be 1-128 characters of A-Z a-z 0-9 _ . : -, got ${describe(rawId)}`);
  for (const key of Object.keys(o)) {
    if (!REQUEST_KEYS.has(key)) return reject('EDGE_COMMAND_MALFORMED', `unknown field "${key}" (expected id, name, properties, ttl, timeout, meta)`);
  }
  if (name === null) return reject('EDGE_COMMAND_MALFORMED', o.name === undefined ? 'name: is required' : `name: must be a string, got ${describe(o.name)}`);
  if (specs === undefined) return reject('EDGE_COMMAND_CHANNEL_UNKNOWN', 'channel: this server runs no such channel');
  const spec = specs.find((s) => s.name === name);
  if (spec === undefined) return reject('EDGE_COMMAND_UNKNOWN', `name: "${name}" is not a command of this channel's protocol; known: ${specs.map((s) => s.name).join(', ')}`);
  if (properties === null || typeof properties !== 'object' || Array.isArray(properties)) return reject('EDGE_COMMAND_INVALID', `properties: must be a JSON object, got ${describe(properties)}`);
  const props = properties as Record<string, unknown>;
  for (const key of Object.keys(props)) {
    if (!(key in spec.properties)) {
      const known = Object.keys(spec.properties);
      return reject('EDGE_COMMAND_INVALID', `properties.${key}: ${name} has no such property${known.length ? ` (known: ${known.join(', ')})` : ' (it takes none)'}`);
    }
  }
  for (const [key, ps] of Object.entries(spec.properties)) {
    const v = props[key];
    if (v === undefined) {
      if (ps.required) return reject('EDGE_COMMAND_INVALID', `properties.${key}: is required (${ps.description})`);
      continue;
    }
    const problem = propertyProblem(ps, v);
    if (problem !== null) return reject('EDGE_COMMAND_INVALID', `properties.${key}: ${problem}`);
  }
  const ttlS = seconds(o.ttl, 'ttl', limits.default_ttl_s, limits.max_ttl_s);
  if (typeof ttlS === 'string') return reject('EDGE_COMMAND_MALFORMED', ttlS);
  const timeoutS = seconds(o.timeout, 'timeout', limits.default_timeout_s, limits.max_timeout_s);
  if (typeof timeoutS === 'string') return reject('EDGE_COMMAND_MALFORMED', timeoutS);
  if (metaProblem !== null) return reject('EDGE_COMMAND_INVALID', metaProblem);
  return { ok: true, id: id!, name, properties: props, meta, ttlS, timeoutS };
}

export type CancelRequest = { ok: true; id: string } | { ok: false; reason: string; id: string | null };

export function parseCancel(payload: Buffer): CancelRequest {
  const p = parseObject(payload, 4096, 'cancel');
  if (!p.ok) return { ok: false, reason: p.reason, id: null };
  const id = p.obj.id;
  if (typeof id !== 'string' || !ID_RE.test(id)) return { ok: false, reason: `id: must be the id of a queued or sent command, got ${describe(id)}`, id: null };
  const extra = Object.keys(p.obj).find((k) => k !== 'id');
  if (extra !== undefined) return { ok: false, reason: `unknown field "${extra}" (a cancel is {"id": ...})`, id };
  return { ok: true, id };
}
