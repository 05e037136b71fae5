import type { LiveSource } from '../../http/live-routes.js';
import type { AssetService } from '../../assets/asset-service.js';
import type { CommandService } from '../../commands/command-service.js';
import type { StateSources } from '../../http/state-routes.js';
import { startHttpServer, type HttpServer } from '../../http/server.js';
import { parseTokens } from '../../http/tokens.js';
import { MediaCatalog } from '../../media/media-catalog.js';
import { MediaLinks } from '../../media/media-links.js';
import { channelIdValue } from '../../message/naming.js';
import { createMetrics, type AppMetrics } from '../../ops/metrics.js';
import { clusterMetricsText, shareMetrics } from '../../processes/cluster-metrics.js';
import { answerQueries, type QueryHandler } from '../../processes/cluster-query.js';
import { boxInstance, boxReadiness, fromEveryProcess, mergeChannels, newestPayload, ownAnswers, type OwnAnswers } from '../box-view.js';
import type { Readiness } from '../../ops/readiness.js';
import { ReliablePublisher } from '../../reliability/reliable-publisher.js';
import { packageVersion } from '../../util/version.js';
import type { Feature } from '../feature.js';
import { consoleSources } from '../console-sources.js';
import { presenceOf, type HoldersPort } from '../device-presence.js';
import { deletedEvent, type MediaSweepFeature } from './media-sweep.js';
import type { Runtime } from '../runtime.js';

export interface OpsFeature extends Feature {
  readonly metrics: AppMetrics;
  /** The HTTP listener once started, when config.http.port is set. */
  readonly http: HttpServer | null;
  /** Signed media links (with an HTTP listener): the channels put one in every media message. */
  readonly links: MediaLinks | null;
}

/**
 * The HTTP side (README "Operations", "HTTP API"): /metrics (Prometheus, read at scrape time),
 * /healthz and /readyz on config.http; with http.tokens the API over the stored files; signed media
 * links whenever there is a listener. Registered before the channels: the listener's address (the
 * links' base when http.public_url is empty) is known before the first file is announced.
 */
export function opsFeature(rt: Runtime, assets: AssetService, readiness: () => Readiness, media: MediaSweepFeature, commands: CommandService, tacho: { view(channelId: string, ident: string): unknown } | null = null, live: LiveSource | null = null, holders: HoldersPort | null = null): OpsFeature {
  const { config, publisher } = rt;
  const h = config.http;
  // the read API and the console show each device's latest message: kept only when they can be asked
  rt.sink.keepLatest = h.port !== null;
  const metrics = createMetrics({
    instanceId: config.instance_id,
    version: packageVersion(),
    channels: () => rt.channels.list,
    pool: () => rt.pool,
    publisher: () => publisher,
    assets: () => ({
      opened: assets.counters.opened,
      ended: assets.counters.closed,
      late_conflicts: assets.counters.lateConflicts,
      bad_time: assets.counters.badTime,
      store_errors: assets.counters.storeErrors,
      requests_applied: assets.counters.requestsApplied,
      requests_rejected: assets.counters.requestsRejected,
    }),
    ...(publisher instanceof ReliablePublisher ? { reliability: () => publisher.metrics() } : {}),
  });
  // of several processes, each answers the primary's collection for process 0's /metrics, and
  // process 0's questions about its channels and devices (processes/cluster-query.ts)
  const own = ownAnswers(rt, readiness);
  let stopAnswering: (() => void) | null = null;
  if (rt.process.count > 1) {
    shareMetrics(metrics.registry);
    stopAnswering = answerQueries(rt.process.index, own as Record<keyof OwnAnswers, QueryHandler>);
  }
  let http: HttpServer | null = null;
  const listenerUrl = () => {
    const host = h.host.includes(':') ? `[${h.host}]` : h.host === '0.0.0.0' ? '127.0.0.1' : h.host;
    return `http://${host}:${http?.port ?? h.port ?? 0}`;
  };
  const links = h.port !== null ? new MediaLinks({ publicUrl: () => h.public_url || listenerUrl(), key: h.link_key ?? '', mediaDir: config.media.dir, ttlS: h.link_ttl_s }) : null;
  const tokens = h.tokens ? parseTokens(h.tokens) : null;
  const state: StateSources = {
    // of several processes, the box's readiness and MQTT connection, and every process's own (box-view.ts)
    instance: async () => {
      const { instance_id, ...rest } = await boxInstance(rt, own);
      return { instance_id, version: packageVersion(), ...rest, channels: rt.channels.list.map((c) => c.id) };
    },
    // of several processes, every process's connections and counters (box-view.ts)
    channels: async () => {
      const { values, processes } = await fromEveryProcess(rt, own, 'channels', undefined);
      return { items: mergeChannels(values), ...(processes ? { processes } : {}) };
    },
    device: async (ch, ident) => {
      const c = rt.channels.get(ch);
      if (!c) return null;
      // of several processes, the newest any of them published (the device may have moved)
      const text = newestPayload((await fromEveryProcess(rt, own, 'latest', { channel: c.id, ident })).values);
      const latest = text ? (JSON.parse(text) as Record<string, unknown>) : null;
      const [presence] = await presenceOf({ instanceId: config.instance_id, isLocal: (i) => c.isOnline(i), holders }, c.id, [ident]);
      return { 'channel.id': channelIdValue(c.id), ident, ...presence!, commands_held: commands.heldFor(c.id, ident).length, latest_message: latest, latest_message_at: latest?.['server.timestamp'] ?? null };
    },
    commands: async (ch, ident) => (rt.channels.get(ch) ? { held: await commands.queueOf(ch, ident), recent: commands.recentFor(ch, ident) } : null),
    assets: () => assets.assets().map((a) => ({ id: a.id, name: a.name, type: a.type, ...(a.match ? { match: a.match } : {}), declared: a.declared === true })),
    asset: (id) => {
      const t = assets.timeline(id);
      return t ? { asset: { ...t.asset }, intervals: t.intervals } : null;
    },
    tachoSchedule: (ch, ident) => {
      const c = rt.channels.get(ch);
      if (!c) return null;
      return { 'channel.id': channelIdValue(c.id), ident, schedule: (tacho?.view(c.id, ident) as Record<string, unknown> | null) ?? null };
    },
  };
  return {
    name: 'ops',
    metrics,
    links,
    get http() {
      return http;
    },
    async start() {
      // of several processes, process 0 serves HTTP; the others still sign links to it (above)
      if (h.port === null || !rt.process.http) return;
      http = await startHttpServer({
        host: h.host,
        port: h.port,
        // a cluster worker binds its own socket instead of one the primary would hold and hand out
        exclusive: rt.process.count > 1,
        readiness: () => boxReadiness(rt, own),
        // of several processes, the box's figures: every process's, merged by the primary
        metrics: rt.process.count > 1 ? { ...metrics, text: () => clusterMetricsText() } : metrics,
        media: links ? { catalog: new MediaCatalog(config.media.dir), links, maxPropertiesBytes: h.max_properties_bytes } : undefined,
        tokens,
        state: tokens ? state : undefined,
        live: tokens && live ? live : undefined,
        console: tokens ? consoleSources(rt, own, holders) : undefined,
        retention: links ? { mediaDir: config.media.dir, ruleOf: media.ruleOf, applyTo: media.applyTo, channelIds: config.channels.map((c) => String(c.id)) } : undefined,
        deleted: (e, reason) => rt.sink.log(rt.topics.mediaEvent(e.channel_id, e.ident), deletedEvent(e, reason, Date.now())),
      });
      const api = tokens ? `, the API (${tokens.size} token(s)) under /api/v1` : ' (no http.tokens: no API)';
      rt.log.info({ url: listenerUrl() }, `health and metrics on ${listenerUrl()} (/healthz, /readyz, /metrics)${api}`);
    },
    async stop() {
      stopAnswering?.();
      if (http) await http.close();
    },
  };
}
