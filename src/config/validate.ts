import { Value, type ValueError } from '@sinclair/typebox/value';
import type { TSchema } from '@sinclair/typebox';
import { EdgeError } from '../errors.js';
import { compileIpFilter } from '../guard/ip-filter.js';
import { checkPortConflicts, configListeners } from './port-conflicts.js';
import { defaultInstanceId } from './instance-id.js';
import { ConfigSchema, type ChannelConfig, type EdgeConfig, type RawConfig } from './schema.js';

/**
 * Validates a parsed config object against the schema (schema.ts) and fills defaults. Every error
 * names the key path, the expected form and the value given (`channels[1].tcp_port: expected an
 * integer 0..65535, got "abc"`), because the person reading it is editing a file at 3 a.m.
 * `sources` maps key paths to the environment variable that set them, so an error on such a key
 * says where the value came from.
 */
type Obj = Record<string, unknown>;
type SchemaNode = TSchema & Obj;

function fail(path: string, expected: string, got: unknown): never {
  const shown = got === undefined ? 'nothing' : JSON.stringify(got);
  throw new EdgeError('EDGE_CONFIG_INVALID', `${path}: expected ${expected}, got ${shown}`);
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `/channels/0/tcp_port` → `channels[0].tcp_port` (TypeBox paths are JSON pointers). */
export function keyPath(pointer: string): string {
  let out = '';
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(seg) ? `[${seg}]` : out ? `.${seg}` : seg;
  }
  return out || '(top level)';
}

/** The expected form of a schema node, in the words errors use. */
export function expectedOf(s: SchemaNode): string {
  if (typeof s['x-expected'] === 'string') return s['x-expected'];
  const anyOf = s.anyOf as SchemaNode[] | undefined;
  if (anyOf && anyOf.every((a) => a.const !== undefined)) return `one of ${anyOf.map((a) => String(a.const)).join(', ')}`;
  if (anyOf) return anyOf.map(expectedOf).join(' or ');
  switch (s.type) {
    case 'integer': {
      const { minimum: lo, maximum: hi } = s as { minimum?: number; maximum?: number };
      if (lo !== undefined && hi !== undefined) return `an integer ${lo}..${hi}`;
      return lo !== undefined ? `an integer >= ${lo}` : 'an integer';
    }
    case 'boolean':
      return 'true or false';
    case 'string':
      return s.minLength ? 'a non-empty string' : 'a string';
    case 'array':
      return (s.items as SchemaNode | undefined)?.type === 'string' ? 'a list of strings' : 'a list';
    case 'object':
      return 'an object';
    case 'null':
      return 'null';
  }
  return 'a valid value';
}

/**
 * Every schema error of the file, one per key (a union reports each branch: the first says what the
 * key expects), in file order, so an operator fixes them in one pass instead of one per start.
 */
function schemaErrors(config: unknown, sources: ReadonlyMap<string, string>): EdgeError[] {
  const byPath = new Map<string, EdgeError>();
  for (const e of Value.Errors(ConfigSchema, config)) {
    const path = keyPath(e.path);
    // a key's parent already failed (e.g. a whole object of the wrong type): its children add nothing
    if ([...byPath.keys()].some((p) => path.startsWith(`${p}.`) || path.startsWith(`${p}[`))) continue;
    if (!byPath.has(path)) byPath.set(path, describe(e, sources));
  }
  return [...byPath.values()];
}

/** One error naming them all: the first in full (the message every earlier release gave), then the others. */
function allOf(errors: EdgeError[]): EdgeError {
  if (errors.length === 1) return errors[0]!;
  return new EdgeError('EDGE_CONFIG_INVALID', `${errors[0]!.reason}; and ${errors.length - 1} more: ${errors.slice(1).map((e) => e.reason).join('; ')}`);
}

function describe(e: ValueError, sources: ReadonlyMap<string, string>): EdgeError {
  const path = keyPath(e.path);
  const from = sources.get(path);
  const key = from ? `${path} (from ${from})` : path;
  // An unknown key: TypeBox reports the key's own path with the parent object's schema.
  if (e.schema.additionalProperties === false && e.message.startsWith('Unexpected property')) {
    const allowed = Object.keys((e.schema.properties as Obj | undefined) ?? {});
    return new EdgeError('EDGE_CONFIG_INVALID', `${key}: unknown key (allowed: ${allowed.join(', ')})`);
  }
  // a secret is never repeated in an error (it would end up in logs): only its length
  const secret = (e.schema as Obj)['x-secret'] === true && typeof e.value === 'string';
  const shown = e.value === undefined ? 'nothing' : secret ? `a secret of ${(e.value as string).length} characters` : JSON.stringify(e.value);
  return new EdgeError('EDGE_CONFIG_INVALID', `${key}: expected ${expectedOf(e.schema as SchemaNode)}, got ${shown}`);
}

/**
 * YAML writes an empty list or map as `key:` (null). For list and object keys that means "none",
 * as before the schema; a null scalar stays an error (it would otherwise fall back to a default).
 */
function dropEmptyNulls(schema: SchemaNode, v: unknown): void {
  if (Array.isArray(v) && schema.type === 'array') {
    for (const item of v) dropEmptyNulls(schema.items as SchemaNode, item);
    return;
  }
  if (!isObj(v) || schema.type !== 'object') return;
  const props = (schema.properties ?? {}) as Record<string, SchemaNode>;
  for (const [k, val] of Object.entries(v)) {
    const p = props[k];
    if (!p || !Object.hasOwn(props, k)) continue;
    if (val === null && (p.type === 'array' || p.type === 'object')) delete v[k];
    else dropEmptyNulls(p, val);
  }
}

function channel(c: RawConfig['channels'][number], i: number): ChannelConfig {
  const p = `channels[${i}]`;
  if (c.tcp_port === null && c.udp_port === null) fail(p, 'tcp_port and/or udp_port', undefined);
  const parts: ChannelConfig['parts'] = {};
  // attachment_tcp_port / attachment_advertise_host: the video-telematics names of the attachments part's keys
  const shorthand = { tcp_port: c.attachment_tcp_port, advertise_host: c.attachment_advertise_host };
  if (shorthand.tcp_port != null || shorthand.advertise_host != null) {
    const a = (c.parts.attachments ??= {});
    for (const [k, v] of Object.entries(shorthand) as ['tcp_port' | 'advertise_host', string | number | undefined][]) {
      if (v == null) continue;
      if (a[k] != null) fail(`${p}.attachment_${k}`, `one of attachment_${k} and parts.attachments.${k}, not both`, v);
      (a as Record<string, unknown>)[k] = v;
    }
  }
  for (const [id, ports] of Object.entries(c.parts)) {
    parts[id] = { tcp_port: ports.tcp_port ?? null, udp_port: ports.udp_port ?? null, advertise_host: ports.advertise_host ?? null };
    if (parts[id].tcp_port === null && parts[id].udp_port === null) fail(`${p}.parts.${id}`, 'tcp_port and/or udp_port', undefined);
  }
  // Invalid list entries are config errors at load time, naming the entry.
  compileIpFilter({ whitelist: c.ip_whitelist, blacklist: c.ip_blacklist, keyPath: p });
  if (c.proxy_protocol && c.trusted_proxies.length === 0) fail(`${p}.trusted_proxies`, 'the load balancers allowed to send the PROXY header (IPs or CIDR networks): proxy_protocol is on', c.trusted_proxies);
  compileIpFilter({ whitelist: c.trusted_proxies, blacklist: [], keyPath: p, whitelistKey: 'trusted_proxies' });
  return { ...c, id: String(c.id), name: c.name ?? c.protocol, parts };
}

export function validateConfig(input: unknown, sources: ReadonlyMap<string, string> = new Map()): EdgeConfig {
  const raw = input === undefined || input === null ? {} : structuredClone(input);
  if (!isObj(raw)) fail('(top level)', 'an object of settings', raw);
  dropEmptyNulls(ConfigSchema, raw);
  const filled = Value.Default(ConfigSchema, raw);
  const errors = schemaErrors(filled, sources);
  if (errors.length > 0) throw allOf(errors);
  const c = filled as RawConfig;
  // The _file forms are resolved by the loader (env.ts); one left here had nothing to resolve it.
  const unresolved = ([['mqtt.password_file', c.mqtt.password_file], ['redis_url_file', c.redis_url_file], ['http.tokens_file', c.http.tokens_file], ['http.link_key_file', c.http.link_key_file]] as const).find(([, v]) => v);
  if (unresolved) fail(unresolved[0], 'to be read by loadConfig (the _file forms are resolved when a file is loaded)', unresolved[1]);
  const channels = c.channels.map(channel);
  const seen = new Set<string>();
  channels.forEach((ch, i) => {
    if (seen.has(ch.id)) fail(`channels[${i}].id`, 'an id not used by another channel', c.channels[i]!.id);
    seen.add(ch.id);
  });
  if (c.commands.default_ttl_s > c.commands.max_ttl_s) fail('commands.default_ttl_s', `at most commands.max_ttl_s (${c.commands.max_ttl_s})`, c.commands.default_ttl_s);
  if (c.commands.default_timeout_s > c.commands.max_timeout_s) fail('commands.default_timeout_s', `at most commands.max_timeout_s (${c.commands.max_timeout_s})`, c.commands.default_timeout_s);
  // assets: ids are keys of the store and topics; one parameter value can identify one asset only
  const assetIds = new Set<string>();
  const matches = new Map<string, string>();
  const assets = c.assets.map((a) => ({ ...a, id: String(a.id) }));
  assets.forEach((a, i) => {
    if (assetIds.has(a.id)) fail(`assets[${i}].id`, 'an id not used by another asset', a.id);
    assetIds.add(a.id);
    if (!a.match) return;
    const key = `${a.match.parameter}\u0000${String(a.match.value)}`;
    const other = matches.get(key);
    if (other) fail(`assets[${i}].match`, `a parameter value no other asset matches (asset ${other} matches ${a.match.parameter} = ${String(a.match.value)})`, a.match.value);
    matches.set(key, a.id);
  });
  if (c.spool.probe_max_ms < c.spool.probe_min_ms) fail('spool.probe_max_ms', `an integer >= spool.probe_min_ms (${c.spool.probe_min_ms})`, c.spool.probe_max_ms);
  // Listeners that would collide at bind time are config errors before anything starts.
  checkPortConflicts(configListeners({ ...c, channels }));
  const { password_file: _pf, ...mqtt } = c.mqtt;
  // the API's secrets: wrong shapes are named by position and length, never by value
  if (c.http.tokens) {
    const entries = c.http.tokens.split(/\s+/).filter((t) => t !== '');
    const bad = entries.findIndex((e) => !/^(read|full):[A-Za-z0-9._~+/=-]{16,512}$/.test(e));
    if (bad >= 0) fail('http.tokens', '"read:<token>" or "full:<token>" entries, each token 16 to 512 characters (letters, digits, . _ ~ + / = -)', `entry ${bad + 1} of ${entries.length}, not of that form`);
  }
  if (c.http.link_key && c.http.link_key.length < 16) fail('http.link_key', 'a key of 16 characters or more', `a secret of ${c.http.link_key.length} characters`);
  const { tokens_file: _tf, link_key_file: _lf, ...http } = c.http;
  const { redis_url_file: _rf, ...rest } = c;
  return { ...rest, instance_id: rest.instance_id || defaultInstanceId(), mqtt, http, channels, assets };
}
