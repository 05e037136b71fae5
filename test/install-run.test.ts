import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../src/util/paths.js';
import { startEmbeddedBroker } from '../src/mqtt/embedded-broker.js';
import { waitFor } from './support/harness.js';

/**
 * Install and run as an operator does: the version flag, the Node versions package.json declares,
 * what `npm pack` ships, `npm start` not rebuilding what is built, and `edge-channel start
 * --mqtt-url` with the health listener, stopped by SIGTERM.
 */
const root = projectRoot();
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string; engines: { node: string }; files: string[] };
const bin = join(root, 'bin', 'edge-channel.js');

/** `^A.B.C || ^D.E.F` (the only form package.json uses): does version v satisfy it? */
function satisfies(v: string, range: string): boolean {
  const [maj, min, pat] = v.replace(/^v/, '').split('.').map(Number) as [number, number, number];
  return range.split('||').some((alt) => {
    const m = /^\^(\d+)\.(\d+)\.(\d+)$/.exec(alt.trim());
    if (!m) throw new Error(`engines alternative "${alt.trim()}" is not of the form ^X.Y.Z`);
    const [a, b, c] = [Number(m[1]), Number(m[2]), Number(m[3])];
    return maj === a && (min > b || (min === b && pat >= c));
  });
}

test('edge-channel --version prints the package version', () => {
  const r = spawnSync(process.execPath, [bin, '--version'], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  assert.equal(r.stdout, `${pkg.version}\n`);
});

test('engines: the running Node satisfies the declared LTS lines, and the README states the same lines', () => {
  assert.ok(satisfies(process.version, pkg.engines.node), `${process.version} is outside engines ${pkg.engines.node}`);
  assert.equal(satisfies('v18.20.0', pkg.engines.node), false);
  assert.equal(satisfies('v20.18.0', pkg.engines.node), false, 'Node 20 before 20.19 is not supported');
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  assert.ok(readme.includes(`\`${pkg.engines.node}\``), 'README "Set up" quotes the engines range');
});

test('npm pack ships the build, the bin, the deploy files, the console\'s static files and the licence, and no sources or tests', () => {
  const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const files = (JSON.parse(r.stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
  for (const must of ['src/console/index.html', 'src/console/live-player.js', 'bin/edge-channel.js', 'dist/src/cli.js', 'dist/src/app.js', 'dist/src/pool/worker.js', 'dist/protocols/ruptela/index.js', 'protocols/ruptela/README.md', 'scripts/build-if-needed.js', 'config.example.yaml', 'deploy/systemd/edge-channel.service', 'deploy/mosquitto/mosquitto.conf', 'LICENSE', 'README.md', 'package.json']) {
    assert.ok(files.includes(must), `${must} missing from the package`);
  }
  const bad = files.filter((f) => f.endsWith('.test.js') || f.endsWith('.ts') || f.startsWith('dist/test/') || f.startsWith('dist/bench/') || (f.startsWith('src/') && !(f.startsWith('src/console/') && !f.endsWith('.ts'))) || f.startsWith('node_modules/'));
  assert.deepEqual(bad, []);
});

test('npm start does not rebuild what is built', () => {
  // npm test has just built: the stamp is newer than every source
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'build-if-needed.js')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '', 'no build announced');
});

test('edge-channel start --mqtt-url uses that broker, serves /healthz, and exits 0 on SIGTERM', { timeout: 60_000 }, async () => {
  const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0 });
  const dir = mkdtempSync(join(tmpdir(), 'edge-start-'));
  const file = join(dir, 'config.yaml');
  writeFileSync(file, `instance_id: start-${process.pid}\nmqtt:\n  url: mqtt://127.0.0.1:1\n  topic_root: start${process.pid}\nspool:\n  enabled: false\nhttp:\n  port: 0\nchannels:\n  - id: 1\n    protocol: ruptela\n    host: 127.0.0.1\n    tcp_port: 0\n`);
  const child = spawn(process.execPath, [bin, 'start', '--config', file, '--mqtt-url', broker.url], { cwd: dir });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  try {
    await waitFor('the broker chosen by --mqtt-url', () => out.includes(`using the MQTT broker ${broker.url} (--mqtt-url)`), 15_000);
    await waitFor('MQTT connected', () => out.includes('MQTT connected') && out.includes(broker.url), 15_000);
    const port = Number((await waitFor('the health listener', () => /health and metrics on http:\/\/127\.0\.0\.1:(\d+)/.exec(out) ?? undefined, 15_000))[1]);
    const r = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert.equal(r.status, 200);
    let ready = 0;
    for (let i = 0; i < 100 && ready !== 200; i++) {
      ready = (await fetch(`http://127.0.0.1:${port}/readyz`)).status;
      if (ready !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(ready, 200);
    child.kill('SIGTERM');
    assert.equal(await exited, 0, out.slice(-2000));
  } finally {
    child.kill('SIGKILL');
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
