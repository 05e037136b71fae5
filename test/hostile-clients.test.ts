import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { fromHex } from '../src/codec/hex.js';
import { deviceFrame, recordsFrame, typicalRecord } from '../protocols/ruptela/device-frames.js';
import { MAX_IDENT_CHANGES_PER_CONNECTION } from '../src/channel/device-link.js';
import { startApp } from '../src/app.js';
import { validateConfig } from '../src/config/validate.js';
import { createLogger } from '../src/util/log.js';
import { startHarness, waitFor, sleep, type Harness } from './support/harness.js';

/**
 * Clients that attack rather than report: they never read, send garbage, drip bytes, or make every
 * frame fail. Each test is bounded in time and asserts that connections end closed with the right
 * close code, that memory stays bounded, and that the log gets summaries rather than a line per frame.
 */
const HEARTBEAT = '0009000310f56174900710bd93';

/** A full collection, to tell memory still held from garbage not yet collected. */
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const HEARTBEAT_ACK = '00027401862d';

interface Peer {
  socket: Socket;
  data: Buffer[];
  closed: boolean;
  closedAt: number;
  bytes(): string;
}

async function peer(port: number): Promise<Peer> {
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, noDelay: true }, () => resolve(s));
    s.once('error', reject);
  });
  const p: Peer = { socket, data: [], closed: false, closedAt: 0, bytes: () => Buffer.concat(p.data).toString('hex') };
  socket.on('data', (b) => p.data.push(b));
  socket.on('close', () => {
    p.closed = true;
    p.closedAt = Date.now();
  });
  socket.on('error', () => {});
  return p;
}

const tcpPort = (h: Harness) => h.app.channels[0]!.tcpPort;
const closeCodes = (h: Harness) => h.received.filter((r) => r.topic.endsWith('/closed')).map((r) => (JSON.parse(r.payload) as { close_code: number }).close_code);

/** Deterministic byte source (xorshift32), so a failing random stream can be reproduced from its seed. */
function randomBytes(seed: number, n: number): Buffer {
  let x = seed >>> 0 || 1;
  const out = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** RSS growth allowed while a non-reading client floods us, per Node major version (see the test). */
const RSS_GROWTH_LIMIT_MB: Record<number, number> = { 20: 200, 22: 200, 24: 400, 26: 400 };

test('a client that never reads its replies is paused, then closed with code 22; server memory stays bounded', { timeout: 60_000 }, async () => {
  const h = await startHarness({ channels: [{ id: 1, protocol: 'ruptela', host: '127.0.0.1', tcp_port: 0, max_outbound_bytes: 64 * 1024, frame_timeout_s: 3 }] });
  // The attacker runs in its own process so its own buffers do not count against ours: it writes
  // heartbeats (each answered at once, nothing to publish) as fast as its socket takes them and reads nothing.
  const script = `
    const net = require('node:net');
    const hb = Buffer.from('${HEARTBEAT}'.repeat(5000), 'hex');
    const s = net.connect({ host: '127.0.0.1', port: ${tcpPort(h)} }, () => { s.pause(); pump(); });
    function pump() { while (s.write(hb)) {} s.once('drain', pump); }
    s.on('close', () => { console.log('closed'); process.exit(0); });
    s.on('error', () => {});
    setTimeout(() => { console.log('still open'); process.exit(1); }, 40000);
  `;
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const rssBefore = process.memoryUsage().rss;
  let rssPeak = rssBefore;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 50);
  try {
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    assert.equal(out.trim(), 'closed', 'the server closed the non-reading client (within 40 s on a loaded machine; about 8 s alone)');
    assert.equal(code, 0);
    await waitFor('closed event', () => closeCodes(h).length > 0, 5000);
    assert.deepEqual(closeCodes(h), [22], 'close code 22: the peer does not read its replies');
    assert.ok(h.app.channels[0]!.counters.outboundOverflows >= 1);
    const growthMb = (rssPeak - rssBefore) / 1e6;
    // Documented bound (README "Hostile clients"): the held replies are at most 2 x max_outbound_bytes;
    // what remains is garbage churn of a full-speed frame stream (the collector's young generation and
    // heap headroom), which does not grow with time. Before the bound this grew by GBs in 15 s.
    // The churn is V8's heap sizing, which differs per Node line: Node 24's V8 (13.x) keeps a larger
    // young generation and headroom under this allocation rate (282-321 MB measured on Node 24 and
    // 26, heap after GC < 1 MB), so the limit is stated per major version. The heap check below is
    // the leak check, the same on every version.
    const limitMb = RSS_GROWTH_LIMIT_MB[Number(process.versions.node.split('.')[0])] ?? 400;
    assert.ok(growthMb < limitMb, `RSS grew by ${growthMb.toFixed(1)} MB (limit ${limitMb} MB on Node ${process.versions.node})`);
    assert.equal(h.app.channels[0]!.connectionCount, 0);
    // and what it made us hold is released: after a full GC the heap is back near where it started
    await sleep(500);
    gc();
    const heapAfterMb = (process.memoryUsage().heapUsed - heapBefore) / 1e6;
    assert.ok(heapAfterMb < 24, `heap still ${heapAfterMb.toFixed(1)} MB above the start after the close`);
  } finally {
    clearInterval(sampler);
    await h.close();
  }
});

test('a connection that keeps changing its ident is closed with code 25 after the bound: events and retained topics stay bounded', { timeout: 30_000 }, async () => {
  const h = await startHarness({ channels: [{ id: 1, protocol: 'ruptela', host: '127.0.0.1', tcp_port: 0 }] });
  try {
    const p = await peer(tcpPort(h));
    // 2,000 heartbeats (Ruptela command 16), each with another IMEI, in one write
    const frames = Array.from({ length: 2000 }, (_, i) => deviceFrame(13226005504143n + BigInt(i), 0x10, new Uint8Array(0)));
    p.socket.write(Buffer.concat(frames));
    await waitFor('the connection to close', () => p.closed, 10_000);
    await waitFor('closed event', () => closeCodes(h).length === 1, 5000);
    assert.deepEqual(closeCodes(h), [25]);
    const closed = JSON.parse(h.received.find((r) => r.topic.endsWith('/closed'))!.payload) as { reason: string };
    assert.match(closed.reason, /^EDGE_IDENT_CHURN: ident changed 101 times on one connection \(at most 100\)$/);
    await sleep(300);
    const identified = h.received.filter((r) => r.topic.endsWith('/identified')).length;
    const connected = new Set(h.received.filter((r) => r.topic.endsWith('/connected')).map((r) => r.topic));
    // the first ident and the allowed changes; the frame over the bound and every later one are
    // neither published nor acknowledged (the device keeps them)
    assert.equal(identified, 1 + MAX_IDENT_CHANGES_PER_CONNECTION);
    assert.equal(connected.size, 1 + MAX_IDENT_CHANGES_PER_CONNECTION);
    assert.equal(p.data.length > 0 ? Buffer.concat(p.data).length / 6 : 0, 1 + MAX_IDENT_CHANGES_PER_CONNECTION, 'one 6-byte heartbeat ACK per accepted frame');
    assert.equal(h.app.channels[0]!.connectionCount, 0);
  } finally {
    await h.close();
  }
});

test('a bad-CRC frame followed by an invalid length field in one write closes at once (it used to stay open)', { timeout: 30_000 }, async () => {
  const h = await startHarness({ channels: [{ id: 1, protocol: 'ruptela', host: '127.0.0.1', tcp_port: 0, idle_timeout_s: 3, frame_timeout_s: 2 }] });
  try {
    const p = await peer(tcpPort(h));
    const t0 = Date.now();
    p.socket.write(fromHex('0009000143c7b58a40011073b5ffff'));
    await waitFor('the connection to close', () => p.closed, 4000);
    assert.ok(p.closedAt - t0 < 2000, `closed after ${p.closedAt - t0} ms`);
    assert.equal(p.bytes(), '', 'nothing is acknowledged');
    await waitFor('closed event', () => closeCodes(h).length === 1, 3000);
    assert.ok([4, 6].includes(closeCodes(h)[0]!), `close code ${closeCodes(h)[0]}`);
    await waitFor('connection count back to 0', () => h.app.channels[0]!.connectionCount === 0, 3000);
  } finally {
    await h.close();
  }
});

test('1,000 random byte streams all end closed within the frame or idle timeout', { timeout: 120_000 }, async () => {
  const idleS = 2;
  const frameS = 1;
  const h = await startHarness({ channels: [{ id: 1, protocol: 'ruptela', host: '127.0.0.1', tcp_port: 0, idle_timeout_s: idleS, frame_timeout_s: frameS, max_connections: 2000 }] });
  try {
    // Whatever the bytes, a connection ends within the longer timeout after its last byte, plus the
    // deadline sweep period and scheduling slack on a loaded machine.
    const boundMs = Math.max(idleS, frameS) * 1000 + 2500;
    const late: string[] = [];
    for (let round = 0; round < 4; round++) {
      const peers = await Promise.all(Array.from({ length: 250 }, () => peer(tcpPort(h))));
      const sentAt = Date.now();
      peers.forEach((p, i) => {
        const seed = round * 1000 + i + 1;
        p.socket.write(randomBytes(seed, 1 + (randomBytes(seed ^ 0x5a5a, 2).readUInt16BE(0) % 4096)));
      });
      await waitFor(`round ${round}: every connection closed`, () => peers.every((p) => p.closed), boundMs + 5000).catch(() => undefined);
      peers.forEach((p, i) => {
        if (!p.closed) late.push(`seed ${round * 1000 + i + 1}: still open`);
        else if (p.closedAt - sentAt > boundMs) late.push(`seed ${round * 1000 + i + 1}: closed after ${p.closedAt - sentAt} ms`);
        p.socket.destroy();
      });
    }
    assert.deepEqual(late, [], 'every random stream ends closed in time');
    await waitFor('connection count back to 0', () => h.app.channels[0]!.connectionCount === 0, 5000);
  } finally {
    await h.close();
  }
});

test('slowloris connections close at the frame timeout (code 23) while a real device is still answered', { timeout: 60_000 }, async () => {
  const h = await startHarness({ channels: [{ id: 1, protocol: 'ruptela', host: '127.0.0.1', tcp_port: 0, idle_timeout_s: 30, frame_timeout_s: 2 }] });
  try {
    const imei = 863071018192903n;
    // a real 1,023-byte frame (the protocol allows 1,024), dripped a byte at a time: every byte resets the idle timer
    const big = recordsFrame(imei, Array.from({ length: 12 }, (_, i) => typicalRecord(1735689000 + i, i)));
    const drippers = await Promise.all(Array.from({ length: 50 }, () => peer(tcpPort(h))));
    const device = await peer(tcpPort(h));
    let pos = 0;
    const drip = setInterval(() => {
      for (const d of drippers) if (!d.closed) d.socket.write(big.subarray(pos, pos + 1));
      pos++;
    }, 200);
    const t0 = Date.now();
    let answered = 0;
    try {
      while (Date.now() - t0 < 4500) {
        const before = device.data.length;
        device.socket.write(fromHex(HEARTBEAT));
        await waitFor('heartbeat ACK', () => device.data.length > before, 3000);
        answered++;
        await sleep(300);
      }
    } finally {
      clearInterval(drip);
    }
    assert.ok(answered >= 10, `the device was answered ${answered} times`);
    assert.ok(device.bytes().startsWith(HEARTBEAT_ACK));
    await waitFor('every slowloris connection closed', () => drippers.every((d) => d.closed), 3000);
    assert.ok(drippers.every((d) => d.closedAt - t0 < 4500), 'closed near the 2 s frame timeout, not at the idle timeout');
    await waitFor('50 closed events', () => closeCodes(h).length >= 50, 3000);
    assert.deepEqual([...new Set(closeCodes(h))], [23]);
    assert.equal(device.closed, false);
    assert.ok(h.app.channels[0]!.counters.frameTimeouts >= 50);
  } finally {
    await h.close();
  }
});

test('a flood of frames that cannot be acknowledged logs one warning per code and a summary, not a line per frame', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'edge-hostile-'));
  const notADir = join(dir, 'spool-is-a-file');
  writeFileSync(notADir, 'x');
  const lines: string[] = [];
  const log = createLogger('warn', new Writable({ write: (c: Buffer, _e, cb) => (lines.push(...c.toString().split('\n').filter(Boolean)), cb()) }));
  // no broker (a port nothing listens on) and a spool that cannot be written: nothing can be confirmed
  const config = validateConfig({
    mqtt: { url: 'mqtt://127.0.0.1:9', topic_root: `t${process.pid}` },
    spool: { dir: notADir },
    commands: { dir: join(dir, 'commands') },
    media: { dir: join(dir, 'media') },
    asset_settings: { dir: join(dir, 'assets') },
    channels: [{ id: 1, protocol: 'ruptela', host: '127.0.0.1', tcp_port: 0 }],
    stats_interval_s: 1,
    shutdown_timeout_s: 1,
  });
  const app = await startApp(config, { log, threads: 'inline' });
  try {
    const port = app.channels[0]!.tcpPort;
    let frames = 0;
    for (let i = 0; i < 40; i++) {
      const p = await peer(port);
      p.socket.write(recordsFrame(863071018192903n, [typicalRecord(1735689000 + i, i)]));
      frames++;
      await waitFor('the connection to close (frame not acknowledged)', () => p.closed, 5000);
      assert.equal(p.bytes(), '', 'nothing is acknowledged');
    }
    await sleep(1500); // one stats interval
    const perFrame = lines.filter((l) => /frame not acknowledged/.test(l));
    assert.ok(perFrame.length <= 2, `${perFrame.length} per-frame warnings for ${frames} frames`);
    const summaries = lines.filter((l) => /frames not acknowledged and connections closed by the server in the last interval/.test(l));
    assert.ok(summaries.length >= 1, 'an aggregated summary was logged');
    const total = summaries.map((l) => JSON.parse(l) as { by_code: Record<string, number> }).reduce((n, s) => n + Object.values(s.by_code).reduce((a, b) => a + b, 0), 0);
    assert.ok(total >= frames - 1, `the summaries count ${total} of ${frames} frames`);
  } finally {
    await app.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('UDP: datagrams the kernel drops (receive buffer full) are counted, and the buffer size is configurable', { timeout: 30_000 }, async () => {
  const h = await startHarness({ channels: [{ id: 1, protocol: 'ruptela', host: '127.0.0.1', udp_port: 0, udp_receive_buffer_bytes: 4096 }], extra: { stats_interval_s: 1 } });
  try {
    const ch = h.app.channels[0]!;
    // A separate process floods while this one (the server) is kept busy and reads nothing, so the
    // small receive buffer overflows and the kernel drops datagrams.
    const script = `
      const s = require('node:dgram').createSocket('udp4');
      const hb = Buffer.from('${HEARTBEAT}', 'hex');
      let sent = 0;
      const end = Date.now() + 1500;
      (function burst() { for (let i = 0; i < 200; i++) { s.send(hb, ${ch.udpPort}, '127.0.0.1'); sent++; } if (Date.now() < end) setImmediate(burst); else setTimeout(() => { console.log(sent); process.exit(0); }, 100); })();
      console.error('go');
    `;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    await new Promise<void>((r) => child.stderr.once('data', () => r()));
    const busyUntil = Date.now() + 700;
    while (Date.now() < busyUntil) {
      /* the server's event loop reads nothing meanwhile */
    }
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    await new Promise((r) => child.on('exit', r));
    const sent = Number(out.trim());
    await waitFor('kernel drops in the counters', () => ch.counters.udpKernelDrops > 0, 5000);
    assert.ok(ch.counters.udpKernelDrops < sent);
    const state = await waitFor('counters state', () => h.received.filter((r) => r.topic.endsWith('/state/gw/channels/1/counters')).map((r) => JSON.parse(r.payload) as Record<string, number>).find((c) => c['udp.kernel.drops']! > 0), 5000);
    assert.ok(state['udp.kernel.drops']! > 0);
  } finally {
    await h.close();
  }
});

test('a frame held while the server itself is not reading (backpressure) is not a frame timeout', { timeout: 30_000 }, async () => {
  const h = await startHarness({ channels: [{ id: 1, protocol: 'ruptela', host: '127.0.0.1', tcp_port: 0, frame_timeout_s: 1, idle_timeout_s: 30 }] });
  try {
    const ch = h.app.channels[0]!;
    const p = await peer(ch.tcpPort);
    const frame = Buffer.from(fromHex(HEARTBEAT));
    p.socket.write(frame.subarray(0, 5));
    await sleep(300);
    ch.pause('test'); // as the pool or the publisher would when full
    await sleep(2500);
    assert.equal(p.closed, false, 'not closed while the server was not reading');
    ch.resume('test');
    p.socket.write(frame.subarray(5));
    await waitFor('the heartbeat ACK', () => p.bytes() === HEARTBEAT_ACK, 5000);
    // and the deadline still applies once reading resumed
    p.socket.write(frame.subarray(0, 5));
    await waitFor('frame timeout', () => p.closed, 5000);
    await waitFor('closed event', () => closeCodes(h).length === 1, 3000);
    assert.deepEqual(closeCodes(h), [23]);
  } finally {
    await h.close();
  }
});
