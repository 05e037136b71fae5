/** Reading `node --trace-gc-nvp` output (one line per collection, `key=value` fields). */

/**
 * `promoted=` of each scavenge of the isolate that printed most of them: for a process without worker
 * threads (gc-publisher.ts) its only isolate. Full collections (`gc=mc`) are left out.
 */
export function scavengePromotions(trace: string): number[] {
  const byIsolate = new Map<string, number[]>();
  for (const line of trace.split('\n')) {
    if (!line.includes(' gc=s ')) continue;
    const iso = line.slice(0, line.indexOf(']') + 1);
    const m = / promoted=(\d+)/.exec(line);
    if (!m) continue;
    const list = byIsolate.get(iso) ?? [];
    list.push(Number(m[1]));
    byIsolate.set(iso, list);
  }
  let best: number[] = [];
  for (const l of byIsolate.values()) if (l.length > best.length) best = l;
  return best;
}

