/**
 * The rules of one asset's timeline, as pure functions over its sorted intervals (no clock: `now`
 * is passed in; no I/O). Each function edits the array it is given and returns the lifecycle events
 * of the edit; callers give it a copy when the edit may be refused.
 *
 * Invariants: intervals are sorted by `begin` and never overlap. `end` 0 = open; an open interval
 * followed by a later one (a planned interval, or history written after it) ends where that one
 * begins — the later one closes it when it becomes active (`activate`). At most one interval is
 * active at a time: the one `activeAt(now)` returns.
 *
 * Out-of-order history (README "Assets"): automatic observations are applied at device time.
 * A record that falls in a gap of the timeline (e.g. a black-box record replayed after an outage,
 * older than an interval another device opened meanwhile) writes an interval into that gap, bounded
 * by the next interval's begin; a record that falls inside another device's closed interval does
 * not rewrite history (counted as a late conflict).
 */
import type { Interval, IntervalEvent } from './types.js';

/** Where the interval at index i ends at the latest (Infinity while open and last). */
export function effectiveEnd(ivs: readonly Interval[], i: number): number {
  const iv = ivs[i]!;
  const next = ivs[i + 1];
  if (iv.end !== 0) return iv.end;
  return next ? next.begin : Infinity;
}

/** Index of the last interval that begins at or before t, or -1. */
export function lastBeginningBy(ivs: readonly Interval[], t: number): number {
  let lo = 0;
  let hi = ivs.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (ivs[mid]!.begin <= t) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** Index of the interval covering t (begin ≤ t < its effective end), or -1. */
export function coveringIndex(ivs: readonly Interval[], t: number): number {
  const i = lastBeginningBy(ivs, t);
  return i >= 0 && t < effectiveEnd(ivs, i) ? i : -1;
}

export function activeAt(ivs: readonly Interval[], now: number): Interval | null {
  const i = coveringIndex(ivs, now);
  return i >= 0 ? ivs[i]! : null;
}

const sameDevice = (iv: Interval, channelId: number | string, ident: string) => iv.ident === ident && String(iv.channel_id) === String(channelId);

export type AutoPresent =
  | { kind: 'held'; interval: Interval }
  | { kind: 'opened'; interval: Interval; events: IntervalEvent[] }
  | { kind: 'conflict'; reason: string };

/**
 * A message of device (channelId, ident) at device time t carries the asset's identifying value.
 * `newId` is the id a new interval takes.
 */
export function autoPresent(ivs: Interval[], channelId: number | string, ident: string, t: number, now: number, newId: number): AutoPresent {
  const i = lastBeginningBy(ivs, t);
  const events: IntervalEvent[] = [];
  let insertAt = i + 1;
  if (i >= 0 && t < effectiveEnd(ivs, i)) {
    const cur = ivs[i]!;
    if (sameDevice(cur, channelId, ident)) return { kind: 'held', interval: cur };
    if (cur.end !== 0) return { kind: 'conflict', reason: `at ${t} the asset was with ${cur.ident} (interval ${cur.id}, closed)` };
    // the asset moves: the open interval of the other device closes at this moment
    if (cur.begin === t) {
      // both at the same instant: the earlier-arrived one lasted no time at all
      ivs.splice(i, 1);
      insertAt = i;
      events.push({ kind: 'closed', interval: { ...cur, end: t } });
    } else {
      ivs[i] = { ...cur, end: t };
      events.push({ kind: 'closed', interval: ivs[i]! });
    }
  }
  const next = ivs[insertAt];
  // before history that has already begun: bounded by it; before a planned interval: open until it begins
  const end = next && next.begin <= now ? next.begin : 0;
  const iv: Interval = { id: newId, begin: t, end, ident, channel_id: channelId, meta: null, source: 'auto' };
  ivs.splice(insertAt, 0, iv);
  events.push({ kind: 'created', interval: iv });
  return { kind: 'opened', interval: iv, events };
}

/**
 * The automatic interval `id` ends at device time t (its value changed or stayed absent past the
 * grace period). Returns its events, [] when t does not end it (older than its begin: a late record),
 * or null when the interval is gone or already ended before t.
 */
export function autoEnd(ivs: Interval[], id: number, t: number): IntervalEvent[] | null {
  const i = ivs.findIndex((x) => x.id === id);
  if (i < 0) return null;
  const iv = ivs[i]!;
  if (t < iv.begin) return [];
  const eff = effectiveEnd(ivs, i);
  if (t >= eff) return null;
  const wasOpen = iv.end === 0;
  ivs[i] = { ...iv, end: t };
  return [{ kind: wasOpen ? 'closed' : 'updated', interval: ivs[i]! }];
}

export interface ManualAssign {
  channel_id: number | string;
  ident: string;
  begin: number;
  /** 0 = open. */
  end: number;
  meta: Record<string, unknown> | null;
}

/**
 * A manual interval. Refused (a reason, nothing changed) when it ends before it begins or overlaps
 * any interval other than the currently open one, which it closes at its begin.
 */
export function manualAssign(ivs: Interval[], a: ManualAssign, newId: number, now: number): { events: IntervalEvent[]; interval: Interval } | { reason: string } {
  if (a.end !== 0 && a.end <= a.begin) return { reason: `the interval ends (${a.end}) before it begins (${a.begin})` };
  const to = a.end === 0 ? Infinity : a.end;
  let closeIdx = -1;
  for (let i = 0; i < ivs.length; i++) {
    const iv = ivs[i]!;
    const eff = effectiveEnd(ivs, i);
    if (iv.begin >= to || eff <= a.begin) continue;
    // the open interval that began before this one is closed by it (the asset moves); anything else is an overlap
    if (iv.end === 0 && iv.begin < a.begin && i === lastBeginningBy(ivs, a.begin)) {
      closeIdx = i;
      continue;
    }
    return { reason: `overlaps interval ${iv.id} (${iv.source}, ${iv.ident}, ${iv.begin}..${iv.end || 'open'})` };
  }
  const events: IntervalEvent[] = [];
  // a planned interval leaves the open one alone until it begins (activate closes it then)
  if (closeIdx >= 0 && a.begin <= now) {
    ivs[closeIdx] = { ...ivs[closeIdx]!, end: a.begin };
    events.push({ kind: 'closed', interval: ivs[closeIdx]! });
  }
  const iv: Interval = { id: newId, begin: a.begin, end: a.end, ident: a.ident, channel_id: a.channel_id, meta: a.meta, source: 'manual' };
  const at = lastBeginningBy(ivs, a.begin) + 1;
  ivs.splice(at, 0, iv);
  events.push({ kind: 'created', interval: iv });
  return { events, interval: iv };
}

/**
 * Closes interval `id` (or, when null, the one active at `now`) at `end`, replacing its meta when
 * `meta` is given. Refused when there is no such interval, it has already ended, or `end` is before
 * its begin or past the next interval's begin.
 */
export function manualClose(ivs: Interval[], id: number | null, end: number, meta: Record<string, unknown> | null | undefined, now: number): { events: IntervalEvent[]; interval: Interval } | { reason: string } {
  const i = id === null ? coveringIndex(ivs, now) : ivs.findIndex((x) => x.id === id);
  if (i < 0) return { reason: id === null ? 'the asset has no active interval' : `no interval ${id}` };
  const iv = ivs[i]!;
  // an end still in the future (a planned end) may be moved; one that has passed is history
  if (iv.end !== 0 && iv.end <= now) return { reason: `interval ${iv.id} is already closed (end ${iv.end})` };
  if (end <= iv.begin) return { reason: `the interval would end (${end}) before it begins (${iv.begin})` };
  const next = ivs[i + 1];
  if (next && end > next.begin) return { reason: `end ${end} overlaps interval ${next.id}, which begins at ${next.begin}` };
  ivs[i] = { ...iv, end, meta: meta === undefined ? iv.meta : meta };
  return { events: [{ kind: 'closed', interval: ivs[i]! }], interval: ivs[i]! };
}

/**
 * Planned intervals whose time has come: an open interval followed by one that has begun by `now`
 * gets its end written (the asset moved to the planned interval). The new active interval is then
 * `activeAt(now)`; the caller publishes it.
 */
export function activate(ivs: Interval[], now: number): IntervalEvent[] {
  const events: IntervalEvent[] = [];
  for (let i = 0; i + 1 < ivs.length; i++) {
    const iv = ivs[i]!;
    const next = ivs[i + 1]!;
    if (iv.end === 0 && next.begin <= now) {
      ivs[i] = { ...iv, end: next.begin };
      events.push({ kind: 'closed', interval: ivs[i]! });
    }
  }
  return events;
}

/**
 * The next moment after `now` at which the active interval can change (Infinity: none). Scans from
 * the newest interval back and stops at the first one that began by `now` and is open or ended by
 * then: every earlier interval ended before it began (no overlap), so only the tail can matter.
 */
export function nextBoundary(ivs: readonly Interval[], now: number): number {
  let t = Infinity;
  for (let i = ivs.length - 1; i >= 0; i--) {
    const iv = ivs[i]!;
    if (iv.begin > now && iv.begin < t) t = iv.begin;
    if (iv.end > now && iv.end < t) t = iv.end;
    if (iv.begin <= now && (iv.end === 0 || iv.end <= now)) break;
  }
  return t;
}

/** Drops the oldest closed intervals beyond `max` (the open and planned ones are always kept). */
export function trim(ivs: Interval[], max: number): void {
  let drop = ivs.length - max;
  while (drop > 0 && ivs.length > 0 && ivs[0]!.end !== 0) {
    ivs.shift();
    drop--;
  }
}
