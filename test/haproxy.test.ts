import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recordsFrame, typicalRecord } from '../protocols/ruptela/device-frames.js';
import { freePort } from '../bench/lib/net-probe.js';
import { startHarness, waitFor, type Harness } from './support/harness.js';
import { connectFrom, type BoundClient } from './support/device-socket.js';

/**
 * A real HAProxy (the distribution's package; skipped with the reason when the binary is absent)
 * in front of two instances with `send-proxy-v2`: device connections are balanced over both, each
 * instance sees the device's own address and port, and a blacklisted device address is refused
 * although the connection comes from HAProxy.
 */
const ACK = '0002640113bc';
const probe = spawnSync('haproxy', ['-v'], { encoding: 'utf8' });
const skip = probe.error || probe.status !== 0 ? `haproxy not installed (${probe.error?.message ?? `exit ${probe.status}`}); apt-get install haproxy to run it` : false;
if (skip) console.log(`# haproxy test skipped: ${skip}`);

function startHaproxy(cfg: string, port: number): Promise<ChildProcess> {
  const p = spawn('haproxy', ['-db', '-f', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return waitFor(
    'haproxy listening',
    () => {
      if (p.exitCode !== null) throw new Error(`haproxy exited ${p.exitCode}: ${err}`);
      const r = spawnSync('bash', ['-c', `exec 3<>/dev/tcp/127.0.0.1/${port}`]);
      return r.status === 0 ? p : undefined;
    },
    10_000,
  );
}

test('HAProxy with send-proxy-v2 in front of two instances: connections balanced, device addresses seen, blacklist applied to the device', { skip, timeout: 60_000 }, async () => {
  const channel = [{ id: 1, protocol: 'ruptela', host: '127.0.0.1', tcp_port: 0, proxy_protocol: true, trusted_proxies: ['127.0.0.1'], ip_blacklist: ['127.0.0.3'] }];
  const a = await startHarness({ channels: channel });
  const b = await startHarness({ channels: channel });
  const dir = mkdtempSync(join(tmpdir(), 'edge-haproxy-'));
  let hap: ChildProcess | null = null;
  try {
    const port = await freePort();
    const cfg = join(dir, 'haproxy.cfg');
    writeFileSync(
      cfg,
      [
        'global',
        '  log stderr format raw local0 err',
        'defaults',
        '  mode tcp',
        '  timeout connect 5s',
        '  timeout client 30s',
        '  timeout server 30s',
        'frontend devices',
        `  bind 127.0.0.1:${port}`,
        '  default_backend edge',
        'backend edge',
        '  balance roundrobin',
        `  server a 127.0.0.1:${a.app.channels[0]!.tcpPort} send-proxy-v2`,
        `  server b 127.0.0.1:${b.app.channels[0]!.tcpPort} send-proxy-v2`,
        '',
      ].join('\n'),
    );
    hap = await startHaproxy(cfg, port);
    const devices: BoundClient[] = [];
    for (let i = 0; i < 6; i++) {
      const c = await connectFrom(port, '127.0.0.2');
      c.socket.write(recordsFrame(866000000000000n + BigInt(i), [typicalRecord(1735690000, 1)]));
      devices.push(c);
    }
    for (const [i, c] of devices.entries()) await waitFor(`device ${i} ACK through HAProxy`, () => c.got === ACK, 10_000);
    // devices only (from 127.0.0.2): the readiness probe's connection may reach an instance too
    const accepted = (h: Harness) => h.received.filter((r) => r.topic.endsWith('/accepted')).map((r) => (JSON.parse(r.payload) as { peer: string }).peer).filter((p) => p.startsWith('127.0.0.2:'));
    await waitFor('accepted events', () => accepted(a).length + accepted(b).length >= 6, 10_000);
    assert.ok(accepted(a).length >= 2 && accepted(b).length >= 2, `balanced over both: ${accepted(a).length} / ${accepted(b).length}`);
    const peers = [...accepted(a), ...accepted(b)].sort();
    assert.deepEqual(peers, devices.map((d) => `127.0.0.2:${d.localPort}`).sort(), 'each instance sees the device address and port, not HAProxy\'s');
    for (const d of devices) d.socket.destroy();

    const bad = await connectFrom(port, '127.0.0.3');
    bad.socket.write(recordsFrame(866000000000099n, [typicalRecord(1735690000, 1)]));
    await waitFor('blacklisted device closed', () => bad.closed, 10_000);
    assert.equal(bad.got, '');
    const rejectedNow = () => [...a.received, ...b.received].filter((r) => r.topic.endsWith('/connections/rejected')).map((r) => JSON.parse(r.payload) as { peer: string; close_code: number });
    const rejected = await waitFor('rejected event', () => (rejectedNow().length > 0 ? rejectedNow() : undefined), 10_000);
    assert.deepEqual(rejected.map((r) => [r.peer, r.close_code]), [[`127.0.0.3:${bad.localPort}`, 20]]);
  } finally {
    hap?.kill('SIGTERM');
    if (hap) await new Promise((r) => (hap!.exitCode !== null ? r(null) : hap!.once('exit', r)));
    await a.close();
    await b.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
