#!/usr/bin/env node
// Runs every compiled *.test.js under dist/ with node's built-in test runner (Node 20 has no
// glob support in `node --test`, so the files are collected here). Exit status is the runner's.
// Usage: node scripts/run-tests.js [substring ...]  — only files whose path contains a substring.
// The Mosquitto and Redis suites run whenever those services can be found or started
// (scripts/test-services.js); which were used or skipped, and why, is printed before and after.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawn } from 'node:child_process';
import { testServices } from './test-services.js';

const root = new URL('..', import.meta.url).pathname;
const dist = join(root, 'dist');
const filters = process.argv.slice(2);

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

let files = walk(dist, []).sort();
if (filters.length) files = files.filter((f) => filters.some((s) => relative(root, f).includes(s)));
if (files.length === 0) {
  console.error('no test files found under dist/ (did the build run?)');
  process.exit(1);
}
const services = await testServices();
const banner = (lines) => console.log(lines.map((l) => `# services: ${l}`).join('\n'));
banner(services.lines);
const child = spawn(process.execPath, ['--test', '--test-concurrency=1', ...files], { stdio: 'inherit', cwd: root, env: { ...process.env, ...services.env } });
// Ctrl-C reaches the test process too (same process group): wait for it, then stop the private services
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
const status = await new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
services.stop();
banner(services.lines);
process.exit(status);
