/**
 * Assets and their assignment intervals (README "Assets"). Modelled on flespi's assets: an asset
 * (driver, trailer, vehicle or a custom type) is linked to different devices over time; each link
 * is an interval. Times are Unix seconds of device time (the message's `timestamp`), or of server
 * time for manual intervals that give none.
 */
export type IntervalSource = 'manual' | 'auto';

/** Automatic assignment: a device whose message carries `parameter` = `value` gets the asset. */
export interface AssetMatch {
  parameter: string;
  value: string | number | boolean;
}

export interface Asset {
  id: string;
  name: string;
  /** `driver`, `trailer`, `vehicle` or a custom word; becomes the middle of `asset.<type>.*`. */
  type: string;
  match?: AssetMatch;
  /** Declared in the config file (then the config owns it: MQTT may not change or delete it). */
  declared?: boolean;
}

export interface Interval {
  /** Unique within its asset, increasing. */
  id: number;
  begin: number;
  /** 0 while open. An open interval followed by a later one ends, at the latest, where that one begins. */
  end: number;
  ident: string;
  channel_id: number | string;
  meta: Record<string, unknown> | null;
  source: IntervalSource;
}

/** What the store holds per asset. `rev` grows by one per write (the store's conflict check). */
export interface AssetRecord {
  asset: Asset;
  rev: number;
  next_interval_id: number;
  /** Sorted by `begin`, never overlapping. */
  intervals: Interval[];
}

export type IntervalEventKind = 'created' | 'updated' | 'closed';

export interface IntervalEvent {
  kind: IntervalEventKind;
  interval: Interval;
}

/** One device across channels: channel id and ident. */
export function deviceKey(channelId: number | string, ident: string): string {
  return `${String(channelId)}\u0000${ident}`;
}
