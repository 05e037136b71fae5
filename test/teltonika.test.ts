import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { toHex } from '../src/codec/hex.js';
import { getProtocol } from '../src/protocol/registry.js';
import type { SimulationReport } from '../src/protocol/types.js';
import { simulationIo } from '../src/replay/sim-io.js';
import { projectRoot } from '../src/util/paths.js';
import { hexOf } from '../protocols/teltonika/test-helpers.js';
import { startHarness, waitFor, sleep, type Harness } from './support/harness.js';
import { connectDevice } from './support/device-socket.js';
import { withTempDir } from './support/temp-dir.js';
import { crc16Kermit } from '../src/codec/crc.js';
import { isStoredFileName } from '../src/media/media-store.js';

/**
 * A simulated Teltonika FMB device against the running server over real loopback sockets: the
 * vendor's own example frames (protocols/teltonika/fixtures/teltonika-vendor.tsv), a real MQTT.js
 * subscriber and operator, the embedded broker holding back PUBACKs to show the ACK waits for them.
 */
const V = 'teltonika-vendor.tsv';
const IMEI = '356307042441013'; // the login example's IMEI
const channel = [{ id: 1, protocol: 'teltonika', host: '127.0.0.1', tcp_port: 0, udp_port: 0 }];
const messagesOf = (h: Harness, ident: string) => h.received.filter((r) => r.topic === `${h.root}/message/gw/channels/1/${ident}`).map((r) => JSON.parse(r.payload) as Record<string, unknown>);
const vendor = (name: string) => Buffer.from(hexOf(V, name));

function suite(name: string, threads: number | 'inline') {
  test(`${name}: TCP login answered 01, AVL packets acknowledged with their record count only after PUBACK`, { timeout: 30_000 }, async () => {
    const h = await startHarness({ channels: channel, threads });
    try {
      const dev = await connectDevice(h.app.channels[0]!.tcpPort);
      dev.socket.write(vendor('imei-login'));
      await waitFor('IMEI accepted', () => dev.hex() === '01');
      h.holdPubacks = true;
      dev.socket.write(vendor('c8-tcp-ex3')); // 2 records
      await waitFor('both records reach the broker', () => messagesOf(h, IMEI).length === 2 || undefined).catch(() => undefined);
      await sleep(300);
      assert.equal(dev.hex(), '01', 'no ACK before PUBACK');
      h.releasePubacks();
      await waitFor('ACK 2 after PUBACK', () => dev.hex() === '01' + '00000002');
      // Codec 8E and 16 on the same connection, keep-alive ping in between (answered with nothing)
      dev.socket.write(Buffer.concat([vendor('c8e-tcp-ex1'), Buffer.from([0xff]), vendor('c16-tcp-ex1')]));
      await waitFor('ACK 1 then ACK 2', () => dev.hex() === '01' + '00000002' + '00000001' + '00000002');
      const msgs = messagesOf(h, IMEI);
      assert.equal(msgs.length, 5);
      assert.equal(msgs[0]!['protocol.id'], 'teltonika');
      assert.equal(msgs[0]!.timestamp, 1560160861); // 2019-06-10 10:01:01 UTC (vendor text)
      assert.equal(msgs[2]!['vehicle.mileage'], 22949); // Codec 8E IO 16 = 22949000 m
      assert.equal(msgs[3]!['event.generation.type.enum'], 5); // Codec 16 "on change"
      // a corrupted packet: no ACK, the connection closes (the device resends on a new one)
      const bad = vendor('c8-tcp-ex1');
      bad[bad.length - 1]! ^= 0xff;
      dev.socket.write(bad);
      await waitFor('closed', () => dev.closed);
      assert.equal(dev.hex(), '01' + '00000002' + '00000001' + '00000002');
      assert.equal(messagesOf(h, IMEI).length, 5);
    } finally {
      await h.close();
    }
  });

  test(`${name}: UDP datagrams are answered with the packet id, AVL packet id and count, after PUBACK; a broken datagram gets nothing`, { timeout: 30_000 }, async () => {
    const h = await startHarness({ channels: channel, threads });
    const sock = createSocket('udp4');
    try {
      const got: string[] = [];
      sock.on('message', (m) => got.push(m.toString('hex')));
      await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
      const port = h.app.channels[0]!.udpPort;
      h.holdPubacks = true;
      sock.send(vendor('c8e-udp-ex1'), port, '127.0.0.1');
      await waitFor('message at the broker', () => messagesOf(h, '352093086403655').length === 1 || undefined).catch(() => undefined);
      await sleep(300);
      assert.deepEqual(got, [], 'no UDP ACK before PUBACK');
      h.releasePubacks();
      await waitFor('UDP ACK', () => got.length === 1);
      assert.equal(got[0], toHex(hexOf(V, 'c8e-udp-ack1')));
      sock.send(vendor('c16-udp-ex1-as-printed'), port, '127.0.0.1'); // the vendor's wrong length field
      sock.send(vendor('c16-udp-ex1-repaired-derived'), port, '127.0.0.1');
      await waitFor('ACK of the repaired datagram', () => got.length === 2);
      assert.equal(got[1], '0005cafe010101');
      await sleep(100);
      assert.equal(got.length, 2);
      assert.equal(messagesOf(h, '352094085231592').length, 1);
    } finally {
      sock.close();
      await h.close();
    }
  });
}

suite('embedded broker', 'inline');
suite('embedded broker, worker pool', 1);

test('a Codec 12 command with meta: sent after the login ACK, the device\'s response completes it with meta echoed byte for byte', { timeout: 30_000 }, async () => {
  const h = await startHarness({ channels: channel });
  try {
    const proto = await getProtocol('teltonika');
    const events = (status: string) => h.received.filter((r) => r.topic === `${h.root}/log/gw/channels/1/devices/${IMEI}/commands/${status}`);
    const meta = '{"ticket":"OPS-28","by":{"name":"Zoë"},"n":[1,2.50]}';
    await h.sub.publishAsync(`${h.root}/command/gw/channels/1/devices/${IMEI}`, `{"id":"t1","name":"custom","properties":{"text":"getinfo"},"meta":${meta}}`, { qos: 1 });
    await h.sub.publishAsync(`${h.root}/command/gw/channels/1/devices/${IMEI}`, `{"id":"t2","name":"get_io","meta":{"n":2}}`, { qos: 1 });
    await waitFor('queued', () => events('queued').length === 2);
    const dev = await connectDevice(h.app.channels[0]!.tcpPort);
    dev.socket.write(vendor('imei-login'));
    const getinfo = toHex(hexOf(V, 'c12-getinfo-cmd')); // the vendor's own command frame
    assert.equal(toHex(proto.encode({ name: 'custom', properties: { text: 'getinfo' } }, {}).bytes), getinfo);
    await waitFor('01 then the command', () => dev.hex() === '01' + getinfo);
    dev.socket.write(vendor('c12-getinfo-resp'));
    const processed = await waitFor('processed', () => events('processed').find((e) => e.payload.includes('"id":"t1"')));
    const body = JSON.parse(processed.payload) as Record<string, unknown>;
    assert.equal(body.executed, true);
    assert.match(String(body.response), /^INI:2019\/7\/22 7:22 RTC:.* MD:0$/);
    assert.ok(processed.payload.includes(`"meta":${meta}`), processed.payload);
    // no 4-byte ACK after a response (it would desynchronise the device), then the next command
    const getio = toHex(hexOf(V, 'c12-getio-cmd'));
    await waitFor('second command', () => dev.hex() === '01' + getinfo + getio);
    dev.socket.write(vendor('c12-getio-resp'));
    const second = await waitFor('processed t2', () => events('processed').find((e) => e.payload.includes('"id":"t2"')));
    assert.equal((JSON.parse(second.payload) as Record<string, unknown>).response, 'DI1:1 DI2:0 DI3:0 AIN1:0 AIN2:16924 DO1:0 DO2:1');
    const reply = messagesOf(h, IMEI).find((m) => m['command.id'] === 't1');
    assert.equal(reply?.['command.name'], 'custom');
    assert.equal(dev.hex(), '01' + getinfo + getio);
    dev.socket.destroy();
  } finally {
    await h.close();
  }
});

test('the simulated FMB tracker of the replay tools (fixtures/sessions/teltonika-fmb.json): 5 packets ACKed with 4, 20 messages, a queued command answered', { timeout: 30_000 }, async () => {
  const h = await startHarness({ channels: channel });
  try {
    const proto = await getProtocol('teltonika');
    const params = JSON.parse(readFileSync(join(projectRoot(), 'fixtures/sessions/teltonika-fmb.json'), 'utf8')) as Record<string, unknown>;
    const ident = String(params.imei);
    await h.sub.publishAsync(`${h.root}/command/gw/channels/1/devices/${ident}`, '{"id":"s1","name":"get_info","meta":{"job":7}}', { qos: 1 });
    await waitFor('queued', () => h.received.some((r) => r.topic.endsWith(`/devices/${ident}/commands/queued`)));
    const report = (await proto.simulations!.fmb!(params, simulationIo({ host: '127.0.0.1', port: h.app.channels[0]!.tcpPort }, () => {}))) as SimulationReport & { acks: string[]; commands: { text: string; response: string }[] };
    assert.equal(report.ok, true, JSON.stringify(report));
    assert.deepEqual(report.acks, Array(5).fill('00000004'));
    assert.deepEqual(report.commands.map((c) => c.text), ['getinfo']);
    const processed = await waitFor('processed', () => h.received.find((r) => r.topic.endsWith(`/devices/${ident}/commands/processed`)));
    assert.match(processed.payload, /"response":"INI:2026\/1\/1 0:00 .*SAT:11".*"meta":\{"job":7\}/);
    const msgs = messagesOf(h, ident).filter((m) => m['position.latitude'] !== undefined);
    assert.equal(msgs.length, 20);
    assert.equal(msgs[0]!['ibutton.code'], '01d042f31d000030');
    assert.equal(msgs[19]!.timestamp, 1767225600 + 19 * 10);
  } finally {
    await h.close();
  }
});

test('a simulated DualCam upload on the camera part: front photo and front video requested in turn, a bad CRC resumed, both files stored whole and announced', { timeout: 30_000 }, async () => {
  await withTempDir('edge-dualcam-', (mediaDir) => startHarness({ channels: [{ ...channel[0], parts: { camera: { tcp_port: 0 } } }], extra: { media: { dir: mediaDir } } }), async (h, mediaDir) => {
    const imei = '352094082736916';
    const cam = await connectDevice(h.app.channels[0]!.portOf('camera'));
    const photo = Buffer.from(Array.from({ length: 2500 }, (_, i) => (i * 7) & 0xff));
    const video = Buffer.from(Array.from({ length: 1500 }, (_, i) => (i * 13) & 0xff));
    const packet = (cmd: number, data: Buffer) => Buffer.concat([Buffer.from([cmd >> 8, cmd & 0xff, data.length >> 8, data.length & 0xff]), data]);
    const u32 = (v: number) => Buffer.from([v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff]);
    const dataPacket = (chunk: Buffer, badCrc = false) => {
      const crc = crc16Kermit(chunk) ^ (badCrc ? 0xffff : 0);
      return packet(0x0004, Buffer.concat([chunk, Buffer.from([crc >> 8, crc & 0xff])]));
    };
    let expected = '';
    const expect = async (what: string, hex: string) => {
      expected += hex;
      await waitFor(what, () => cam.hex() === expected);
    };
    // init: protocol 5, the IMEI, settings bit 26 (photo front) and bit 28 (video front)
    cam.socket.write(Buffer.concat([Buffer.from([0, 0, 0, 5]), Buffer.from(BigInt(imei).toString(16).padStart(16, '0'), 'hex'), u32((1 << 26) | (1 << 28))]));
    await expect('%photof requested', toHex(packet(0x0008, Buffer.from('%photof'))));
    cam.socket.write(packet(0x0001, Buffer.concat([u32(3), Buffer.from([0, 0])]))); // START: 3 packets
    await expect('RESUME 1', '0002000400000001');
    cam.socket.write(packet(0x0003, u32(1)));
    // packets stream without waiting; the second arrives damaged
    cam.socket.write(Buffer.concat([dataPacket(photo.subarray(0, 1024)), dataPacket(photo.subarray(1024, 2048), true)]));
    await expect('RESUME 2 after the bad CRC', '0002000400000002');
    cam.socket.write(Buffer.concat([packet(0x0003, u32(2)), dataPacket(photo.subarray(1024, 2048)), dataPacket(photo.subarray(2048))]));
    await expect('%videof requested once the photo is stored', toHex(packet(0x0008, Buffer.from('%videof'))));
    cam.socket.write(Buffer.concat([packet(0x0001, Buffer.concat([u32(2), Buffer.from([0, 0])]))]));
    await expect('RESUME 1', '0002000400000001');
    cam.socket.write(Buffer.concat([packet(0x0003, u32(1)), dataPacket(video.subarray(0, 1024)), dataPacket(video.subarray(1024))]));
    await expect('COMPLETE: nothing more wanted', '0005000400000000');
    const msgs = await waitFor('both announcements', () => {
      const m = messagesOf(h, imei).filter((x) => x['camera.file.name'] !== undefined);
      return m.length === 2 ? m : undefined;
    });
    const folder = join(mediaDir, '1', imei);
    const stored = readdirSync(folder).filter(isStoredFileName).sort();
    assert.equal(stored.length, 2, stored.join(', '));
    for (const [prefix, original, source] of [['media.image.1', photo, '%photof'], ['media.video.1', video, '%videof']] as const) {
      const m = msgs.find((x) => x['camera.file.name'] === source)!;
      const sha = createHash('sha256').update(original).digest('hex');
      assert.equal(m[`${prefix}.sha256`], sha);
      assert.equal(m[`${prefix}.size`], original.length);
      assert.equal(m['camera.source'], 'front');
      assert.deepEqual(readFileSync(join(folder, String(m[`${prefix}.file.name`]))), original);
    }
    assert.match(stored[0]!, /^image-.*\.jpg$/);
    assert.match(stored[1]!, /^video-.*\.h265$/);
  });
});
