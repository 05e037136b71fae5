// first: mqtt-packet's loggers are created when mqtt / aedes load (quiet-packet-debug.ts)
import './mqtt/quiet-packet-debug.js';
import type { EdgeConfig } from './config/schema.js';
import type { Channel } from './channel/channel.js';
import type { EmbeddedBroker } from './mqtt/embedded-broker.js';
import type { MessagePublisher } from './mqtt/publisher.js';
import type { InstanceState } from './mqtt/instance-state.js';
import { StateResync } from './mqtt/state-resync.js';
import { ReliablePublisher } from './reliability/reliable-publisher.js';
import type { DecodePool } from './pool/decode-pool.js';
import type { MessageSink } from './message/message-sink.js';
import type { CommandService } from './commands/command-service.js';
import { EdgeError } from './errors.js';
import type { AssetService } from './assets/asset-service.js';
import { loadProtocols } from './protocol/registry.js';
import { checkChannelProtocols } from './config/protocol-check.js';
import { planReload, type ReloadPlan } from './config/reload-plan.js';
import type { Logger } from './util/log.js';
import type { AppMetrics } from './ops/metrics.js';
import type { Readiness } from './ops/readiness.js';
import type { HttpServer } from './http/server.js';
import { assertPortsFree } from './net/port-preflight.js';
import { configListeners } from './config/port-conflicts.js';
import { FeatureSet } from './app/feature.js';
import { startRuntime, type Runtime } from './app/runtime.js';
import { ALONE, type ProcessRole } from './processes/process-role.js';
import { assetsFeature } from './app/features/assets.js';
import { channelsFeature } from './app/features/channels.js';
import { commandsFeature } from './app/features/commands.js';
import { credentialsFeature } from './app/features/credentials.js';
import { instanceFeature } from './app/features/instance.js';
import { mediaSweepFeature } from './app/features/media-sweep.js';
import { opsFeature, type OpsFeature } from './app/features/ops.js';
import type { MediaLinks } from './media/media-links.js';
import { ownershipFeature } from './app/features/ownership.js';
import { relayFeature } from './app/features/relay.js';
import { tachoFeature, type TachoFeature } from './app/features/tacho.js';
import { videoFeature, type VideoFeature } from './app/features/video.js';

/**
 * Composition root: the runtime core (broker, publisher, pool; src/app/runtime.ts), then the
 * features (src/app/features/) in the order they start; they stop in reverse. Wiring only: what a
 * feature does lives in its file. Returned handles let tests and benches drive the same runtime
 * that `edge-channel start` runs.
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
  /** JT/T 1078 live streams and recorded clips (src/live/). */
  video: VideoFeature;
  /** Tachograph files read, scheduled downloads, company card access (src/tachograph/). */
  tacho: TachoFeature;
  /** Asset timelines, rules and the management topic (src/assets/). */
  assets: AssetService;
  /** Retained online/instance state and the correction of stale device state (mqtt/instance-state.ts). */
  instance: InstanceState;
  /** Republishes all retained state this instance owns: on reconnect, on schedule, on request (mqtt/state-resync.ts). */
  resync: StateResync;
  metrics: AppMetrics;
  /** The HTTP listener (health, metrics, API) when config.http.port is set. */
  http: HttpServer | null;
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
  /** One of several processes of one box on the same ports (config `processes`, src/processes/); default: alone. */
  process?: ProcessRole;
}

export async function startApp(config: EdgeConfig, opts: AppOptions): Promise<App> {
  const { log } = opts;
  // Resolve protocols and check channel options first: a typo fails before any port is bound.
  const protos = checkChannelProtocols(config, await loadProtocols());
  if (!config.mqtt.url && config.commands.share_group) {
    // aedes (the embedded broker) has no shared subscriptions: requests would never arrive
    throw new EdgeError('EDGE_CONFIG_INVALID', 'commands.share_group: the embedded MQTT broker has no shared subscriptions ($share); set mqtt.url to a broker that has (Mosquitto, EMQX, HiveMQ, VerneMQ) or leave share_group empty');
  }
  const role = opts.process ?? ALONE;
  // every fixed port bindable before anything touches MQTT: a failed start leaves a running
  // instance's client id, retained state and channel ownership alone. One of several processes
  // skips it: the primary checked the ports once, and the other processes hold them by now.
  if (role.count === 1) await assertPortsFree(configListeners(config));
  const rt = await startRuntime(config, log, opts.threads, role);

  let phase: 'starting' | 'running' | 'stopping' = 'starting';
  const readiness = (): Readiness => appReadiness(rt, phase);
  const features = new FeatureSet();
  let resync: StateResync;
  let parts: ReturnType<typeof registerFeatures>;
  try {
    try {
      parts = registerFeatures(rt, features, protos, readiness);
    } catch (e) {
      // a feature that failed to build: those built before it may hold connections (Redis)
      await features.stop(0, true);
      throw e;
    }
    resync = new StateResync({
      publisher: rt.publisher,
      topics: rt.topics,
      instanceId: config.instance_id,
      log: log.child({ component: 'resync' }),
      intervalS: config.mqtt.resync_interval_s,
      subscribe: (f, h) => rt.sink.subscribe(f, h),
      owners: [...features.stateOwners(), ...(rt.publisher instanceof ReliablePublisher ? [{ name: 'reliability', republish: () => (rt.publisher as ReliablePublisher).republishState() }] : [])],
    });
    const rs = resync;
    features.add({ name: 'resync', start: () => rs.start(), stop: async () => rs.stop() });
    await features.start();
  } catch (e) {
    await rt.close();
    throw e;
  }
  phase = 'running';

  let stopped: Promise<void> | null = null;
  const stop = () =>
    (stopped ??= (async () => {
      phase = 'stopping';
      await features.stop(config.shutdown_timeout_s * 1000);
      await rt.close();
    })());

  const channels = rt.channels.list;
  const reload = (next: EdgeConfig): ReloadPlan => reloadConfig(channels, config, next, log);
  const { commands, assets, instance, ops, tacho, video } = parts;
  return { config, broker: rt.broker, brokerUrl: rt.brokerUrl, publisher: rt.publisher, sink: rt.sink, pool: rt.pool, channels, commands: commands.service, tacho, video, assets: assets.service, instance: instance.instance, resync, metrics: ops.metrics, get http() { return ops.http; }, readiness, stop, reload };
}

/**
 * The features in start order (stop is the reverse): instance state first (stale state corrected
 * before any device connects; offline said last), then what frames and commands reach, then the
 * channels (listeners open once all of it runs, close before any of it stops), then the resync.
 */
function registerFeatures(rt: Runtime, features: FeatureSet, protos: Parameters<typeof credentialsFeature>[1], readiness: () => Readiness) {
  const ownership = ownershipFeature(rt);
  const instance = features.add(instanceFeature(rt, ownership?.ownership ?? null));
  if (ownership) features.add(ownership);
  const credentials = credentialsFeature(rt, protos);
  if (credentials) features.add(credentials);
  const assets = features.add(assetsFeature(rt));
  const commands = features.add(commandsFeature(rt));
  // the ops feature (registered later: it serves the schedule's read API) holds the media links,
  // asked only when a file is read, after everything started
  const tacho: TachoFeature = features.add(tachoFeature(rt, commands.service, (): MediaLinks | null => ops.links));
  features.add(relayFeature(rt, commands.service, tacho.admit));
  const video: VideoFeature = features.add(videoFeature(rt, protos, commands.service, (): MediaLinks | null => ops.links));
  const media = features.add(mediaSweepFeature(rt));
  const ops: OpsFeature = features.add(opsFeature(rt, assets.service, readiness, media, commands.service, tacho, video.live, ownership ? (ch, idents) => ownership.ownership.holders(ch, idents) : null));
  features.add(channelsFeature(rt, protos, features.hooks(), { credentials: credentials?.store ?? null, metrics: ops.metrics, links: ops.links }));
  return { instance, assets, commands, ops, tacho, video };
}

/** What /readyz answers: running, and the broker connected or a spool that can take the messages. */
function appReadiness(rt: Runtime, phase: string): Readiness {
  const reasons: string[] = [];
  const publisher = rt.publisher;
  if (phase !== 'running') reasons.push(phase);
  if (!publisher.connected) {
    if (!(publisher instanceof ReliablePublisher)) reasons.push('MQTT broker not connected (no spool)');
    else if (publisher.spool.isFailed) reasons.push(`MQTT broker not connected and the spool cannot write: ${publisher.spool.error?.message ?? 'failed'}`);
    else if (publisher.spool.isFull) reasons.push('MQTT broker not connected and the spool is full');
  }
  return { ready: reasons.length === 0, reasons };
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
