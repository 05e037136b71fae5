import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readHexSource } from '../src/cli/hex-input.js';
import type { EdgeConfig } from '../src/config/schema.js';
import { projectRoot } from '../src/util/paths.js';
import { startHarness, waitFor } from './support/harness.js';

/**
 * Traffic capture end to end: a real channel captures a TCP session whose first frame arrives in
 * two reads and a UDP datagram; `edge-channel decode` reads the capture as it is and finds every
 * device frame (none truncated, server rows ignored), and the replies it computes are exactly the
 * server->device rows the channel wrote.
 */
const root = projectRoot();
const session = readHexSource(join(root, 'fixtures/ruptela-session.hex')).map((l) => Buffer.from(l.bytes));
const decodeCli = (file: string) => spawnSync(process.execPath, [join(root, 'dist/src/cli.js'), 'decode', '--protocol', 'ruptela', '--received-at', '1735689600', '--file', file], { encoding: 'utf8', timeout: 20000 });

test('capture: a TCP session (a frame split over two reads) and a UDP datagram are captured decode-ready', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'edge-capture-'));
  const h = await startHarness({ channels: [{ id: 1, protocol: 'ruptela', host: '127.0.0.1', tcp_port: 0, udp_port: 0, capture: { enabled: true, dir } }] });
  let closed = false;
  try {
    const ch = h.app.channels[0]!;
    const sock = connect(ch.tcpPort, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    let got = Buffer.alloc(0);
    sock.on('data', (d: Buffer) => (got = Buffer.concat([got, d])));
    const first = session[0]!;
    sock.write(first.subarray(0, 10));
    // the first half is read (and its row written) before the rest is sent: two reads for sure
    await waitFor('the first read captured', () => ch.counters.captureRows >= 1, 10_000);
    sock.write(first.subarray(10));
    for (const f of session.slice(1)) sock.write(f);
    await waitFor('a reply per frame', () => ch.counters.acked >= session.length, 20_000);
    const udp = createSocket('udp4');
    udp.send(session[2]!, ch.udpPort, '127.0.0.1');
    await waitFor('the datagram acknowledged', () => ch.counters.acked >= session.length + 1, 20_000);
    udp.close();
    sock.destroy();
    // stopping the channel writes the last rows
    await h.close();
    closed = true;

    const file = join(dir, 'channel-1.tsv');
    const rows = readFileSync(file, 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t'));
    const tcpRows = (direction: string) => rows.filter((r) => r[1]!.startsWith('tcp-') && r[5] === direction).map((r) => r[6]!);
    // reads as they came: the first one is the first 10 bytes, and together they are the whole session
    assert.equal(tcpRows('device->server')[0], first.subarray(0, 10).toString('hex'));
    assert.equal(tcpRows('device->server').join(''), Buffer.concat(session).toString('hex'));
    assert.equal(tcpRows('server->device').join(''), got.toString('hex'), 'every byte the device got is captured');
    assert.ok(rows.some((r) => r[1]!.startsWith('udp-') && r[5] === 'device->server' && r[6] === session[2]!.toString('hex')));
    assert.ok(rows.filter((r) => r[5] === 'server->device').every((r) => /^\d+$/.test(r[4]!)), 'replies follow identification: their rows name the ident');
    const serverRows = rows.filter((r) => r[5] === 'server->device').map((r) => r[6]);

    const r = decodeCli(file);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const out = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(out.filter((o) => 'error' in o).length, 0);
    assert.equal(out.filter((o) => 'reply' in o).length, session.length + 1, 'one frame per device frame (the split one joined)');
    assert.deepEqual(out.filter((o) => 'reply' in o).map((o) => o.reply), serverRows, 'decode computes exactly the replies the channel wrote');
    assert.ok(out.filter((o) => 'ident' in o).length > 0);
  } finally {
    if (!closed) await h.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('capture: turned on by a reload, it applies to an open connection; turned off, it stops', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'edge-capture-'));
  const h = await startHarness();
  try {
    const ch = h.app.channels[0]!;
    const sock = connect(ch.tcpPort, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    sock.write(session[0]!);
    await waitFor('first frame acknowledged', () => ch.counters.acked >= 1, 20_000);
    const cfg = h.app.config;
    const withCapture = (capture: EdgeConfig['channels'][number]['capture']): EdgeConfig => ({ ...cfg, channels: [{ ...cfg.channels[0]!, capture }] });
    const plan = h.app.reload(withCapture({ enabled: true, idents: [], dir, max_bytes: 1024 * 1024 }));
    assert.deepEqual(plan, { live: ['channels[0].capture'], restart: [] });
    sock.write(session[1]!);
    await waitFor('a row written', () => ch.counters.captureRows >= 2, 20_000);
    h.app.reload(withCapture({ enabled: false, idents: [], dir, max_bytes: 1024 * 1024 }));
    const rowsBefore = ch.counters.captureRows;
    sock.write(session[2]!);
    await waitFor('third frame acknowledged', () => ch.counters.acked >= 3, 20_000);
    sock.destroy();
    const file = join(dir, 'channel-1.tsv');
    assert.ok(existsSync(file));
    const hex = readFileSync(file, 'utf8');
    assert.ok(hex.includes(session[1]!.toString('hex')), 'the frame after the reload is captured');
    assert.ok(!hex.includes(session[0]!.toString('hex')) && !hex.includes(session[2]!.toString('hex')), 'nothing before or after');
    assert.equal(ch.counters.captureRows, rowsBefore);
  } finally {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
