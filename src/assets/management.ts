/**
 * Parsing of asset management requests (README "Assets"): one JSON object per MQTT message on
 * `{root}/command/gw/assets`. Everything is checked here, before anything is applied, so a bad
 * request is refused whole with a reason.
 */
import type { Asset, AssetMatch } from './types.js';

export const ASSET_ID = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * An asset id as the runtime keys it: a string of the documented form, or a non-negative integer
 * (flespi's asset ids are numbers) kept as its digits; payloads publish such ids as numbers again
 * (`assetIdValue`). Null for anything else.
 */
export function assetIdOf(v: unknown): string | null {
  if (typeof v === 'string') return ASSET_ID.test(v) ? v : null;
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return String(v);
  return null;
}
/** A type becomes a name level: `asset.<type>.id`. */
export const ASSET_TYPE = /^[a-z][a-z0-9_]{0,31}$/;
const IDENT = /^[\x21-\x7e]{1,64}$/;

export type ManagementRequest =
  | { op: 'create'; request_id?: string; asset: Asset }
  | { op: 'update'; request_id?: string; asset: Asset }
  | { op: 'delete'; request_id?: string; id: string }
  | { op: 'assign'; request_id?: string; id: string; channel_id: number | string; ident: string; begin: number | null; end: number; meta: Record<string, unknown> | null }
  | { op: 'close'; request_id?: string; id: string; interval_id: number | null; end: number | null; meta: Record<string, unknown> | null | undefined };

export interface ParseLimits {
  maxMetaBytes: number;
}

export type Parsed = { ok: true; req: ManagementRequest } | { ok: false; reason: string; request_id?: string; op?: string; id?: string };

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v < 1e11;

/** Checks an asset definition (from a request or the config). Returns a reason, or the asset. */
export function checkAsset(v: unknown): Asset | string {
  if (!isObj(v)) return 'asset must be an object {id, name, type, match?}';
  for (const k of Object.keys(v)) if (!['id', 'name', 'type', 'match'].includes(k)) return `asset has an unknown key "${k}"`;
  const id = assetIdOf(v.id);
  if (id === null) return 'asset.id must be an integer or 1-64 letters, digits, "_", "-", "."';
  if (typeof v.name !== 'string' || v.name.length > 256) return 'asset.name must be a string of at most 256 characters';
  if (typeof v.type !== 'string' || !ASSET_TYPE.test(v.type)) return 'asset.type must be a lower-case word (driver, trailer, vehicle or your own), e.g. "driver"';
  const a: Asset = { id, name: v.name, type: v.type };
  if (v.match !== undefined) {
    const m = v.match;
    if (!isObj(m) || Object.keys(m).some((k) => k !== 'parameter' && k !== 'value')) return 'asset.match must be {parameter, value}';
    if (typeof m.parameter !== 'string' || !/^[A-Za-z0-9_.-]{1,128}$/.test(m.parameter)) return 'asset.match.parameter must be a parameter name such as "tacho.fms.driver.id.1"';
    if (typeof m.value !== 'string' && typeof m.value !== 'number' && typeof m.value !== 'boolean') return 'asset.match.value must be a string, number or boolean';
    if (typeof m.value === 'string' && (m.value.length === 0 || m.value.length > 256)) return 'asset.match.value must be 1-256 characters';
    a.match = { parameter: m.parameter, value: m.value } as AssetMatch;
  }
  return a;
}

export function parseRequest(payload: Buffer, limits: ParseLimits): Parsed {
  let v: unknown;
  try {
    v = JSON.parse(payload.toString('utf8'));
  } catch (e) {
    return { ok: false, reason: `malformed JSON: ${(e as Error).message}` };
  }
  if (!isObj(v)) return { ok: false, reason: 'the request must be a JSON object' };
  const head: { request_id?: string; op?: string; id?: string } = {};
  if (v.request_id !== undefined) {
    if (typeof v.request_id !== 'string' || v.request_id.length > 128) return { ok: false, reason: 'request_id must be a string of at most 128 characters' };
    head.request_id = v.request_id;
  }
  if (typeof v.op === 'string') head.op = v.op;
  const headId = assetIdOf(v.id);
  if (headId !== null) head.id = headId;
  const fail = (reason: string): Parsed => ({ ok: false, reason, ...head });
  const allowed = (keys: string[]) => {
    for (const k of Object.keys(v as object)) if (!['op', 'request_id', ...keys].includes(k)) return `unknown key "${k}" for op ${String(head.op)}`;
    return null;
  };
  const rid = head.request_id !== undefined ? { request_id: head.request_id } : {};
  switch (v.op) {
    case 'create':
    case 'update': {
      const bad = allowed(['asset']);
      if (bad) return fail(bad);
      const a = checkAsset(v.asset);
      if (typeof a === 'string') return fail(a);
      head.id = a.id;
      return { ok: true, req: { op: v.op, ...rid, asset: a } };
    }
    case 'delete': {
      const bad = allowed(['id']);
      if (bad) return fail(bad);
      if (headId === null) return fail('id must name an asset (an integer or 1-64 letters, digits, "_", "-", ".")');
      return { ok: true, req: { op: 'delete', ...rid, id: headId } };
    }
    case 'assign': {
      const bad = allowed(['id', 'channel_id', 'ident', 'begin', 'end', 'meta']);
      if (bad) return fail(bad);
      if (headId === null) return fail('id must name an asset (an integer or 1-64 letters, digits, "_", "-", ".")');
      const ch = v.channel_id;
      if (!((typeof ch === 'number' && Number.isInteger(ch) && ch >= 0) || (typeof ch === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(ch)))) return fail('channel_id must be a channel id');
      if (typeof v.ident !== 'string' || !IDENT.test(v.ident)) return fail('ident must be 1-64 printable ASCII characters');
      if (v.begin !== undefined && !isTime(v.begin)) return fail('begin must be a Unix time in seconds');
      if (v.end !== undefined && v.end !== 0 && !isTime(v.end)) return fail('end must be a Unix time in seconds, or 0 (open)');
      const meta = checkMeta(v.meta, limits);
      if (typeof meta === 'string') return fail(meta);
      return { ok: true, req: { op: 'assign', ...rid, id: headId, channel_id: typeof ch === 'string' && /^\d{1,15}$/.test(ch) ? Number(ch) : (ch as number | string), ident: v.ident, begin: (v.begin as number | undefined) ?? null, end: (v.end as number | undefined) ?? 0, meta: meta ?? null } };
    }
    case 'close': {
      const bad = allowed(['id', 'interval_id', 'end', 'meta']);
      if (bad) return fail(bad);
      if (headId === null) return fail('id must name an asset (an integer or 1-64 letters, digits, "_", "-", ".")');
      if (v.interval_id !== undefined && !(typeof v.interval_id === 'number' && Number.isInteger(v.interval_id) && v.interval_id > 0)) return fail('interval_id must be a positive integer');
      if (v.end !== undefined && !isTime(v.end)) return fail('end must be a Unix time in seconds');
      const meta = checkMeta(v.meta, limits);
      if (typeof meta === 'string') return fail(meta);
      return { ok: true, req: { op: 'close', ...rid, id: headId, interval_id: (v.interval_id as number | undefined) ?? null, end: (v.end as number | undefined) ?? null, meta } };
    }
    default:
      return fail('op must be one of create, update, delete, assign, close');
  }
}

/** meta: absent (undefined), null, or a JSON object within the size cap. */
function checkMeta(m: unknown, limits: ParseLimits): Record<string, unknown> | null | undefined | string {
  if (m === undefined || m === null) return m;
  if (!isObj(m)) return 'meta must be a JSON object';
  const bytes = Buffer.byteLength(JSON.stringify(m));
  if (bytes > limits.maxMetaBytes) return `meta is ${bytes} bytes, over the ${limits.maxMetaBytes}-byte cap`;
  return m;
}
