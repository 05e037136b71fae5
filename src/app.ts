import type { EdgeConfig } from './config/schema.js';
import { Channel } from './channel/channel.js';
import { startEmbeddedBroker, type EmbeddedBroker } from './mqtt/embedded-broker.js';
import { Publisher, mqttClientOptions } from './mqtt/publisher.js';
import { makeTopics } from './mqtt/topics.js';
import { InstanceState, instanceWill } from './mqtt/instance-state.js';
import { watchDelayedAcks } from './mqtt/delayed-ack-check.js';
import { ReliablePublisher } from './reliability/reliable-publisher.js';
import { Spool } from './reliability/spool.js';
import { DecodePool } from './pool/decode-pool.js';
import { getProtocol } from './protocol/registry.js';
import type { Logger } from './util/log.js';
import { createMetrics, type AppMetrics } from './ops/metrics.js';
import { startOpsServer, type OpsServer, type Readiness } from './ops/http-server.js';
import { packageVersion } from './util/version.js';

/**
 * Composition root: broker (embedded or external), publisher, decode pool and channels.
 * Returned handles let tests and benches drive the same runtime that `edge-channel start` runs.
 */
export interface App {
  config: EdgeConfig;
  broker: EmbeddedBroker | null;
  brokerUrl: string;
  publisher: Publisher;
  pool: DecodePool;
  channels: Channel[];
  /** Retained online/instance state and the correction of stale device state (mqtt/instance-state.ts). */
  instance: InstanceState;
  metrics: AppMetrics;
  /** The health/metrics listener when config.http.port is set. */
  http: OpsServer | null;
  /** What /readyz answers. */
  readiness(): Readiness;
  stop(): Promise<void>;
  /** Applies a new config without a restart: guard lists and limits per channel (see Channel.updateConfig). */
  reload(next: EdgeConfig): string[];
}

export interface AppOptions {
  log: Logger;
  /** 'inline' decodes on the main thread (tests); default: config.pool.threads workers. */
  threads?: number | 'inline';
}

export async function startApp(config: EdgeConfig, opts: AppOptions): Promise<App> {
  const { log } = opts;
  // Resolve protocols first: a typo in a channel's protocol fails before any port is bound.
  const protos = await Promise.all(config.channels.map((c) => getProtocol(c.protocol)));

  let broker: EmbeddedBroker | null = null;
  let brokerUrl = config.mqtt.url;
  if (!brokerUrl) {
    broker = await startEmbeddedBroker(config.mqtt.embedded);
    brokerUrl = broker.url;
    log.info({ url: broker.url }, `embedded MQTT broker listening on ${broker.host}:${broker.port}`);
  }
  // spool.enabled: PUBACK timeout + circuit breaker + durable spool (src/reliability/); else the bare publisher
  const sp = config.spool;
  const topics = makeTopics(config.mqtt.topic_root);
  // the instance id (not the pid: 1 in every container) keys the client id; the will tells the truth after kill -9
  const mqttOpts = mqttClientOptions(config.mqtt, config.instance_id, instanceWill(topics, config.instance_id));
  const publisher = sp.enabled
    ? new ReliablePublisher(brokerUrl, mqttOpts, config.mqtt.max_inflight, config.mqtt.max_queued, {
        spool: await Spool.open({ dir: sp.dir, maxBytes: sp.max_bytes, segmentBytes: Math.min(sp.segment_bytes, Math.max(4096, Math.floor(sp.max_bytes / 8))), fsync: sp.fsync, instanceId: config.instance_id, log: log.child({ component: 'spool' }) }),
        topics,
        log: log.child({ component: 'reliability' }),
        publishTimeoutMs: sp.publish_timeout_ms,
        probeMinMs: sp.probe_min_ms,
        probeMaxMs: sp.probe_max_ms,
        drainRate: sp.drain_rate,
        drainInflight: sp.drain_inflight,
        statsIntervalS: config.stats_interval_s,
      })
    : new Publisher(brokerUrl, mqttOpts, config.mqtt.max_inflight, config.mqtt.max_queued);
  watchDelayedAcks(publisher, log);
  publisher.on('mqtt-error', (e: Error) => log.warn({ err: e.message }, 'EDGE_MQTT_UNREACHABLE: MQTT client error'));
  let shuttingDown = false;
  publisher.on('down', () => !shuttingDown && log.warn(sp.enabled ? 'MQTT connection lost; messages go to the spool until it is back' : 'MQTT connection lost; devices are not acknowledged until it is back'));
  publisher.on('up', () => log.info({ url: brokerUrl }, 'MQTT connected'));
  try {
    // with a spool there is no reason to hold devices back for long: the spool takes their messages
    await publisher.waitConnected(sp.enabled ? 3000 : 10_000);
  } catch {
    log.warn({ url: brokerUrl }, sp.enabled ? 'EDGE_MQTT_UNREACHABLE: broker not reachable yet; channels start and messages go to the spool' : 'EDGE_MQTT_UNREACHABLE: broker not reachable yet; channels start anyway and acknowledge nothing until it is');
  }

  const pool = new DecodePool({ threads: opts.threads ?? config.pool.threads, maxBatchFrames: config.pool.max_batch_frames, maxPending: config.pool.max_pending_frames });
  const metrics = createMetrics({
    instanceId: config.instance_id,
    version: packageVersion(),
    channels: () => channels,
    pool: () => pool,
    publisher: () => publisher,
    ...(publisher instanceof ReliablePublisher ? { reliability: () => publisher.metrics() } : {}),
  });
  const channels = config.channels.map((c, i) => new Channel(c, protos[i]!, { pool, publisher, topics, log, redisUrl: config.redis_url, metrics }));

  // End-to-end backpressure: a full pool or publisher pauses every device socket.
  const pauseAll = (why: string) => () => {
    log.debug({ why }, 'backpressure: pausing device sockets');
    for (const ch of channels) ch.pause(why);
  };
  const resumeAll = (why: string) => () => {
    for (const ch of channels) ch.resume(why);
  };
  pool.on('full', pauseAll('pool'));
  pool.on('drain', resumeAll('pool'));
  publisher.on('full', pauseAll('mqtt'));
  publisher.on('drain', resumeAll('mqtt'));

  const instance = new InstanceState({ publisher, topics, instanceId: config.instance_id, channels, log });
  // before the listeners open: stale "connected true" of an earlier run are corrected first
  await instance.start();

  let phase: 'starting' | 'running' | 'stopping' = 'starting';
  const readiness = (): Readiness => {
    const reasons: string[] = [];
    if (phase !== 'running') reasons.push(phase);
    if (!publisher.connected) {
      if (!(publisher instanceof ReliablePublisher)) reasons.push('MQTT broker not connected (no spool)');
      else if (publisher.spool.isFailed) reasons.push(`MQTT broker not connected and the spool cannot write: ${publisher.spool.error?.message ?? 'failed'}`);
      else if (publisher.spool.isFull) reasons.push('MQTT broker not connected and the spool is full');
    }
    return { ready: reasons.length === 0, reasons };
  };
  let http: OpsServer | null = null;
  const started: Channel[] = [];
  try {
    if (config.http.port !== null) {
      http = await startOpsServer({ host: config.http.host, port: config.http.port, readiness, metrics });
      log.info({ url: `http://${config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host}:${http.port}` }, `health and metrics on http://${config.http.host}:${http.port} (/healthz, /readyz, /metrics)`);
    }
    for (const ch of channels) {
      await ch.start(config.stats_interval_s);
      started.push(ch);
    }
    phase = 'running';
  } catch (e) {
    for (const ch of started) await ch.stop(0);
    if (http) await http.close();
    await instance.stop(1000);
    await publisher.close();
    await pool.close();
    if (broker) await broker.close();
    throw e;
  }

  let stopped: Promise<void> | null = null;
  const stop = () =>
    (stopped ??= (async () => {
      shuttingDown = true;
      phase = 'stopping';
      const timeoutMs = config.shutdown_timeout_s * 1000;
      await Promise.all(channels.map((c) => c.stop(timeoutMs)));
      await publisher.flush(timeoutMs);
      await instance.stop(Math.min(2000, Math.max(timeoutMs, 500)));
      await publisher.close();
      await pool.close();
      if (http) await http.close();
      if (broker) await broker.close();
    })());

  const reload = (next: EdgeConfig): string[] => reloadChannels(channels, config, next, log);

  return { config, broker, brokerUrl, publisher, pool, channels, instance, metrics, http, readiness, stop, reload };
}

/**
 * Reload: channels matched by id get their new guard settings; anything that needs sockets or
 * workers rebuilt (ports, protocol, broker, pool, channels added or removed) is reported as
 * needing a restart instead of half-applied. Returns the keys that were not applied.
 */
function reloadChannels(channels: Channel[], current: EdgeConfig, next: EdgeConfig, log: Logger): string[] {
  const notApplied: string[] = [];
  const restartKeys = ['protocol', 'host', 'tcp_port', 'udp_port'] as const;
  for (const nc of next.channels) {
    const ch = channels.find((c) => c.id === nc.id);
    if (!ch) {
      notApplied.push(`channels[${nc.id}] (new channel)`);
      continue;
    }
    for (const k of restartKeys) if (ch.cfg[k] !== nc[k]) notApplied.push(`channels[${nc.id}].${k}`);
    ch.updateConfig(nc);
  }
  for (const ch of channels) if (!next.channels.some((c) => c.id === ch.id)) notApplied.push(`channels[${ch.id}] (removed)`);
  if (JSON.stringify(current.mqtt) !== JSON.stringify(next.mqtt)) notApplied.push('mqtt');
  if (JSON.stringify(current.pool) !== JSON.stringify(next.pool)) notApplied.push('pool');
  if (current.redis_url !== next.redis_url) notApplied.push('redis_url');
  if (notApplied.length) log.warn({ keys: notApplied }, 'config reloaded; these changes need a restart');
  else log.info('config reloaded');
  return notApplied;
}
