/**
 * Aggregated guard drop counters. A flood must never turn into one log line per dropped packet
 * (that would make the log itself the DoS vector), so drops are counted here and the runtime
 * publishes one snapshot per stats interval on the channel's log/state topics.
 *
 * Memory is bounded: at most `maxSources` distinct source IPs are tracked per interval (a
 * spoofed-source UDP flood can present millions); drops from further sources are counted in
 * `other_sources_drops` only.
 */
import { peerIp } from './peer-ip.js';

export type DropReason = 'whitelist' | 'blacklist' | 'rate' | 'rate_ip' | 'proxy';
export type DropTransport = 'tcp' | 'udp';

export interface DropSource {
  ip: string;
  count: number;
}

/** Plain JSON-serialisable data (published as is). */
export interface DropSnapshot {
  /** Interval start and end, Unix milliseconds. */
  since_ms: number;
  until_ms: number;
  total: number;
  by_reason: Record<DropReason, number>;
  by_transport: Record<DropTransport, number>;
  /** The sources with the most drops, most first (at most `topN`). */
  top_sources: DropSource[];
  /** Distinct sources tracked this interval (capped at `maxSources`). */
  distinct_sources: number;
  /** Drops from sources beyond the tracking cap ("other"). */
  other_sources_drops: number;
}

export interface DropStatsOptions {
  /** Distinct source IPs tracked per interval. Default 10,000. */
  maxSources?: number;
  /** Length of `top_sources`. Default 10. */
  topN?: number;
  /** Clock (Unix ms), for tests. */
  now?: () => number;
}

export interface DropStats {
  count(reason: DropReason, ip: string, transport: DropTransport): void;
  /** The interval's counters, or null if nothing was dropped; either way a new interval starts. */
  snapshot(): DropSnapshot | null;
  /** Drops by reason since the start, never reset (Prometheus counters). */
  totals(): Readonly<Record<DropReason, number>>;
}

export function createDropStats(opts: DropStatsOptions = {}): DropStats {
  const maxSources = opts.maxSources ?? 10_000;
  const topN = opts.topN ?? 10;
  const now = opts.now ?? Date.now;

  let since = now();
  let total = 0;
  let byReason: Record<DropReason, number> = { whitelist: 0, blacklist: 0, rate: 0, rate_ip: 0, proxy: 0 };
  let byTransport: Record<DropTransport, number> = { tcp: 0, udp: 0 };
  let sources = new Map<string, number>();
  let other = 0;
  const sinceStart: Record<DropReason, number> = { whitelist: 0, blacklist: 0, rate: 0, rate_ip: 0, proxy: 0 };

  return {
    count(reason, rawIp, transport) {
      const ip = peerIp(rawIp);
      sinceStart[reason]++;
      total++;
      byReason[reason]++;
      byTransport[transport]++;
      const n = sources.get(ip);
      if (n !== undefined) sources.set(ip, n + 1);
      else if (sources.size < maxSources) sources.set(ip, 1);
      else other++;
    },

    totals: () => sinceStart,

    snapshot() {
      const until = now();
      const snap: DropSnapshot | null =
        total === 0
          ? null
          : {
              since_ms: since,
              until_ms: until,
              total,
              by_reason: byReason,
              by_transport: byTransport,
              top_sources: topSources(sources, topN),
              distinct_sources: sources.size,
              other_sources_drops: other,
            };
      since = until;
      total = 0;
      byReason = { whitelist: 0, blacklist: 0, rate: 0, rate_ip: 0, proxy: 0 };
      byTransport = { tcp: 0, udp: 0 };
      sources = new Map();
      other = 0;
      return snap;
    },
  };
}

/**
 * The n largest counts in one pass with a small sorted buffer: O(sources × n) instead of sorting
 * up to maxSources entries, and nothing allocated per source.
 */
function topSources(sources: ReadonlyMap<string, number>, n: number): DropSource[] {
  const top: DropSource[] = [];
  if (n <= 0) return top;
  for (const [ip, count] of sources) {
    if (top.length === n && count <= (top[n - 1]?.count ?? 0)) continue;
    let i = top.length;
    while (i > 0 && (top[i - 1]?.count ?? 0) < count) i--;
    top.splice(i, 0, { ip, count });
    if (top.length > n) top.pop();
  }
  return top;
}
