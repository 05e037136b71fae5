import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { fromHex } from '../src/codec/hex.js';
import { recordsFrame, typicalRecord, deviceFrame } from '../protocols/ruptela/device-frames.js';
import { startHarness, waitFor, sleep, type Harness } from './support/harness.js';
import { connectDevice } from './support/device-socket.js';

/**
 * The channel runtime over real loopback sockets with a real MQTT subscriber. Runs against the
 * embedded broker always, and against Mosquitto when MQTT_URL is set (CI sets it).
 */
const RECORDS_ACK = '0002640113bc';
const IDENT_ACK = '00027301cb25';
const T2_IDENT = '002e000316d53d58d6020f4573303430302e30332e36382e30340000c2b3090d0e950000827b000003e80000003c003c1681';

const tcpPort = (h: Harness) => h.app.channels[0]!.tcpPort;
const messagesOf = (h: Harness, ident: string) => h.received.filter((r) => r.topic === `${h.root}/message/gw/channels/1/${ident}`);

function suite(name: string, brokerUrl?: string, threads: number | 'inline' = 'inline') {
  test(`${name}: records are published with the envelope and acknowledged after PUBACK`, async () => {
    const h = await startHarness({ brokerUrl, threads });
    try {
      const imei = 863071018192903n;
      const dev = await connectDevice(tcpPort(h));
      dev.socket.write(fromHex(T2_IDENT));
      await waitFor('identification ACK', () => dev.hex() === IDENT_ACK);
      const t0 = 1735689000;
      dev.socket.write(recordsFrame(imei, [typicalRecord(t0, 1), typicalRecord(t0 + 10, 2)]));
      await waitFor('records ACK', () => dev.hex() === IDENT_ACK + RECORDS_ACK);
      const msgs = messagesOf(h, String(imei));
      assert.equal(msgs.length, 2);
      const m = JSON.parse(msgs[0]!.payload) as Record<string, unknown>;
      assert.equal(m.ident, String(imei));
      assert.equal(m.timestamp, t0);
      assert.equal(m['channel.id'], 1);
      assert.equal(m['protocol.id'], 'ruptela');
      assert.match(String(m.peer), /^127\.0\.0\.1:\d+$/);
      assert.equal(typeof m['server.timestamp'], 'number');
      assert.equal(m['position.latitude'], 54.6873);
      assert.equal(m['position.speed'], 41);
      assert.equal(msgs[0]!.retain, false);
      // connected state (retained) for both idents seen on this connection, and connection logs
      await waitFor('connected state', () => h.received.find((r) => r.topic === `${h.root}/state/gw/channels/1/devices/${imei}/connected` && r.payload === 'true'));
      await waitFor('accepted log', () => h.received.find((r) => r.topic.startsWith(`${h.root}/log/gw/channels/1/connections/`) && r.topic.endsWith('/accepted')));
      dev.socket.end();
      await waitFor('closed log with close code 2', () => h.received.find((r) => r.topic.endsWith('/closed') && JSON.parse(r.payload).close_code === 2));
    } finally {
      await h.close();
    }
  });

  test(`${name}: UDP datagrams are decoded and answered to the sender`, async () => {
    const h = await startHarness({ brokerUrl, threads });
    const sock = createSocket('udp4');
    try {
      const got: string[] = [];
      sock.on('message', (m) => got.push(m.toString('hex')));
      await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
      const imei = 863071018190001n;
      sock.send(recordsFrame(imei, [typicalRecord(1735689100, 3)]), h.app.channels[0]!.udpPort, '127.0.0.1');
      await waitFor('UDP ACK', () => got.length === 1);
      assert.equal(got[0], RECORDS_ACK);
      assert.equal(messagesOf(h, String(imei)).length, 1);
      // a datagram with a bad CRC gets no reply and nothing is published
      const bad = Buffer.from(recordsFrame(imei, [typicalRecord(1735689200, 4)]));
      bad[bad.length - 1]! ^= 0xff;
      sock.send(bad, h.app.channels[0]!.udpPort, '127.0.0.1');
      await waitFor('decode error log', () => h.received.find((r) => r.topic.endsWith('/error') && JSON.parse(r.payload).code === 'EDGE_DECODE_CHECKSUM'));
      await sleep(100);
      assert.equal(got.length, 1);
      assert.equal(messagesOf(h, String(imei)).length, 1);
    } finally {
      sock.close();
      await h.close();
    }
  });
}

suite('embedded broker');
suite('embedded broker, worker pool', undefined, 1);
if (process.env.MQTT_URL) suite('Mosquitto', process.env.MQTT_URL);
else test('Mosquitto suite', { skip: 'MQTT_URL is not set (.ci/run sets it)' }, () => {});

test('no ACK is written while the broker withholds PUBACK; it follows once the broker confirms', async () => {
  const h = await startHarness();
  try {
    const imei = 863071018190002n;
    const dev = await connectDevice(tcpPort(h));
    h.holdPubacks = true;
    dev.socket.write(recordsFrame(imei, [typicalRecord(1735689300, 5), typicalRecord(1735689301, 6)]));
    await waitFor('messages reach the subscriber', () => messagesOf(h, String(imei)).length === 2 || undefined).catch(() => undefined);
    await sleep(300);
    assert.equal(dev.hex(), '', 'no ACK before PUBACK');
    h.releasePubacks();
    await waitFor('ACK after PUBACK', () => dev.hex() === RECORDS_ACK);
    // the broker confirms to the server and delivers to the test's subscriber independently: the
    // messages may reach the subscriber just after the device saw its ACK
    await waitFor('both messages at the subscriber', () => messagesOf(h, String(imei)).length === 2, 5000);
  } finally {
    await h.close();
  }
});

test('replies are written in frame order even when a later frame is confirmed first', async () => {
  const h = await startHarness();
  try {
    const dev = await connectDevice(tcpPort(h));
    h.holdPubacks = true;
    // a records frame (waits for PUBACK) followed by a heartbeat (no message: answered at once)
    const heartbeat = fromHex('0009000310f56174900710bd93');
    dev.socket.write(Buffer.concat([recordsFrame(863071018192903n, [typicalRecord(1735689400, 7)]), heartbeat]));
    await sleep(200);
    assert.equal(dev.hex(), '', 'the heartbeat ACK must wait for the records ACK before it');
    h.releasePubacks();
    await waitFor('both ACKs in order', () => dev.hex() === RECORDS_ACK + '00027401862d');
  } finally {
    await h.close();
  }
});

test('a frame with a bad CRC is not acknowledged and the connection is closed (code 4); earlier frames keep their ACK, later ones are dropped', async () => {
  const h = await startHarness();
  try {
    const imei = 863071018190003n;
    const dev = await connectDevice(tcpPort(h));
    const good = recordsFrame(imei, [typicalRecord(1735689500, 8)]);
    const bad = Buffer.from(recordsFrame(imei, [typicalRecord(1735689510, 9)]));
    bad[20]! ^= 0x01;
    const after = recordsFrame(imei, [typicalRecord(1735689520, 10)]);
    dev.socket.write(Buffer.concat([good, bad, after]));
    await waitFor('connection closed', () => dev.closed);
    assert.equal(dev.hex(), RECORDS_ACK);
    await sleep(200);
    assert.equal(messagesOf(h, String(imei)).length, 1, 'a frame after the failed one is not trusted, even once the link is closed');
    const closed = await waitFor('closed log', () => h.received.find((r) => r.topic.endsWith('/closed')));
    assert.equal(JSON.parse(closed.payload).close_code, 4);
  } finally {
    await h.close();
  }
});

test('an impossible length field closes the connection with a framing error', async () => {
  const h = await startHarness();
  try {
    const dev = await connectDevice(tcpPort(h));
    dev.socket.write(fromHex('ffff00000000'));
    await waitFor('connection closed', () => dev.closed);
    const err = await waitFor('error log', () => h.received.find((r) => r.topic.endsWith('/error')));
    assert.equal(JSON.parse(err.payload).code, 'EDGE_FRAME_LENGTH');
    assert.equal(dev.hex(), '');
  } finally {
    await h.close();
  }
});

test('the same ident connecting again closes the older connection with close code 12', async () => {
  const h = await startHarness();
  try {
    const imei = 863071018190004n;
    const a = await connectDevice(tcpPort(h));
    a.socket.write(recordsFrame(imei, [typicalRecord(1735689600, 1)]));
    await waitFor('first ACK', () => a.hex() === RECORDS_ACK);
    const b = await connectDevice(tcpPort(h));
    b.socket.write(recordsFrame(imei, [typicalRecord(1735689610, 2)]));
    await waitFor('second ACK', () => b.hex() === RECORDS_ACK);
    await waitFor('older connection closed', () => a.closed);
    const closed = await waitFor('closed log code 12', () => h.received.find((r) => r.topic.endsWith('/closed') && JSON.parse(r.payload).close_code === 12));
    assert.equal(JSON.parse(closed.payload).ident, String(imei));
    assert.equal(b.closed, false);
    // the device is still connected (through b): its retained state must not flip to false
    await sleep(100);
    const states = h.received.filter((r) => r.topic.endsWith(`/devices/${imei}/connected`)).map((r) => r.payload);
    assert.equal(states.at(-1), 'true');
  } finally {
    await h.close();
  }
});

test('an idle connection is closed after idle_timeout_s with close code 17', async () => {
  const h = await startHarness({ channels: [{ id: 1, protocol: 'ruptela', host: '127.0.0.1', tcp_port: 0, idle_timeout_s: 1 }] });
  try {
    const dev = await connectDevice(tcpPort(h));
    const t0 = Date.now();
    await waitFor('idle close', () => dev.closed, 4000);
    assert.ok(Date.now() - t0 >= 900);
    const closed = await waitFor('closed log', () => h.received.find((r) => r.topic.endsWith('/closed')));
    assert.equal(JSON.parse(closed.payload).close_code, 17);
  } finally {
    await h.close();
  }
});

test('max_connections refuses connections beyond the cap', async () => {
  const h = await startHarness({ channels: [{ id: 1, protocol: 'ruptela', host: '127.0.0.1', tcp_port: 0, max_connections: 1 }] });
  try {
    const a = await connectDevice(tcpPort(h));
    const b = await connectDevice(tcpPort(h));
    await waitFor('second connection refused', () => b.closed);
    assert.equal(a.closed, false);
    const rej = await waitFor('rejected log', () => h.received.find((r) => r.topic.endsWith('/connections/rejected')));
    assert.equal(JSON.parse(rej.payload).close_code, 21);
  } finally {
    await h.close();
  }
});

test('graceful shutdown finishes in-flight frames: published, then acknowledged, then closed', async () => {
  const h = await startHarness();
  const imei = 863071018190005n;
  const dev = await connectDevice(tcpPort(h));
  h.holdPubacks = true;
  dev.socket.write(recordsFrame(imei, [typicalRecord(1735689700, 1), typicalRecord(1735689701, 2), typicalRecord(1735689702, 3)]));
  await waitFor('frame decoded and published', () => h.app.channels[0]!.counters.messages === 3);
  const stopping = h.app.stop();
  await sleep(100);
  assert.equal(dev.hex(), '');
  h.releasePubacks();
  await stopping;
  await waitFor('ACK before close', () => dev.closed);
  assert.equal(dev.hex(), RECORDS_ACK);
  await waitFor('all records on the broker', () => messagesOf(h, String(imei)).length === 3);
  await h.close();
});

test('a heartbeat (no message to confirm) is answered at once', async () => {
  const h = await startHarness();
  try {
    const dev = await connectDevice(tcpPort(h));
    dev.socket.write(deviceFrame(863071018190006n, 16, new Uint8Array(0)));
    await waitFor('heartbeat ACK', () => dev.hex() === '00027401862d');
  } finally {
    await h.close();
  }
});

test('backpressure: a full MQTT queue pauses device sockets; everything is acknowledged once the broker confirms', async () => {
  const h = await startHarness({ extra: { mqtt: { max_inflight: 2, max_queued: 8 }, spool: { enabled: false } } });
  try {
    const devs = await Promise.all([1, 2, 3].map(() => connectDevice(tcpPort(h))));
    h.holdPubacks = true;
    devs.forEach((d, i) => {
      for (let f = 0; f < 5; f++) d.socket.write(recordsFrame(863071018191000n + BigInt(i), [typicalRecord(1735689800 + f, 1), typicalRecord(1735689800 + f, 2)]));
    });
    await waitFor('sockets paused by the publisher', () => h.app.channels[0]!.pausedFor.includes('mqtt'));
    assert.ok(h.app.publisher.queued <= 8 + 2 * 5 * 3, 'queue stays bounded');
    assert.ok(devs.every((d) => d.hex() === ''), 'no ACK while nothing is confirmed');
    h.releasePubacks();
    await waitFor('all 15 frames acknowledged', () => devs.every((d) => d.hex() === RECORDS_ACK.repeat(5)), 10000);
    assert.deepEqual(h.app.channels[0]!.pausedFor, []);
  } finally {
    await h.close();
  }
});

test('a device that hangs up right after its frames: what was read is still decoded and published, nothing is written back', async () => {
  // batch_wait_ms holds the frames back from the workers long enough for the close to come first,
  // the order a device that does not wait for its ACK produces on a busy server
  const h = await startHarness({ extra: { pool: { batch_wait_ms: 40 } } });
  try {
    const imei = 863071018190077n;
    const dev = await connectDevice(tcpPort(h));
    dev.socket.end(Buffer.concat([recordsFrame(imei, [typicalRecord(1735689400, 7)]), recordsFrame(imei, [typicalRecord(1735689410, 8), typicalRecord(1735689420, 9)])]));
    await waitFor('the connection closed event', () => h.received.some((r) => r.topic.endsWith('/closed')));
    await waitFor('all three records on the broker', () => messagesOf(h, String(imei)).length === 3);
    const times = messagesOf(h, String(imei)).map((m) => (JSON.parse(m.payload) as { timestamp: number }).timestamp);
    assert.deepEqual(times, [1735689400, 1735689410, 1735689420], 'in the order the device sent them');
    await sleep(100);
    assert.equal(dev.hex(), '', 'no ACK reached the closed connection');
  } finally {
    await h.close();
  }
});
