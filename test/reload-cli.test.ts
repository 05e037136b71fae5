import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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

/**
 * Editors and `sed -i` save by writing a new file and renaming it over the old one. Two such
 * saves in a row must both be seen; the first switches log_level live (debug lines appear), the
 * second changes keys that need a restart (one warning naming each) next to one that applies.
 */
test('atomic replaces of the config file reload each time: log_level applies live, restart keys are listed in one warning', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'edge-reload-'));
  const file = join(dir, 'config.yaml');
  const save = (text: string) => {
    const tmp = join(dir, `.config.yaml.${Math.random().toString(36).slice(2)}`);
    writeFileSync(tmp, text);
    renameSync(tmp, file);
  };
  const cfg = (o: { level: string; port?: number; mqtt?: string; channel?: string }) =>
    `log_level: ${o.level}\nmqtt:\n  embedded:\n    port: 0\n${o.mqtt ?? ''}spool:\n  enabled: false\nchannels:\n  - id: 1\n    protocol: ruptela\n    host: 127.0.0.1\n    tcp_port: ${o.port ?? 0}\n${o.channel ?? ''}`;
  save(cfg({ level: 'info' }));
  const child = spawn(process.execPath, [join(projectRoot(), 'dist/src/cli.js'), 'start', '--config', file], { cwd: dir });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const lines = () => out.split('\n').slice(0, -1).filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { level: number; msg: string; keys?: string[] });
  const garbage = async (port: number) => {
    const s = connect({ host: '127.0.0.1', port });
    s.on('error', () => {});
    await new Promise<void>((r) => s.on('connect', () => r()));
    s.write(Buffer.from('ffff00000000', 'hex')); // a framing error: logged at debug level only
    await new Promise<void>((r) => s.on('close', () => r()));
  };
  try {
    const port = Number((await waitFor('listening line', () => /connect to tcp:\/\/127\.0\.0\.1:(\d+)/.exec(out) ?? undefined, 15000))[1]);
    await garbage(port);
    assert.equal(lines().filter((l) => l.msg === 'framing error').length, 0, 'no debug lines at info');

    save(cfg({ level: 'debug' }));
    await waitFor('first save applied', () => lines().find((l) => l.msg === 'config reloaded: applied log_level'), 10000);
    await garbage(port);
    await waitFor('debug line after the live log_level change', () => lines().find((l) => l.msg === 'framing error'), 5000);

    const sock = connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' });
    let closed = false;
    sock.on('close', () => (closed = true));
    sock.on('error', () => {});
    await new Promise<void>((r) => sock.on('connect', () => r()));
    const second = cfg({ level: 'debug', port: 1, mqtt: '  max_inflight: 10\n', channel: '    idle_timeout_s: 5\n    ip_blacklist: ["127.0.0.2"]\n' });
    save(second);
    const warn = await waitFor('second save: one warning', () => lines().find((l) => l.level === 40 && l.msg.startsWith('config changes need a restart')), 10000);
    assert.deepEqual(warn.keys, ['mqtt.max_inflight', 'channels[0].tcp_port', 'channels[0].idle_timeout_s']);
    assert.ok(lines().find((l) => l.msg === 'config reloaded: applied channels[0].ip_blacklist'), out.slice(-2000));
    await waitFor('blacklisted peer closed', () => closed, 5000);
    assert.equal(lines().filter((l) => l.msg.startsWith('config changes need a restart')).length, 1, 'one warning per reload');

    // a save without a change does not reload; an invalid save keeps the running configuration
    save(second);
    await new Promise((r) => setTimeout(r, 1000)); // past the debounce, so the two saves are two checks
    save('log_level: loud\n');
    await waitFor('invalid save reported', () => lines().find((l) => l.msg.startsWith('config reload failed')), 10000);
    assert.equal(lines().filter((l) => l.msg === 'reloading configuration').length, 2);
    child.kill('SIGTERM');
    assert.equal(await exited, 0, out.slice(-2000));
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
