import type { EdgeConfig } from './config/schema.js';
import { Channel } from './channel/channel.js';
import { startEmbeddedBroker, type EmbeddedBroker } from './mqtt/embedded-broker.js';
import { Publisher, mqttClientOptions } from './mqtt/publisher.js';
import { makeTopics } from './mqtt/topics.js';
import { DecodePool } from './pool/decode-pool.js';
import { getProtocol } from './protocol/registry.js';
import type { Logger } from './util/log.js';

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
  stop(): Promise<void>;
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
  const publisher = new Publisher(brokerUrl, mqttClientOptions(config.mqtt, String(process.pid)), config.mqtt.max_inflight, config.mqtt.max_queued);
  publisher.on('mqtt-error', (e: Error) => log.warn({ err: e.message }, 'EDGE_MQTT_UNREACHABLE: MQTT client error'));
  publisher.on('down', () => log.warn('MQTT connection lost; devices are not acknowledged until it is back'));
  publisher.on('up', () => log.info({ url: brokerUrl }, 'MQTT connected'));
  try {
    await publisher.waitConnected(10_000);
  } catch {
    log.warn({ url: brokerUrl }, 'EDGE_MQTT_UNREACHABLE: broker not reachable yet; channels start anyway and acknowledge nothing until it is');
  }

  const pool = new DecodePool({ threads: opts.threads ?? config.pool.threads, maxBatchFrames: config.pool.max_batch_frames, maxPending: config.pool.max_pending_frames });
  const topics = makeTopics(config.mqtt.topic_root);
  const channels = config.channels.map((c, i) => new Channel(c, protos[i]!, { pool, publisher, topics, log }));

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

  const started: Channel[] = [];
  try {
    for (const ch of channels) {
      await ch.start(config.stats_interval_s);
      started.push(ch);
    }
  } catch (e) {
    for (const ch of started) await ch.stop(0);
    await publisher.close();
    await pool.close();
    if (broker) await broker.close();
    throw e;
  }

  let stopped: Promise<void> | null = null;
  const stop = () =>
    (stopped ??= (async () => {
      const timeoutMs = config.shutdown_timeout_s * 1000;
      await Promise.all(channels.map((c) => c.stop(timeoutMs)));
      await publisher.flush(timeoutMs);
      await publisher.close();
      await pool.close();
      if (broker) await broker.close();
    })());

  return { config, broker, brokerUrl, publisher, pool, channels, stop };
}
