/**
 * What a full resync of retained state costs (README "Retained state after a broker outage"):
 * 100,000 connected devices (`connected true` + the channel's counts, the channel log's real
 * republish path) and 10,000 assets (the asset service's real republishState, half of them with an
 * active interval), published through the project's Publisher and MessageSink to a private
 * Mosquitto. Reported: how long issuing takes (main thread blocked), how long until the broker
 * confirmed everything, the retained topics a fresh client then reads, and the hot path meanwhile:
 * a steady stream of device messages (QoS 1, their own lane, as a channel publishes them) with its
 * publish → PUBACK latency before and during the resync.
 *
 *   node dist/bench/resync-bench.js [--devices 100000] [--assets 10000] [--rate 2000]
 */
import { Writable } from 'node:stream';
import { connectAsync } from 'mqtt';
import { AssetService } from '../src/assets/asset-service.js';
import type { AssetStore } from '../src/assets/asset-store.js';
import type { AssetRecord } from '../src/assets/types.js';
import { ChannelLog } from '../src/channel/channel-log.js';
import { validateConfig } from '../src/config/validate.js';
import { MessageSink } from '../src/message/message-sink.js';
import { Publisher, mqttClientOptions } from '../src/mqtt/publisher.js';
import { makeTopics } from '../src/mqtt/topics.js';
import { createLogger } from '../src/util/log.js';
import { machineInfo, machineLine } from './lib/machine.js';
import { arg, isMain } from './lib/report.js';
import { mosquittoBinary, startPrivateMosquitto } from './lib/private-mosquitto.js';

const DEVICES = Number(arg('devices') ?? 100_000);
const ASSETS = Number(arg('assets') ?? 10_000);
const RATE = Number(arg('rate') ?? 2000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));



function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! * 100) / 100;
}

/** Device messages at RATE/s on their own lanes; returns the publish → PUBACK latencies (ms) of `ms` of traffic. */
async function deviceTraffic(sink: MessageSink, ms: number): Promise<[sentAt: number, ms: number][]> {
  const lat: [number, number][] = [];
  const payload = JSON.stringify({ ident: 'x', timestamp: 1, 'position.latitude': 54.1, 'position.longitude': 25.3, 'position.speed': 42, 'engine.ignition.status': true, 'external.powersource.voltage': 12.7 });
  const perTick = Math.max(1, Math.round(RATE / 100));
  const end = performance.now() + ms;
  let n = 0;
  const pending: Promise<void>[] = [];
  while (performance.now() < end) {
    for (let i = 0; i < perTick; i++, n++) {
      const t = performance.now();
      pending.push(new Promise<void>((resolve) => sink.message('9', `dev${n % 1000}`, payload, () => (lat.push([t, performance.now() - t]), resolve()), 1 + (n % 1000), 0)));
    }
    await sleep(10);
  }
  await Promise.all(pending);
  return lat;
}

async function readRetained(url: string, filter: string, expect: number): Promise<number> {
  const c = await connectAsync(url, { clean: true });
  let n = 0;
  let last = Date.now();
  c.on('message', (_t, _p, packet) => {
    if (packet.retain) n++;
    last = Date.now();
  });
  await c.subscribeAsync(filter, { qos: 0 });
  while (n < expect && Date.now() - last < 2000) await sleep(50);
  await c.endAsync();
  return n;
}

export async function main(): Promise<Record<string, unknown>> {
  const machine = machineInfo();
  console.log(`resync bench — ${machineLine(machine)}\n`);
  if (!mosquittoBinary()) {
    console.log('mosquitto is not installed: skipped (apt-get install mosquitto)');
    return { skipped: 'no mosquitto' };
  }
  const broker = await startPrivateMosquitto();
  const root = `benchresync${process.pid}`;
  const topics = makeTopics(root);
  const cfg = validateConfig({ instance_id: root, mqtt: { url: broker.url, topic_root: root }, channels: [{ id: 1, protocol: 'ruptela', tcp_port: 0 }] });
  const publisher = new Publisher(broker.url, mqttClientOptions(cfg.mqtt, root), cfg.mqtt.max_inflight, cfg.mqtt.max_queued);
  await publisher.waitConnected(5000);
  const sink = new MessageSink(publisher, topics);
  const log = createLogger('silent', new Writable({ write: (_c, _e, cb) => cb() }));
  try {
    // the assets as a store would load them: every other one with an open (active) interval
    const now = Math.floor(Date.now() / 1000);
    const records: AssetRecord[] = Array.from({ length: ASSETS }, (_, i) => ({
      asset: { id: `a${i}`, name: `Asset ${i}`, type: i % 2 ? 'driver' : 'trailer' },
      rev: 1,
      next_interval_id: 2,
      intervals: i % 2 ? [{ id: 1, begin: now - 3600, end: 0, ident: `35630704${String(i).padStart(7, '0')}`, channel_id: 1, meta: { by: 'bench' }, source: 'manual' as const }] : [],
    }));
    const store: AssetStore = { load: async () => records, get: async (id) => records.find((r) => r.asset.id === id) ?? null, put: async () => true, delete: async () => true, close: async () => undefined };
    const assets = new AssetService({ store, mqtt: sink, topics, settings: { absence_grace_s: 0, max_intervals: 100, max_late_s: 86400, max_future_s: 300, max_meta_bytes: 8192 }, declared: [], log, setWatch: () => undefined });
    await assets.start(); // publishes every active state once, as a start does
    const channelLog = new ChannelLog('1', sink);
    const idents = Array.from({ length: DEVICES }, (_, i) => `35630704${String(i).padStart(7, '0')}`);

    const baseline = await deviceTraffic(sink, 3000);
    // the resync, with the device stream running across it
    const during = deviceTraffic(sink, 6000);
    await sleep(500);
    const t0 = performance.now();
    const devicesN = channelLog.republish(idents, DEVICES);
    const tDevices = performance.now() - t0;
    const assetsN = await assets.republishState();
    const issued = performance.now() - t0;
    // state publishes keep their order on their lane: once this one is confirmed, all before it are
    await new Promise<void>((resolve) => sink.state(topics.channelState('1', 'bench_sentinel'), 'done', () => resolve()));
    const confirmed = performance.now() - t0;
    // the device messages sent while the resync was being issued and confirmed
    const duringLat = (await during).filter(([at]) => at >= t0 && at <= t0 + confirmed).map(([, ms]) => ms);
    const baselineLat = baseline.map(([, ms]) => ms);
    // an asset with no active interval is an empty retained payload: it clears the topic
    const expectRetained = devicesN + records.filter((r) => r.intervals.length > 0).length + 1;
    const onBroker = await readRetained(broker.url, `${root}/state/#`, expectRetained);
    await assets.stop(1000);

    const data = {
      devices: DEVICES,
      assets: ASSETS,
      retained_publishes: devicesN + assetsN,
      issue_ms: { devices: Math.round(tDevices), total: Math.round(issued) },
      confirmed_ms: Math.round(confirmed),
      publishes_per_s: Math.round(((devicesN + assetsN) / confirmed) * 1000),
      retained_on_broker: onBroker,
      retained_expected: expectRetained,
      hot_path: {
        rate_per_s: RATE,
        baseline_p50_ms: pct(baselineLat, 50),
        baseline_p99_ms: pct(baselineLat, 99),
        during_p50_ms: pct(duringLat, 50),
        during_p99_ms: pct(duringLat, 99),
        during_max_ms: pct(duringLat, 100),
        during_samples: duringLat.length,
      },
    };
    console.log(`${DEVICES} devices + ${ASSETS} assets = ${data.retained_publishes} retained publishes`);
    console.log(`issued in ${data.issue_ms.total} ms (devices ${data.issue_ms.devices} ms), all confirmed by the broker after ${data.confirmed_ms} ms (${data.publishes_per_s} publishes/s)`);
    console.log(`retained topics a fresh client reads afterwards: ${onBroker} of ${expectRetained} expected (connected devices, connections_count, active assets, the sentinel)`);
    console.log(`device messages at ${RATE}/s, publish → PUBACK: before p50 ${data.hot_path.baseline_p50_ms} / p99 ${data.hot_path.baseline_p99_ms} ms; sent during the resync (${duringLat.length}) p50 ${data.hot_path.during_p50_ms} / p99 ${data.hot_path.during_p99_ms} / max ${data.hot_path.during_max_ms} ms`);
    return data;
  } finally {
    await publisher.close();
    await broker.stop();
  }
}

if (isMain(import.meta.url)) await main();
