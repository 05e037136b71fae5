/**
 * The configuration shape (snake_case keys, as users write them in YAML/JSON). Validation lives in
 * validate.ts; defaults in defaults.ts. README.md "Configuration" documents every key.
 */
export interface TlsConfig {
  ca?: string;
  cert?: string;
  key?: string;
  reject_unauthorized: boolean;
}

export interface MqttConfig {
  /** External broker URL (mqtt://, mqtts://). Empty: run the embedded broker. */
  url: string;
  username?: string;
  password?: string;
  client_id: string;
  tls?: TlsConfig;
  topic_root: string;
  embedded: { host: string; port: number };
  /** QoS 1 publishes awaiting PUBACK at once; beyond it publishes queue and sockets pause. */
  max_inflight: number;
  /** Publishes queued behind the in-flight window before device sockets are paused. */
  max_queued: number;
}

export interface PoolConfig {
  /** Worker threads; 0 = number of cores. */
  threads: number;
  /** Frames per worker task (frames are batched per event-loop tick up to this). */
  max_batch_frames: number;
  /** Frames waiting for a worker before sockets are paused. */
  max_pending_frames: number;
}

export interface ChannelConfig {
  id: string;
  name: string;
  protocol: string;
  host: string;
  tcp_port: number | null;
  udp_port: number | null;
  max_connections: number;
  idle_timeout_s: number;
  /** A frame that has started must be complete within this many seconds (slow-drip defence). */
  frame_timeout_s: number;
  /** Outbound bytes queued for one TCP connection before it is paused; twice this closes it. */
  max_outbound_bytes: number;
  /** UDP socket receive buffer (SO_RCVBUF), bytes; 0 = the OS default. */
  udp_receive_buffer_bytes: number;
  /** Overrides the protocol's maximum frame size (never above it). 0 = the protocol's. */
  max_frame_bytes: number;
  /**
   * Ports of the protocol family's further listeners (ProtocolModule.parts), by part id, e.g.
   * `{ attachments: { tcp_port: 7100 } }`; a part without an entry is not opened.
   */
  parts: Record<string, { tcp_port: number | null; udp_port: number | null }>;
  /** Protocol options merged over the module's defaults. */
  options: Record<string, unknown>;
  ip_whitelist: string[];
  ip_blacklist: string[];
  /** 0 = unlimited. */
  max_udp_packets_per_minute: number;
  max_udp_packets_per_minute_per_ip: number;
}

/**
 * The reliable publishing layer (src/reliability/): PUBACK timeout, circuit breaker and the durable
 * local spool that takes messages while the broker is unreachable. `enabled: false` runs the bare
 * QoS 1 publisher (no timeout, no spool: frames wait for the broker).
 */
export interface SpoolConfig {
  enabled: boolean;
  /** Spool directory (relative paths are resolved against the working directory). */
  dir: string;
  /** Cap of the spool on disk; when reached, frames are not acknowledged and sockets pause. */
  max_bytes: number;
  /** Segment file size; a segment is deleted once every record in it is confirmed by the broker. */
  segment_bytes: number;
  /** fdatasync each group commit before acknowledging (false: faster, survives a process crash only). */
  fsync: boolean;
  /** A QoS 1 publish without PUBACK after this long counts as failed and its message is spooled. */
  publish_timeout_ms: number;
  /** Half-open probe backoff bounds of the circuit breaker (exponential with jitter in between). */
  probe_min_ms: number;
  probe_max_ms: number;
  /**
   * Cap of spooled records published per second while draining (0 = no cap). The drain adapts
   * to the broker's PUBACK latency by itself; the cap is for consumers that cannot take bursts.
   */
  drain_rate: number;
  /** Largest adaptive drain window (spooled records awaiting PUBACK at once); at most half of mqtt.max_inflight is used. */
  drain_inflight: number;
}

/** Where file pieces that devices upload (tacho files, photos, video) are stored (src/media/). */
export interface MediaConfig {
  dir: string;
  /** fdatasync each stored piece before its frame is acknowledged. */
  fsync: boolean;
}

export type { CommandsConfig } from '../commands/commands-config.js';
import type { CommandsConfig } from '../commands/commands-config.js';

export interface EdgeConfig {
  log_level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  mqtt: MqttConfig;
  pool: PoolConfig;
  spool: SpoolConfig;
  media: MediaConfig;
  commands: CommandsConfig;
  channels: ChannelConfig[];
  /** Shared counters for guards across instances (optional). */
  redis_url: string;
  /** How often aggregated stats (drops, counters) are published, seconds. */
  stats_interval_s: number;
  /** Seconds to finish in-flight frames on SIGINT/SIGTERM before closing anyway. */
  shutdown_timeout_s: number;
}
