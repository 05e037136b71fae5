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
  /** Spooled records published per second while draining (0 = unlimited). */
  drain_rate: number;
  /** Spooled records awaiting PUBACK at once while draining. */
  drain_inflight: number;
}

/** The optional HTTP listener for health checks and Prometheus metrics (src/ops/). */
export interface HttpConfig {
  /** Interface to bind; 127.0.0.1 keeps it private to the machine. */
  host: string;
  /** null = no listener (the default); 0 = an ephemeral port. */
  port: number | null;
}

export interface EdgeConfig {
  /**
   * Who this process is: the MQTT client id suffix, the owner written into the spool lock and the
   * `{root}/state/gw/instances/{instance_id}/...` topics. Default: the host name (a container's
   * host name is its own), made a valid topic level.
   */
  instance_id: string;
  log_level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  mqtt: MqttConfig;
  pool: PoolConfig;
  spool: SpoolConfig;
  channels: ChannelConfig[];
  /** Shared counters for guards across instances (optional). */
  redis_url: string;
  /** How often aggregated stats (drops, counters) are published, seconds. */
  stats_interval_s: number;
  /** Seconds to finish in-flight frames on SIGINT/SIGTERM before closing anyway. */
  shutdown_timeout_s: number;
  http: HttpConfig;
}
