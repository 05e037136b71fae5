#!/usr/bin/env node
// `npm start` runs what is built and builds only when needed: when dist/ is missing or a source
// (a .ts file, a folder that gained or lost a file, tsconfig.json) is newer than the last build
// (dist/.tsbuildinfo, written by every tsc run that changed anything). A packed production
// install has dist/ and no sources: it never builds, and needs no TypeScript.
import { existsSync, readdirSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const cli = join(root, 'dist', 'src', 'cli.js');
const stamp = join(root, 'dist', '.tsbuildinfo');
const sourceDirs = ['src', 'protocols', 'bench', 'test'].map((d) => join(root, d));

function newest(path) {
  const st = statSync(path);
  if (!st.isDirectory()) return path.endsWith('.ts') ? st.mtimeMs : 0;
  let m = st.mtimeMs;
  for (const name of readdirSync(path)) {
    if (name === 'node_modules' || name === 'fixtures' || name === 'results') continue;
    const t = newest(join(path, name));
    if (t > m) m = t;
  }
  return m;
}

if (!existsSync(join(root, 'src'))) {
  // a packed package: dist/ is all there is
  if (!existsSync(cli)) {
    console.error('edge-channel: dist/ is missing from this package (it is built by `npm pack` / prepack)');
    process.exit(1);
  }
  process.exit(0);
}

const builtAt = existsSync(cli) && existsSync(stamp) ? statSync(stamp).mtimeMs : -1;
let sourcesAt = statSync(join(root, 'tsconfig.json')).mtimeMs;
for (const d of sourceDirs) if (existsSync(d)) sourcesAt = Math.max(sourcesAt, newest(d));
if (builtAt >= sourcesAt) process.exit(0);

const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
if (!existsSync(tsc)) {
  if (existsSync(cli)) {
    console.error('edge-channel: sources are newer than dist/ but TypeScript is not installed (npm ci --omit=dev?); running the existing build');
    process.exit(0);
  }
  console.error('edge-channel: not built and TypeScript is not installed: run `npm ci` (with dev dependencies), then `npm start`');
  process.exit(1);
}
console.error(builtAt < 0 ? 'edge-channel: building (first run)' : 'edge-channel: sources changed, rebuilding');
const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json')], { stdio: 'inherit', cwd: root });
// tsc leaves its stamp alone when no file's content changed (a `touch`): mark the check as done
if (r.status === 0 && existsSync(stamp)) utimesSync(stamp, new Date(), new Date());
process.exit(r.status ?? 1);
