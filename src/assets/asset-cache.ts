import type { MqttPort } from '../message/mqtt-port.js';
import type { Topics } from '../mqtt/topics.js';
import { assetIdValue } from '../message/naming.js';
import { activeAt, coveringIndex } from './timeline.js';
import { deviceKey, type AssetRecord, type Interval } from './types.js';

/** The MQTT side: the port every feature uses (src/message/mqtt-port.ts). */
export type AssetMqttPort = MqttPort;

/** What the asset service counts (/metrics). */
export interface AssetCounters {
  opened: number;
  closed: number;
  lateConflicts: number;
  badTime: number;
  storeErrors: number;
  requestsApplied: number;
  requestsRejected: number;
}

/**
 * The asset service's memory, shared by its parts: the timelines as last applied (`records`), the
 * revision the store holds of each (`storedRev`), the assets that could not be re-read (`unsure`),
 * the device → assets index the enricher reads, and the retained `active` state as last published.
 */
export class AssetCache {
  readonly records = new Map<string, AssetRecord>();
  readonly storedRev = new Map<string, number>();
  /** Assets whose stored state could not be read after a failure or a notice (asset-service.ts, top). */
  readonly unsure = new Set<string>();
  /** Device key → assets with any interval on that device (the enricher's index). */
  private readonly byDevice = new Map<string, Set<string>>();
  private readonly devicesOf = new Map<string, Set<string>>();
  private readonly fieldCache = new Map<string, string>();
  private readonly published = new Map<string, string>();
  stopped = false;
  started = false;

  constructor(
    private readonly mqtt: AssetMqttPort,
    private readonly topics: Topics,
    private readonly nowMs: () => number,
  ) {}

  /** Wall clock, s (the unit of device time and of the timelines). */
  now(): number {
    return this.nowMs() / 1000;
  }

  assetsOf(dev: string): ReadonlySet<string> | undefined {
    return this.byDevice.get(dev);
  }

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

  /** The asset's definition may have changed: its enrichment text is built again. */
  changed(id: string): void {
    this.fieldCache.delete(id);
  }

  /** The device index of one asset, from its intervals. */
  reindex(id: string): void {
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

  isPublished(id: string): boolean {
    return this.published.has(id);
  }

  /** Retained `{root}/state/gw/assets/{id}/active`: the active interval, or an empty payload. */
  publishState(id: string, force: boolean, intervals: readonly Interval[] | null = this.records.get(id)?.intervals ?? null): void {
    const payload = this.activePayload(intervals);
    if (!force && this.published.get(id) === payload) return;
    this.published.set(id, payload);
    const topic = this.topics.assetActive(id);
    if (payload) this.mqtt.state(topic, payload);
    else this.mqtt.clear(topic);
  }

  /** Records what another writer published (a shared store) without publishing it again. */
  publishedElsewhere(id: string, intervals: readonly Interval[] | null): void {
    this.published.set(id, this.activePayload(intervals));
  }

  private activePayload(intervals: readonly Interval[] | null): string {
    const act = intervals ? activeAt(intervals, this.now()) : null;
    return act ? JSON.stringify(act) : '';
  }
}
