import { Channel } from '../../channel/channel.js';
import type { ChannelHooks } from '../../channel/channel.js';
import type { CredentialStore } from '../../credentials/credential-store.js';
import type { AppMetrics } from '../../ops/metrics.js';
import type { ProtocolModule } from '../../protocol/types.js';
import type { Feature } from '../feature.js';
import type { Runtime } from '../runtime.js';
import { LOCAL_TOTALS } from '../../channel/connection-totals.js';
import { RedisConnectionTotals } from '../../cluster/connection-totals.js';

/**
 * The configured channels, built with the hooks of every feature registered before them and put in
 * the runtime's channel directory; registered after those features, so the listeners open once
 * everything a frame may reach is running, and close before any of it stops. A full pool or
 * publisher pauses every device socket (end-to-end backpressure).
 */
export function channelsFeature(rt: Runtime, protos: readonly ProtocolModule[], hooks: ChannelHooks, deps: { credentials: CredentialStore | null; metrics: AppMetrics; links: { url(id: string): string } | null }): Feature {
  const { config, log, pool, publisher } = rt;
  const up = config.media.uploads;
  const uploads = { maxFiles: up.max_files, maxBytes: up.max_bytes, maxFileBytes: config.media.max_file_bytes, maxPending: up.max_pending, maxRanges: up.max_ranges, expectTimeoutMs: up.timeout_s * 1000, idleTimeoutMs: up.idle_timeout_s * 1000 };
  // several instances or processes serving the channels: connections_count is their sum (cluster/connection-totals.ts)
  const totals = config.redis_url ? new RedisConnectionTotals({ url: config.redis_url, prefix: config.redis_prefix, instanceId: config.instance_id, leaseMs: config.device_lease_s * 1000, log }) : LOCAL_TOTALS;
  const channels = config.channels.map((c, i) => new Channel(c, protos[i]!, { pool, sink: rt.sink, media: rt.media, credentials: deps.credentials, log, redisUrl: config.redis_url, redisPrefix: config.redis_prefix, totals, hooks, metrics: deps.metrics, uploads, links: deps.links, streamLimits: { maxConnections: config.video.max_stream_connections, idleTimeoutS: config.video.stream_idle_timeout_s, maxGarbage: 16 }, listen: { reusePort: rt.process.reusePort, udp: rt.process.udp } }));
  rt.channels.fill(channels);
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
  return {
    name: 'channels',
    state: { name: 'devices', republish: () => channels.reduce((n, c) => n + c.republishState(), 0) },
    async start() {
      for (const ch of channels) {
        await ch.start(config.stats_interval_s);
        started.push(ch);
      }
    },
    async stop(timeoutMs) {
      await Promise.all(started.map((c) => c.stop(timeoutMs)));
      await totals.close();
    },
  };
}
