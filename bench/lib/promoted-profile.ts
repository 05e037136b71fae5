/**
 * What the channel's main thread promotes, by allocation site (`e2e-bench --promoted-profile DIR`).
 *
 * V8's sampling heap profiler runs over a pass's measure window with `includeObjectsCollectedByMajorGC`:
 * when stopped it reports the sampled objects still alive plus those a full collection freed, which is
 * the garbage that reached the old generation (promoted, then dead). Young garbage freed by a scavenge
 * is left out. The window's live set is small next to what a fast pass promotes, so the biggest sites
 * are the ones that feed the old generation. bench/README.md ("Second pass at the gap") has a reading.
 *
 * Young garbage not yet scavenged when sampling stops would count as alive (and a full collection would
 * count it as promoted), up to a whole semi-space of it: stop() scavenges first, and a caller that
 * forces a full collection calls scavenge() before it. On Node 24 that noise reached 2.8–4.3 MB of a
 * 3.3 MB test signal in 3 of 10 runs without the scavenge, at most 4 KB in 30 runs with it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

export interface SamplingHeapProfile {
  head: ProfileNode;
}

export interface Site {
  /** Leaf frame first, then up to two callers: `fn file:line < caller file:line < …`. */
  site: string;
  kb: number;
}

/** Starts sampling (every `intervalBytes` allocated, on average); stop() ends it and returns the profile. */
export async function startPromotedProfile(intervalBytes = 8192): Promise<{ stop(): Promise<SamplingHeapProfile> }> {
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.startSampling', { samplingInterval: intervalBytes, includeObjectsCollectedByMajorGC: true });
  return {
    async stop() {
      scavenge();
      try {
        const r = (await session.post('HeapProfiler.stopSampling')) as { profile: SamplingHeapProfile };
        return r.profile;
      } finally {
        session.disconnect();
      }
    },
  };
}

/** A minor collection (scavenge): frees dead young objects, so the profiler drops their samples. */
export function scavenge(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as (o: { type: 'minor' }) => void)({ type: 'minor' });
}

/** The `n` allocation sites with the most sampled bytes (leaf and two callers), and the total, in KB. */
export function topSites(profile: SamplingHeapProfile, n: number): { totalKb: number; sites: Site[] } {
  const bytes = new Map<string, number>();
  let total = 0;
  const walk = (node: ProfileNode, callers: string[]): void => {
    const f = node.callFrame;
    const here = `${f.functionName || '(anonymous)'} ${shortUrl(f.url)}:${f.lineNumber + 1}`;
    const stack = [here, ...callers].slice(0, 3);
    if (node.selfSize > 0) {
      const key = stack.join(' < ');
      bytes.set(key, (bytes.get(key) ?? 0) + node.selfSize);
      total += node.selfSize;
    }
    for (const c of node.children) walk(c, stack);
  };
  walk(profile.head, []);
  const sites = [...bytes]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([site, b]) => ({ site, kb: Math.round(b / 1024) }));
  return { totalKb: Math.round(total / 1024), sites };
}

/** A path from the package root (`dist/...`, `node_modules/...`) or a `node:` builtin, not a machine path. */
function shortUrl(url: string): string {
  const m = /\/((?:dist|node_modules)\/.*)$/.exec(url);
  return m ? m[1]! : url.replace(/^file:\/\//, '') || '(native)';
}

/**
 * Saves the profile as `DIR/promoted-<label>.heapprofile` (Chrome DevTools opens it: Memory → Load)
 * and prints the ten biggest sites.
 */
export function writePromotedProfile(dir: string, label: string, profile: SamplingHeapProfile): void {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `promoted-${label.replace(/[^A-Za-z0-9=@.-]+/g, '_')}.heapprofile`);
  writeFileSync(file, JSON.stringify(profile));
  const { totalKb, sites } = topSites(profile, 10);
  console.log(`    promoted (sampled) in the window: ${totalKb} KB, by allocation site (${file}):`);
  for (const s of sites) console.log(`      ${String(s.kb).padStart(7)} KB  ${s.site}`);
}
