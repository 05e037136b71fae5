/**
 * Assets at run time (README "Assets"): the timelines (cached here, durable in an AssetStore), the
 * automatic rules, the management topic, the retained active interval and lifecycle events, and the
 * enricher that adds `asset.<type>.id/name` to a device's messages.
 *
 * Consistency model: a change is applied to the cached timeline at once (so the very message that
 * inserted a card already carries the driver), then written to the store; what waits for the write
 * is everything that must not run ahead of durability: the frame's ACK (observe's `done`), the
 * lifecycle events, the retained state and the answer to a management request. Writes of one asset
 * are serialised and group-committed (changes made while one write runs go in the next). A write
 * the store refuses (another writer changed the asset: the conditional `rev` check) or that fails
 * reloads that asset from the store and refuses every change still pending on it, so the cache
 * never holds what the store does not.
 *
 * In memory only, and rebuilt from the timelines at start: per device, which automatic intervals it
 * holds and since when their value has been absent (the grace period starts again after a restart).
 *
 * Several instances on one shared store (RedisAssetStore): each caches every asset. The store's
 * change notices (`AssetStore.watch`) re-read an asset another instance wrote, so the next decision
 * here starts from it; a notice that comes too late (or is lost) costs a refused conditional write,
 * a reload and a resent frame, never a wrong timeline. An asset that cannot be re-read (the store is
 * unreachable) is "unsure": frames that would touch it are not acknowledged and requests on it are
 * rejected until a retry reads it again, because a decision on a stale copy could be silently wrong
 * (a "still held" that needs no write would be acknowledged).
 *
 * The parts: asset-cache.ts (memory, the enricher, the retained state), asset-rules.ts (automatic
 * assignment), asset-persistence.ts (writes, re-reads, notices), asset-requests.ts (the management
 * topic). This file starts and stops them, and runs the timer of planned intervals.
 */
import { EdgeError } from '../errors.js';
import type { Topics } from '../mqtt/topics.js';
import type { WatchedValues } from '../pool/task-types.js';
import type { Logger } from '../util/log.js';
import { AssetCache, type AssetCounters, type AssetMqttPort } from './asset-cache.js';
import { AssetPersistence } from './asset-persistence.js';
import { AssetRequests } from './asset-requests.js';
import { AssetRules } from './asset-rules.js';
import type { AssetStore } from './asset-store.js';
import { checkAsset } from './management.js';
import { activate, nextBoundary } from './timeline.js';
import type { Asset, Interval } from './types.js';

export type { AssetCounters, AssetMqttPort };

export interface AssetSettings {
  /** A matching value absent this long (device time, s) closes an automatic interval; 0 = at the first message without it. */
  absence_grace_s: number;
  /** Closed intervals kept per asset (the oldest are dropped). */
  max_intervals: number;
  /** Records whose device time is further than this in the past / future of server time move nothing (s). */
  max_late_s: number;
  max_future_s: number;
  max_meta_bytes: number;
}

export interface AssetServiceDeps {
  store: AssetStore;
  mqtt: AssetMqttPort;
  topics: Topics;
  settings: AssetSettings;
  /** Assets declared in the config file. */
  declared: readonly Asset[];
  /** Ids of the channels this server runs: `assign` to any other is refused (EDGE_ASSET_CHANNEL_UNKNOWN). Absent: not checked. */
  channelIds?: readonly string[];
  log: Logger;
  /** Tells the decode path which parameters to return per message (null: none, no device time either). */
  setWatch(names: readonly string[] | null): void;
  /** Wall clock, ms (tests). */
  now?: () => number;
  /**
   * Several instances share the store: the management topic is a shared subscription
   * (`$share/edge-channel-assets/…`), so each request is applied by one instance, not by all.
   */
  sharedSubscription?: boolean;
}

const MAX_TIMER_MS = 3600_000;

export class AssetService {
  readonly counters: AssetCounters = { opened: 0, closed: 0, lateConflicts: 0, badTime: 0, storeErrors: 0, requestsApplied: 0, requestsRejected: 0 };
  private readonly cache: AssetCache;
  private readonly rules: AssetRules;
  private readonly persistence: AssetPersistence;
  private readonly requestHandler: AssetRequests;
  private timer: NodeJS.Timeout | null = null;
  private requests: Promise<void> = Promise.resolve();
  /** MessageSink enricher: `asset.<type>.id` and `.name` of the assets the device had at the message's time. */
  readonly enrich: (channelId: string, ident: string, deviceTime?: number) => string | null;

  constructor(private readonly deps: AssetServiceDeps) {
    const { settings, log } = deps;
    const counters = this.counters;
    this.cache = new AssetCache(deps.mqtt, deps.topics, deps.now ?? Date.now);
    this.enrich = this.cache.enrich;
    this.persistence = new AssetPersistence(this.cache, {
      store: deps.store,
      mqtt: deps.mqtt,
      topics: deps.topics,
      maxIntervals: settings.max_intervals,
      counters,
      log,
      adopted: (id, r) => this.rules.adopt(id, r),
      scheduleTimer: () => this.scheduleTimer(),
    });
    this.rules = new AssetRules(this.cache, { settings, counters, log, setWatch: deps.setWatch, commit: (id, ev) => this.persistence.commit(id, ev) });
    this.requestHandler = new AssetRequests(this.cache, this.rules, this.persistence, { mqtt: deps.mqtt, topics: deps.topics, maxMetaBytes: settings.max_meta_bytes, channelIds: deps.channelIds, counters, log });
  }

  /** Loads the timelines, applies the config's assets, republishes every active state, subscribes. */
  async start(): Promise<void> {
    const { cache, persistence } = this;
    // subscribed before the load, so no change made between the two goes unnoticed
    await this.deps.store.watch?.((id, rev) => persistence.onStoreChange(id, rev));
    for (const r of await this.deps.store.load()) {
      cache.records.set(r.asset.id, r);
      cache.storedRev.set(r.asset.id, r.rev);
    }
    const declared = new Map<string, Asset>();
    for (const d of this.deps.declared) {
      const a = checkAsset({ id: d.id, name: d.name, type: d.type, ...(d.match ? { match: d.match } : {}) });
      if (typeof a === 'string') throw new EdgeError('EDGE_CONFIG_INVALID', `assets: ${a}`);
      if (declared.has(a.id)) throw new EdgeError('EDGE_CONFIG_INVALID', `assets: id "${a.id}" is declared twice`);
      a.declared = true;
      declared.set(a.id, a);
    }
    // Another instance on a shared store may write the same assets at the same moment (both start
    // with the same config): a refused write reloads the asset, and the pass runs again on it.
    for (let attempt = 1; ; attempt++) {
      const results = await Promise.allSettled(this.startWrites(declared));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (!failed) break;
      if (attempt === 5) throw failed.reason;
    }
    // the retained state is republished at start: the broker may have lost it, or it may be stale
    // (an asset whose start write published it already is not published a second time)
    for (const id of cache.records.keys()) if (!cache.isPublished(id)) cache.publishState(id, true);
    const filter = (this.deps.sharedSubscription ? '$share/edge-channel-assets/' : '') + this.deps.topics.assetManagement();
    await this.deps.mqtt.subscribe(filter, (_t, payload) => {
      this.requests = this.requests.then(() => this.requestHandler.handle(payload)).catch((e: unknown) => this.deps.log.error({ err: (e as Error).message }, 'asset request failed'));
    });
    this.scheduleTimer();
    cache.started = true;
    if (persistence.missedNotice) void persistence.resyncAll();
  }

  /** Applies the config's assets and activates due planned intervals; the writes that needs. */
  private startWrites(declared: ReadonlyMap<string, Asset>): Promise<void>[] {
    const { cache, rules, persistence } = this;
    const writes: Promise<void>[] = [];
    for (const a of declared.values()) {
      const cur = cache.records.get(a.id);
      if (!cur) cache.records.set(a.id, { asset: { ...a }, rev: 0, next_interval_id: 1, intervals: [] });
      else if (JSON.stringify(cur.asset) === JSON.stringify(a)) continue;
      else cur.asset = { ...a }; // the config owns declared assets
      writes.push(persistence.commit(a.id, []));
    }
    for (const r of cache.records.values()) {
      if (r.asset.declared && !declared.has(r.asset.id)) {
        // removed from the config: kept with its history, managed over MQTT from now on
        r.asset = { ...r.asset, declared: false };
        writes.push(persistence.commit(r.asset.id, []));
      }
    }
    const dup = rules.rebuild();
    if (dup) throw new EdgeError('EDGE_CONFIG_INVALID', `assets: ${dup}`);
    const now = cache.now();
    for (const r of cache.records.values()) {
      cache.reindex(r.asset.id);
      rules.trackOpen(r);
      const ev = activate(r.intervals, now);
      if (ev.length) writes.push(persistence.commit(r.asset.id, ev));
    }
    return writes;
  }

  async stop(timeoutMs: number): Promise<void> {
    this.cache.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.persistence.stop();
    const deadline = Date.now() + timeoutMs;
    await this.requests.catch(() => undefined);
    while (this.persistence.anyWriting && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await this.deps.store.close();
  }

  /** Every asset's definition (a copy), for the read API. */
  assets(): Asset[] {
    return [...this.cache.records.values()].map((r) => ({ ...r.asset }));
  }

  /** The timeline of an asset (a copy), or null. */
  timeline(id: string): { asset: Asset; intervals: Interval[] } | null {
    const r = this.cache.records.get(id);
    return r ? { asset: { ...r.asset }, intervals: r.intervals.map((i) => ({ ...i })) } : null;
  }

  /** PipelineHooks.observe: one message's device time and watched values (asset-rules.ts). */
  observe(channelId: string, ident: string, w: WatchedValues, k: number, done: (err?: Error | null) => void): boolean {
    return this.rules.observe(channelId, ident, w, k, done);
  }

  /**
   * Resync (src/mqtt/state-resync.ts): every asset's retained `active` again, empty ones included (a
   * stale interval left on the broker is cleared). With a shared store the timelines are re-read
   * first, so an instance never republishes what another one changed meanwhile.
   */
  async republishState(): Promise<number> {
    const { cache } = this;
    if (!cache.started || cache.stopped) return 0;
    if (this.deps.store.watch) await this.persistence.resyncAll();
    for (const id of cache.records.keys()) cache.publishState(id, true);
    return cache.records.size;
  }

  /** Wakes up at the next planned begin or end: planned intervals become active at their time. */
  private scheduleTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const now = this.cache.now();
    let next = Infinity;
    for (const r of this.cache.records.values()) next = Math.min(next, nextBoundary(r.intervals, now));
    if (next === Infinity) return;
    const ms = Math.min(MAX_TIMER_MS, Math.max(0, Math.ceil((next - now) * 1000)) + 5);
    this.timer = setTimeout(() => this.onTimer(), ms);
    this.timer.unref();
  }

  private onTimer(): void {
    this.timer = null;
    const { cache } = this;
    if (cache.stopped) return;
    const now = cache.now();
    for (const r of cache.records.values()) {
      const id = r.asset.id;
      if (cache.unsure.has(id)) continue;
      const ev = activate(r.intervals, now);
      if (ev.length) {
        this.rules.dropTrackersOf(id, ev);
        this.persistence.commit(id, ev).catch(() => undefined);
      } else if (!this.persistence.writing(id)) cache.publishState(id, false);
    }
    this.scheduleTimer();
  }
}
