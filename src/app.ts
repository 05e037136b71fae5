// first: mqtt-packet's loggers are created when mqtt / aedes load (quiet-packet-debug.ts)
import './mqtt/quiet-packet-debug.js';
import type { EdgeConfig } from './config/schema.js';
import { Channel } from './channel/channel.js';
import { startEmbeddedBroker, type EmbeddedBroker } from './mqtt/embedded-broker.js';
import { Publisher, mqttClientOptions, type MessagePublisher } from './mqtt/publisher.js';
import { makeTopics } from './mqtt/topics.js';
import { InstanceState, instanceWill } from './mqtt/instance-state.js';
import { watchDelayedAcks } from './mqtt/delayed-ack-check.js';
import { StateResync } from './mqtt/state-resync.js';
import { ReliablePublisher } from './reliability/reliable-publisher.js';
import { Spool } from './reliability/spool.js';
import { DecodePool } from './pool/decode-pool.js';
import { MessageSink } from './message/message-sink.js';
import { FileMediaStore } from './media/media-store.js';
import type { ChannelHooks } from './channel/channel.js';
import { CommandService } from './commands/command-service.js';
import { FileCommandStore } from './commands/file-command-store.js';
import { FileCredentialStore } from './credentials/credential-store.js';
import { EdgeError } from './errors.js';
import { CLOSE_CODES } from './net/close-codes.js';
import type { CommandStore } from './commands/command-store.js';
import { DeviceOwnership } from './cluster/device-ownership.js';
import { RedisCommandStore } from './cluster/redis-command-store.js';
import { channelDevicePort, sinkMqttPort } from './app/command-ports.js';
import { DeviceRelay, type RelayCommandEnd, type RelayDevicePort } from './relay/device-relay.js';
import { AssetService } from './assets/asset-service.js';
import { FileAssetStore } from './assets/file-asset-store.js';
import { RedisAssetStore, defaultAssetPrefix } from './assets/redis-asset-store.js';
import { loadProtocols } from './protocol/registry.js';
import { checkChannelProtocols } from './config/protocol-check.js';
import { planReload, type ReloadPlan } from './config/reload-plan.js';
import type { Logger } from './util/log.js';
import { createMetrics, type AppMetrics } from './ops/metrics.js';
import { startOpsServer, type OpsServer, type Readiness } from './ops/http-server.js';
import { packageVersion } from './util/version.js';
import { logBrokerOutages } from './mqtt/outage-log.js';
import { assertPortsFree } from './net/port-preflight.js';
import { configListeners } from './config/port-conflicts.js';

/**
 * Composition root: broker (embedded or external), publisher, decode pool and channels.
 * Returned handles let tests and benches drive the same runtime that `edge-channel start` runs.
 */
export interface App {
  config: EdgeConfig;
  broker: EmbeddedBroker | null;
  brokerUrl: string;
  publisher: MessagePublisher;
  sink: MessageSink;
  pool: DecodePool;
  channels: Channel[];
  commands: CommandService;
  /** Asset timelines, rules and the management topic (src/assets/). */
  assets: AssetService;
  /** Retained online/instance state and the correction of stale device state (mqtt/instance-state.ts). */
  instance: InstanceState;
  /** Republishes all retained state this instance owns: on reconnect, on schedule, on request (mqtt/state-resync.ts). */
  resync: StateResync;
  metrics: AppMetrics;
  /** The health/metrics listener when config.http.port is set. */
  http: OpsServer | null;
  /** What /readyz answers. */
  readiness(): Readiness;
  stop(): Promise<void>;
  /**
   * Applies the live keys of a new config (log level, per-channel IP lists, UDP limits, capture) and
   * returns them, with the changed keys that need a restart (logged in one warning, not applied).
   */
  reload(next: EdgeConfig): ReloadPlan;
}

export interface AppOptions {
  log: Logger;
  /** 'inline' decodes on the main thread (tests); default: config.pool.threads workers. */
  threads?: number | 'inline';
  /** Runtime hooks of the modules plugged into the channels (commands, assets). */
  hooks?: ChannelHooks;
}

export async function startApp(config: EdgeConfig, opts: AppOptions): Promise<App> {
  const { log } = opts;
  // Resolve protocols and check channel options first: a typo fails before any port is bound.
  const protos = checkChannelProtocols(config, await loadProtocols());

  if (!config.mqtt.url && config.commands.share_group) {
    // aedes (the embedded broker) has no shared subscriptions: requests would never arrive
    throw new EdgeError('EDGE_CONFIG_INVALID', 'commands.share_group: the embedded MQTT broker has no shared subscriptions ($share); set mqtt.url to a broker that has (Mosquitto, EMQX, HiveMQ, VerneMQ) or leave share_group empty');
  }
  // every fixed port bindable before anything touches MQTT: a failed start leaves a running
  // instance's client id, retained state and channel ownership alone
  await assertPortsFree(configListeners(config));
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
        spool: await Spool.open({ dir: sp.dir, maxBytes: sp.max_bytes, segmentBytes: Math.min(sp.segment_bytes, Math.max(4096, Math.floor(sp.max_bytes / 8))), fsync: sp.fsync, instanceId: config.instance_id, log: log.child({ component: 'spool' }), logIntervalMs: config.stats_interval_s * 1000 }),
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

  const pool = new DecodePool({ threads: opts.threads ?? config.pool.threads, maxBatchFrames: config.pool.max_batch_frames, maxPending: config.pool.max_pending_frames, batchWaitMs: config.pool.batch_wait_ms });
  const sink = new MessageSink(publisher, topics);
  const media = new FileMediaStore(config.media.dir, { fsync: config.media.fsync, maxFileBytes: config.media.max_file_bytes });
  // Commands plug into the channels' seams: identification and close hooks, decoded replies,
  // Channel.send/encode for the device side, the sink's inbound and QoS 1 publishes for MQTT.
  let commands: CommandService | null = null;
  // device questions for outside services (tacho company-card APDUs to the card bridge), answers back
  // through Channel.send; a service that does not answer ends the command waiting for it
  let relayEnd: RelayCommandEnd = () => {};
  const relayPort: { current: RelayDevicePort | null } = { current: null };
  const relay = new DeviceRelay({
    sink,
    topics,
    log: log.child({ component: 'relay' }),
    endCommand: (...a) => relayEnd(...a),
    device: {
      encode: (ch, ident, req) => relayPort.current!.encode(ch, ident, req),
      send: (ch, ident, bytes) => relayPort.current!.send(ch, ident, bytes),
    },
  });
  let assets: AssetService | null = null;
  let instance: InstanceState | null = null;
  // Several instances as one channel (redis_url): which instance holds each device, in Redis
  // (src/cluster/). A device taken over by another instance is closed here with close code 12.
  let channelsById = new Map<string, Channel>();
  const ownership = config.redis_url
    ? new DeviceOwnership({
        url: config.redis_url,
        prefix: config.redis_prefix,
        instanceId: config.instance_id,
        leaseMs: config.device_lease_s * 1000,
        onTakenOver: (ch, ident, by) => channelsById.get(ch)?.closeIdent(ident, CLOSE_CODES.IDENT_COLLISION, `ident ${ident} connected to instance ${by}`),
        log: log.child({ component: 'ownership' }),
      })
    : null;
  const hooks: ChannelHooks = {
    identified: (ch, ident) => {
      opts.hooks?.identified?.(ch, ident);
      ownership?.claim(ch, ident);
      instance?.identified(ch, ident);
    },
    // JT/T 808: only once the authentication was answered (ProtocolModule.commandsReady)
    commandsReady: (ch, ident) => {
      opts.hooks?.commandsReady?.(ch, ident);
      commands?.deviceOnline(ch, ident);
    },
    offline: (ch, ident) => {
      opts.hooks?.offline?.(ch, ident);
      ownership?.release(ch, ident);
      instance?.offline(ch, ident);
      commands?.deviceOffline(ch, ident);
      relay.deviceOffline(ch, ident);
    },
    commandReply: (ch, ident, reply) => commands?.reply(ch, ident, reply) ?? opts.hooks?.commandReply?.(ch, ident, reply) ?? null,
    // a stored file completes the command waiting for a file of its kind (reply key `media:<kind>`,
    // e.g. request_tachograph_file); a failed upload ends any command waiting for a file
    mediaStored: (ch, ident, stored, meta) => {
      opts.hooks?.mediaStored?.(ch, ident, stored, meta);
      const result = { 'file.id': stored.key, 'file.kind': stored.kind, 'file.name': stored.name, 'file.size': stored.bytes, 'file.sha256': stored.sha256, 'file.path': stored.path, ...meta };
      commands?.complete(ch, ident, `media:${stored.kind}`, { executed: true, response: stored.name, result });
    },
    mediaCommand: (ch, ident, kind) => commands?.waiting(ch, ident, `media:${kind}`) ?? null,
    mediaFailed: (ch, ident, key, err) => {
      opts.hooks?.mediaFailed?.(ch, ident, key, err);
      commands?.complete(ch, ident, (k) => k.startsWith('media:'), { executed: false, code: err.code, reason: `the file "${key}" could not be stored: ${err.code}: ${err.message}` });
    },
    relay: (ch, ident, e, done) => relay.request(ch, ident, e, done),
    observe: (ch, ident, w, k, done) => assets?.observe(ch, ident, w, k, done) ?? false,
  };
  const metrics = createMetrics({
    instanceId: config.instance_id,
    version: packageVersion(),
    channels: () => channels,
    pool: () => pool,
    publisher: () => publisher,
    assets: () => ({
      opened: assets?.counters.opened ?? 0,
      ended: assets?.counters.closed ?? 0,
      late_conflicts: assets?.counters.lateConflicts ?? 0,
      bad_time: assets?.counters.badTime ?? 0,
      store_errors: assets?.counters.storeErrors ?? 0,
      requests_applied: assets?.counters.requestsApplied ?? 0,
      requests_rejected: assets?.counters.requestsRejected ?? 0,
    }),
    ...(publisher instanceof ReliablePublisher ? { reliability: () => publisher.metrics() } : {}),
  });
  const up = config.media.uploads;
  const uploads = { maxFiles: up.max_files, maxBytes: up.max_bytes, maxFileBytes: config.media.max_file_bytes, maxPending: up.max_pending, maxRanges: up.max_ranges, expectTimeoutMs: up.timeout_s * 1000, idleTimeoutMs: up.idle_timeout_s * 1000 };
  // device credentials (JT/T 808 auth codes), only when a protocol issues them: loaded before any
  // listener opens (below), so a check is a map read
  const credentialChannels = config.channels.filter((_c, i) => protos[i]!.usesCredentials).map((c) => String(c.id));
  const credentials =
    credentialChannels.length > 0
      ? new FileCredentialStore({
          dir: config.credentials.dir,
          fsync: config.credentials.fsync,
          instanceId: config.instance_id,
          onCorrupt: (info) => log.warn({ code: info.code }, `${info.code}: ${info.reason}`),
        })
      : null;
  const channels = config.channels.map((c, i) => new Channel(c, protos[i]!, { pool, sink, media, credentials, log, redisUrl: config.redis_url, redisPrefix: config.redis_prefix, hooks, metrics, uploads }));
  channelsById = new Map(channels.map((c) => [c.id, c]));
  // with redis_url the queue is shared by the instances (src/cluster/redis-command-store.ts)
  const commandStore: CommandStore = config.redis_url
    ? new RedisCommandStore({ url: config.redis_url, prefix: config.redis_prefix, log: log.child({ component: 'commands' }) })
    : new FileCommandStore({
        dir: config.commands.dir,
        fsync: config.commands.fsync,
        instanceId: config.instance_id,
        onCorrupt: (info) => log.warn({ code: info.code, ranges: info.ranges }, `${info.code}: ${info.reason}`),
      });
  const devicePort = channelDevicePort(channels);
  commands = new CommandService({ device: devicePort, mqtt: sinkMqttPort(sink), topics, store: commandStore, config: config.commands, log: log.child({ component: 'commands' }) });
  relayEnd = (ch, ident, replyKey, code, reason) => void commands?.complete(ch, ident, replyKey, { executed: false, code, reason });
  relayPort.current = devicePort;
  const commandTick = setInterval(() => commands!.tick(), 1000);
  commandTick.unref();
  // uploads devices gave up: their .part files would otherwise stay forever (README "Media store")
  const partMaxAgeMs = config.media.part_max_age_s * 1000;
  const sweepParts = () => {
    if (partMaxAgeMs > 0)
      void media.sweepStaleParts(partMaxAgeMs).then((n) => {
        if (n > 0) log.info({ removed: n }, `media: removed ${n} unfinished upload(s) untouched for media.part_max_age_s`);
      });
  };
  const partSweep = setInterval(sweepParts, 3_600_000);
  partSweep.unref();
  sweepParts();
  // Assets: the pool returns device time and the watched parameters per message (observe hook),
  // the sink adds asset.<type>.* (enricher), the management topic comes in through the sink.
  const as = config.asset_settings;
  // with redis_url the timelines are shared by every instance with the same prefix (README "Assets")
  const assetStore = config.redis_url
    ? new RedisAssetStore({
        url: config.redis_url,
        prefix: as.redis_prefix || defaultAssetPrefix(config.redis_prefix, config.mqtt.topic_root),
        onCorrupt: (i) => log.warn({ asset: i.id }, `EDGE_ASSET_STORE_FAILED: unreadable asset record skipped: ${i.reason}`),
        onConnection: (i) => (i.up ? log.info('asset store: Redis connected') : log.warn({ reason: i.reason }, 'EDGE_ASSET_STORE_FAILED: asset store: Redis unreachable; asset changes are refused until it is back')),
      })
    : new FileAssetStore({ dir: as.dir, fsync: as.fsync, instanceId: config.instance_id, onCorrupt: (i) => log.warn({ file: i.file }, `EDGE_ASSET_STORE_FAILED: unreadable asset file skipped: ${i.reason}`) });
  assets = new AssetService({
    store: assetStore,
    mqtt: sink,
    topics,
    settings: as,
    declared: config.assets,
    channelIds: config.channels.map((c) => String(c.id)),
    log: log.child({ component: 'assets' }),
    setWatch: (names) => (pool.watch = names),
    // the embedded broker (aedes) has no shared subscriptions; it serves one instance anyway
    sharedSubscription: Boolean(config.redis_url) && !broker,
  });
  sink.addEnricher(assets.enrich);

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

  // with several instances a device's retained "connected true" may be another instance's live device
  const heldElsewhere = ownership
    ? async (stateTopics: string[]) => {
        const devices = stateTopics.map((t) => t.split('/').slice(-4, -1)).map(([ch, , ident]) => [ch ?? '', ident ?? ''] as [string, string]);
        const held = await ownership.heldAnywhere(devices);
        return new Set(stateTopics.filter((_, i) => held[i]));
      }
    : undefined;
  instance = new InstanceState({ publisher, topics, instanceId: config.instance_id, channels, log, ...(heldElsewhere ? { heldElsewhere } : {}) });
  // a broker that comes back without its retained messages gets all this instance's state again
  const inst = instance;
  const resync = new StateResync({
    publisher,
    topics,
    instanceId: config.instance_id,
    log: log.child({ component: 'resync' }),
    intervalS: config.mqtt.resync_interval_s,
    subscribe: (f, h) => sink.subscribe(f, h),
    owners: [
      { name: 'instance', republish: () => inst.republish() },
      { name: 'devices', republish: () => channels.reduce((n, c) => n + c.republishState(), 0) },
      { name: 'commands', republish: () => commands!.republishQueue() },
      { name: 'assets', republish: () => assets!.republishState() },
      ...(publisher instanceof ReliablePublisher ? [{ name: 'reliability', republish: () => publisher.republishState() }] : []),
    ],
  });
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
    await ownership?.start();
    if (config.http.port !== null) {
      http = await startOpsServer({ host: config.http.host, port: config.http.port, readiness, metrics });
      log.info({ url: `http://${config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host}:${http.port}` }, `health and metrics on http://${config.http.host}:${http.port} (/healthz, /readyz, /metrics)`);
    }
    await credentials?.open(credentialChannels);
    // timelines and rules load before devices can send: the first message is already observed
    await assets.start();
    for (const ch of channels) {
      await ch.start(config.stats_interval_s);
      started.push(ch);
    }
    // queued commands load before devices can identify; the subscription completes once connected
    await commands.start();
    await resync.start();
    phase = 'running';
  } catch (e) {
    resync.stop();
    clearInterval(commandTick);
    clearInterval(partSweep);
    for (const ch of started) await ch.stop(0);
    await commandStore.close().catch(() => undefined);
    await credentials?.close().catch(() => undefined);
    await assets.stop(0).catch(() => undefined);
    await ownership?.stop().catch(() => undefined);
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
      outages.stop();
      phase = 'stopping';
      const timeoutMs = config.shutdown_timeout_s * 1000;
      resync.stop();
      clearInterval(commandTick);
      clearInterval(partSweep);
      await Promise.all(channels.map((c) => c.stop(timeoutMs)));
      relay.stop();
      await commands!.stop(timeoutMs);
      await commandStore.close();
      await credentials?.close();
      await assets!.stop(timeoutMs);
      await ownership?.stop();
      await publisher.flush(timeoutMs);
      await instance.stop(Math.min(2000, Math.max(timeoutMs, 500)));
      await publisher.close();
      await pool.close();
      if (http) await http.close();
      if (broker) await broker.close();
    })());

  const reload = (next: EdgeConfig): ReloadPlan => reloadConfig(channels, config, next, log);

  return { config, broker, brokerUrl, publisher, sink, pool, channels, commands, assets, instance, resync, metrics, http, readiness, stop, reload };
}

/**
 * Reload: keys marked live in the schema are applied (log level; per channel, the IP lists,
 * UDP limits and traffic capture, matched by channel id); every other changed key is listed by name in one warning
 * and left as it runs. `running` (app.config) is updated with exactly what was applied, so the
 * next reload compares against what really runs and keeps listing what still needs a restart.
 */
function reloadConfig(channels: Channel[], running: EdgeConfig, next: EdgeConfig, log: Logger): ReloadPlan {
  const plan = planReload(running, next);
  if (plan.live.includes('log_level')) {
    // pino children follow the root's level unless set on their own, which nothing here does
    log.level = next.log_level;
    running.log_level = next.log_level;
  }
  next.channels.forEach((nc, i) => {
    const ch = channels.find((c) => c.id === nc.id);
    // updateConfig assigns the live guard keys into ch.cfg, which is running.channels[j]
    if (ch && plan.live.some((k) => k.startsWith(`channels[${i}].`))) ch.updateConfig(nc);
  });
  if (plan.restart.length) log.warn({ keys: plan.restart }, `config changes need a restart (not applied): ${plan.restart.join(', ')}`);
  if (plan.live.length) log.info({ keys: plan.live }, `config reloaded: applied ${plan.live.join(', ')}`);
  else if (!plan.restart.length) log.info('config reloaded: no change');
  return plan;
}
