import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../src/util/paths.js';
import { recordsFrame, typicalRecord } from '../protocols/ruptela/device-frames.js';
import { waitFor } from './support/harness.js';

/**
 * The real `edge-channel start` process: SIGHUP reloads the config file and closes a connected
 * peer that the new blacklist denies; SIGTERM then stops it with exit status 0.
 */
test('SIGHUP reload closes a peer the new blacklist denies; SIGTERM exits 0', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'edge-reload-'));
  const file = join(dir, 'config.yaml');
  const base = 'log_level: info\nmqtt:\n  embedded:\n    port: 0\nspool:\n  enabled: false\nchannels:\n  - id: 1\n    protocol: ruptela\n    host: 127.0.0.1\n    tcp_port: 0\n';
  writeFileSync(file, base);
  const child = spawn(process.execPath, [join(projectRoot(), 'dist/src/cli.js'), 'start', '--config', file], { cwd: dir });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  try {
    const port = Number((await waitFor("listening line", () => /connect to tcp:\/\/127\.0\.0\.1:(\d+)/.exec(out) ?? undefined, 15000))[1]);
    const sock = connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' });
    let got = '';
    let closed = false;
    sock.on('data', (d) => (got += d.toString('hex')));
    sock.on('close', () => (closed = true));
    sock.on('error', () => {});
    sock.write(recordsFrame(865000000000001n, [typicalRecord(1735690500, 1)]));
    await waitFor('ACK', () => got === '0002640113bc');
    writeFileSync(file, base + '    ip_blacklist: ["127.0.0.2"]\n');
    child.kill('SIGHUP');
    await waitFor('peer closed after reload', () => closed, 5000);
    // the log line is written asynchronously: it may arrive after the close
    await waitFor('the reload logged', () => /reloading configuration/.test(out), 5000);
    child.kill('SIGTERM');
    assert.equal(await exited, 0, out.slice(-2000));
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
