/**
 * Connections bench: as many concurrent idle TCP device connections as the machine allows (aim
 * 10,000), held by the channel. Reports the accept rate and the server's RSS per connection, both
 * right after connect (a bare accepted socket) and after each device sent one records frame and
 * got its ACK (identified: session, framer, retained "connected" state on the broker).
 *
 *   node dist/bench/connections-bench.js [--quick] [--connections N]     env: BENCH_CONNECTIONS
 *
 * Clients live in a child process started with a raised open-file limit (ulimit -n is per
 * process); the server side is bounded by this process's own soft limit. RSS is measured after a
 * forced GC; kernel socket buffers are not part of RSS (they are kernel memory).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { startLoadChild } from './lib/load-child.js';
import type { IdleResult, IdentifyResult } from './lib/load-protocol.js';
import { machineLine, openFileLimits } from './lib/machine.js';
import { check, isMain, numArg, quickMode, runAlone, startReport, type BenchReport } from './lib/report.js';
import { mqttReachable, mqttUrlFromEnv, startBenchServer } from './lib/server.js';
import { round, sleep } from './lib/stats.js';
import { mdTable } from './lib/table.js';

export interface ConnectionsOptions {
  quick: boolean;
  connections: number;
  concurrency: number;
}

export interface ConnectionsData {
  requested: number;
  bound_by: string;
  broker: string;
  idle: IdleResult;
  accepted: number;
  accept_ms: number;
  accept_rate_per_s: number;
  rss_baseline_mb: number;
  rss_idle_mb: number;
  rss_identified_mb: number;
  rss_per_idle_conn_kb: number;
  rss_per_identified_conn_kb: number;
  heap_per_identified_conn_kb: number;
  identify: IdentifyResult;
}

export function defaultConnectionsOptions(): ConnectionsOptions {
  const quick = quickMode();
  return { quick, connections: numArg('connections', 'BENCH_CONNECTIONS', quick ? 2_000 : 10_000), concurrency: 256 };
}

function gcFn(): () => void {
  // npm run bench starts node without --expose-gc; RSS per connection needs a settled heap.
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

async function settledRss(gc: () => void): Promise<{ rss: number; heap: number }> {
  for (let i = 0; i < 3; i++) {
    gc();
    await sleep(100);
  }
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed };
}

export async function main(partial: Partial<ConnectionsOptions> = {}): Promise<BenchReport<ConnectionsData>> {
  const o = { ...defaultConnectionsOptions(), ...partial };
  const { machine, t0 } = startReport();
  const self = openFileLimits();
  const serverRoom = (self.soft ?? 1_024) - 512;
  const childRoom = (self.hard ?? self.soft ?? 1_024) - 512;
  const n = Math.max(1, Math.min(o.connections, serverRoom, childRoom));
  const boundBy = n < o.connections ? (n === serverRoom ? `bench process open-file soft limit ${self.soft}` : `open-file hard limit ${self.hard}`) : 'requested count';
  console.log(`connections bench — ${machineLine(machine)}; ${n} connections (${boundBy})`);
  const mqttUrl = mqttUrlFromEnv();
  const external = await mqttReachable(mqttUrl);
  // Mosquitto when there, so the broker's memory is not in the channel's RSS.
  const srv = await startBenchServer({ mqttUrl: external ? mqttUrl : '', maxConnections: n + 1_000 });
  const child = await startLoadChild({ nofile: n + 1_024 });
  const gc = gcFn();
  try {
    await sleep(300);
    const base = await settledRss(gc);
    const a0 = performance.now();
    const idleP = child.call({ type: 'connect-idle', spec: { host: '127.0.0.1', port: srv.channel.tcpPort, count: n, concurrency: o.concurrency } });
    let acceptMs = NaN;
    let done = false;
    void idleP.then(() => (done = true));
    // Accept time as the server sees it: until the channel holds every connection the client got.
    for (;;) {
      const count = srv.channel.connectionCount;
      if (count >= n) {
        acceptMs = performance.now() - a0;
        break;
      }
      if (done) {
        const idleNow = await idleP;
        if (count >= idleNow.connected) {
          acceptMs = performance.now() - a0;
          break;
        }
      }
      if (performance.now() - a0 > 120_000) break;
      await sleep(20);
    }
    const idle = await idleP;
    const accepted = srv.channel.connectionCount;
    const afterIdle = await settledRss(gc);
    const identify = await child.call({ type: 'identify-idle', timeoutMs: 60_000 });
    await sleep(500);
    const afterIdent = await settledRss(gc);
    await child.call({ type: 'close-idle' });
    const until = Date.now() + 10_000;
    while (srv.channel.connectionCount > 0 && Date.now() < until) await sleep(50);
    const mb = (b: number) => round(b / 2 ** 20, 1);
    const perKb = (b: number, count: number) => (count > 0 ? round(b / 1024 / count, 2) : NaN);
    const data: ConnectionsData = {
      requested: o.connections, bound_by: boundBy, broker: external ? mqttUrl : 'embedded aedes (in this process)', idle, accepted,
      accept_ms: Math.round(acceptMs), accept_rate_per_s: Math.round((accepted / acceptMs) * 1000),
      rss_baseline_mb: mb(base.rss), rss_idle_mb: mb(afterIdle.rss), rss_identified_mb: mb(afterIdent.rss),
      rss_per_idle_conn_kb: perKb(afterIdle.rss - base.rss, accepted),
      rss_per_identified_conn_kb: perKb(afterIdent.rss - base.rss, identify.acked),
      heap_per_identified_conn_kb: perKb(afterIdent.heap - base.heap, identify.acked),
      identify,
    };
    console.log(`  ${accepted} accepted in ${data.accept_ms} ms (${data.accept_rate_per_s}/s); RSS ${data.rss_per_idle_conn_kb} KB/idle conn, ${data.rss_per_identified_conn_kb} KB/identified conn`);
    const targets = [
      check('≤ 8 KB RSS per idle connection', `${data.rss_per_idle_conn_kb} KB (${accepted} conns)`, accepted > 0 ? data.rss_per_idle_conn_kb <= 8 : null),
      check('(info) RSS per connection after one frame (identified)', `${data.rss_per_identified_conn_kb} KB`, null, 'not a target: a real idle device has sent at least one frame'),
      check('10,000 concurrent connections', `${accepted}`, accepted >= 10_000, accepted < 10_000 ? boundBy : undefined),
    ];
    const md = [
      `### connections (${machineLine(machine)})`,
      `Broker: ${data.broker}. Clients in a child process (${o.concurrency} connects in flight). RSS of the channel process after forced GC.`,
      '',
      mdTable(['connections', 'client connect time ms', 'client connect p99 ms', 'server accept time ms', 'accept rate /s', 'RSS base MB', 'RSS idle MB', 'KB / idle conn', 'RSS identified MB', 'KB / identified conn', 'heap KB / identified conn', 'identify ms'], [[
        accepted, idle.totalMs, idle.connectMs.p99, data.accept_ms, data.accept_rate_per_s, data.rss_baseline_mb, data.rss_idle_mb, data.rss_per_idle_conn_kb, data.rss_identified_mb, data.rss_per_identified_conn_kb, data.heap_per_identified_conn_kb, identify.totalMs,
      ]], 2),
      idle.failed ? `\nConnect failures: ${idle.failed} (${JSON.stringify(idle.errors)})` : '',
    ].join('\n');
    return { name: 'connections', machine, options: { ...o }, duration_s: round((performance.now() - t0) / 1000, 1), data, targets, markdown: md };
  } finally {
    await child.close();
    await srv.stop();
  }
}

if (isMain(import.meta.url)) await runAlone(() => main());
