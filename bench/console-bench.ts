/**
 * Web console bench (README "Web console", bench/README.md "Web console"): what the console costs
 * the server. Same run, same device load (Ruptela devices at a fixed frame rate over loopback, in a
 * child process, embedded broker), three variants on a fresh server each, in alternating rounds:
 *   - `no-http`:   no HTTP listener at all (the baseline);
 *   - `console-0`: the API and the console served, nobody looking (must cost nothing: the live feed
 *                  subscribes only while a console is open);
 *   - `console-10`: ten live feeds open on the busy channel, each wanting every message of it (the
 *                  Devices page's feed), read by a child process as ten browsers would.
 * CPU is the server process's (all threads: main, decode workers, the embedded broker).
 *
 *   node dist/bench/console-bench.js [--quick] [--devices N] [--fps N] [--duration-ms N] [--rounds N] [--consoles N]
 */
import '../src/mqtt/quiet-packet-debug.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { startLoadChild } from './lib/load-child.js';
import { cpuMeter, type CpuDelta } from './lib/proc-cpu.js';
import { isMain, numArg, quickMode } from './lib/report.js';
import { startBenchServer } from './lib/server.js';
import { sleep } from './lib/stats.js';

const TOKEN = 'read-token-console-bench-0123456789';

type Variant = 'no-http' | 'console-0' | 'console-10';

interface Row {
  variant: Variant;
  round: number;
  recordsPerS: number;
  cpuPct: number;
  mainPct: number | null;
  usPerRecord: number;
  feedEvents: number;
}

/** N live feeds in one child process: each reads its stream and counts events (like a browser tab, minus rendering). */
function startFeeds(url: string, n: number): Promise<{ child: ChildProcess; events: () => Promise<number> }> {
  const script = `
    let events = 0;
    const open = [];
    for (let i = 0; i < ${n}; i++) open.push((async () => {
      const r = await fetch(${JSON.stringify(url)}, { headers: { authorization: 'Bearer ${TOKEN}' } });
      const reader = r.body.getReader();
      const dec = new TextDecoder();
      let ready = false;
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        const t = dec.decode(value);
        if (!ready && t.includes('event: ready')) { ready = true; process.send('ready'); }
        events += t.split('event: message').length - 1;
      }
    })());
    process.on('message', () => process.send({ events }));
  `;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    let ready = 0;
    child.on('error', reject);
    child.on('message', (m) => {
      if (m === 'ready' && ++ready === n) {
        resolve({
          child,
          events: () => new Promise((res) => {
            child.once('message', (x) => res((x as { events: number }).events));
            child.send('count');
          }),
        });
      }
    });
  });
}

async function runVariant(variant: Variant, round: number, o: { devices: number; fps: number; durationMs: number; consoles: number }): Promise<Row> {
  const server = await startBenchServer({ mqttUrl: '', threads: 1, ...(variant === 'no-http' ? {} : { http: { port: 0, tokens: `read:${TOKEN}` } }) });
  const load = await startLoadChild();
  let feeds: Awaited<ReturnType<typeof startFeeds>> | null = null;
  try {
    if (variant === 'console-10') feeds = await startFeeds(`http://127.0.0.1:${server.app.http!.port}/api/v1/events?channel=1&types=message,connection`, o.consoles);
    let meter: (() => CpuDelta) | null = null;
    let cpu: CpuDelta | null = null;
    load.onEvent = (e) => {
      if (e === 'measure-start') meter = cpuMeter();
      else if (meter) cpu = meter();
    };
    const r = await load.call({
      type: 'devices',
      spec: { host: '127.0.0.1', port: server.channel.tcpPort, transport: 'tcp', devices: o.devices, recordsPerFrame: 1, imeiBase: 356307042000000, distinctFrames: 16, warmupMs: 1500, durationMs: o.durationMs, rateFps: o.fps, ackTimeoutMs: 5000, connectConcurrency: 50 },
    });
    const feedEvents = feeds ? await feeds.events() : 0;
    const c = cpu as CpuDelta | null;
    if (!c) throw new Error('the load child sent no measure window');
    const records = r.recordsPerS * (c.wall_ms / 1000);
    return { variant, round, recordsPerS: Math.round(r.recordsPerS), cpuPct: c.self_pct, mainPct: c.main_thread_pct, usPerRecord: Math.round((c.self_ms * 1000) / Math.max(1, records) * 10) / 10, feedEvents };
  } finally {
    feeds?.child.kill();
    await load.close();
    await server.stop();
    await sleep(300);
  }
}

async function main(): Promise<void> {
  const quick = quickMode();
  const o = { devices: numArg('devices', undefined, 200), fps: numArg('fps', undefined, quick ? 1000 : 2000), durationMs: numArg('duration-ms', undefined, quick ? 4000 : 10_000), consoles: numArg('consoles', undefined, 10) };
  const rounds = numArg('rounds', undefined, quick ? 1 : 2);
  console.log(`console bench: ${o.devices} Ruptela devices, ${o.fps} frames/s (1 record each), ${o.durationMs} ms per variant, ${rounds} round(s), ${o.consoles} feeds in console-10`);
  const rows: Row[] = [];
  for (let round = 1; round <= rounds; round++) {
    const order: Variant[] = round % 2 ? ['no-http', 'console-0', 'console-10'] : ['console-10', 'console-0', 'no-http'];
    for (const v of order) {
      const row = await runVariant(v, round, o);
      rows.push(row);
      console.log(`${v.padEnd(11)} round ${round}: ${row.recordsPerS} records/s, server CPU ${row.cpuPct}% (main thread ${row.mainPct ?? '?'}%), ${row.usPerRecord} µs/record${v === 'console-10' ? `, ${row.feedEvents} events delivered to the feeds` : ''}`);
    }
  }
  const avg = (v: Variant) => {
    const r = rows.filter((x) => x.variant === v);
    return { cpu: r.reduce((a, x) => a + x.cpuPct, 0) / r.length, main: r.reduce((a, x) => a + (x.mainPct ?? 0), 0) / r.length, us: r.reduce((a, x) => a + x.usPerRecord, 0) / r.length };
  };
  const base = avg('no-http');
  for (const v of ['console-0', 'console-10'] as const) {
    const a = avg(v);
    console.log(`${v}: ${a.cpu.toFixed(1)}% vs ${base.cpu.toFixed(1)}% without HTTP (${(a.cpu - base.cpu >= 0 ? '+' : '')}${(a.cpu - base.cpu).toFixed(1)} points of one core; ${a.us.toFixed(1)} vs ${base.us.toFixed(1)} µs/record; main thread ${a.main.toFixed(1)}% vs ${base.main.toFixed(1)}%)`);
  }
}

if (isMain(import.meta.url)) {
  main().then(
    () => process.exit(0),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
