import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getProtocol } from '../src/protocol/registry.js';
import { openTcpDevice } from '../src/replay/device-client.js';
import { readCardTable, startCardBridge } from '../src/replay/card-bridge.js';
import { projectRoot } from '../src/util/paths.js';
import { tachoAck } from '../protocols/ruptela/tacho-frames.js';
import { deviceFrame } from '../protocols/ruptela/device-frames.js';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { startHarness, waitFor, type Harness } from './support/harness.js';
import { runCli } from './support/run-cli.js';
import { DEVICE_FILE, SESSIONS, TACHO_IDENT, deviceFile, isAnnouncement, isFragment, play, steps } from './support/tacho-session.js';
import { sidecarPath } from '../src/media/media-store.js';

/**
 * Remote tachograph download end to end, over real sockets and a real MQTT broker: the simulated
 * device and card bridge of fixtures/sessions/ (README there), the command queue, the card relay,
 * the media store. The device's file is the concatenation of the session's cmd 11 fragments.
 */
const CARD_FILE = join(SESSIONS, 'ruptela-tacho-card.tsv');
const REQUEST_FILE = join(SESSIONS, 'ruptela-tacho-request.json');
const IDENT = TACHO_IDENT;

type Event = { status: string; body: Record<string, unknown>; raw: string };
function events(h: Harness): Event[] {
  const prefix = `${h.root}/log/gw/channels/1/devices/${IDENT}/commands/`;
  return h.received.filter((r) => r.topic.startsWith(prefix)).map((r) => ({ status: r.topic.slice(prefix.length), body: JSON.parse(r.payload) as Record<string, unknown>, raw: r.payload }));
}
const relayRequests = (h: Harness) =>
  h.received.filter((r) => r.topic === `${h.root}/relay/gw/channels/1/devices/${IDENT}/tacho-card/request`).map((r) => JSON.parse(r.payload) as Record<string, unknown>);

async function checkStored(h: Harness, processed: Event, file: Buffer): Promise<void> {
  assert.equal(processed.body.executed, true, processed.raw);
  const result = processed.body.result as Record<string, unknown>;
  const stored = readFileSync(String(result['file.path']));
  assert.ok(stored.equals(file), `the stored file equals the device's file byte for byte (${stored.length} vs ${file.length} bytes)`);
  const sha = createHash('sha256').update(file).digest('hex');
  assert.equal(result['file.sha256'], sha);
  // the file's sidecar keeps the command that asked for it (the HTTP API finds files by command)
  const side = JSON.parse(readFileSync(sidecarPath(String(result['file.path'])), 'utf8')) as { sha256: string; meta?: Record<string, unknown> };
  assert.equal(side.sha256, sha);
  assert.equal(side.meta?.['command.id'], processed.body.id);
  assert.equal(result['file.size'], file.length);
  assert.equal(result['media.tacho.source'], 'vehicle_unit');
  assert.equal(result['media.tacho.generation'], 1);
  assert.deepEqual(processed.body.meta, { ticket: 'DEMO-1', requested_by: 'replay' }, 'the request\'s meta comes back with the result');
  const msg = await waitFor('media.tacho message', () => h.received.find((r) => r.topic === `${h.root}/message/gw/channels/1/${IDENT}` && r.payload.includes('media.tacho.sha256')), 5000);
  const m = JSON.parse(msg.payload) as Record<string, unknown>;
  assert.equal(m['media.tacho.sha256'], sha);
  assert.equal(m['media.tacho.size'], file.length);
  assert.equal(m['media.tacho.path'], result['file.path']);
  assert.equal(m['media.tacho.period.begin'], 1362145803);
  assert.equal(m['media.tacho.period.end'], 1368193799);
  assert.equal(m['command.id'], processed.body.id, 'the file names the download command that produced it');
  assert.deepEqual(m['command.meta'], processed.body.meta, "and carries that command's meta");
  const ev = await waitFor('media log event', () => h.received.find((r) => r.topic === `${h.root}/log/gw/channels/1/devices/${IDENT}/media`), 5000);
  assert.equal((JSON.parse(ev.payload) as Record<string, unknown>)['command.id'], processed.body.id);
  const folder = join(String(result['file.path']), '..');
  assert.deepEqual(readdirSync(folder).filter((n) => n.endsWith('.part')), [], 'no partial file left behind');
}

const replaySuite = (name: string, brokerUrl?: string) =>
  test(`${name}: edge-channel replay plays the tacho session (device, card bridge, request): relay, announcement, fragments, stored file, processed with meta and the file`, { timeout: 60_000 }, async () => {
    // decoded in a worker thread: effects (relay requests, file pieces) cross the thread boundary as in production
    const h = await startHarness({ threads: 1, ...(brokerUrl ? { brokerUrl } : {}) });
    try {
      const plan = await steps();
      const r = await runCli(['replay', '--protocol', 'ruptela', '--to', `tcp://127.0.0.1:${h.app.channels[0]!.tcpPort}`, '--mqtt', h.app.brokerUrl, '--root', h.root, '--command', REQUEST_FILE, '--card-bridge', CARD_FILE, '--json', DEVICE_FILE]);
      assert.equal(r.status, 0, r.stdout + r.stderr);
      const summary = JSON.parse(r.stdout) as Record<string, unknown>;
      assert.equal(summary.server_frames_received, plan.filter((f) => f.server).length, 'the request and every card answer arrived byte for byte');
      const processed = await waitFor('processed', () => events(h).find((e) => e.status === 'processed'), 10_000);
      assert.equal(processed.body.id, 'tacho-demo-1');
      await checkStored(h, processed, deviceFile(plan));
      // the card bridge got every APDU with a transaction id, then the finish notice at the announcement
      const reqs = relayRequests(h);
      const apdus = [...readCardTable(CARD_FILE).keys()];
      assert.deepEqual(reqs.filter((q) => q.finish === false).map((q) => q.payload), apdus);
      assert.ok(reqs.filter((q) => q.finish === false).every((q) => typeof q.transaction === 'string' && q.ident === IDENT));
      assert.equal(reqs.at(-1)!.finish, true);
    } finally {
      await h.close();
    }
  });

replaySuite('embedded broker');
if (process.env.MQTT_URL) replaySuite('Mosquitto', process.env.MQTT_URL);
else test('Mosquitto tacho session', { skip: 'MQTT_URL is not set (.ci/run sets it)' }, () => {});

test('tacho: a repeated fragment is ACKed again and written once; a reconnect mid-transfer restarts the download (the request goes out again) and the file is whole', { timeout: 60_000 }, async () => {
  const h = await startHarness();
  const bridge = await startCardBridge({ url: h.app.brokerUrl, root: h.root, answers: readCardTable(CARD_FILE) });
  try {
    const plan = await steps();
    const file = deviceFile(plan);
    await h.sub.publishAsync(`${h.root}/command/gw/channels/1/devices/${IDENT}`, readFileSync(REQUEST_FILE), { qos: 1 });
    await waitFor('queued', () => events(h).some((e) => e.status === 'queued'), 5000);
    const port = h.app.channels[0]!.tcpPort;
    // first connection: up to the second fragment, the first one sent twice (a lost ACK), then the link drops
    const firstFrag = plan.findIndex(isFragment);
    const a = await openTcpDevice('127.0.0.1', port);
    await play(a, plan.slice(0, firstFrag + 1));
    const again = await a.send(plan[firstFrag]!.bytes, plan[firstFrag]!.expected, 5000);
    assert.equal(again.kind, 'acked', 'the repeated fragment is ACKed again with its index');
    await play(a, plan.slice(firstFrag + 1, firstFrag + 2));
    a.close();
    await waitFor('queued again after the connection closed', () => events(h).filter((e) => e.status === 'queued').length === 2, 5000);
    // second connection: a stray fragment of the old transfer is rejected (ack 2), then the whole session again
    const b = await openTcpDevice('127.0.0.1', port);
    await play(b, plan.slice(0, 2)); // heartbeat, then the request arrives again (attempt 2)
    const stray = plan[firstFrag + 2]!;
    const index = Buffer.from(stray.bytes.subarray(11, 13)).toString('hex');
    const rej = await b.send(stray.bytes, null, 0);
    assert.equal(rej.kind, 'acked');
    const rejected = await b.receive(Buffer.from(ackHex(2, index), 'hex'), 5000);
    assert.equal(rejected.kind, 'acked', `stray fragment rejected with ack 2: ${JSON.stringify(rejected)}`);
    await play(b, plan.slice(2));
    const processed = await waitFor('processed', () => events(h).find((e) => e.status === 'processed'), 10_000);
    assert.equal(processed.body.attempt, 2);
    await checkStored(h, processed, file);
    // writes: fragments 1 and 2 on the first connection (not the repeat), the 3 of the second (not the stray)
    assert.equal(h.app.channels[0]!.counters.fileChunks, 2 + plan.filter(isFragment).length);
    b.close();
  } finally {
    await bridge.close();
    await h.close();
  }
});

test('tacho: a file announced while no request waits is accepted, stored and announced (refusing it would delete it on the device)', { timeout: 30_000 }, async () => {
  const h = await startHarness();
  try {
    const plan = await steps();
    const dev = await openTcpDevice('127.0.0.1', h.app.channels[0]!.tcpPort);
    await play(dev, plan.filter((f, i) => i === 0 || isAnnouncement(f) || isFragment(f)));
    const msg = await waitFor('media.tacho message', () => h.received.find((r) => r.topic === `${h.root}/message/gw/channels/1/${IDENT}` && r.payload.includes('media.tacho.sha256')), 5000);
    const m = JSON.parse(msg.payload) as Record<string, unknown>;
    assert.ok(readFileSync(String(m['media.tacho.path'])).equals(deviceFile(plan)));
    assert.equal(events(h).length, 0, 'no command was involved');
    assert.equal(m['command.id'], undefined, 'an unrequested file names no command');
    dev.close();
  } finally {
    await h.close();
  }
});

test('tacho: a card bridge that does not answer ends the request executed false with a reason; the bridge is told to finish; the device gets nothing', { timeout: 30_000 }, async () => {
  const h = await startHarness({ channels: [{ id: 1, protocol: 'ruptela', host: '127.0.0.1', tcp_port: 0, options: { tacho_card_timeout_s: 1 } }] });
  const bridge = await startCardBridge({ url: h.app.brokerUrl, root: h.root, answers: readCardTable(CARD_FILE), silent: true });
  try {
    const plan = await steps();
    await h.sub.publishAsync(`${h.root}/command/gw/channels/1/devices/${IDENT}`, readFileSync(REQUEST_FILE), { qos: 1 });
    const dev = await openTcpDevice('127.0.0.1', h.app.channels[0]!.tcpPort);
    await play(dev, plan.slice(0, 3)); // heartbeat, request, first APDU
    const processed = await waitFor('processed', () => events(h).find((e) => e.status === 'processed'), 8000);
    assert.equal(processed.body.executed, false);
    assert.equal(processed.body.code, 'EDGE_RELAY_TIMEOUT');
    assert.match(String(processed.body.reason), /tacho-card service did not answer within 1 s/);
    assert.match(processed.raw, /"meta":\{/);
    await waitFor('finish notice to the bridge', () => bridge.seen.some((s) => s.finish), 5000);
    const nothing = await dev.receive(Uint8Array.of(0), 300);
    assert.equal(nothing.kind, 'rejected', 'no card answer reached the device');
    dev.close();
  } finally {
    await bridge.close();
    await h.close();
  }
});

test('tacho: a file larger than media.max_file_bytes fails the transfer: no ACK for that fragment, the request ends with the reason, no complete file', { timeout: 30_000 }, async () => {
  const mediaDir = mkdtempSync(join(tmpdir(), 'edge-tacho-media-'));
  const h = await startHarness({ extra: { media: { dir: mediaDir, max_file_bytes: 1500 } } });
  const bridge = await startCardBridge({ url: h.app.brokerUrl, root: h.root, answers: readCardTable(CARD_FILE) });
  try {
    const plan = await steps();
    await h.sub.publishAsync(`${h.root}/command/gw/channels/1/devices/${IDENT}`, readFileSync(REQUEST_FILE), { qos: 1 });
    const dev = await openTcpDevice('127.0.0.1', h.app.channels[0]!.tcpPort);
    const second = plan.findIndex(isFragment) + 1;
    await play(dev, plan.slice(0, second));
    const o = await dev.send(plan[second]!.bytes, plan[second]!.expected, 3000);
    assert.equal(o.kind, 'rejected', 'the fragment past the cap is not acknowledged (the connection closes)');
    const processed = await waitFor('processed', () => events(h).find((e) => e.status === 'processed'), 5000);
    assert.equal(processed.body.executed, false);
    assert.equal(processed.body.code, 'EDGE_MEDIA_TOO_LARGE');
    const dir = join(mediaDir, '1', IDENT);
    assert.ok(existsSync(dir));
    assert.deepEqual(readdirSync(dir).filter((n) => !n.endsWith('.part')), [], 'no file under a final name');
    assert.ok(plan.some(isAnnouncement));
  } finally {
    await bridge.close();
    await h.close();
    rmSync(mediaDir, { recursive: true, force: true });
  }
});

function ackHex(ack: number, indexHex: string): string {
  return Buffer.from(tachoAck(ack, parseInt(indexHex, 16))).toString('hex');
}

test('tacho: SIGKILL of the server mid-transfer: every fragment the device saw ACKed is on disk at its offset', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'edge-tacho-kill-'));
  try {
    const child = spawn(process.execPath, [join(projectRoot(), 'dist/test/support/tacho-kill-child.js'), dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    const port = await new Promise<number>((resolve, reject) => {
      let buf = '';
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        if (buf.includes('\n')) resolve((JSON.parse(buf.split('\n')[0]!) as { port: number }).port);
      });
      child.once('exit', (code) => reject(new Error(`child exited (${code}) before listening`)));
    });
    // an unasked upload (no command needed: an announced file is always accepted) of 120 fragments
    const proto = await getProtocol('ruptela');
    const IMEI = BigInt(IDENT);
    const size = 120 * 1009;
    const body = Buffer.alloc(size);
    for (let i = 0; i < size; i++) body[i] = (i * 31 + (i >> 10)) & 0xff;
    body[0] = 0x76;
    body[1] = 0x01;
    const u32 = (n: number) => n.toString(16).padStart(8, '0');
    const announce = deviceFrame(IMEI, 12, Buffer.from('01' + u32(size) + u32(1369386963) + u32(1362145803) + u32(1368193799) + '0000ffff', 'hex'));
    const dev = await openTcpDevice('127.0.0.1', port);
    const reply = (f: Uint8Array) => Buffer.concat(proto.decode(f, { transport: 'tcp', session: {}, receivedAtMs: 0, options: proto.defaultOptions }).replies);
    assert.equal((await dev.send(announce, reply(announce), 5000)).kind, 'acked');
    const acked: number[] = [];
    const killAfter = 30 + Math.floor(Math.random() * 60);
    for (let i = 0; i < 120; i++) {
      const frame = deviceFrame(IMEI, 11, Buffer.concat([Buffer.from([i >> 8, i & 0xff]), body.subarray(i * 1009, (i + 1) * 1009)]));
      const expected = Buffer.from(tachoAck(1, i));
      if (i === killAfter) {
        // the next fragment is on its way when the server dies
        const pending = dev.send(frame, expected, 3000);
        child.kill('SIGKILL');
        if ((await pending).kind === 'acked') acked.push(i);
        break;
      }
      const o = await dev.send(frame, expected, 5000);
      assert.equal(o.kind, 'acked', `fragment ${i}`);
      acked.push(i);
    }
    dev.close();
    await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.once('exit', r)));
    const part = readFileSync(join(dir, 'media', '1', IDENT, `ddd-1369386963-${size}.part`));
    for (const i of acked) {
      assert.ok(part.subarray(i * 1009, (i + 1) * 1009).equals(body.subarray(i * 1009, (i + 1) * 1009)), `ACKed fragment ${i} is on disk`);
    }
    assert.ok(acked.length >= killAfter, `${acked.length} fragments ACKed before the kill`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
