import { EdgeError } from '../errors.js';
import type { Topics } from '../mqtt/topics.js';
import { assetIdValue } from '../message/naming.js';
import type { Logger } from '../util/log.js';
import type { AssetCache, AssetCounters, AssetMqttPort } from './asset-cache.js';
import type { AssetStore } from './asset-store.js';
import { trim } from './timeline.js';
import type { AssetRecord, IntervalEvent } from './types.js';

interface PersistEntry {
  running: boolean;
  waiters: { resolve: () => void; reject: (e: Error) => void }[];
  events: IntervalEvent[];
}

export interface AssetPersistenceOptions {
  store: AssetStore;
  mqtt: AssetMqttPort;
  topics: Topics;
  maxIntervals: number;
  counters: AssetCounters;
  log: Logger;
  /** The cache took an asset's stored state: the rules follow it (AssetRules.adopt). */
  adopted(id: string, r: AssetRecord | null): void;
  /** The timelines changed: the next planned boundary may have moved. */
  scheduleTimer(): void;
}

/**
 * Writes and re-reads (asset-service.ts, top, has the consistency model). Writes of one asset are
 * serialised and group-committed; the lifecycle events and the retained state follow a write once
 * it is durable; a refused or failed write reloads the asset and refuses what was built on it.
 * With a shared store, the store's change notices re-read what another instance wrote, and an
 * asset that cannot be re-read is "unsure" (retried every second) until it is.
 */
export class AssetPersistence {
  private readonly persistQ = new Map<string, PersistEntry>();
  private retryTimer: NodeJS.Timeout | null = null;
  private readonly refreshing = new Set<string>();
  private readonly refreshAgain = new Set<string>();
  private resyncing = false;
  private resyncAgain = false;
  /** A store notice came before start finished: compare everything once started. */
  missedNotice = false;

  constructor(
    private readonly cache: AssetCache,
    private readonly o: AssetPersistenceOptions,
  ) {}

  /** Queues the asset's current state (or its deletion) for the store; resolves once it is durable. */
  commit(id: string, events: readonly IntervalEvent[]): Promise<void> {
    this.cache.changed(id);
    const r = this.cache.records.get(id);
    if (r) {
      trim(r.intervals, this.o.maxIntervals);
      this.cache.reindex(id);
    }
    let e = this.persistQ.get(id);
    if (!e) this.persistQ.set(id, (e = { running: false, waiters: [], events: [] }));
    e.events.push(...events);
    const p = new Promise<void>((resolve, reject) => e.waiters.push({ resolve, reject }));
    if (!e.running) void this.persist(id, e);
    if (!this.cache.stopped) this.o.scheduleTimer();
    return p;
  }

  /** A write of the asset is running or queued. */
  persisting(id: string): boolean {
    const e = this.persistQ.get(id);
    return !!e && (e.running || e.waiters.length > 0);
  }

  /** A write of the asset is running now. */
  writing(id: string): boolean {
    return this.persistQ.get(id)?.running ?? false;
  }

  /** Shutdown waits for these. */
  get anyWriting(): boolean {
    return [...this.persistQ.values()].some((e) => e.running);
  }

  stop(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
  }

  private async persist(id: string, e: PersistEntry): Promise<void> {
    const { cache, o } = this;
    e.running = true;
    // group commit: the other messages of this turn's frames join the same write
    await new Promise((r) => setImmediate(r));
    while (e.waiters.length) {
      const waiters = e.waiters;
      const events = e.events;
      e.waiters = [];
      e.events = [];
      const r = cache.records.get(id);
      const expected = cache.storedRev.get(id) ?? 0;
      const snap: AssetRecord | null = r ? { asset: r.asset, rev: expected + 1, next_interval_id: r.next_interval_id, intervals: r.intervals.slice() } : null;
      try {
        const ok = snap ? await o.store.put(snap, expected) : await o.store.delete(id, expected);
        if (!ok) throw new EdgeError('EDGE_ASSET_STORE_FAILED', `asset ${id} was changed by another writer; reloaded`);
        if (snap) {
          cache.storedRev.set(id, snap.rev);
          if (r) r.rev = snap.rev;
        } else cache.storedRev.delete(id);
        for (const w of waiters) w.resolve();
        for (const ev of events) o.mqtt.event(o.topics.assetIntervalEvent(id, ev.kind), JSON.stringify({ 'asset.id': assetIdValue(id), ...ev.interval }));
        cache.publishState(id, false, snap?.intervals ?? null);
      } catch (err) {
        o.counters.storeErrors++;
        const error = err instanceof Error ? err : new Error(String(err));
        o.log.warn({ asset: id, err: error.message }, 'EDGE_ASSET_STORE_FAILED: asset change refused');
        // everything pending (also what arrives while the reload runs) was built on the refused
        // state: refuse it too, once the truth is reloaded, so a resend is decided on the truth
        await this.reload(id, true);
        const rest = e.waiters;
        e.waiters = [];
        e.events = [];
        for (const w of [...waiters, ...rest]) w.reject(error);
      }
    }
    e.running = false;
  }

  /**
   * Reads the asset again and adopts it. `byWriter`: the refused write itself reloads (its queue is
   * refused after). Otherwise (the unsure retry) a write queued while the read was in flight was
   * decided on a newer read (a resync cleared the mark meanwhile): that write decides, since its
   * conditional put either lands or fails and reloads; adopting the older read would undo it.
   */
  private async reload(id: string, byWriter = false): Promise<void> {
    let r: AssetRecord | null;
    try {
      r = await this.o.store.get(id);
    } catch (err) {
      if (byWriter || !this.persisting(id)) this.markUnsure(id, err as Error);
      return;
    }
    if (!byWriter && this.persisting(id)) {
      // still marked (nothing cleared it): read it again after that write
      if (this.cache.unsure.has(id)) this.armRetry();
      return;
    }
    this.adopt(id, r);
  }

  /** The cache takes the stored state of an asset (null: deleted). */
  private adopt(id: string, r: AssetRecord | null): void {
    const { cache } = this;
    cache.changed(id);
    cache.unsure.delete(id);
    if (r) {
      cache.records.set(id, r);
      cache.storedRev.set(id, r.rev);
    } else {
      cache.records.delete(id);
      cache.storedRev.delete(id);
    }
    this.o.adopted(id, r);
    cache.reindex(id);
    // a shared store: the writer published this state; publishing it again from here could land
    // after that writer's next change and leave a stale retained state
    if (this.o.store.watch) cache.publishedElsewhere(id, r?.intervals ?? null);
    else cache.publishState(id, false, r?.intervals ?? null);
    if (!cache.stopped) this.o.scheduleTimer();
  }

  private markUnsure(id: string, err: Error): void {
    if (!this.cache.unsure.has(id)) this.o.log.error({ asset: id, err: err.message }, 'EDGE_ASSET_STORE_FAILED: asset cannot be re-read; its frames are not acknowledged until it is');
    this.cache.unsure.add(id);
    this.armRetry();
  }

  /** Re-reads the unsure assets every second until they are read. */
  private armRetry(): void {
    if (this.retryTimer || this.cache.stopped || this.cache.unsure.size === 0) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      let skipped = false;
      for (const u of [...this.cache.unsure]) {
        if (this.persisting(u)) skipped = true;
        else void this.reload(u);
      }
      if (skipped) this.armRetry();
    }, 1000);
    this.retryTimer.unref();
  }

  /** A shared store's notice: another writer changed `id` (or, with null, anything may have changed). */
  onStoreChange(id: string | null, rev: number): void {
    if (this.cache.stopped) return;
    if (!this.cache.started) {
      this.missedNotice = true;
      return;
    }
    if (id === null) return void this.resyncAll();
    // our own write, or already read; a write of ours in flight meets the new revision and reloads
    if (rev === (this.cache.storedRev.get(id) ?? 0) || this.persisting(id)) return;
    void this.refresh(id);
  }

  private async refresh(id: string): Promise<void> {
    if (this.refreshing.has(id)) {
      this.refreshAgain.add(id);
      return;
    }
    this.refreshing.add(id);
    try {
      do {
        this.refreshAgain.delete(id);
        let r: AssetRecord | null;
        try {
          r = await this.o.store.get(id);
        } catch (err) {
          if (!this.cache.stopped && !this.persisting(id)) this.markUnsure(id, err as Error);
          break;
        }
        if (this.cache.stopped || this.persisting(id)) break;
        this.adopt(id, r);
      } while (this.refreshAgain.has(id));
    } finally {
      this.refreshing.delete(id);
    }
  }

  /** After notices may have been lost: every asset whose stored revision differs is read again. */
  async resyncAll(): Promise<void> {
    if (this.resyncing) {
      this.resyncAgain = true;
      return;
    }
    const { cache } = this;
    this.resyncing = true;
    try {
      do {
        this.resyncAgain = false;
        let recs: AssetRecord[];
        try {
          recs = await this.o.store.load();
        } catch (err) {
          this.o.log.warn({ err: (err as Error).message }, 'EDGE_ASSET_STORE_FAILED: assets cannot be compared with the store; retrying');
          if (!cache.stopped) setTimeout(() => void this.resyncAll(), 1000).unref();
          break;
        }
        if (cache.stopped) break;
        const seen = new Set<string>();
        for (const r of recs) {
          const id = r.asset.id;
          seen.add(id);
          if (this.persisting(id) || (r.rev === (cache.storedRev.get(id) ?? 0) && !cache.unsure.has(id))) continue;
          this.adopt(id, r);
        }
        for (const id of [...cache.records.keys()]) if (!seen.has(id) && cache.storedRev.has(id) && !this.persisting(id)) this.adopt(id, null);
      } while (this.resyncAgain);
    } finally {
      this.resyncing = false;
    }
  }
}
