import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { scavenge, startPromotedProfile, topSites, type ProfileNode } from './promoted-profile.js';

const node = (functionName: string, url: string, lineNumber: number, selfSize: number, children: ProfileNode[] = []): ProfileNode => ({
  callFrame: { functionName, url, lineNumber },
  selfSize,
  children,
});

test('sites are the leaf and two callers, summed, biggest first, with package-relative paths', () => {
  const head = node('(root)', '', -1, 0, [
    node('onData', 'file:///srv/app/dist/src/channel/tcp-listener.js', 173, 1024, [
      node('push', 'file:///srv/app/dist/src/net/framer.js', 23, 3072, [node('subarray', '', -1, 2048)]),
    ]),
    node('(V8 API)', '', -1, 8192),
    node('publish', 'file:///srv/app/node_modules/mqtt-packet/writeToStream.js', 315, 0, [
      node('push', 'file:///srv/app/dist/src/net/framer.js', 23, 1024),
    ]),
  ]);
  const r = topSites({ head }, 3);
  assert.equal(r.totalKb, 15);
  assert.deepEqual(r.sites, [
    { site: '(V8 API) (native):0 < (root) (native):0', kb: 8 },
    { site: 'push dist/src/net/framer.js:24 < onData dist/src/channel/tcp-listener.js:174 < (root) (native):0', kb: 3 },
    { site: 'subarray (native):0 < push dist/src/net/framer.js:24 < onData dist/src/channel/tcp-listener.js:174', kb: 2 },
  ]);
});

test('a real profile keeps garbage that reached the old generation and drops what a scavenge freed', async () => {
  const keep: unknown[] = [];
  function youngGarbage(): number {
    let n = 0;
    for (let i = 0; i < 20_000; i++) n += [i, i + 1, i + 2].length;
    return n;
  }
  function survivesThenDies(): void {
    for (let i = 0; i < 20_000; i++) keep.push({ i, pad: [i, i, i, i, i, i, i, i] });
  }
  const p = await startPromotedProfile(1024);
  youngGarbage();
  survivesThenDies();
  // several scavenges promote what `keep` holds; then it dies and a full collection frees it, so
  // only includeObjectsCollectedByMajorGC keeps it in the profile
  for (let r = 0; r < 20; r++) youngGarbage();
  // the young garbage since the last scavenge goes now: left for the full collection, it would count
  // as promoted (on Node 24 it was up to 4 MB, more than the signal, in 3 of 10 runs)
  scavenge();
  keep.length = 0;
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  const { sites } = topSites(await p.stop(), 50);
  const kbOf = (fn: string) => sites.filter((s) => s.site.startsWith(fn + ' ')).reduce((a, s) => a + s.kb, 0);
  assert.ok(kbOf('survivesThenDies') > 100, `the promoted objects are reported: ${JSON.stringify(sites.slice(0, 5))}`);
  assert.ok(kbOf('youngGarbage') < kbOf('survivesThenDies') / 10, `young garbage is mostly left out: ${kbOf('youngGarbage')} vs ${kbOf('survivesThenDies')} KB`);
});
