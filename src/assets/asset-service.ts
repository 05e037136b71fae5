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
 */
import { EdgeError } from '../errors.js';
import type { PublishCallback } from '../mqtt/publisher.js';
import type { Topics } from '../mqtt/topics.js';
import type { WatchedValues } from '../pool/task-types.js';
import { assetIdValue, channelIdValue } from '../message/naming.js';
import type { Logger } from '../util/log.js';
import type { AssetStore } from './asset-store.js';
import { checkAsset, parseRequest, type ManagementRequest } from './management.js';
import { activate, activeAt, autoEnd, autoPresent, coveringIndex, manualAssign, manualClose, nextBoundary, trim } from './timeline.js';
import { deviceKey, type Asset, type AssetRecord, type Interval, type IntervalEvent } from './types.js';

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

/** The MQTT side, as the message sink offers it. */
export interface AssetMqttPort {
  state(topic: string, payload: string, done?: PublishCallback): void;
  clear(topic: string, done?: PublishCallback): void;
  event(topic: string, payload: string, done?: PublishCallback): void;
  subscribe(filter: string, onMessage: (topic: string, payload: Buffer) => void): Promise<void>;
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

interface Tracker {
  intervalId: number;
  /** Device time of the first message without the value since it was last seen, or null. */
  absentSince: number | null;
}

interface PersistEntry {
  running: boolean;
  waiters: { resolve: () => void; reject: (e: Error) => void }[];
  events: IntervalEvent[];
}

const MAX_TIMER_MS = 3600_000;

export class AssetService {
  private readonly records = new Map<string, AssetRecord>();
  private readonly storedRev = new Map<string, number>();
  private readonly persistQ = new Map<string, PersistEntry>();
  /** Device key → assets with any interval on that device (the enricher's index). */
  private readonly byDevice = new Map<string, Set<string>>();
  private readonly devicesOf = new Map<string, Set<string>>();
  /** Device key → asset id → its automatic interval there. */
  private readonly trackers = new Map<string, Map<string, Tracker>>();
  /** parameter → value as text → asset id. */
  private rules = new Map<string, Map<string, string>>();
  private watchNames: readonly string[] | null = null;
  private nameIdx = new Map<string, number>();
  private readonly published = new Map<string, string>();
  private timer: NodeJS.Timeout | null = null;
  private requests: Promise<void> = Promise.resolve();
  private stopped = false;
  private started = false;
  /** A store notice came before start finished: compare everything once started. */
  private missedNotice = false;
  /** Assets whose stored state could not be read after a failure or a notice (see the top). */
  private readonly unsure = new Set<string>();
  private retryTimer: NodeJS.Timeout | null = null;
  private readonly refreshing = new Set<string>();
  private readonly refreshAgain = new Set<string>();
  private resyncing = false;
  private resyncAgain = false;
  private readonly nowMs: () => number;
  readonly counters = { opened: 0, closed: 0, lateConflicts: 0, badTime: 0, storeErrors: 0, requestsApplied: 0, requestsRejected: 0 };

  constructor(private readonly deps: AssetServiceDeps) {
    this.nowMs = deps.now ?? Date.now;
  }

  private now(): number {
    return this.nowMs() / 1000;
  }

  /** Loads the timelines, applies the config's assets, republishes every active state, subscribes. */
  async start(): Promise<void> {
    // subscribed before the load, so no change made between the two goes unnoticed
    await this.deps.store.watch?.((id, rev) => this.onStoreChange(id, rev));
    for (const r of await this.deps.store.load()) {
      this.records.set(r.asset.id, r);
      this.storedRev.set(r.asset.id, r.rev);
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
    for (const id of this.records.keys()) if (!this.published.has(id)) this.publishState(id, true);
    const filter = (this.deps.sharedSubscription ? '$share/edge-channel-assets/' : '') + this.deps.topics.assetManagement();
    await this.deps.mqtt.subscribe(filter, (_t, payload) => {
      this.requests = this.requests.then(() => this.handle(payload)).catch((e: unknown) => this.deps.log.error({ err: (e as Error).message }, 'asset request failed'));
    });
    this.scheduleTimer();
    this.started = true;
    if (this.missedNotice) void this.resyncAll();
  }

  /** Applies the config's assets and activates due planned intervals; the writes that needs. */
  private startWrites(declared: ReadonlyMap<string, Asset>): Promise<void>[] {
    const writes: Promise<void>[] = [];
    for (const a of declared.values()) {
      const cur = this.records.get(a.id);
      if (!cur) this.records.set(a.id, { asset: { ...a }, rev: 0, next_interval_id: 1, intervals: [] });
      else if (JSON.stringify(cur.asset) === JSON.stringify(a)) continue;
      else cur.asset = { ...a }; // the config owns declared assets
      writes.push(this.commit(a.id, []));
    }
    for (const r of this.records.values()) {
      if (r.asset.declared && !declared.has(r.asset.id)) {
        // removed from the config: kept with its history, managed over MQTT from now on
        r.asset = { ...r.asset, declared: false };
        writes.push(this.commit(r.asset.id, []));
      }
    }
    const dup = this.rebuildRules();
    if (dup) throw new EdgeError('EDGE_CONFIG_INVALID', `assets: ${dup}`);
    const now = this.now();
    for (const r of this.records.values()) {
      this.reindex(r.asset.id);
      this.trackOpen(r);
      const ev = activate(r.intervals, now);
      if (ev.length) writes.push(this.commit(r.asset.id, ev));
    }
    return writes;
  }

  async stop(timeoutMs: number): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const deadline = Date.now() + timeoutMs;
    await this.requests.catch(() => undefined);
    while ([...this.persistQ.values()].some((e) => e.running) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await this.deps.store.close();
  }

  /** The timeline of an asset (a copy), or null. */
  timeline(id: string): { asset: Asset; intervals: Interval[] } | null {
    const r = this.records.get(id);
    return r ? { asset: { ...r.asset }, intervals: r.intervals.map((i) => ({ ...i })) } : null;
  }

  // ---- enrichment -------------------------------------------------------------------------

  /**
   * MessageSink enricher: `asset.<type>.id` and `.name` of the assets the device had at the
   * message's time. Runs per message: a map lookup, a binary search per asset of the device, and a
   * cached text (bench/assets-bench.ts).
   */
  readonly enrich = (channelId: string, ident: string, deviceTime?: number): string | null => {
    const set = this.byDevice.get(deviceKey(channelId, ident));
    if (!set) return null;
    const t = deviceTime ?? this.now();
    let chosen: AssetRecord | null = null;
    let chosenBegin = 0;
    /** type → [begin, fields] when the device has more than one asset at t (rare). */
    let several: Map<string, [number, string]> | null = null;
    for (const id of set) {
      const r = this.records.get(id);
      if (!r) continue;
      const i = coveringIndex(r.intervals, t);
      if (i < 0) continue;
      const iv = r.intervals[i]!;
      if (iv.ident !== ident || String(iv.channel_id) !== channelId) continue;
      if (!chosen) {
        chosen = r;
        chosenBegin = iv.begin;
        continue;
      }
      several ??= new Map([[chosen.asset.type, [chosenBegin, this.fieldText(chosen)]]]);
      // one asset per type: the one that came last
      const cur = several.get(r.asset.type);
      if (!cur || cur[0] <= iv.begin) several.set(r.asset.type, [iv.begin, this.fieldText(r)]);
    }
    if (!chosen) return null;
    if (!several) return '{' + this.fieldText(chosen) + '}';
    return '{' + [...several.values()].map((x) => x[1]).join(',') + '}';
  };

  private readonly fieldCache = new Map<string, string>();

  /** `"asset.<type>.id":…,"asset.<type>.name":…` of an asset, built once per asset definition. */
  private fieldText(r: AssetRecord): string {
    let f = this.fieldCache.get(r.asset.id);
    if (f === undefined) {
      const type = r.asset.type;
      f = `${JSON.stringify(`asset.${type}.id`)}:${JSON.stringify(assetIdValue(r.asset.id))},${JSON.stringify(`asset.${type}.name`)}:${JSON.stringify(r.asset.name)}`;
      this.fieldCache.set(r.asset.id, f);
    }
    return f;
  }

  // ---- automatic assignment ---------------------------------------------------------------

  /** PipelineHooks.observe: one message's device time and watched values. */
  observe(channelId: string, ident: string, w: WatchedValues, k: number, done: (err?: Error | null) => void): boolean {
    const dev = deviceKey(channelId, ident);
    const tracked = this.trackers.get(dev);
    if (this.rules.size === 0 && !tracked) return false;
    if (w.names !== this.watchNames) {
      this.watchNames = w.names;
      this.nameIdx = new Map(w.names.map((n, i) => [n, i]));
    }
    const base = k * (w.names.length + 1);
    const t = w.values[base] as number;
    const now = this.now();
    // a device clock that is off (no GPS time yet, a reset RTC) must not write years into a timeline
    if (!(t >= now - this.deps.settings.max_late_s && t <= now + this.deps.settings.max_future_s)) {
      this.counters.badTime++;
      return false;
    }
    let writes: Promise<void>[] | null = null;
    let refused: string | null = null;
    if (this.unsure.size) {
      // the device had an unsure asset (its tracker may be one the refused change removed)
      for (const id of this.byDevice.get(dev) ?? []) if (this.unsure.has(id)) refused = id;
    }
    for (const [param, byValue] of this.rules) {
      const idx = this.nameIdx.get(param);
      if (idx === undefined) continue;
      const v = w.values[base + 1 + idx];
      if (v === null || v === undefined) continue;
      const id = byValue.get(String(v));
      if (!id) continue;
      if (this.unsure.size && this.unsure.has(id)) {
        refused = id;
        continue;
      }
      const p = this.present(id, dev, channelId, ident, t);
      if (p) (writes ??= []).push(p);
    }
    const tr = this.trackers.get(dev);
    if (tr) {
      for (const [id, tk] of tr) {
        const m = this.records.get(id)?.asset.match;
        if (!m) {
          tr.delete(id);
          continue;
        }
        const idx = this.nameIdx.get(m.parameter);
        const v = idx === undefined ? null : (w.values[base + 1 + idx] ?? null);
        if (v !== null && String(v) === String(m.value)) continue;
        if (this.unsure.size && this.unsure.has(id)) {
          refused = id;
          continue;
        }
        const p = this.absent(id, tk, dev, t, v !== null);
        if (p) (writes ??= []).push(p);
      }
      if (tr.size === 0) this.trackers.delete(dev);
    }
    if (refused !== null) {
      const err = new EdgeError('EDGE_ASSET_STORE_FAILED', `asset ${refused} cannot be read from the store now; the frame is not acknowledged`);
      Promise.all(writes ?? []).then(
        () => done(err),
        (e: unknown) => done(e instanceof Error ? e : new Error(String(e))),
      );
      return true;
    }
    if (!writes) return false;
    Promise.all(writes).then(
      () => done(null),
      (e: unknown) => done(e instanceof Error ? e : new Error(String(e))),
    );
    return true;
  }

  private present(id: string, dev: string, channelId: string, ident: string, t: number): Promise<void> | null {
    const r = this.records.get(id);
    if (!r) return null;
    const res = autoPresent(r.intervals, channelIdValue(channelId), ident, t, this.now(), r.next_interval_id);
    if (res.kind === 'held') {
      if (res.interval.source === 'auto') this.setTracker(dev, id, { intervalId: res.interval.id, absentSince: null });
      return null;
    }
    if (res.kind === 'conflict') {
      this.counters.lateConflicts++;
      this.deps.log.debug({ asset: id, ident, t }, `late record does not rewrite history: ${res.reason}`);
      return null;
    }
    r.next_interval_id++;
    this.counters.opened++;
    this.dropTrackersOf(id, res.events);
    this.setTracker(dev, id, { intervalId: res.interval.id, absentSince: null });
    return this.commit(id, res.events);
  }

  private absent(id: string, tk: Tracker, dev: string, t: number, changed: boolean): Promise<void> | null {
    const r = this.records.get(id)!;
    let endAt = t;
    const grace = this.deps.settings.absence_grace_s;
    if (!changed && grace > 0) {
      if (tk.absentSince === null || t < tk.absentSince) tk.absentSince = t;
      if (t - tk.absentSince < grace) return null;
      endAt = tk.absentSince;
    }
    const ev = autoEnd(r.intervals, tk.intervalId, endAt);
    if (ev === null) {
      this.trackers.get(dev)?.delete(id);
      return null;
    }
    if (ev.length === 0) return null; // a record older than the interval: it says nothing about it
    this.trackers.get(dev)?.delete(id);
    this.counters.closed++;
    return this.commit(id, ev);
  }

  private setTracker(dev: string, id: string, tk: Tracker): void {
    let m = this.trackers.get(dev);
    if (!m) this.trackers.set(dev, (m = new Map()));
    const cur = m.get(id);
    if (cur && cur.intervalId === tk.intervalId) cur.absentSince = null;
    else m.set(id, tk);
  }

  /** Intervals that were closed by someone else: their devices stop tracking them. */
  private dropTrackersOf(id: string, events: readonly IntervalEvent[]): void {
    for (const e of events) {
      if (e.kind === 'created') continue;
      const dev = deviceKey(e.interval.channel_id, e.interval.ident);
      const m = this.trackers.get(dev);
      if (m?.get(id)?.intervalId === e.interval.id) m.delete(id);
    }
  }

  /** At start: the open automatic interval of an asset with a rule is tracked on its device. */
  private trackOpen(r: AssetRecord): void {
    if (!r.asset.match) return;
    for (const iv of r.intervals) {
      if (iv.source !== 'auto' || iv.end !== 0) continue;
      const dev = deviceKey(iv.channel_id, iv.ident);
      // already tracked (a re-read of the asset): its grace period goes on
      if (this.trackers.get(dev)?.get(r.asset.id)?.intervalId === iv.id) continue;
      this.setTracker(dev, r.asset.id, { intervalId: iv.id, absentSince: null });
    }
  }

  /** Rules index from the assets; returns a reason when two assets claim the same parameter value. */
  private rebuildRules(): string | null {
    const rules = new Map<string, Map<string, string>>();
    for (const r of this.records.values()) {
      const m = r.asset.match;
      if (!m) continue;
      let byValue = rules.get(m.parameter);
      if (!byValue) rules.set(m.parameter, (byValue = new Map()));
      const other = byValue.get(String(m.value));
      if (other) return `assets "${other}" and "${r.asset.id}" both match ${m.parameter} = ${String(m.value)}`;
      byValue.set(String(m.value), r.asset.id);
    }
    this.rules = rules;
    // with assets but no rules the watch list is empty: messages still bring their device time (enrichment)
    this.deps.setWatch(this.records.size ? [...rules.keys()] : null);
    return null;
  }

  // ---- management ------------------------------------------------------------------------

  private async handle(payload: Buffer): Promise<void> {
    const p = parseRequest(payload, { maxMetaBytes: this.deps.settings.max_meta_bytes });
    if (!p.ok) return this.answer(false, { request_id: p.request_id, op: p.op, id: p.id }, p.reason);
    const req = p.req;
    const id = req.op === 'create' || req.op === 'update' ? req.asset.id : req.id;
    const head = { request_id: req.request_id, op: req.op, id };
    const known = this.deps.channelIds;
    if (req.op === 'assign' && known && !known.includes(String(req.channel_id))) {
      return this.answer(false, head, `channel_id ${JSON.stringify(req.channel_id)} is not a channel this server runs (it runs: ${known.join(', ') || 'none'})`, 'EDGE_ASSET_CHANNEL_UNKNOWN');
    }
    if (this.unsure.has(id)) return this.answer(false, head, `asset ${id} cannot be read from the store now; retry later`, 'EDGE_ASSET_STORE_FAILED');
    const outcome = this.apply(req);
    if (typeof outcome === 'string') return this.answer(false, head, outcome);
    try {
      await outcome.write;
    } catch (e) {
      return this.answer(false, head, (e as Error).message, 'EDGE_ASSET_STORE_FAILED');
    }
    this.answer(true, { ...head, ...(outcome.interval ? { interval: outcome.interval } : {}) });
  }

  /** Checks and applies one request to the cache; a string is a refusal (nothing changed). */
  private apply(req: ManagementRequest): string | { write: Promise<void>; interval?: Interval } {
    const now = this.now();
    if (req.op === 'create' || req.op === 'update') {
      const a = req.asset;
      const cur = this.records.get(a.id);
      if (req.op === 'create' && cur) return `asset ${a.id} exists`;
      if (req.op === 'update' && !cur) return `unknown asset ${a.id}`;
      if (cur?.asset.declared) return `asset ${a.id} is declared in the config file; change it there`;
      const before = cur?.asset;
      if (cur) cur.asset = a;
      else this.records.set(a.id, { asset: a, rev: 0, next_interval_id: 1, intervals: [] });
      const dup = this.rebuildRules();
      if (dup) {
        if (before && cur) cur.asset = before;
        else this.records.delete(a.id);
        this.rebuildRules();
        return dup;
      }
      if (before && JSON.stringify(before.match) !== JSON.stringify(a.match)) this.dropAllTrackers(a.id);
      return { write: this.commit(a.id, []) };
    }
    const r = this.records.get(req.id);
    if (!r) return `unknown asset ${req.id}`;
    if (req.op === 'delete') {
      if (r.asset.declared) return `asset ${req.id} is declared in the config file; remove it there`;
      this.records.delete(req.id);
      this.dropAllTrackers(req.id);
      this.rebuildRules();
      this.reindex(req.id);
      return { write: this.commit(req.id, []) };
    }
    const ivs = r.intervals.slice();
    const res =
      req.op === 'assign'
        ? manualAssign(ivs, { channel_id: req.channel_id, ident: req.ident, begin: req.begin ?? now, end: req.end, meta: req.meta }, r.next_interval_id, now)
        : manualClose(ivs, req.interval_id, req.end ?? now, req.meta, now);
    if ('reason' in res) return res.reason;
    r.intervals = ivs;
    if (req.op === 'assign') r.next_interval_id++;
    this.dropTrackersOf(req.id, res.events);
    return { write: this.commit(req.id, res.events), interval: res.interval };
  }

  private answer(ok: boolean, head: { request_id?: string | undefined; op?: string | undefined; id?: string | undefined }, reason?: string, code = 'EDGE_ASSET_REQUEST_INVALID'): void {
    if (ok) this.counters.requestsApplied++;
    else this.counters.requestsRejected++;
    const body: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(head)) if (v !== undefined) body[k] = k === 'id' ? assetIdValue(v) : v;
    if (reason) {
      body.code = code;
      body.reason = reason;
    }
    if (!ok) this.deps.log.info({ ...body }, 'asset request rejected');
    this.deps.mqtt.event(this.deps.topics.assetRequestLog(ok ? 'applied' : 'rejected'), JSON.stringify(body));
  }

  private dropAllTrackers(id: string): void {
    for (const [dev, m] of this.trackers) {
      m.delete(id);
      if (m.size === 0) this.trackers.delete(dev);
    }
  }

  // ---- persistence, publication, timer -----------------------------------------------------

  /** Queues the asset's current state (or its deletion) for the store; resolves once it is durable. */
  private commit(id: string, events: readonly IntervalEvent[]): Promise<void> {
    this.fieldCache.delete(id);
    const r = this.records.get(id);
    if (r) {
      trim(r.intervals, this.deps.settings.max_intervals);
      this.reindex(id);
    }
    let e = this.persistQ.get(id);
    if (!e) this.persistQ.set(id, (e = { running: false, waiters: [], events: [] }));
    e.events.push(...events);
    const p = new Promise<void>((resolve, reject) => e.waiters.push({ resolve, reject }));
    if (!e.running) void this.persist(id, e);
    if (!this.stopped) this.scheduleTimer();
    return p;
  }

  private async persist(id: string, e: PersistEntry): Promise<void> {
    e.running = true;
    // group commit: the other messages of this turn's frames join the same write
    await new Promise((r) => setImmediate(r));
    while (e.waiters.length) {
      const waiters = e.waiters;
      const events = e.events;
      e.waiters = [];
      e.events = [];
      const r = this.records.get(id);
      const expected = this.storedRev.get(id) ?? 0;
      const snap: AssetRecord | null = r ? { asset: r.asset, rev: expected + 1, next_interval_id: r.next_interval_id, intervals: r.intervals.slice() } : null;
      try {
        const ok = snap ? await this.deps.store.put(snap, expected) : await this.deps.store.delete(id, expected);
        if (!ok) throw new EdgeError('EDGE_ASSET_STORE_FAILED', `asset ${id} was changed by another writer; reloaded`);
        if (snap) {
          this.storedRev.set(id, snap.rev);
          if (r) r.rev = snap.rev;
        } else this.storedRev.delete(id);
        for (const w of waiters) w.resolve();
        for (const ev of events) this.deps.mqtt.event(this.deps.topics.assetIntervalEvent(id, ev.kind), JSON.stringify({ 'asset.id': assetIdValue(id), ...ev.interval }));
        this.publishState(id, false, snap?.intervals ?? null);
      } catch (err) {
        this.counters.storeErrors++;
        const error = err instanceof Error ? err : new Error(String(err));
        this.deps.log.warn({ asset: id, err: error.message }, 'EDGE_ASSET_STORE_FAILED: asset change refused');
        // everything pending (also what arrives while the reload runs) was built on the refused
        // state: refuse it too, once the truth is reloaded, so a resend is decided on the truth
        await this.reload(id);
        const rest = e.waiters;
        e.waiters = [];
        e.events = [];
        for (const w of [...waiters, ...rest]) w.reject(error);
      }
    }
    e.running = false;
  }

  private async reload(id: string): Promise<void> {
    let r: AssetRecord | null;
    try {
      r = await this.deps.store.get(id);
    } catch (err) {
      this.markUnsure(id, err as Error);
      return;
    }
    this.adopt(id, r);
  }

  /** The cache takes the stored state of an asset (null: deleted). */
  private adopt(id: string, r: AssetRecord | null): void {
    this.fieldCache.delete(id);
    this.unsure.delete(id);
    if (r) {
      this.records.set(id, r);
      this.storedRev.set(id, r.rev);
    } else {
      this.records.delete(id);
      this.storedRev.delete(id);
    }
    // trackers of intervals still open on their device keep their grace period; the rest go
    for (const [dev, m] of this.trackers) {
      const tk = m.get(id);
      if (!tk) continue;
      const iv = r?.asset.match ? r.intervals.find((i) => i.id === tk.intervalId) : undefined;
      if (iv && iv.end === 0 && iv.source === 'auto' && deviceKey(iv.channel_id, iv.ident) === dev) continue;
      m.delete(id);
      if (m.size === 0) this.trackers.delete(dev);
    }
    if (r) this.trackOpen(r);
    const dup = this.rebuildRules();
    if (dup) this.deps.log.warn({ asset: id }, `stored assets conflict, the rule of ${id} is not applied: ${dup}`);
    this.reindex(id);
    if (this.deps.store.watch) {
      // a shared store: the writer published this state; publishing it again from here could land
      // after that writer's next change and leave a stale retained state
      const act = r ? activeAt(r.intervals, this.now()) : null;
      this.published.set(id, act ? JSON.stringify(act) : '');
    } else this.publishState(id, false, r?.intervals ?? null);
    if (!this.stopped) this.scheduleTimer();
  }

  private persisting(id: string): boolean {
    const e = this.persistQ.get(id);
    return !!e && (e.running || e.waiters.length > 0);
  }

  private markUnsure(id: string, err: Error): void {
    if (!this.unsure.has(id)) this.deps.log.error({ asset: id, err: err.message }, 'EDGE_ASSET_STORE_FAILED: asset cannot be re-read; its frames are not acknowledged until it is');
    this.unsure.add(id);
    this.armRetry();
  }

  /** Re-reads the unsure assets every second until they are read. */
  private armRetry(): void {
    if (this.retryTimer || this.stopped || this.unsure.size === 0) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      let skipped = false;
      for (const u of [...this.unsure]) {
        if (this.persisting(u)) skipped = true;
        else void this.reload(u);
      }
      if (skipped) this.armRetry();
    }, 1000);
    this.retryTimer.unref();
  }

  /** A shared store's notice: another writer changed `id` (or, with null, anything may have changed). */
  private onStoreChange(id: string | null, rev: number): void {
    if (this.stopped) return;
    if (!this.started) {
      this.missedNotice = true;
      return;
    }
    if (id === null) return void this.resyncAll();
    // our own write, or already read; a write of ours in flight meets the new revision and reloads
    if (rev === (this.storedRev.get(id) ?? 0) || this.persisting(id)) return;
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
          r = await this.deps.store.get(id);
        } catch (err) {
          if (!this.stopped && !this.persisting(id)) this.markUnsure(id, err as Error);
          break;
        }
        if (this.stopped || this.persisting(id)) break;
        this.adopt(id, r);
      } while (this.refreshAgain.has(id));
    } finally {
      this.refreshing.delete(id);
    }
  }

  /** After notices may have been lost: every asset whose stored revision differs is read again. */
  private async resyncAll(): Promise<void> {
    if (this.resyncing) {
      this.resyncAgain = true;
      return;
    }
    this.resyncing = true;
    try {
      do {
        this.resyncAgain = false;
        let recs: AssetRecord[];
        try {
          recs = await this.deps.store.load();
        } catch (err) {
          this.deps.log.warn({ err: (err as Error).message }, 'EDGE_ASSET_STORE_FAILED: assets cannot be compared with the store; retrying');
          if (!this.stopped) setTimeout(() => void this.resyncAll(), 1000).unref();
          break;
        }
        if (this.stopped) break;
        const seen = new Set<string>();
        for (const r of recs) {
          const id = r.asset.id;
          seen.add(id);
          if (this.persisting(id) || (r.rev === (this.storedRev.get(id) ?? 0) && !this.unsure.has(id))) continue;
          this.adopt(id, r);
        }
        for (const id of [...this.records.keys()]) if (!seen.has(id) && this.storedRev.has(id) && !this.persisting(id)) this.adopt(id, null);
      } while (this.resyncAgain);
    } finally {
      this.resyncing = false;
    }
  }

  /**
   * Resync (src/mqtt/state-resync.ts): every asset's retained `active` again, empty ones included (a
   * stale interval left on the broker is cleared). With a shared store the timelines are re-read
   * first, so an instance never republishes what another one changed meanwhile.
   */
  async republishState(): Promise<number> {
    if (!this.started || this.stopped) return 0;
    if (this.deps.store.watch) await this.resyncAll();
    for (const id of this.records.keys()) this.publishState(id, true);
    return this.records.size;
  }

  /** Retained `{root}/state/gw/assets/{id}/active`: the active interval, or an empty payload. */
  private publishState(id: string, force: boolean, intervals: readonly Interval[] | null = this.records.get(id)?.intervals ?? null): void {
    const act = intervals ? activeAt(intervals, this.now()) : null;
    const payload = act ? JSON.stringify(act) : '';
    if (!force && this.published.get(id) === payload) return;
    this.published.set(id, payload);
    const topic = this.deps.topics.assetActive(id);
    if (payload) this.deps.mqtt.state(topic, payload);
    else this.deps.mqtt.clear(topic);
  }

  private reindex(id: string): void {
    const old = this.devicesOf.get(id);
    const r = this.records.get(id);
    const now = new Set<string>(r ? r.intervals.map((iv) => deviceKey(iv.channel_id, iv.ident)) : []);
    if (old) {
      for (const k of old) {
        if (now.has(k)) continue;
        const s = this.byDevice.get(k);
        s?.delete(id);
        if (s?.size === 0) this.byDevice.delete(k);
      }
    }
    for (const k of now) {
      let s = this.byDevice.get(k);
      if (!s) this.byDevice.set(k, (s = new Set()));
      s.add(id);
    }
    if (now.size) this.devicesOf.set(id, now);
    else this.devicesOf.delete(id);
  }

  /** Wakes up at the next planned begin or end: planned intervals become active at their time. */
  private scheduleTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const now = this.now();
    let next = Infinity;
    for (const r of this.records.values()) next = Math.min(next, nextBoundary(r.intervals, now));
    if (next === Infinity) return;
    const ms = Math.min(MAX_TIMER_MS, Math.max(0, Math.ceil((next - now) * 1000)) + 5);
    this.timer = setTimeout(() => this.onTimer(), ms);
    this.timer.unref();
  }

  private onTimer(): void {
    this.timer = null;
    if (this.stopped) return;
    const now = this.now();
    for (const r of this.records.values()) {
      const id = r.asset.id;
      if (this.unsure.has(id)) continue;
      const ev = activate(r.intervals, now);
      if (ev.length) {
        this.dropTrackersOf(id, ev);
        this.commit(id, ev).catch(() => undefined);
      } else if (!this.persistQ.get(id)?.running) this.publishState(id, false);
    }
    this.scheduleTimer();
  }
}
