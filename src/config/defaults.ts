import type { ChannelConfig, EdgeConfig } from './schema.js';
import { COMMANDS_DEFAULTS } from '../commands/commands-config.js';

/** What `npm start` runs with no config file: embedded broker, one Ruptela channel on TCP 5046. */
export const DEFAULT_CONFIG: EdgeConfig = {
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
    // no cap: the adaptive window follows the broker (bench/README.md, after-load-outage)
    drain_rate: 0,
    // half of mqtt.max_inflight: the drain never takes more of the publisher's window than that
    drain_inflight: 500,
  },
  media: { dir: './data/media', fsync: true },
  commands: { ...COMMANDS_DEFAULTS },
  channels: [{ id: '1', name: 'ruptela', protocol: 'ruptela', tcp_port: 5046 } as ChannelConfig],
  redis_url: '',
  stats_interval_s: 60,
  shutdown_timeout_s: 10,
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
  parts: {},
  ip_whitelist: [],
  ip_blacklist: [],
  max_udp_packets_per_minute: 0,
  max_udp_packets_per_minute_per_ip: 0,
};
