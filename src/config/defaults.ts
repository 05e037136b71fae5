import { hostname } from 'node:os';
import type { ChannelConfig, EdgeConfig } from './schema.js';

/** The default instance id: the host name as a topic level ("edge-channel" if it has nothing usable). */
export function defaultInstanceId(host = hostname()): string {
  return host.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^_+|_+$/g, '') || 'edge-channel';
}

/** What `npm start` runs with no config file: embedded broker, one Ruptela channel on TCP 5046. */
export const DEFAULT_CONFIG: EdgeConfig = {
  instance_id: defaultInstanceId(),
  log_level: 'info',
  mqtt: {
    url: '',
    client_id: 'edge-channel',
    topic_root: 'edge',
    embedded: { host: '127.0.0.1', port: 1883 },
    max_inflight: 1000,
    max_queued: 20000,
  },
  pool: { threads: 0, max_batch_frames: 256, max_pending_frames: 20000 },
  spool: {
    enabled: true,
    dir: './data/spool',
    max_bytes: 1024 * 1024 * 1024,
    segment_bytes: 16 * 1024 * 1024,
    fsync: true,
    publish_timeout_ms: 10_000,
    probe_min_ms: 500,
    probe_max_ms: 30_000,
    drain_rate: 5000,
    drain_inflight: 100,
  },
  channels: [{ id: '1', name: 'ruptela', protocol: 'ruptela', tcp_port: 5046 } as ChannelConfig],
  redis_url: '',
  stats_interval_s: 60,
  shutdown_timeout_s: 10,
  http: { host: '127.0.0.1', port: null },
};

/** Defaults for each channel entry; `id`, `protocol` and at least one port are required. */
export const CHANNEL_DEFAULTS: Omit<ChannelConfig, 'id' | 'name' | 'protocol'> = {
  host: '0.0.0.0',
  tcp_port: null,
  udp_port: null,
  max_connections: 10000,
  idle_timeout_s: 600,
  frame_timeout_s: 30,
  max_outbound_bytes: 256 * 1024,
  udp_receive_buffer_bytes: 0,
  max_frame_bytes: 0,
  options: {},
  ip_whitelist: [],
  ip_blacklist: [],
  max_udp_packets_per_minute: 0,
  max_udp_packets_per_minute_per_ip: 0,
};
