import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { createSocket } from 'node:dgram';
import { fromHex } from '../src/codec/hex.js';
import { recordsFrame, typicalRecord } from '../protocols/ruptela/device-frames.js';
import { startHarness, waitFor } from './support/harness.js';

/**
 * The optional HTTP listener: /healthz, /readyz and a real Prometheus scrape of /metrics after
 * real device traffic (an identification, a records frame, a datagram with a bad CRC, and a
 * connection refused by the blacklist).
 */
const IDENT_ACK = '00027301cb25';
const RECORDS_ACK = '0002640113bc';
const T2_IDENT = '002e000316d53d58d6020f4573303430302e30332e36382e30340000c2b3090d0e950000827b000003e80000003c003c1681';

async function get(port: number, path: string, method = 'GET'): Promise<{ status: number; type: string; body: string }> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, { method });
  return { status: r.status, type: r.headers.get('content-type') ?? '', body: await r.text() };
}

/** The value of one sample line of the exposition text (`name{labels} value`), or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test('http: /healthz, /readyz and /metrics scraped after device traffic', { timeout: 60_000 }, async () => {
  const h = await startHarness({
    channels: [
      { id: 1, protocol: 'ruptela', host: '127.0.0.1', tcp_port: 0, udp_port: 0 },
      { id: 2, protocol: 'ruptela', host: '127.0.0.1', tcp_port: 0, ip_blacklist: ['127.0.0.1'] },
    ],
    extra: { http: { host: '127.0.0.1', port: 0 } },
  });
  const sockets: Socket[] = [];
  const udp = createSocket('udp4');
  try {
    const port = h.app.http!.port;
    assert.ok(port > 0);
    assert.deepEqual(await get(port, '/healthz'), { status: 200, type: 'text/plain', body: 'ok\n' });
    const ready = await get(port, '/readyz');
    assert.equal(ready.status, 200);
    assert.deepEqual(JSON.parse(ready.body), { ready: true, reasons: [] });
    assert.equal((await get(port, '/nope')).status, 404);
    assert.equal((await get(port, '/metrics', 'POST')).status, 405);

    // traffic: identification + one records frame over TCP (2 ACKs, 2 messages)
    const dev = connect({ host: '127.0.0.1', port: h.app.channels[0]!.tcpPort });
    sockets.push(dev);
    let got = '';
    dev.on('data', (b) => (got += b.toString('hex')));
    await new Promise((r) => dev.once('connect', r));
    dev.write(fromHex(T2_IDENT));
    await waitFor('identification ACK', () => got === IDENT_ACK);
    dev.write(recordsFrame(863071018192903n, [typicalRecord(1735689000, 1)]));
    await waitFor('records ACK', () => got === IDENT_ACK + RECORDS_ACK);
    // a datagram with a bad CRC: one decode error, no ACK
    const bad = Buffer.from(recordsFrame(863071018192903n, [typicalRecord(1735689200, 4)]));
    bad[bad.length - 1]! ^= 0xff;
    udp.send(bad, h.app.channels[0]!.udpPort, '127.0.0.1');
    await waitFor('decode error counted', () => h.app.channels[0]!.counters.decodeErrors === 1);
    // a TCP connection refused by channel 2's blacklist
    const refused = connect({ host: '127.0.0.1', port: h.app.channels[1]!.tcpPort });
    sockets.push(refused);
    refused.on('error', () => {});
    await new Promise((r) => refused.once('close', r));

    const m = await get(port, '/metrics');
    assert.equal(m.status, 200);
    assert.match(m.type, /^text\/plain; version=0\.0\.4/);
    const t = m.body;
    assert.equal(sample(t, 'edge_frames_total{channel="1"}'), 3);
    // the identification is a message too (protocols/ruptela/README.md), plus the one record
    assert.equal(sample(t, 'edge_messages_total{channel="1"}'), 2);
    assert.equal(h.received.filter((r) => r.topic.startsWith(`${h.root}/message/`)).length, 2);
    assert.equal(sample(t, 'edge_acks_total{channel="1"}'), 2);
    assert.equal(sample(t, 'edge_decode_errors_total{channel="1",code="EDGE_DECODE_CHECKSUM"}'), 1);
    assert.equal(sample(t, 'edge_guard_drops_total{channel="2",reason="blacklist"}'), 1);
    assert.equal(sample(t, 'edge_guard_drops_total{channel="1",reason="blacklist"}'), 0);
    assert.equal(sample(t, 'edge_connections{channel="1"}'), 1);
    assert.equal(sample(t, 'edge_connections{channel="2"}'), 0);
    assert.equal(sample(t, 'edge_ack_latency_seconds_count{channel="1"}'), 2);
    const within10s = sample(t, 'edge_ack_latency_seconds_bucket{le="10",channel="1"}');
    assert.equal(within10s, 2);
    assert.equal(sample(t, 'edge_pool_pending_frames'), 0);
    assert.equal(sample(t, 'edge_mqtt_connected'), 1);
    assert.equal(sample(t, 'edge_spool_records'), 0);
    assert.equal(sample(t, 'edge_breaker_state{state="closed"}'), 1);
    assert.equal(sample(t, 'edge_breaker_state{state="open"}'), 0);
    assert.ok((sample(t, 'edge_publish_routes_total{route="direct"}') ?? 0) >= 1);
    assert.equal(sample(t, `edge_info{instance="${h.app.config.instance_id}",version="${JSON.parse((await import('node:fs')).readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version}"}`), 1);
    assert.match(t, /^process_cpu_user_seconds_total /m, 'process metrics are exported too');
  } finally {
    for (const s of sockets) s.destroy();
    udp.close();
    await h.close();
  }
});

test('http: /readyz is 503 with the reason when the broker is gone and there is no spool', { timeout: 60_000 }, async () => {
  const h = await startHarness({ extra: { http: { port: 0 }, spool: { enabled: false } } });
  try {
    const port = h.app.http!.port;
    assert.equal((await get(port, '/readyz')).status, 200);
    h.app.publisher.client.end(true); // the MQTT connection is gone and stays gone
    await waitFor('disconnected', () => !h.app.publisher.connected);
    const r = await get(port, '/readyz');
    assert.equal(r.status, 503);
    assert.deepEqual(JSON.parse(r.body), { ready: false, reasons: ['MQTT broker not connected (no spool)'] });
    assert.equal((await get(port, '/healthz')).status, 200, 'alive all the same');
  } finally {
    await h.close();
  }
});

test('http: with the spool on, a lost broker keeps the channel ready (messages go to the spool)', { timeout: 60_000 }, async () => {
  const h = await startHarness({ extra: { http: { port: 0 } } });
  try {
    const port = h.app.http!.port;
    h.app.publisher.client.end(true);
    await waitFor('disconnected', () => !h.app.publisher.connected);
    assert.equal((await get(port, '/readyz')).status, 200);
    assert.equal(sample((await get(port, '/metrics')).body, 'edge_mqtt_connected'), 0);
  } finally {
    await h.close();
  }
});
