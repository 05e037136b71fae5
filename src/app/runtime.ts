import type { Channel } from '../channel/channel.js';
import type { EdgeConfig } from '../config/schema.js';
import { EdgeError } from '../errors.js';
import { FileMediaStore } from '../media/media-store.js';
import { MessageSink } from '../message/message-sink.js';
import { watchDelayedAcks } from '../mqtt/delayed-ack-check.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../mqtt/embedded-broker.js';
import { instanceWill } from '../mqtt/instance-state.js';
import { logBrokerOutages } from '../mqtt/outage-log.js';
import { Publisher, mqttClientOptions, type MessagePublisher } from '../mqtt/publisher.js';
import { makeTopics, type Topics } from '../mqtt/topics.js';
import { DecodePool } from '../pool/decode-pool.js';
import { ReliablePublisher } from '../reliability/reliable-publisher.js';
import { Spool } from '../reliability/spool.js';
import type { Logger } from '../util/log.js';
import { ALONE, type ProcessRole } from '../processes/process-role.js';

/**
 * The channels by id. Features are built before the channels (the channels are built with the
 * features' hooks), but some features talk to devices through the channels (commands, relay): they
 * hold this directory, which is filled once, right after the features, before anything starts.
 */
export class ChannelDirectory {
  private readonly byId = new Map<string, Channel>();
  /** Filled in place: a feature may keep this array (instance state reads it when it runs). */
  readonly list: Channel[] = [];

  fill(channels: readonly Channel[]): void {
    if (this.list.length > 0) throw new Error('the channel directory is filled once');
    this.list.push(...channels);
    for (const c of channels) this.byId.set(c.id, c);
  }

  get(id: string): Channel | undefined {
    return this.byId.get(id);
  }

  /** The channel, or EDGE_DEVICE_OFFLINE naming the id (a command for a channel this server does not run). */
  require(id: string): Channel {
    const c = this.byId.get(id);
    if (!c) throw new EdgeError('EDGE_DEVICE_OFFLINE', `this server has no channel ${id}`);
    return c;
  }
}

/**
 * The parameters the decode path returns per message (DecodePool.watch), as the union of what each
 * feature asks for: assets (their rules' parameters) and the tacho schedule (driver card ids) each
 * set their own names, and neither clears the other's.
 */
export class WatchNames {
  private readonly byOwner = new Map<string, readonly string[]>();

  constructor(private readonly pool: DecodePool) {}

  set(owner: string, names: readonly string[] | null): void {
    if (names && names.length) this.byOwner.set(owner, names);
    else this.byOwner.delete(owner);
    const all = [...new Set([...this.byOwner.values()].flat())];
    this.pool.watch = all.length ? all : null;
  }
}

/** What every feature may use: the config, the MQTT side, the decode pool, the media store and the channels. */
export interface Runtime {
  readonly config: EdgeConfig;
  readonly log: Logger;
  readonly topics: Topics;
  readonly broker: EmbeddedBroker | null;
  readonly brokerUrl: string;
  readonly publisher: MessagePublisher;
  readonly sink: MessageSink;
  readonly pool: DecodePool;
  readonly media: FileMediaStore;
  readonly channels: ChannelDirectory;
  readonly watch: WatchNames;
  /** Which of the box's processes this is, and which listeners it opens (config `processes`). */
  readonly process: ProcessRole;
  /** Stops what the core started (outage log, publisher, pool, broker): after every feature has stopped. */
  close(): Promise<void>;
}

/**
 * The core every feature stands on: the broker (embedded unless mqtt.url is set), the publisher
 * (with the durable spool when spool.enabled), the decode pool, the sink and the media store.
 */
export async function startRuntime(config: EdgeConfig, log: Logger, threads: number | 'inline' | undefined, role: ProcessRole = ALONE): Promise<Runtime> {
  let broker: EmbeddedBroker | null = null;
  let brokerUrl = config.mqtt.url;
  if (!brokerUrl) {
    broker = await startEmbeddedBroker(config.mqtt.embedded);
    brokerUrl = broker.url;
    log.info({ url: broker.url }, `embedded MQTT broker listening on ${broker.host}:${broker.port}`);
  }
  const sp = config.spool;
  const topics = makeTopics(config.mqtt.topic_root);
  // the instance id (not the pid: 1 in every container) keys the client id; the will tells the truth after kill -9
  const mqttOpts = mqttClientOptions(config.mqtt, config.instance_id, instanceWill(topics, config.instance_id));
  let publisher: MessagePublisher;
  try {
    // spool.enabled: PUBACK timeout + circuit breaker + durable spool (src/reliability/); else the bare publisher
    publisher = sp.enabled
      ? new ReliablePublisher(brokerUrl, mqttOpts, config.mqtt.max_inflight, config.mqtt.max_queued, {
          spool: await Spool.open({ dir: sp.dir, maxBytes: sp.max_bytes, segmentBytes: Math.min(sp.segment_bytes, Math.max(4096, Math.floor(sp.max_bytes / 8))), fsync: sp.fsync, instanceId: config.instance_id, log: log.child({ component: 'spool' }), logIntervalMs: config.stats_interval_s * 1000 }),
          topics,
          log: log.child({ component: 'reliability' }),
          publishTimeoutMs: sp.publish_timeout_ms,
          probeMinMs: sp.probe_min_ms,
          probeMaxMs: sp.probe_max_ms,
          drainRate: sp.drain_rate,
          drainInflight: sp.drain_inflight,
          statsIntervalS: config.stats_interval_s,
          adaptiveInflight: config.mqtt.adaptive_inflight,
          expressInflight: config.mqtt.express_inflight,
        })
      : new Publisher(brokerUrl, mqttOpts, config.mqtt.max_inflight, config.mqtt.max_queued, config.mqtt.adaptive_inflight, config.mqtt.express_inflight);
  } catch (e) {
    if (broker) await broker.close();
    throw e;
  }
  watchDelayedAcks(publisher, log);
  const outages = logBrokerOutages(publisher, log, {
    intervalMs: config.stats_interval_s * 1000,
    url: brokerUrl,
    lostMessage: sp.enabled ? 'MQTT connection lost; messages go to the spool until it is back' : 'MQTT connection lost; devices are not acknowledged until it is back',
  });
  try {
    // with a spool there is no reason to hold devices back for long: the spool takes their messages
    await publisher.waitConnected(sp.enabled ? 3000 : 10_000);
  } catch {
    log.warn({ url: brokerUrl }, sp.enabled ? 'EDGE_MQTT_UNREACHABLE: broker not reachable yet; channels start and messages go to the spool' : 'EDGE_MQTT_UNREACHABLE: broker not reachable yet; channels start anyway and acknowledge nothing until it is');
  }
  const pool = new DecodePool({ threads: threads ?? config.pool.threads, maxBatchFrames: config.pool.max_batch_frames, maxBatchBytes: config.pool.max_batch_bytes, maxPending: config.pool.max_pending_frames, batchWaitMs: config.pool.batch_wait_ms });
  // Frames wait undecoded in the pool while the publisher's queue is long (Publisher.roomBelow)
  publisher.roomBelow = config.pool.hold_above_queued;
  pool.admit = () => publisher.hasRoom();
  publisher.on('room', () => pool.resume());
  const sink = new MessageSink(publisher, topics);
  const media = new FileMediaStore(config.media.dir, { fsync: config.media.fsync, maxFileBytes: config.media.max_file_bytes });
  const close = async () => {
    outages.stop();
    await publisher.close();
    await pool.close();
    if (broker) await broker.close();
  };
  return { config, log, topics, broker, brokerUrl, publisher, sink, pool, media, channels: new ChannelDirectory(), watch: new WatchNames(pool), process: role, close };
}
