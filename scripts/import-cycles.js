#!/usr/bin/env node
// Fails when the import graph of src/ and protocols/ (every relative import, type-only ones too:
// they couple the files just the same) has a cycle. Part of `npm run lint` (ARCHITECTURE.md
// "Layers": the folders' one-way rule is checked by ESLint, cycles inside a folder by this).
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const files = [];
/** Every .ts source below `dir` (tests and, in protocols/, their test-* helpers left out). */
function walk(dir, skip) {
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) walk(p, skip);
    else if (n.endsWith('.ts') && !n.endsWith('.test.ts') && !n.endsWith('.d.ts') && !skip(n)) files.push(p);
  }
}
walk(join(root, 'src'), () => false);
walk(join(root, 'protocols'), (n) => n.startsWith('test-'));

const known = new Set(files);
const graph = new Map();
const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'(\.[^']+)'/g;
for (const f of files) {
  const src = readFileSync(f, 'utf8');
  const deps = [];
  for (const m of src.matchAll(IMPORT)) {
    const target = resolve(dirname(f), m[1].replace(/\.js$/, '.ts'));
    if (known.has(target)) deps.push(target);
  }
  graph.set(f, deps);
}

// Tarjan's strongly connected components: any component of more than one file is a cycle
let index = 0;
const idx = new Map();
const low = new Map();
const stack = [];
const on = new Set();
const cycles = [];
function visit(v) {
  idx.set(v, index);
  low.set(v, index++);
  stack.push(v);
  on.add(v);
  for (const w of graph.get(v)) {
    if (!idx.has(w)) {
      visit(w);
      low.set(v, Math.min(low.get(v), low.get(w)));
    } else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
  }
  if (low.get(v) === idx.get(v)) {
    const comp = [];
    let w;
    do {
      w = stack.pop();
      on.delete(w);
      comp.push(w);
    } while (w !== v);
    if (comp.length > 1) cycles.push(comp);
  }
}
for (const f of files) if (!idx.has(f)) visit(f);
if (cycles.length) {
  for (const c of cycles) console.error(`import cycle: ${c.map((f) => relative(root, f)).sort().join(' ↔ ')}`);
  process.exit(1);
}
console.log(`import graph: ${files.length} files, no cycle`);
