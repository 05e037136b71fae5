import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromHex } from '../src/codec/hex.js';
import { openTcpDevice, type DeviceClient } from '../src/replay/device-client.js';
import { parseDdd } from '../src/tacho/ddd/index.js';
import { projectRoot } from '../src/util/paths.js';
import { apduAnswerFrame, startFrame, tachoAck } from '../protocols/ruptela/tacho-frames.js';
import { deviceFrame } from '../protocols/ruptela/device-frames.js';
import { cardBridgeCommand } from '../src/cli/card-bridge-command.js';
import { sleep, startHarness, waitFor, type Harness } from './support/harness.js';

/**
 * Tachograph files as users need them, end to end over real sockets and MQTT: a simulated Ruptela
 * device uploads a DDD file (cmd 12 + cmd 11), the server stores it, reads it in the pool, stores
 * its JSON next to it and publishes the tacho.download summary and the activity messages; a corrupt
 * file is a typed error with its offset and stays stored; card requests with no download pending
 * are refused; a schedule requests the vehicle unit of a device that comes online.
 */
const IMEI = 868204004248350n;
const IDENT = String(IMEI);
const SAMPLE = join(projectRoot(), 'fixtures', 'tacho', 'card-g1-anon-wp000.ddd');
const ATR = '3b9a96c01031fe5d0064057b01023180900076';
const HEARTBEAT_ACK = fromHex('00027401862d');

function announcement(size: number): Uint8Array {
  const p = new Uint8Array(21);
  const v = new DataView(p.buffer);
  p[0] = 1; // storage
  v.setUint32(1, size);
  v.setUint32(5, 1_600_000_000); // read time
  v.setUint32(9, 1_577_836_800);
  v.setUint32(13, 1_594_166_400);
  v.setUint16(19, 0xffff);
  return deviceFrame(IMEI, 12, p);
}

/** Uploads `file` as the device would: the announcement, then 1009-byte fragments, each ACKed before the next. */
async function upload(dev: DeviceClient, file: Uint8Array): Promise<void> {
  const a = await dev.send(announcement(file.length), tachoAck(1, 0xffff), 5000);
  assert.equal(a.kind, 'acked', JSON.stringify(a));
  for (let i = 0, off = 0; off < file.length; i++, off += 1009) {
    const chunk = file.subarray(off, off + 1009);
    const p = new Uint8Array(2 + chunk.length);
    p[0] = i >> 8;
    p[1] = i & 0xff;
    p.set(chunk, 2);
    const r = await dev.send(deviceFrame(IMEI, 11, p), tachoAck(1, i), 5000);
    assert.equal(r.kind, 'acked', `fragment ${i}: ${JSON.stringify(r)}`);
  }
}

const messages = (h: Harness) => h.received.filter((r) => r.topic === `${h.root}/message/gw/channels/1/${IDENT}`).map((r) => JSON.parse(r.payload) as Record<string, unknown>);

test('a driver card file the device uploads is read: JSON next to it (with a link), the tacho.download summary and one message per activity interval', { timeout: 60_000 }, async () => {
  const h = await startHarness({ threads: 1, extra: { tacho: { activity_messages: true }, http: { port: 0, tokens: 'read:r3ad-t0ken-0123456789' } } });
  try {
    const file = new Uint8Array(readFileSync(SAMPLE));
    const dev = await openTcpDevice('127.0.0.1', h.app.channels[0]!.tcpPort);
    await upload(dev, file);
    const expected = parseDdd(file);
    const summary = await waitFor('tacho.download message', () => messages(h).find((m) => 'tacho.download.kind' in m), 20_000);
    assert.equal(summary['tacho.download.driver'], 'Doe, John');
    assert.equal(summary['tacho.download.card.number'], 'DRIVER0000000100');
    assert.equal(summary['tacho.download.days.covered'], 189);
    assert.equal(summary['tacho.download.activity.intervals'], 5714);
    assert.equal(summary['tacho.signature.verified'], false);
    assert.equal(summary['tacho.download.source'], 'driver_card', "the label read from the file's first bytes");
    assert.equal(summary.ident, IDENT);
    assert.equal(summary['channel.id'], 1);
    assert.equal(typeof summary['message.id'], 'string');
    // the JSON document next to the file: the parser's document, byte for byte as JSON
    const stored = messages(h).find((m) => 'media.tacho.path' in m)!;
    const jsonPath = `${String(stored['media.tacho.path'])}.json`;
    assert.equal(summary['tacho.download.json.file.name'], jsonPath.split('/').at(-1));
    await waitFor('the JSON file', () => existsSync(jsonPath), 5000);
    assert.deepEqual(JSON.parse(readFileSync(jsonPath, 'utf8')), JSON.parse(JSON.stringify(expected)));
    // its link downloads it
    const res = await fetch(String(summary['tacho.download.json.file.url']));
    assert.equal(res.status, 200);
    assert.equal((JSON.parse(await res.text()) as { kind: string }).kind, 'driver_card');
    const acts = await waitFor('every activity message', () => {
      const a = messages(h).filter((m) => 'tacho.activity.type' in m);
      return a.length === 5714 && a;
    }, 20_000);
    assert.equal(acts[0]!.timestamp, Date.UTC(2020, 0, 1) / 1000, 'timestamped at the interval begin (device time)');
    assert.equal(acts[0]!['tacho.download.file.id'], summary['tacho.download.file.id']);
    const ev = await waitFor('media event tacho_read', () => h.received.find((r) => r.topic === `${h.root}/log/gw/channels/1/devices/${IDENT}/media` && r.payload.includes('"tacho_read"')), 5000);
    assert.equal((JSON.parse(ev.payload) as { activities: number }).activities, 5714);
    dev.close();
  } finally {
    await h.close();
  }
});

test('a truncated tachograph file: kept as stored, its JSON and its message carry EDGE_DDD_TRUNCATED with the offset', { timeout: 30_000 }, async () => {
  const h = await startHarness();
  try {
    const file = new Uint8Array(readFileSync(SAMPLE)).subarray(0, 5000);
    const dev = await openTcpDevice('127.0.0.1', h.app.channels[0]!.tcpPort);
    await upload(dev, file);
    const m = await waitFor('tacho.download error message', () => messages(h).find((x) => 'tacho.download.error.code' in x), 10_000);
    assert.equal(m['tacho.download.error.code'], 'EDGE_DDD_TRUNCATED');
    assert.equal(typeof m['tacho.download.error.offset'], 'number');
    const stored = messages(h).find((x) => 'media.tacho.path' in x)!;
    const path = String(stored['media.tacho.path']);
    assert.ok(readFileSync(path).equals(Buffer.from(file)), 'the file stays, whole');
    const doc = JSON.parse(readFileSync(`${path}.json`, 'utf8')) as { error: { code: string; offset: number } };
    assert.equal(doc.error.code, 'EDGE_DDD_TRUNCATED');
    assert.equal(doc.error.offset, m['tacho.download.error.offset']);
    dev.close();
  } finally {
    await h.close();
  }
});

const cardRequest = () => deviceFrame(IMEI, 10, fromHex('00000000' + '03' + '01' + '0000' + '00a4020c020002'));
const relayTopic = (h: Harness) => `${h.root}/relay/gw/channels/1/devices/${IDENT}/tacho-card/request`;

test('company card access: a card request with no download pending is refused (69 85 to the device), logged with the reason, never relayed; an allowed device is relayed', { timeout: 30_000 }, async () => {
  const h = await startHarness();
  try {
    const dev = await openTcpDevice('127.0.0.1', h.app.channels[0]!.tcpPort);
    assert.equal((await dev.send(deviceFrame(IMEI, 16, new Uint8Array(0)), HEARTBEAT_ACK, 5000)).kind, 'acked');
    await dev.send(cardRequest(), null, 0);
    const refusal = await dev.receive(apduAnswerFrame(3, fromHex('6985')), 5000);
    assert.equal(refusal.kind, 'acked', `the device gets the refusal: ${JSON.stringify(refusal)}`);
    const ev = await waitFor('refused event', () => h.received.find((r) => r.topic === `${h.root}/log/gw/channels/1/devices/${IDENT}/relay`), 5000);
    const e = JSON.parse(ev.payload) as Record<string, unknown>;
    assert.equal(e.event, 'refused');
    assert.equal(e.code, 'EDGE_RELAY_REFUSED');
    assert.equal(e.ident, IDENT);
    assert.match(String(e.reason), /no tachograph download is pending/);
    assert.equal(h.received.filter((r) => r.topic === relayTopic(h)).length, 0, 'the card bridge never saw it');
    dev.close();
  } finally {
    await h.close();
  }
  const allowed = await startHarness({ extra: { tacho: { card_allow: [IDENT] } } });
  try {
    const dev = await openTcpDevice('127.0.0.1', allowed.app.channels[0]!.tcpPort);
    await dev.send(cardRequest(), null, 0);
    const req = await waitFor('relayed request', () => allowed.received.find((r) => r.topic === relayTopic(allowed)), 5000);
    assert.equal((JSON.parse(req.payload) as { payload: string }).payload, '00a4020c020002');
    dev.close();
  } finally {
    await allowed.close();
  }
});

test('schedule: a device that comes online gets its due vehicle-unit download as a queued command with scheduled meta; its card requests are then relayed; the next due date is retained state and in the read API', { timeout: 30_000 }, async () => {
  const token = 'r3ad-t0ken-0123456789';
  const h = await startHarness({ extra: { tacho: { schedule: { enabled: true, atr: ATR } }, http: { port: 0, tokens: `read:${token}` } } });
  try {
    const dev = await openTcpDevice('127.0.0.1', h.app.channels[0]!.tcpPort);
    assert.equal((await dev.send(deviceFrame(IMEI, 16, new Uint8Array(0)), HEARTBEAT_ACK, 5000)).kind, 'acked');
    const queued = await waitFor('scheduled command queued', () => h.received.find((r) => r.topic === `${h.root}/log/gw/channels/1/devices/${IDENT}/commands/queued`), 5000);
    const q = JSON.parse(queued.payload) as { id: string; name: string; meta: Record<string, unknown> };
    assert.equal(q.name, 'request_tachograph_file');
    assert.equal(q.meta.scheduled, true);
    assert.equal(q.meta.schedule, 'vehicle_unit');
    // the device gets the start frame the command encodes: 110 sub 2 with the company card's ATR and
    // the VU bit (its period is the clock's, so the frame is compared up to the period)
    const sent = await waitFor('sent', () => h.received.find((r) => r.topic === `${h.root}/log/gw/channels/1/devices/${IDENT}/commands/sent`), 5000);
    assert.equal((JSON.parse(sent.payload) as { id: string }).id, q.id);
    const head = startFrame({ source: 'vehicle_unit', atr: fromHex(ATR), mask: 0, from: 0, to: 0 });
    const got = await dev.receive(head.subarray(0, head.length - 10), 5000);
    assert.equal(got.kind, 'acked', `start frame up to the period: ${JSON.stringify(got)}`);
    // a download is pending: the card request goes to the bridge
    await dev.send(cardRequest(), null, 0);
    await waitFor('relayed', () => h.received.find((r) => r.topic === `${h.root}/relay/gw/channels/1/devices/${IDENT}/tacho-card/request`), 5000);
    const state = await waitFor('retained schedule state', () => h.received.find((r) => r.topic === `${h.root}/state/gw/channels/1/devices/${IDENT}/tacho-schedule`), 5000);
    const st = JSON.parse(state.payload) as { vehicle_unit: { due: boolean; next: number | null; every_days: number } };
    assert.deepEqual(st.vehicle_unit, { last: null, next: null, due: true, every_days: 90 });
    const port = h.app.http!.port;
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/devices/1/${IDENT}/tacho-schedule`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { schedule: { enabled: boolean; vehicle_unit: { due: boolean } } };
    assert.equal(body.schedule.enabled, true);
    assert.equal(body.schedule.vehicle_unit.due, true);
    dev.close();
  } finally {
    await h.close();
  }
});

test('edge-channel card-bridge --exec: a card program answers the APDU line by line; the device gets the response; a program that answers garbage fails the exchange with the reason', { timeout: 30_000 }, async () => {
  const h = await startHarness({ extra: { tacho: { card_allow: ['*'] } } });
  let stop!: () => void;
  const stopped = new Promise<void>((r) => (stop = r));
  // the card: 00a4020c020002 (select) answers 9000; anything else garbage
  const program = `${JSON.stringify(process.execPath)} -e "require('readline').createInterface({input:process.stdin}).on('line',l=>console.log(l.trim()==='00a4020c020002'?'90 00':'no card here'))"`;
  const run = cardBridgeCommand(['--mqtt', h.app.brokerUrl, '--root', h.root, '--exec', program, '--timeout-ms', '5000'], stopped);
  try {
    // the bridge subscribes before its start line; give its subscription a moment to reach the broker
    await sleep(300);
    const dev = await openTcpDevice('127.0.0.1', h.app.channels[0]!.tcpPort);
    await dev.send(cardRequest(), null, 0);
    const answer = await dev.receive(apduAnswerFrame(3, fromHex('9000')), 8000);
    assert.equal(answer.kind, 'acked', `the card's response reached the device: ${JSON.stringify(answer)}`);
    await dev.send(deviceFrame(IMEI, 10, fromHex('00000000' + '03' + '01' + '0000' + '00b0000010')), null, 0);
    const failed = await waitFor('finish notice after the garbage answer', () => h.received.find((r) => r.topic === relayTopic(h) && r.payload.includes('"finish":true')), 8000);
    assert.match((JSON.parse(failed.payload) as { reason: string }).reason, /not a hex response APDU/);
    dev.close();
  } finally {
    stop();
    assert.equal(await run, 0);
    await h.close();
  }
});
