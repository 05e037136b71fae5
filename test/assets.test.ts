import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import { recordsFrame, type SimRecord } from '../protocols/ruptela/device-frames.js';
import { startHarness, waitFor, type Harness } from './support/harness.js';
import { CARD, CARD_IO, IMEI_A, IMEI_B } from './support/driver-card.js';

/**
 * Assets through the running server: Ruptela devices on real TCP sockets send records whose IO
 * 155 + 156 carry a tachograph driver card (`tacho.fms.driver.id.1`), the decode path returns that
 * parameter per message, the asset service opens and closes intervals at device time, messages
 * carry `asset.driver.*`, the retained active interval and lifecycle events go to a real broker.
 * Embedded broker always, Mosquitto when MQTT_URL is set.
 */
const A = IMEI_A.toString();
const B = IMEI_B.toString();

function rec(timestamp: number, card: boolean): SimRecord {
  return { timestamp, latitude: 54.68, longitude: 25.28, satellites: 9, speedKph: 30, ...(card ? { io8: CARD_IO } : {}) };
}

interface Device {
  socket: Socket;
  acks: number;
}

async function device(port: number): Promise<Device> {
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, noDelay: true }, () => resolve(s));
    s.once('error', reject);
  });
  const d: Device = { socket, acks: 0 };
  // a records ACK is 6 bytes (len, 0x64, 0x01, CRC)
  socket.on('data', (b) => (d.acks += b.length / 6));
  socket.on('error', () => {});
  return d;
}

/** Sends one frame and waits for its ACK (it is written only once the frame's effects are durable). */
async function send(d: Device, imei: bigint, records: SimRecord[]): Promise<void> {
  const want = d.acks + 1;
  d.socket.write(recordsFrame(imei, records));
  await waitFor('ACK', () => d.acks >= want, 5000);
}

type Msg = Record<string, unknown>;
const messages = (h: Harness, ident: string): Msg[] => h.received.filter((r) => r.topic === `${h.root}/message/gw/channels/1/${ident}`).map((r) => JSON.parse(r.payload) as Msg);
const activeTopic = (root: string) => `${root}/state/gw/assets/drv-1/active`;
const states = (h: Harness) => h.received.filter((r) => r.topic === activeTopic(h.root)).map((r) => (r.payload ? (JSON.parse(r.payload) as Msg) : null));
const events = (h: Harness) => h.received.filter((r) => r.topic.startsWith(`${h.root}/log/gw/assets/drv-1/intervals/`)).map((r) => `${r.topic.split('/').at(-1)}:${String((JSON.parse(r.payload) as Msg).id)}`);

const iv = (id: number, begin: number, end: number, ident: string) => ({ id, begin, end, ident, channel_id: 1, meta: null, source: 'auto' });

function suite(name: string, brokerUrl?: string, threads: number | 'inline' = 'inline') {
  test(`${name}: a replayed Ruptela session (card in vehicle A, out, in vehicle B; then A's black box) gives exact intervals, retained states and asset fields; a restart keeps it`, { timeout: 60_000 }, async () => {
    const assetDir = mkdtempSync(join(tmpdir(), 'edge-assets-'));
    const extra = {
      assets: [{ id: 'drv-1', name: 'Anna Driver', type: 'driver', match: { parameter: 'tacho.fms.driver.id.1', value: CARD } }],
      asset_settings: { dir: assetDir, absence_grace_s: 0 },
    };
    const t0 = Math.floor(Date.now() / 1000) - 3600;
    const h = await startHarness({ brokerUrl, extra, threads });
    let h2: Harness | null = null;
    try {
      const port = h.app.channels[0]!.tcpPort;
      const a = await device(port);
      const b = await device(port);
      await send(a, IMEI_A, [rec(t0, false)]);
      await send(a, IMEI_A, [rec(t0 + 10, true)]);
      await waitFor('active A', () => states(h).at(-1)?.ident === A);
      await send(a, IMEI_A, [rec(t0 + 20, true)]);
      await send(a, IMEI_A, [rec(t0 + 30, false)]);
      await waitFor('cleared', () => states(h).at(-1) === null && states(h).length >= 2);
      await send(b, IMEI_B, [rec(t0 + 50, true)]);
      await waitFor('active B', () => states(h).at(-1)?.ident === B);

      assert.deepEqual(h.app.assets.timeline('drv-1')!.intervals, [iv(1, t0 + 10, t0 + 30, A), iv(2, t0 + 50, 0, B)]);
      // A active, none, B active: exactly these retained publications (the start's empty one came before the subscriber)
      assert.deepEqual(states(h), [iv(1, t0 + 10, 0, A), null, iv(2, t0 + 50, 0, B)]);
      await waitFor('events', () => events(h).length >= 3);
      assert.deepEqual(events(h), ['created:1', 'closed:1', 'created:2']);
      await waitFor('messages', () => messages(h, A).length === 4 && messages(h, B).length === 1);
      assert.deepEqual(messages(h, A).map((m) => [m.timestamp, m['tacho.fms.driver.id.1'] ?? null, m['asset.driver.id'] ?? null, m['asset.driver.name'] ?? null]), [
        [t0, null, null, null],
        [t0 + 10, CARD, 'drv-1', 'Anna Driver'],
        [t0 + 20, CARD, 'drv-1', 'Anna Driver'],
        [t0 + 30, null, null, null],
      ]);
      assert.equal(messages(h, B)[0]!['asset.driver.id'], 'drv-1');

      // A's black box arrives late (one frame, oldest first): the card was in A again from +35 to +45
      await send(a, IMEI_A, [rec(t0 + 35, true), rec(t0 + 40, true), rec(t0 + 45, false)]);
      assert.deepEqual(h.app.assets.timeline('drv-1')!.intervals, [iv(1, t0 + 10, t0 + 30, A), iv(3, t0 + 35, t0 + 45, A), iv(2, t0 + 50, 0, B)]);
      await waitFor('late messages', () => messages(h, A).length === 7);
      assert.deepEqual(messages(h, A).slice(4).map((m) => m['asset.driver.id'] ?? null), ['drv-1', 'drv-1', null], 'late records carry the asset they had at device time');
      assert.deepEqual(states(h).at(-1), iv(2, t0 + 50, 0, B), 'the active interval is still B');

      // a late subscriber gets the current active interval, retained
      const late = await connectAsync(h.app.brokerUrl, { clientId: `late-${h.root}`, clean: true });
      try {
        const got = new Promise<{ payload: string; retain: boolean }>((resolve) => late.on('message', (_t, p, pk) => resolve({ payload: p.toString(), retain: pk.retain })));
        await late.subscribeAsync(activeTopic(h.root), { qos: 1 });
        const m = await got;
        assert.equal(m.retain, true);
        assert.deepEqual(JSON.parse(m.payload), iv(2, t0 + 50, 0, B));
      } finally {
        await late.endAsync();
      }

      // bad input at the management topic: rejected with a reason, nothing applied
      await h.sub.publishAsync(`${h.root}/command/gw/assets`, '{"op":"assign","id":"drv-1","channel_id":1,"ident":"x","begin":' + (t0 + 20) + '}', { qos: 1 });
      await h.sub.publishAsync(`${h.root}/command/gw/assets`, 'not json', { qos: 1 });
      const rejected = await waitFor('rejections', () => {
        const r = h.received.filter((x) => x.topic === `${h.root}/log/gw/assets/requests/rejected`);
        return r.length >= 2 && r;
      });
      assert.match((JSON.parse(rejected[0]!.payload) as Msg).reason as string, /overlaps interval 1/);
      assert.match((JSON.parse(rejected[1]!.payload) as Msg).reason as string, /malformed JSON/);
      const metrics = await h.app.metrics.text();
      for (const [event, n] of [['opened', 3], ['ended', 2], ['late_conflicts', 0], ['requests_rejected', 2], ['requests_applied', 0]] as const) {
        assert.match(metrics, new RegExp(`edge_asset_events_total\\{event="${event}"\\} ${n}\\n`), event);
      }
      const before = h.app.assets.timeline('drv-1');
      assert.equal(before!.intervals.length, 3);

      a.socket.destroy();
      b.socket.destroy();
      const root = h.root;
      await h.close();
      // restart on the same asset store and topic root (a fresh embedded broker has lost every retained message)
      h2 = await startHarness({ brokerUrl, threads, extra: { ...extra, mqtt: { topic_root: root } } });
      assert.deepEqual(h2.app.assets.timeline('drv-1'), before);
      const watcher = await connectAsync(h2.app.brokerUrl, { clientId: `w-${root}`, clean: true });
      try {
        const got = new Promise<string>((resolve) => watcher.on('message', (_t, p) => resolve(p.toString())));
        await watcher.subscribeAsync(activeTopic(root), { qos: 1 });
        assert.deepEqual(JSON.parse(await got), iv(2, t0 + 50, 0, B), 'republished at start');
      } finally {
        await watcher.endAsync();
      }
      // B goes on where it left: the card stays, then is removed
      const b2 = await device(h2.app.channels[0]!.tcpPort);
      await send(b2, IMEI_B, [rec(t0 + 60, true), rec(t0 + 70, false)]);
      assert.deepEqual(h2.app.assets.timeline('drv-1')!.intervals.at(-1), iv(2, t0 + 50, t0 + 70, B));
      b2.socket.destroy();
    } finally {
      if (h2) await h2.close();
      else await h.close().catch(() => undefined);
      rmSync(assetDir, { recursive: true, force: true });
    }
  });
}

// a worker thread: the watched values cross the thread boundary in the packed outcomes
suite('embedded broker, worker pool', undefined, 1);
if (process.env.MQTT_URL) suite('Mosquitto, inline decode', process.env.MQTT_URL);
