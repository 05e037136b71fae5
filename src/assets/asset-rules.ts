import { EdgeError } from '../errors.js';
import type { WatchedValues } from '../pool/task-types.js';
import { channelIdValue } from '../message/naming.js';
import type { Logger } from '../util/log.js';
import type { AssetCache, AssetCounters } from './asset-cache.js';
import { autoEnd, autoPresent } from './timeline.js';
import { deviceKey, type AssetRecord, type IntervalEvent } from './types.js';

interface Tracker {
  intervalId: number;
  /** Device time of the first message without the value since it was last seen, or null. */
  absentSince: number | null;
}

export interface AssetRulesOptions {
  settings: { absence_grace_s: number; max_late_s: number; max_future_s: number };
  counters: AssetCounters;
  log: Logger;
  /** Tells the decode path which parameters to return per message (null: none, no device time either). */
  setWatch(names: readonly string[] | null): void;
  /** Queues an asset's change for the store; resolves once durable (asset-persistence.ts). */
  commit(id: string, events: readonly IntervalEvent[]): Promise<void>;
}

/**
 * Automatic assignment: an asset with a rule (`match`: a parameter and a value) is assigned to the
 * device whose message carries that value, and unassigned once the value has been absent for the
 * grace period (device time). In memory only, and rebuilt from the timelines at start: per device,
 * which automatic intervals it holds and since when their value has been absent.
 */
export class AssetRules {
  /** Device key → asset id → its automatic interval there. */
  private readonly trackers = new Map<string, Map<string, Tracker>>();
  /** parameter → value as text → asset id. */
  private rules = new Map<string, Map<string, string>>();
  private watchNames: readonly string[] | null = null;
  private nameIdx = new Map<string, number>();

  constructor(
    private readonly cache: AssetCache,
    private readonly o: AssetRulesOptions,
  ) {}

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
    const now = this.cache.now();
    const { unsure } = this.cache;
    // a device clock that is off (no GPS time yet, a reset RTC) must not write years into a timeline
    if (!(t >= now - this.o.settings.max_late_s && t <= now + this.o.settings.max_future_s)) {
      this.o.counters.badTime++;
      return false;
    }
    let writes: Promise<void>[] | null = null;
    let refused: string | null = null;
    if (unsure.size) {
      // the device had an unsure asset (its tracker may be one the refused change removed)
      for (const id of this.cache.assetsOf(dev) ?? []) if (unsure.has(id)) refused = id;
    }
    for (const [param, byValue] of this.rules) {
      const idx = this.nameIdx.get(param);
      if (idx === undefined) continue;
      const v = w.values[base + 1 + idx];
      if (v === null || v === undefined) continue;
      const id = byValue.get(String(v));
      if (!id) continue;
      if (unsure.size && unsure.has(id)) {
        refused = id;
        continue;
      }
      const p = this.present(id, dev, channelId, ident, t);
      if (p) (writes ??= []).push(p);
    }
    const tr = this.trackers.get(dev);
    if (tr) {
      for (const [id, tk] of tr) {
        const m = this.cache.records.get(id)?.asset.match;
        if (!m) {
          tr.delete(id);
          continue;
        }
        const idx = this.nameIdx.get(m.parameter);
        const v = idx === undefined ? null : (w.values[base + 1 + idx] ?? null);
        if (v !== null && String(v) === String(m.value)) continue;
        if (unsure.size && unsure.has(id)) {
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
    const r = this.cache.records.get(id);
    if (!r) return null;
    const res = autoPresent(r.intervals, channelIdValue(channelId), ident, t, this.cache.now(), r.next_interval_id);
    if (res.kind === 'held') {
      if (res.interval.source === 'auto') this.setTracker(dev, id, { intervalId: res.interval.id, absentSince: null });
      return null;
    }
    if (res.kind === 'conflict') {
      this.o.counters.lateConflicts++;
      this.o.log.debug({ asset: id, ident, t }, `late record does not rewrite history: ${res.reason}`);
      return null;
    }
    r.next_interval_id++;
    this.o.counters.opened++;
    this.dropTrackersOf(id, res.events);
    this.setTracker(dev, id, { intervalId: res.interval.id, absentSince: null });
    return this.o.commit(id, res.events);
  }

  private absent(id: string, tk: Tracker, dev: string, t: number, changed: boolean): Promise<void> | null {
    const r = this.cache.records.get(id)!;
    let endAt = t;
    const grace = this.o.settings.absence_grace_s;
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
    this.o.counters.closed++;
    return this.o.commit(id, ev);
  }

  private setTracker(dev: string, id: string, tk: Tracker): void {
    let m = this.trackers.get(dev);
    if (!m) this.trackers.set(dev, (m = new Map()));
    const cur = m.get(id);
    if (cur && cur.intervalId === tk.intervalId) cur.absentSince = null;
    else m.set(id, tk);
  }

  /** Intervals that were closed by someone else: their devices stop tracking them. */
  dropTrackersOf(id: string, events: readonly IntervalEvent[]): void {
    for (const e of events) {
      if (e.kind === 'created') continue;
      const dev = deviceKey(e.interval.channel_id, e.interval.ident);
      const m = this.trackers.get(dev);
      if (m?.get(id)?.intervalId === e.interval.id) m.delete(id);
    }
  }

  /** The asset's rule changed or it is gone: no device tracks it any more. */
  dropAllTrackers(id: string): void {
    for (const [dev, m] of this.trackers) {
      m.delete(id);
      if (m.size === 0) this.trackers.delete(dev);
    }
  }

  /** At start and after a re-read: the open automatic interval of an asset with a rule is tracked on its device. */
  trackOpen(r: AssetRecord): void {
    if (!r.asset.match) return;
    for (const iv of r.intervals) {
      if (iv.source !== 'auto' || iv.end !== 0) continue;
      const dev = deviceKey(iv.channel_id, iv.ident);
      // already tracked (a re-read of the asset): its grace period goes on
      if (this.trackers.get(dev)?.get(r.asset.id)?.intervalId === iv.id) continue;
      this.setTracker(dev, r.asset.id, { intervalId: iv.id, absentSince: null });
    }
  }

  /** The asset was re-read from the store (null: deleted): trackers follow what it holds now. */
  adopt(id: string, r: AssetRecord | null): void {
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
    const dup = this.rebuild();
    if (dup) this.o.log.warn({ asset: id }, `stored assets conflict, the rule of ${id} is not applied: ${dup}`);
  }

  /** Rules index from the assets; returns a reason when two assets claim the same parameter value. */
  rebuild(): string | null {
    const rules = new Map<string, Map<string, string>>();
    for (const r of this.cache.records.values()) {
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
    this.o.setWatch(this.cache.records.size ? [...rules.keys()] : null);
    return null;
  }
}
