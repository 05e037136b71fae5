import { EdgeError } from '../errors.js';
import { CHANNEL_DEFAULTS, DEFAULT_CONFIG } from './defaults.js';
import type { ChannelConfig, EdgeConfig, HttpConfig, MqttConfig, PoolConfig, SpoolConfig, TlsConfig } from './schema.js';
import { compileIpFilter } from '../guard/ip-filter.js';

/**
 * Validates a parsed config object and fills defaults. Every error names the key path and the
 * expected form (`channels[1].tcp_port: expected an integer 0..65535, got "abc"`), because the
 * person reading it is editing a file at 3 a.m.
 */
type Obj = Record<string, unknown>;

function fail(path: string, expected: string, got: unknown): never {
  const shown = got === undefined ? 'nothing' : JSON.stringify(got);
  throw new EdgeError('EDGE_CONFIG_INVALID', `${path}: expected ${expected}, got ${shown}`);
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkKeys(o: Obj, path: string, allowed: readonly string[]): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) {
      throw new EdgeError('EDGE_CONFIG_INVALID', `${path ? path + '.' : ''}${k}: unknown key (allowed: ${allowed.join(', ')})`);
    }
  }
}

function int(v: unknown, path: string, min: number, max: number, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) fail(path, `an integer ${min}..${max}`, v);
  return v;
}

function str(v: unknown, path: string, dflt: string, pattern?: RegExp, form = 'a string'): string {
  if (v === undefined) return dflt;
  if (typeof v !== 'string' || (pattern && !pattern.test(v))) fail(path, form, v);
  return v;
}

function bool(v: unknown, path: string, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') fail(path, 'true or false', v);
  return v;
}

function strList(v: unknown, path: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) fail(path, 'a list of strings', v);
  return v.map((e, i) => (typeof e === 'string' ? e : fail(`${path}[${i}]`, 'a string', e)));
}

function port(v: unknown, path: string): number | null {
  if (v === undefined || v === null) return null;
  return int(v, path, 0, 65535, 0);
}

const TOPIC_LEVEL = /^[A-Za-z0-9_.-]+$/;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

function tls(v: unknown, path: string): TlsConfig | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObj(v)) fail(path, 'an object', v);
  checkKeys(v, path, ['ca', 'cert', 'key', 'reject_unauthorized']);
  const out: TlsConfig = { reject_unauthorized: bool(v.reject_unauthorized, `${path}.reject_unauthorized`, true) };
  if (v.ca !== undefined) out.ca = str(v.ca, `${path}.ca`, '');
  if (v.cert !== undefined) out.cert = str(v.cert, `${path}.cert`, '');
  if (v.key !== undefined) out.key = str(v.key, `${path}.key`, '');
  return out;
}

function mqtt(v: unknown): MqttConfig {
  const d = DEFAULT_CONFIG.mqtt;
  if (v === undefined) return { ...d, embedded: { ...d.embedded } };
  if (!isObj(v)) fail('mqtt', 'an object', v);
  checkKeys(v, 'mqtt', ['url', 'username', 'password', 'client_id', 'tls', 'topic_root', 'embedded', 'max_inflight', 'max_queued']);
  const url = str(v.url, 'mqtt.url', '', /^$|^(mqtts?|tcp|ssl|wss?):\/\/.+/, 'a broker URL such as mqtt://127.0.0.1:1883 (or empty for the embedded broker)');
  let embedded = { ...d.embedded };
  if (v.embedded !== undefined) {
    if (!isObj(v.embedded)) fail('mqtt.embedded', 'an object', v.embedded);
    checkKeys(v.embedded, 'mqtt.embedded', ['host', 'port']);
    embedded = { host: str(v.embedded.host, 'mqtt.embedded.host', d.embedded.host), port: int(v.embedded.port, 'mqtt.embedded.port', 0, 65535, d.embedded.port) };
  }
  const out: MqttConfig = {
    url,
    client_id: str(v.client_id, 'mqtt.client_id', d.client_id),
    topic_root: str(v.topic_root, 'mqtt.topic_root', d.topic_root, /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/, 'topic levels without wildcards, e.g. "edge"'),
    embedded,
    max_inflight: int(v.max_inflight, 'mqtt.max_inflight', 1, 65535, d.max_inflight),
    max_queued: int(v.max_queued, 'mqtt.max_queued', 1, 10_000_000, d.max_queued),
  };
  if (v.username !== undefined) out.username = str(v.username, 'mqtt.username', '');
  if (v.password !== undefined) out.password = str(v.password, 'mqtt.password', '');
  const t = tls(v.tls, 'mqtt.tls');
  if (t) out.tls = t;
  return out;
}

function pool(v: unknown): PoolConfig {
  const d = DEFAULT_CONFIG.pool;
  if (v === undefined) return { ...d };
  if (!isObj(v)) fail('pool', 'an object', v);
  checkKeys(v, 'pool', ['threads', 'max_batch_frames', 'max_pending_frames']);
  return {
    threads: int(v.threads, 'pool.threads', 0, 256, d.threads),
    max_batch_frames: int(v.max_batch_frames, 'pool.max_batch_frames', 1, 65536, d.max_batch_frames),
    max_pending_frames: int(v.max_pending_frames, 'pool.max_pending_frames', 1, 10_000_000, d.max_pending_frames),
  };
}

function spool(v: unknown): SpoolConfig {
  const d = DEFAULT_CONFIG.spool;
  if (v === undefined) return { ...d };
  if (!isObj(v)) fail('spool', 'an object', v);
  checkKeys(v, 'spool', Object.keys(d));
  const out: SpoolConfig = {
    enabled: bool(v.enabled, 'spool.enabled', d.enabled),
    dir: str(v.dir, 'spool.dir', d.dir, /./, 'a directory path'),
    max_bytes: int(v.max_bytes, 'spool.max_bytes', 64 * 1024, Number.MAX_SAFE_INTEGER, d.max_bytes),
    segment_bytes: int(v.segment_bytes, 'spool.segment_bytes', 4096, 1024 * 1024 * 1024, d.segment_bytes),
    fsync: bool(v.fsync, 'spool.fsync', d.fsync),
    publish_timeout_ms: int(v.publish_timeout_ms, 'spool.publish_timeout_ms', 100, 3_600_000, d.publish_timeout_ms),
    probe_min_ms: int(v.probe_min_ms, 'spool.probe_min_ms', 10, 3_600_000, d.probe_min_ms),
    probe_max_ms: int(v.probe_max_ms, 'spool.probe_max_ms', 10, 3_600_000, d.probe_max_ms),
    drain_rate: int(v.drain_rate, 'spool.drain_rate', 0, 10_000_000, d.drain_rate),
    drain_inflight: int(v.drain_inflight, 'spool.drain_inflight', 1, 65535, d.drain_inflight),
  };
  if (out.probe_max_ms < out.probe_min_ms) fail('spool.probe_max_ms', `an integer >= spool.probe_min_ms (${out.probe_min_ms})`, out.probe_max_ms);
  return out;
}

function http(v: unknown): HttpConfig {
  const d = DEFAULT_CONFIG.http;
  if (v === undefined || v === null) return { ...d };
  if (!isObj(v)) fail('http', 'an object such as { host: 127.0.0.1, port: 9464 }', v);
  checkKeys(v, 'http', ['host', 'port']);
  return { host: str(v.host, 'http.host', d.host, /./, 'an address to bind, e.g. 127.0.0.1'), port: port(v.port, 'http.port') };
}

const CHANNEL_KEYS = ['id', 'name', 'protocol', ...Object.keys(CHANNEL_DEFAULTS)] as const;

function channel(v: unknown, i: number): ChannelConfig {
  const p = `channels[${i}]`;
  if (!isObj(v)) fail(p, 'an object', v);
  checkKeys(v, p, CHANNEL_KEYS);
  const d = CHANNEL_DEFAULTS;
  let id: string;
  if (typeof v.id === 'number' && Number.isInteger(v.id) && v.id >= 0) id = String(v.id);
  else id = str(v.id, `${p}.id`, '', TOPIC_LEVEL, 'a channel id (integer or letters, digits, "_", "-", ".")');
  if (id === '') fail(`${p}.id`, 'a channel id (integer or letters, digits, "_", "-", ".")', v.id);
  const protocol = str(v.protocol, `${p}.protocol`, '', /^[a-z0-9_-]+$/, 'a protocol id such as "ruptela"');
  if (protocol === '') fail(`${p}.protocol`, 'a protocol id such as "ruptela"', v.protocol);
  if (v.options !== undefined && !isObj(v.options)) fail(`${p}.options`, 'an object', v.options);
  const out: ChannelConfig = {
    id,
    name: str(v.name, `${p}.name`, protocol),
    protocol,
    host: str(v.host, `${p}.host`, d.host),
    tcp_port: port(v.tcp_port, `${p}.tcp_port`),
    udp_port: port(v.udp_port, `${p}.udp_port`),
    max_connections: int(v.max_connections, `${p}.max_connections`, 1, 10_000_000, d.max_connections),
    idle_timeout_s: int(v.idle_timeout_s, `${p}.idle_timeout_s`, 1, 86400, d.idle_timeout_s),
    frame_timeout_s: int(v.frame_timeout_s, `${p}.frame_timeout_s`, 1, 86400, d.frame_timeout_s),
    max_outbound_bytes: int(v.max_outbound_bytes, `${p}.max_outbound_bytes`, 1024, 1024 * 1024 * 1024, d.max_outbound_bytes),
    udp_receive_buffer_bytes: int(v.udp_receive_buffer_bytes, `${p}.udp_receive_buffer_bytes`, 0, 1024 * 1024 * 1024, d.udp_receive_buffer_bytes),
    max_frame_bytes: int(v.max_frame_bytes, `${p}.max_frame_bytes`, 0, 64 * 1024 * 1024, d.max_frame_bytes),
    options: (v.options as Obj | undefined) ?? {},
    ip_whitelist: strList(v.ip_whitelist, `${p}.ip_whitelist`),
    ip_blacklist: strList(v.ip_blacklist, `${p}.ip_blacklist`),
    max_udp_packets_per_minute: int(v.max_udp_packets_per_minute, `${p}.max_udp_packets_per_minute`, 0, 1_000_000_000, 0),
    max_udp_packets_per_minute_per_ip: int(v.max_udp_packets_per_minute_per_ip, `${p}.max_udp_packets_per_minute_per_ip`, 0, 1_000_000_000, 0),
  };
  if (out.tcp_port === null && out.udp_port === null) fail(p, 'tcp_port and/or udp_port', undefined);
  // Invalid list entries are config errors at load time, naming the entry.
  compileIpFilter({ whitelist: out.ip_whitelist, blacklist: out.ip_blacklist, keyPath: p });
  return out;
}

export function validateConfig(raw: unknown): EdgeConfig {
  if (raw === undefined || raw === null) raw = {};
  if (!isObj(raw)) fail('(top level)', 'an object of settings', raw);
  checkKeys(raw, '', ['instance_id', 'log_level', 'mqtt', 'pool', 'spool', 'channels', 'redis_url', 'stats_interval_s', 'shutdown_timeout_s', 'http']);
  const logLevel = str(raw.log_level, 'log_level', DEFAULT_CONFIG.log_level);
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) fail('log_level', `one of ${LOG_LEVELS.join(', ')}`, logLevel);
  let channels: ChannelConfig[];
  if (raw.channels === undefined) channels = DEFAULT_CONFIG.channels.map((c, i) => channel({ ...c, tcp_port: c.tcp_port }, i));
  else {
    if (!Array.isArray(raw.channels) || raw.channels.length === 0) fail('channels', 'a non-empty list of channels', raw.channels);
    channels = raw.channels.map(channel);
  }
  const seen = new Set<string>();
  channels.forEach((c, i) => {
    if (seen.has(c.id)) fail(`channels[${i}].id`, 'an id not used by another channel', c.id);
    seen.add(c.id);
  });
  return {
    instance_id: str(raw.instance_id, 'instance_id', DEFAULT_CONFIG.instance_id, TOPIC_LEVEL, 'an instance id of letters, digits, "_", "-", "." (it becomes a topic level and the MQTT client id)'),
    log_level: logLevel as EdgeConfig['log_level'],
    mqtt: mqtt(raw.mqtt),
    pool: pool(raw.pool),
    spool: spool(raw.spool),
    channels,
    redis_url: str(raw.redis_url, 'redis_url', '', /^$|^rediss?:\/\/.+/, 'a redis:// URL or empty'),
    stats_interval_s: int(raw.stats_interval_s, 'stats_interval_s', 1, 86400, DEFAULT_CONFIG.stats_interval_s),
    shutdown_timeout_s: int(raw.shutdown_timeout_s, 'shutdown_timeout_s', 0, 3600, DEFAULT_CONFIG.shutdown_timeout_s),
    http: http(raw.http),
  };
}
