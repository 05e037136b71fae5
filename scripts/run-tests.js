#!/usr/bin/env node
// Runs every compiled *.test.js under dist/ with node's built-in test runner (Node 20 has no
// glob support in `node --test`, so the files are collected here). Exit status: 0 only when every
// phase passed.
// Usage: node scripts/run-tests.js [--unit | --integration] [substring ...]
//   --unit          only the unit files (src/, protocols/, bench/: no sockets to services, no processes)
//   --integration   only the integration files (test/)
//   substring       only files whose path contains one of them
// Phases, one `node --test` each: unit files, then the integration files that may run side by side
// (each uses ephemeral ports, its own temp dirs, and unique MQTT topic roots, client ids and Redis
// prefixes), then SERIAL below one at a time. EDGE_TEST_CONCURRENCY sets the concurrency of the
// first two (default: 2, the cores of the CI machine kind).
// The Mosquitto and Redis suites run whenever those services can be found or started
// (scripts/test-services.js); which were used or skipped, and why, is printed before and after.
import { readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { spawn } from 'node:child_process';
import { testServices } from './test-services.js';

/** Integration files that run alone, after the others, and why. */
const SERIAL = {
  'install-run': 'packs and installs the package (CPU-heavy; must not race a build)',
  'hostile-clients': 'asserts memory and time bounds of the server under hostile load',
  reliability: 'restarts brokers and holds PUBACKs; asserts what is ACKed within time bounds',
  haproxy: 'runs an external proxy in front of two instances',
};

const root = new URL('..', import.meta.url).pathname;
const dist = join(root, 'dist');
const args = process.argv.slice(2);
const only = args.includes('--unit') ? 'unit' : args.includes('--integration') ? 'integration' : null;
const filters = args.filter((a) => !a.startsWith('--'));
const concurrency = Math.max(1, Number(process.env.EDGE_TEST_CONCURRENCY) || 2);

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
const isIntegration = (f) => relative(dist, f).startsWith(`test${sep}`);
const isSerial = (f) => Object.keys(SERIAL).some((n) => relative(dist, f) === join('test', `${n}.test.js`));
const phases = [
  { name: 'unit', files: files.filter((f) => !isIntegration(f)), concurrency },
  { name: 'integration', files: files.filter((f) => isIntegration(f) && !isSerial(f)), concurrency },
  { name: 'integration, one at a time', files: files.filter((f) => isIntegration(f) && isSerial(f)), concurrency: 1 },
].filter((p) => p.files.length > 0 && (only === null || p.name.startsWith(only)));
if (phases.length === 0) {
  console.error('no test files found under dist/ (did the build run?)');
  process.exit(1);
}
const services = await testServices();
const banner = (lines) => console.log(lines.map((l) => `# services: ${l}`).join('\n'));
banner(services.lines);
let child = null;
// Ctrl-C reaches the test process too (same process group): wait for it, then stop the private services
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child?.kill(sig));
const results = [];
for (const phase of phases) {
  const t0 = Date.now();
  console.log(`# phase: ${phase.name}: ${phase.files.length} file(s), concurrency ${phase.concurrency}`);
  child = spawn(process.execPath, ['--test', `--test-concurrency=${phase.concurrency}`, ...phase.files], { stdio: 'inherit', cwd: root, env: { ...process.env, ...services.env } });
  const status = await new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
  results.push({ name: phase.name, status, s: Math.round((Date.now() - t0) / 100) / 10 });
}
services.stop();
banner(services.lines);
for (const r of results) console.log(`# phase: ${r.name}: ${r.status === 0 ? 'passed' : `FAILED (exit ${r.status})`} in ${r.s} s`);
process.exit(results.every((r) => r.status === 0) ? 0 : 1);
