import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { projectRoot } from '../src/util/paths.js';
import { loadConfig } from '../src/config/load.js';

/**
 * The deployment artefacts hold the settings that matter (Docker is not available on the machines
 * that run these tests, so the image itself is not built here): the compose file's Mosquitto
 * configuration, the systemd unit, the Dockerfile's user/health/volume, and the example configs,
 * which must load with the real validator.
 */
const root = projectRoot();
const read = (p: string) => readFileSync(join(root, p), 'utf8');

/** `key value` lines of a mosquitto.conf or `Key=value` lines of a unit file, comments dropped. */
function directives(text: string, sep: RegExp): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith('[')) continue;
    const m = sep.exec(line);
    if (!m) continue;
    const k = line.slice(0, m.index);
    const v = line.slice(m.index + m[0].length).trim();
    out.set(k, [...(out.get(k) ?? []), v]);
  }
  return out;
}

/** Every `dir` key of a loaded config (at any depth, e.g. `channels[0].capture.dir`) with its value. */
function dataDirs(v: unknown, path = ''): Map<string, string> {
  const out = new Map<string, string>();
  if (Array.isArray(v)) v.forEach((x, i) => dataDirs(x, `${path}[${i}]`).forEach((d, k) => out.set(k, d)));
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      const p = path ? `${path}.${k}` : k;
      if (k === 'dir' && typeof x === 'string') out.set(p, x);
      else dataDirs(x, p).forEach((d, kk) => out.set(kk, d));
    }
  }
  return out;
}

test('compose: Mosquitto gets the recommended config (nodelay, queue depth, persistence on a volume), Redis and the channel are wired', () => {
  const compose = parseYaml(read('compose.yaml')) as { services: Record<string, { image?: string; build?: unknown; volumes?: string[]; command?: string[]; init?: boolean; ports?: string[] }>; volumes: Record<string, unknown> };
  const { mosquitto, redis } = compose.services;
  const edge = compose.services['edge-channel'];
  assert.ok(mosquitto && redis && edge, 'services mosquitto, redis, edge-channel');
  assert.match(mosquitto.image ?? '', /^eclipse-mosquitto:2/);
  assert.ok(mosquitto.volumes?.includes('./deploy/mosquitto/mosquitto.conf:/mosquitto/config/mosquitto.conf:ro'), 'the repository mosquitto.conf is the one mounted');
  assert.ok(mosquitto.volumes?.some((v) => v.endsWith(':/mosquitto/data')), 'broker persistence on a volume');

  const conf = directives(read('deploy/mosquitto/mosquitto.conf'), /\s+/);
  assert.deepEqual(conf.get('set_tcp_nodelay'), ['true']);
  assert.deepEqual(conf.get('persistence'), ['true']);
  assert.deepEqual(conf.get('persistence_location'), ['/mosquitto/data/']);
  assert.ok(Number(conf.get('max_queued_messages')?.[0]) >= 10_000, 'queue depth raised from the default 1000');
  assert.deepEqual(conf.get('listener'), ['1883']);

  assert.match(redis.image ?? '', /^redis:/);
  // the command queues, leases and asset timelines survive a Redis restart
  const ao = redis.command?.indexOf('--appendonly') ?? -1;
  assert.ok(ao >= 0 && redis.command?.[ao + 1] === 'yes', 'Redis runs with the append-only file');
  assert.ok(redis.volumes?.some((v) => v.endsWith(':/data')) && 'redis-data' in compose.volumes, 'Redis data on a named volume');
  assert.ok(edge.build !== undefined, 'the channel image is built from the Dockerfile');
  assert.equal(edge.init, true);
  assert.ok(edge.volumes?.includes('./deploy/docker/config.yaml:/etc/edge-channel/config.yaml:ro'));
  assert.ok(edge.volumes?.some((v) => v.endsWith(':/var/lib/edge-channel')), 'the spool on a data volume');
  assert.ok(edge.ports?.includes('5046:5046/tcp') && edge.ports.includes('5046:5046/udp'));

  // the container's config loads, talks to the compose services and keeps the spool on the volume
  const c = loadConfig(join(root, 'deploy/docker/config.yaml'));
  assert.equal(c.mqtt.url, 'mqtt://mosquitto:1883');
  assert.equal(c.redis_url, 'redis://redis:6379');
  // every store (spool, commands, media, credentials, assets, each channel's capture) on the volume:
  // the image's working directory is root-owned, and what is not on the volume is lost with the container
  const dirs = dataDirs(c);
  for (const key of ['spool.dir', 'commands.dir', 'media.dir', 'tacho.dir', 'credentials.dir', 'asset_settings.dir', 'channels[0].capture.dir']) assert.ok(dirs.has(key), `${key} found`);
  for (const [key, dir] of dirs) assert.match(dir, /^\/var\/lib\/edge-channel\/[a-z]+$/, `${key} on the data volume`);
  assert.deepEqual(c.http, { host: '0.0.0.0', port: 9464, public_url: '', link_ttl_s: 0, max_properties_bytes: 4096 });
});

test('Dockerfile: multi-stage, non-root, health check on the configured port, data volume', () => {
  const d = read('Dockerfile');
  assert.ok((d.match(/^FROM /gm) ?? []).length >= 2, 'multi-stage');
  assert.match(d, /^USER node$/m);
  assert.match(d, /^HEALTHCHECK .*\n?.*http:\/\/127\.0\.0\.1:9464\/healthz/m);
  assert.match(d, /^VOLUME \["\/var\/lib\/edge-channel"\]$/m);
  assert.match(d, /npm ci --omit=dev/);
  assert.match(d, /npm pack/);
  assert.match(d, /^COPY deploy\/docker\/config\.yaml \/etc\/edge-channel\/config\.yaml$/m);
});

test('CI runs the suite on the image\'s Node line, and builds the package as the image\'s build stage does', () => {
  const nodeVersion = /^ARG NODE_VERSION=(\d+)$/m.exec(read('Dockerfile'))?.[1];
  const ci = read('.ci/run');
  const lines = /ci_lines="\$\{CI_NODE_LINES:-([\d ]+)\}"/.exec(ci)?.[1]?.split(' ');
  assert.ok(nodeVersion && lines?.includes(nodeVersion), `Node ${nodeVersion} (the image's) among the CI lines ${lines?.join(', ')}`);
  assert.match(ci, /^\s*npm test$/m, 'CI runs npm test');
  assert.match(ci, /^\.ci\/image-build$/m, 'CI builds and starts the package the image would');
  // the build stage compiles without tests (test/ is not copied into it)
  assert.match(read('Dockerfile'), /^COPY tsconfig\.json tsconfig\.build\.json /m);
  const build = JSON.parse(read('tsconfig.build.json')) as { include: string[]; exclude: string[] };
  assert.ok(!build.include.some((p) => p.startsWith('test/') || p.startsWith('bench/')) && build.exclude.includes('**/*.test.ts'));
});

test('systemd unit: sandboxed, rated below 3.0 by systemd-analyze security', { skip: spawnSync('systemd-analyze', ['--version']).status === 0 ? false : 'systemd-analyze is not installed' }, () => {
  // offline rating of the file itself (systemd >= 250), copied under its own name into a temp dir
  const dir = mkdtempSync(join(tmpdir(), 'edge-unit-'));
  try {
    const unit = join(dir, 'edge-channel.service');
    writeFileSync(unit, read('deploy/systemd/edge-channel.service'));
    const r = spawnSync('systemd-analyze', ['security', '--offline=yes', '--no-pager', unit], { encoding: 'utf8' });
    const m = /Overall exposure level for edge-channel\.service: (\d+\.\d)/.exec(r.stdout);
    assert.ok(m, r.stdout + r.stderr);
    assert.ok(Number(m[1]) < 3, `exposure ${m[1]} (7.5 before the sandboxing)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('systemd unit: state directory for the spool, SIGHUP reload, no restart loop on a bad config', () => {
  const u = directives(read('deploy/systemd/edge-channel.service'), /=/);
  assert.deepEqual(u.get('StateDirectory'), ['edge-channel']);
  assert.deepEqual(u.get('ExecReload'), ['/bin/kill -HUP $MAINPID']);
  // no hard-coded node path: the bin's shebang finds node on systemd's PATH
  assert.deepEqual(u.get('ExecStart'), ['/opt/edge-channel/bin/edge-channel.js start --config /etc/edge-channel/config.yaml']);
  assert.match(read('bin/edge-channel.js'), /^#!\/usr\/bin\/env node\n/);
  assert.equal(u.get('MemoryDenyWriteExecute'), undefined, "V8's JIT needs writable executable memory");
  assert.deepEqual(u.get('RestartPreventExitStatus'), ['2']);
  assert.deepEqual(u.get('Restart'), ['on-failure']);
  assert.deepEqual(u.get('KillSignal'), ['SIGTERM']);
  assert.deepEqual(u.get('WorkingDirectory'), ['/var/lib/edge-channel']);
  // the example config (generated from the schema) keeps every data directory inside the state
  // directory: its relative defaults resolve against WorkingDirectory
  const c = loadConfig(join(root, 'config.example.yaml'));
  for (const dir of [c.spool.dir, c.commands.dir, c.media.dir, c.asset_settings.dir]) assert.match(resolve('/var/lib/edge-channel', dir), /^\/var\/lib\/edge-channel\//);
});
