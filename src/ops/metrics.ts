import { collectDefaultMetrics, Counter, Gauge, Registry, type Aggregator } from 'prom-client';
import type { ReliabilityMetrics } from '../reliability/reliable-publisher.js';
import { LatencyHistogram } from './latency-histogram.js';
import type { ChannelMetrics } from './channel-metrics.js';
import type { DropReason } from '../guard/drop-stats.js';

/**
 * Prometheus metrics (prom-client) for `/metrics`. Almost everything is read at scrape time from
 * counters and gauges the runtime keeps anyway (channel counters, connection count, pool queue,
 * publisher window, the reliable publisher's metrics), so serving metrics costs the hot path
 * nothing. Only the ACK-latency histogram and decode errors by code are recorded per event,
 * through the ChannelMetrics the channels receive.
 *
 * Each app gets its own Registry (tests run several apps in one process; the global registry
 * would mix them).
 */
export interface MetricsSource {
  instanceId: string;
  version: string;
  channels: () => readonly {
    id: string;
    counters: { frames: number; messages: number; acked: number; udpOverloadDrops: number };
    connectionCount: number;
    guards: { drops: { totals(): Readonly<Record<DropReason, number>> } };
  }[];
  pool: () => { pendingFrames: number };
  publisher: () => { connected: boolean; inFlight: number; expressInFlight: number; queued: number };
  /** The asset service's counters (src/assets/). */
  assets?: () => Readonly<Record<string, number>>;
  /** Present when spool.enabled: the reliable publisher's figures. */
  reliability?: () => ReliabilityMetrics;
}

/** ACK latency buckets, seconds: sub-millisecond on loopback up to a broker outage's timeout. */
export const ACK_LATENCY_BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export interface AppMetrics extends ChannelMetrics {
  readonly registry: Registry;
  /** The exposition text (what GET /metrics returns). */
  text(): Promise<string>;
  readonly contentType: string;
}

export function createMetrics(src: MetricsSource): AppMetrics {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry });

  new Gauge({
    name: 'edge_info',
    help: 'Always 1; labels name the running instance and version',
    labelNames: ['instance', 'version'],
    registers,
    collect() {
      this.set({ instance: src.instanceId, version: src.version }, 1);
    },
  });

  // cumulative channel counters, read at scrape time
  const perChannel = (name: string, help: string, read: (c: ReturnType<MetricsSource['channels']>[number]) => number) =>
    new Counter({
      name,
      help,
      labelNames: ['channel'],
      registers,
      collect() {
        this.reset();
        for (const c of src.channels()) this.inc({ channel: c.id }, read(c));
      },
    });
  perChannel('edge_frames_total', 'Device frames received (framed, before decoding)', (c) => c.counters.frames);
  perChannel('edge_messages_total', 'Messages decoded and handed to the publisher', (c) => c.counters.messages);
  perChannel('edge_acks_total', 'Frames acknowledged to devices (every message confirmed by the broker or the spool)', (c) => c.counters.acked);

  new Counter({
    name: 'edge_guard_drops_total',
    help: 'Connections and datagrams dropped before decoding, by reason (whitelist, blacklist, rate, rate_ip, proxy, udp_overload)',
    labelNames: ['channel', 'reason'],
    registers,
    collect() {
      this.reset();
      for (const c of src.channels()) {
        for (const [reason, n] of Object.entries(c.guards.drops.totals())) this.inc({ channel: c.id, reason }, n);
        this.inc({ channel: c.id, reason: 'udp_overload' }, c.counters.udpOverloadDrops);
      }
    },
  });

  new Gauge({
    name: 'edge_connections',
    help: 'Open device TCP connections',
    labelNames: ['channel'],
    registers,
    collect() {
      this.reset();
      for (const c of src.channels()) this.set({ channel: c.id }, c.connectionCount);
    },
  });

  const decodeErrors = new Counter({
    name: 'edge_decode_errors_total',
    help: 'Frames that failed framing, checksum or decoding (never acknowledged), by error code',
    labelNames: ['channel', 'code'],
    registers,
  });

  const ackLatency = new LatencyHistogram(
    'edge_ack_latency_seconds',
    'Time from a frame arriving to its acknowledgement being written (decode + broker or spool confirmation + ordering)',
    'channel',
    ACK_LATENCY_BUCKETS_S,
  ).register(registry);

  new Gauge({
    name: 'edge_pool_pending_frames',
    help: 'Frames waiting for or in a decode worker',
    registers,
    collect() {
      this.set(src.pool().pendingFrames);
    },
  });

  // `aggregator`: how several processes' values merge into the box's /metrics (processes/cluster-metrics.ts); the default sums
  const gauge = (name: string, help: string, read: () => number, aggregator: Aggregator = 'sum') =>
    new Gauge({
      name,
      help,
      registers,
      aggregator,
      collect() {
        this.set(read());
      },
    });
  gauge('edge_mqtt_connected', '1 while the MQTT client is connected to the broker (several processes: 1 only while every one is)', () => (src.publisher().connected ? 1 : 0), 'min');
  gauge('edge_mqtt_inflight', 'QoS 1 publishes awaiting PUBACK', () => src.publisher().inFlight);
  gauge('edge_mqtt_express_inflight', 'QoS 1 publishes of quiet connections awaiting PUBACK on the express connection (mqtt.express_inflight)', () => src.publisher().expressInFlight);
  gauge('edge_mqtt_queued', 'Publishes queued behind the in-flight window', () => src.publisher().queued);

  const rel = src.reliability;
  if (rel) {
    gauge('edge_spool_records', 'Messages in the local spool not yet confirmed by the broker', () => rel().spool_records);
    gauge('edge_spool_bytes', 'Bytes of the spool segment files', () => rel().spool_bytes);
    gauge('edge_spool_full', '1 while the spool is at spool.max_bytes (frames are not acknowledged)', () => (rel().spool_full ? 1 : 0), 'max');
    gauge('edge_spool_failed', '1 while the spool cannot write (EDGE_SPOOL_WRITE_FAILED / EDGE_SPOOL_LOCKED)', () => (rel().spool_error ? 1 : 0), 'max');
    gauge('edge_spool_oldest_age_seconds', 'Age of the oldest spooled message', () => rel().oldest_spooled_age_s, 'max');
    new Gauge({
      name: 'edge_breaker_state',
      help: 'Circuit breaker around the broker: 1 for the current state (closed, open, half_open)',
      labelNames: ['state'],
      registers,
      collect() {
        const s = rel().breaker;
        for (const state of ['closed', 'open', 'half_open']) this.set({ state }, s === state ? 1 : 0);
      },
    });
    new Counter({
      name: 'edge_breaker_opens_total',
      help: 'Times the circuit breaker opened',
      registers,
      collect() {
        this.reset();
        this.inc(rel().breaker_opens);
      },
    });
    new Counter({
      name: 'edge_publish_routes_total',
      help: 'Messages by route: direct (QoS 1 to the broker), spooled (written to the spool), drained (spooled, then confirmed by the broker)',
      labelNames: ['route'],
      registers,
      collect() {
        this.reset();
        const m = rel();
        this.inc({ route: 'direct' }, m.direct);
        this.inc({ route: 'spooled' }, m.spooled);
        this.inc({ route: 'drained' }, m.drained);
      },
    });
    new Counter({
      name: 'edge_publish_timeouts_total',
      help: 'Publishes without PUBACK within spool.publish_timeout_ms',
      registers,
      collect() {
        this.reset();
        this.inc(rel().timeouts);
      },
    });
    new Counter({
      name: 'edge_spool_write_errors_total',
      help: 'Spool appends that failed (disk full, read-only, locked)',
      registers,
      collect() {
        this.reset();
        this.inc(rel().spool_write_errors);
      },
    });
  }

  const assets = src.assets;
  if (assets) {
    new Counter({
      name: 'edge_asset_events_total',
      help: 'Asset service: intervals opened and ended by rules, late records that conflict with history, store errors, management requests applied and rejected',
      labelNames: ['event'],
      registers,
      collect() {
        this.reset();
        for (const [event, n] of Object.entries(assets())) this.inc({ event }, n);
      },
    });
  }

  return {
    registry,
    contentType: registry.contentType,
    text: () => registry.metrics(),
    acked(channelId, latencyMs) {
      ackLatency.observe(channelId, latencyMs / 1000);
    },
    decodeError(channelId, code) {
      decodeErrors.inc({ channel: channelId, code });
    },
  };
}
