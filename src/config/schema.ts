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
  /** Overrides the protocol's maximum frame size (never above it). 0 = the protocol's. */
  max_frame_bytes: number;
  /** Protocol options merged over the module's defaults. */
  options: Record<string, unknown>;
  ip_whitelist: string[];
  ip_blacklist: string[];
  /** 0 = unlimited. */
  max_udp_packets_per_minute: number;
  max_udp_packets_per_minute_per_ip: number;
}

export interface EdgeConfig {
  log_level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  mqtt: MqttConfig;
  pool: PoolConfig;
  channels: ChannelConfig[];
  /** Shared counters for guards across instances (optional). */
  redis_url: string;
  /** How often aggregated stats (drops, counters) are published, seconds. */
  stats_interval_s: number;
  /** Seconds to finish in-flight frames on SIGINT/SIGTERM before closing anyway. */
  shutdown_timeout_s: number;
}
