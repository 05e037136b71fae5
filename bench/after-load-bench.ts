/**
 * After-load bench: D devices connect at the same moment (after an outage), each flushing a
 * backlog of B records stop-and-wait (frames of 10 records), while 50 live devices keep sending
 * one frame per second. Measures: time until every backlog record is ACKed and until the
 * subscriber has counted every one (by ident + timestamp, so losses and duplicates show), the
 * live devices' ACK latency during the storm, the storm's connect (accept) latency, peak RSS.
 *
 * With --broker-down-ms N (the outage variant) the channel reaches the broker through a proxy
 * that is cut for the first N ms of the storm: the storm lands in the durable spool and drains
 * once the broker is back; the report adds the spool's peak depth and the drain time.
 *
 *   node dist/bench/after-load-bench.js [--quick] [--devices N] [--backlog N] [--broker-down-ms N]
 *   env: BENCH_STORM_DEVICES, BENCH_BACKLOG, BENCH_BROKER_DOWN_MS, MQTT_URL
 */
import { startCutProxy, type CutProxy } from './lib/cut-proxy.js';
import { ReliablePublisher } from '../src/reliability/reliable-publisher.js';
import { startLoadChild } from './lib/load-child.js';
import type { StormResult, SubStats } from './lib/load-protocol.js';
import { machineLine } from './lib/machine.js';
import { cpuMeter, rssPeak, type CpuDelta } from './lib/proc-cpu.js';
import { benchBroker } from './lib/private-mosquitto.js';
import { check, isMain, numArg, quickMode, runAlone, startReport, type BenchReport } from './lib/report.js';
import { IMEI, TS_BASE } from './lib/ruptela-frames.js';
import { mqttReachable, startBenchServer, subscriberQos } from './lib/server.js';
import { round, sleep } from './lib/stats.js';
import { mdTable } from './lib/table.js';

export interface AfterLoadOptions {
  quick: boolean;
  devices: number;
  backlog: number;
  recordsPerFrame: number;
  live: number;
  timeoutMs: number;
  /** > 0: the broker is unreachable for the channel during the first N ms of the storm. */
  brokerDownMs: number;
}

export interface AfterLoadData {
  broker: string;
  storm: StormResult;
  subscriber: SubStats;
  /** Storm start → subscriber counted every backlog record (null: never, within the timeout). */
  on_broker_ms: number | null;
  lost: number;
  peak_rss_mb: number;
  cpu: CpuDelta;
  channel_counters: Record<string, number>;
  /** Outage variant only: the broker was cut for this long from the storm start. */
  broker_down_ms?: number;
  spool_peak_records?: number;
  spool_peak_bytes?: number;
  /** Broker back → subscriber counted every record. */
  drain_ms?: number | null;
}

export function defaultAfterLoadOptions(): AfterLoadOptions {
  const quick = quickMode();
  return {
    quick,
    devices: numArg('devices', 'BENCH_STORM_DEVICES', quick ? 500 : 2_000),
    backlog: numArg('backlog', 'BENCH_BACKLOG', quick ? 100 : 200),
    recordsPerFrame: 10,
    live: 50,
    timeoutMs: 180_000,
    brokerDownMs: numArg('broker-down-ms', 'BENCH_BROKER_DOWN_MS', 0),
  };
}

export async function main(partial: Partial<AfterLoadOptions> = {}): Promise<BenchReport<AfterLoadData>> {
  const o = { ...defaultAfterLoadOptions(), ...partial };
  const { machine, t0 } = startReport();
  console.log(`after-load bench — ${machineLine(machine)}; ${o.devices} devices × ${o.backlog} records, ${o.live} live devices`);
  const broker = await benchBroker();
  const mqttUrl = broker.url;
  const external = await mqttReachable(mqttUrl);
  const outage = o.brokerDownMs > 0;
  if (outage && !external) throw new Error('the outage variant needs an external broker (MQTT_URL / Mosquitto on 127.0.0.1:1883)');
  let proxy: CutProxy | null = null;
  if (outage) {
    const u = new URL(mqttUrl);
    proxy = await startCutProxy({ host: u.hostname, port: Number(u.port || 1883) });
  }
  const srv = await startBenchServer({ mqttUrl: proxy ? proxy.url : external ? mqttUrl : '', maxConnections: o.devices + o.live + 1_000 });
  const load = await startLoadChild({ nofile: o.devices + o.live + 2_048 });
  const sub = await startLoadChild();
  try {
    await sub.call({ type: 'subscribe', url: proxy ? mqttUrl : srv.brokerUrl, topic: `${srv.root}/message/#`, qos: subscriberQos(), track: { identBase: IMEI.storm, devices: o.devices, recordsPerDevice: o.backlog, tsBase: TS_BASE } });
    const meter = cpuMeter({ broker: external ? broker.pid : null, load: load.pid, sub: sub.pid });
    const rss = rssPeak(100);
    // Outage: cut the broker when the storm starts (after the load's pre-storm phase), restore later.
    const PRE_STORM_MS = 2_000;
    let restoredAt = 0;
    const spoolPeak = { records: 0, bytes: 0 };
    const timers: NodeJS.Timeout[] = [];
    if (proxy) {
      const p = proxy;
      const rp = srv.app.publisher instanceof ReliablePublisher ? srv.app.publisher : null;
      timers.push(setTimeout(() => p.cut(), PRE_STORM_MS));
      timers.push(setTimeout(() => {
        p.restore();
        restoredAt = Date.now();
      }, PRE_STORM_MS + o.brokerDownMs));
      if (rp) {
        const sample = setInterval(() => {
          const m = rp.metrics();
          spoolPeak.records = Math.max(spoolPeak.records, m.spool_records);
          spoolPeak.bytes = Math.max(spoolPeak.bytes, m.spool_bytes);
        }, 100);
        timers.push(sample);
      }
    }
    const storm = await load.call({
      type: 'storm',
      spec: { host: '127.0.0.1', port: srv.channel.tcpPort, storm: o.devices, backlogRecords: o.backlog, recordsPerFrame: o.recordsPerFrame, live: o.live, liveIntervalMs: 1_000, preStormMs: PRE_STORM_MS, timeoutMs: o.timeoutMs },
    });
    const cpu = meter();
    const peak = rss.stop();
    // The broker may still be delivering to the subscriber: wait for the count (bounded).
    let s = await sub.call({ type: 'sub-stats' });
    const until = Date.now() + (outage ? 120_000 : 30_000);
    while (s.unique < storm.recordsExpected && Date.now() < until) {
      await sleep(250);
      s = await sub.call({ type: 'sub-stats' });
    }
    for (const t of timers) clearTimeout(t);
    const data: AfterLoadData = {
      broker: external ? broker.note : 'embedded aedes',
      storm, subscriber: s,
      on_broker_ms: s.completeAtEpochMs === null ? null : s.completeAtEpochMs - storm.stormStartEpochMs,
      lost: storm.recordsExpected - s.unique,
      peak_rss_mb: peak, cpu,
      channel_counters: { ...srv.channel.counters },
    };
    if (outage) {
      data.broker_down_ms = o.brokerDownMs;
      data.spool_peak_records = spoolPeak.records;
      data.spool_peak_bytes = spoolPeak.bytes;
      data.drain_ms = s.completeAtEpochMs === null || restoredAt === 0 ? null : s.completeAtEpochMs - restoredAt;
      console.log(`  outage ${o.brokerDownMs} ms: spool peak ${spoolPeak.records} records (${round(spoolPeak.bytes / 1048576, 1)} MiB), drained to the broker ${data.drain_ms ?? '–'} ms after it came back`);
    }
    console.log(`  all ACKed in ${storm.allAckedMs ?? '–'} ms, on broker in ${data.on_broker_ms ?? '–'} ms; lost ${data.lost}, duplicates ${s.duplicates}; live p99 ${storm.liveDuringMs.p99} ms (load generator's own loop delay p99 ${storm.loadLoopDelayP99Ms} ms, max ${storm.loadLoopDelayMaxMs} ms); connect max ${storm.connectMs.max} ms`);
    const rate = storm.allAckedMs ? Math.round((storm.recordsAcked / storm.allAckedMs) * 1000) : null;
    const targets = [
      check('every backlog record delivered (ACKed and on the broker)', `${s.unique} / ${storm.recordsExpected} on broker (${storm.recordsAcked} ACKed, ${s.duplicates} duplicates)`, data.lost === 0 && storm.recordsAcked === storm.recordsExpected),
      check('live-device p99 ACK ≤ 250 ms during the storm', `${storm.liveDuringMs.p99} ms (${storm.liveDuringMs.count} frames; before: ${storm.liveBeforeMs.p99} ms)`, storm.liveDuringMs.count > 0 ? storm.liveDuringMs.p99 <= 250 : null),
      check('no accept stall > 1 s (storm connect latency max)', `${storm.connectMs.max} ms (p99 ${storm.connectMs.p99})`, storm.connectMs.count > 0 ? storm.connectMs.max <= 1_000 : null,
        storm.connectMs.max > 1_000 ? 'a dropped SYN is retried after 1 s: listen backlog / accept loop' : undefined),
    ];
    if (outage) targets.push(check('outage: every record spooled and drained (none lost)', `${s.unique} / ${storm.recordsExpected}; spool peak ${spoolPeak.records} records; drain ${data.drain_ms ?? '–'} ms`, data.lost === 0 && storm.recordsAcked === storm.recordsExpected));
    const name = outage ? 'after-load-outage' : 'after-load';
    const md = [
      `### ${name} (${machineLine(machine)})`,
      ...(outage ? [`The broker is unreachable for the channel during the first ${o.brokerDownMs} ms of the storm (a cut proxy; Mosquitto and the subscriber stay up): the storm lands in the spool, then drains. Spool peak ${spoolPeak.records} records (${round(spoolPeak.bytes / 1048576, 1)} MiB); broker back → every record on the subscriber in ${data.drain_ms ?? '–'} ms.`] : []),
      `Broker: ${data.broker}, subscriber QoS ${subscriberQos()}. ${o.devices} devices connect at once, each sends ${o.backlog} records in frames of ${o.recordsPerFrame} (stop-and-wait); ${o.live} live devices send 1 frame/s throughout.`,
      '',
      mdTable(['storm devices', 'records', 'all ACKed s', 'on broker s', 'backlog rec/s', 'lost', 'duplicates', 'connect p50 ms', 'connect p99 ms', 'connect max ms', 'first ACK p99 ms', 'live p99 before ms', 'live p50 during ms', 'live p99 during ms', 'live max during ms', 'reconnects', 'peak RSS MB', 'channel CPU % (storm)', 'broker CPU %'], [[
        o.devices, storm.recordsExpected, storm.allAckedMs === null ? null : storm.allAckedMs / 1000, data.on_broker_ms === null ? null : data.on_broker_ms / 1000, rate, data.lost, s.duplicates,
        storm.connectMs.p50, storm.connectMs.p99, storm.connectMs.max, storm.firstAckMs.p99, storm.liveBeforeMs.p99, storm.liveDuringMs.p50, storm.liveDuringMs.p99, storm.liveDuringMs.max, storm.reconnects, peak, cpu.self_pct, cpu.others.broker?.pct,
      ]], 2),
    ].join('\n');
    return { name, machine, options: { ...o }, duration_s: round((performance.now() - t0) / 1000, 1), data, targets, markdown: md };
  } finally {
    await load.close();
    await sub.close();
    await srv.stop();
    await proxy?.close();
    await broker.stop();
  }
}

if (isMain(import.meta.url)) await runAlone(() => main());
