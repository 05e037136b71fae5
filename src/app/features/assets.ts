import { AssetService } from '../../assets/asset-service.js';
import { FileAssetStore } from '../../assets/file-asset-store.js';
import { RedisAssetStore, defaultAssetPrefix } from '../../assets/redis-asset-store.js';
import type { Feature } from '../feature.js';
import type { Runtime } from '../runtime.js';

export interface AssetsFeature extends Feature {
  readonly service: AssetService;
}

/**
 * Assets (README "Assets"): the pool returns device time and the watched parameters per message
 * (observe hook), the sink adds asset.<type>.* (enricher), the management topic comes in through
 * the sink. With redis_url the timelines are shared by every instance with the same prefix.
 * Timelines and rules load at start, before the channels open: the first message is already observed.
 */
export function assetsFeature(rt: Runtime): AssetsFeature {
  const { config, log } = rt;
  const as = config.asset_settings;
  const store = config.redis_url
    ? new RedisAssetStore({
        url: config.redis_url,
        prefix: as.redis_prefix || defaultAssetPrefix(config.redis_prefix, config.mqtt.topic_root),
        onCorrupt: (i) => log.warn({ asset: i.id }, `EDGE_ASSET_STORE_FAILED: unreadable asset record skipped: ${i.reason}`),
        onConnection: (i) => (i.up ? log.info('asset store: Redis connected') : log.warn({ reason: i.reason }, 'EDGE_ASSET_STORE_FAILED: asset store: Redis unreachable; asset changes are refused until it is back')),
      })
    : new FileAssetStore({ dir: as.dir, fsync: as.fsync, instanceId: config.instance_id, onCorrupt: (i) => log.warn({ file: i.file }, `EDGE_ASSET_STORE_FAILED: unreadable asset file skipped: ${i.reason}`) });
  const service = new AssetService({
    store,
    mqtt: rt.sink,
    topics: rt.topics,
    settings: as,
    declared: config.assets,
    channelIds: config.channels.map((c) => String(c.id)),
    log: log.child({ component: 'assets' }),
    setWatch: (names) => rt.watch.set('assets', names),
    // the embedded broker (aedes) has no shared subscriptions; it serves one instance anyway
    sharedSubscription: Boolean(config.redis_url) && !rt.broker,
  });
  rt.sink.addEnricher(service.enrich);
  return {
    name: 'assets',
    service,
    hooks: { observe: (ch, ident, w, k, done) => service.observe(ch, ident, w, k, done) },
    state: { name: 'assets', republish: () => service.republishState() },
    start: () => service.start(),
    stop: (timeoutMs) => service.stop(timeoutMs),
  };
}
