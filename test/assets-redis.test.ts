import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { recordsFrame, type SimRecord } from '../protocols/ruptela/device-frames.js';
import { startHarness, waitFor, type Harness } from './support/harness.js';
import { CARD, CARD_IO, IMEI_A as IMEI_X, IMEI_B as IMEI_Y } from './support/driver-card.js';

/**
 * Two running servers (two instances of the channel) on one Redis and one Mosquitto, with the same
 * topic root and asset key prefix: a driver card moves from a Ruptela device on instance A to one on
 * instance B. Needs MQTT_URL and REDIS_URL (scripts/test-services.js sets both when it finds or
 * starts the services); skipped with the reason otherwise (the embedded broker serves one instance).
 */
const X = IMEI_X.toString();
const Y = IMEI_Y.toString();

const skip = !process.env.MQTT_URL ? 'MQTT_URL not set (two instances need a broker both reach)' : !process.env.REDIS_URL ? 'REDIS_URL not set' : false;
if (skip) console.log(`# assets-redis: skipped: ${skip}`);

const rec = (timestamp: number, card: boolean): SimRecord => ({ timestamp, latitude: 54.68, longitude: 25.28, satellites: 9, speedKph: 30, ...(card ? { io8: CARD_IO } : {}) });

async function device(port: number): Promise<{ socket: Socket; acks: number }> {
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, noDelay: true }, () => resolve(s));
    s.once('error', reject);
  });
  const d = { socket, acks: 0 };
  socket.on('data', (b) => (d.acks += b.length / 6));
  socket.on('error', () => {});
  return d;
}

async function send(d: { socket: Socket; acks: number }, imei: bigint, records: SimRecord[]): Promise<void> {
  const want = d.acks + 1;
  d.socket.write(recordsFrame(imei, records));
  await waitFor('ACK', () => d.acks >= want, 5000);
}

const iv = (id: number, begin: number, end: number, ident: string) => ({ id, begin, end, ident, channel_id: 1, meta: null, source: 'auto' });

test('two instances on one Redis and Mosquitto: a card moves from a device on A to a device on B; events once, retained state, shared management', { skip, timeout: 60_000 }, async () => {
  const prefix = `edge-test-assets-app-${randomBytes(4).toString('hex')}:`;
  const extra = {
    redis_url: process.env.REDIS_URL,
    assets: [{ id: 'drv-1', name: 'Anna Driver', type: 'driver', match: { parameter: 'tacho.fms.driver.id.1', value: CARD } }],
    asset_settings: { absence_grace_s: 0, redis_prefix: prefix },
  };
  const t0 = Math.floor(Date.now() / 1000) - 3600;
  const a = await startHarness({ brokerUrl: process.env.MQTT_URL, extra });
  let b: Harness | null = null;
  try {
    b = await startHarness({ brokerUrl: process.env.MQTT_URL, extra: { ...extra, mqtt: { topic_root: a.root } } });
    const root = a.root;
    const got = (suffix: string) => a.received.filter((r) => r.topic === `${root}/${suffix}`);
    const events = () => a.received.filter((r) => r.topic.startsWith(`${root}/log/gw/assets/drv-1/intervals/`)).map((r) => `${r.topic.split('/').at(-1)}:${String((JSON.parse(r.payload) as { id: number }).id)}`);
    const x = await device(a.app.channels[0]!.tcpPort);
    const y = await device(b.app.channels[0]!.tcpPort);

    await send(x, IMEI_X, [rec(t0 + 10, true)]);
    // B hears of A's write (Redis notice) before its device sends; a late notice would cost a resend
    await waitFor('B to see A’s interval', () => b!.app.assets.timeline('drv-1')!.intervals.length === 1);
    await send(y, IMEI_Y, [rec(t0 + 40, true)]);
    const want = [iv(1, t0 + 10, t0 + 40, X), iv(2, t0 + 40, 0, Y)];
    assert.deepEqual(b.app.assets.timeline('drv-1')!.intervals, want);
    await waitFor('A to see B’s change', () => a.app.assets.timeline('drv-1')!.intervals.length === 2);
    assert.deepEqual(a.app.assets.timeline('drv-1')!.intervals, want);
    // X goes on without the card on A: A does not close (or reopen) what B already closed
    await send(x, IMEI_X, [rec(t0 + 50, false)]);
    assert.deepEqual(a.app.assets.timeline('drv-1')!.intervals, want);

    await waitFor('events', () => events().length >= 3);
    await waitFor('the retained state of B’s interval', () => got('state/gw/assets/drv-1/active').at(-1)?.payload === JSON.stringify(want[1]));
    // messages of each device carry the asset at their own time
    const msgs = (ident: string) => got(`message/gw/channels/1/${ident}`).map((r) => (JSON.parse(r.payload) as Record<string, unknown>)['asset.driver.id'] ?? null);
    await waitFor('messages', () => msgs(X).length === 2 && msgs(Y).length === 1);
    assert.deepEqual(msgs(X), ['drv-1', null]);
    assert.deepEqual(msgs(Y), ['drv-1']);

    // a management request reaches one instance (shared subscription), not both
    await a.sub.publishAsync(`${root}/command/gw/assets`, JSON.stringify({ op: 'close', id: 'drv-1', request_id: 'r1', end: t0 + 60 }), { qos: 1 });
    await waitFor('the answer', () => got('log/gw/assets/requests/applied').length + got('log/gw/assets/requests/rejected').length >= 1);
    await new Promise((r) => setTimeout(r, 500)); // a second answer, if any, would arrive by now
    assert.equal(got('log/gw/assets/requests/applied').length, 1);
    assert.deepEqual(got('log/gw/assets/requests/rejected'), []);
    const closed = [want[0], iv(2, t0 + 40, t0 + 60, Y)];
    await waitFor('both to see the close', () => a.app.assets.timeline('drv-1')!.intervals[1]!.end === t0 + 60 && b!.app.assets.timeline('drv-1')!.intervals[1]!.end === t0 + 60);
    assert.deepEqual(a.app.assets.timeline('drv-1')!.intervals, closed);
    await waitFor('events', () => events().length >= 4);
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(events(), ['created:1', 'closed:1', 'created:2', 'closed:2'], 'each change published once, by the instance that made it');
    await waitFor('cleared', () => got('state/gw/assets/drv-1/active').at(-1)?.payload === '');
    x.socket.destroy();
    y.socket.destroy();
  } finally {
    if (b) await b.close();
    await a.close();
    const r = new Redis(process.env.REDIS_URL!);
    const keys = await r.keys(`${prefix}*`);
    if (keys.length) await r.del(...keys);
    await r.quit();
  }
});
