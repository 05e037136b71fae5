/**
 * Guard bench: what the per-datagram / per-accept guards cost on one core.
 *
 *   npm run build && node dist/bench/guard-bench.js [--json]
 *
 * Measures IpFilter.check (cached peers, as real devices repeat, and uncached peers, as a
 * spoofed-source flood presents), UdpRateLimiter.consume (memory, and Redis when reachable), and
 * how many over-limit datagrams one core can drop. Each figure runs for a fixed short time slice
 * so the whole bench stays under ~3 s; figures on a shared 2-core machine vary by ±20 %.
 */
import { tcpReachable } from './lib/server.js';
import { cpus } from 'node:os';
import { pathToFileURL } from 'node:url';
import { randomBytes } from 'node:crypto';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { compileIpFilter, type IpFilter } from '../src/guard/ip-filter.js';
import { createUdpRateLimiter, type UdpRateLimiter } from '../src/guard/udp-rate-limit.js';
import { createDropStats } from '../src/guard/drop-stats.js';

const SLICE_MS = 120;

export interface GuardBenchResult {
  machine: { cpu: string; cores: number; node: string };
  ip_filter_ns: Record<string, number>;
  consume_us: Record<string, number | null>;
  drops_per_s: Record<string, number>;
  redis: string;
}

/** Runs `fn(i)` in batches until the slice is used; returns ns per call. */
function timeSync(fn: (i: number) => unknown, sliceMs = SLICE_MS): number {
  for (let i = 0; i < 2_000; i++) fn(i); // warm-up (JIT)
  let calls = 0;
  let sink = 0;
  const start = process.hrtime.bigint();
  const end = start + BigInt(sliceMs) * 1_000_000n;
  let now = start;
  while (now < end) {
    for (let k = 0; k < 1_000; k++) if (fn(calls + k)) sink++;
    calls += 1_000;
    now = process.hrtime.bigint();
  }
  if (sink < 0) console.log(sink); // keeps the results alive
  return Number(now - start) / calls;
}

/** Awaits `fn` in concurrent batches of `batch` until the slice is used; returns µs per call. */
async function timeAsync(fn: (i: number) => Promise<unknown>, batch: number, sliceMs = SLICE_MS): Promise<number> {
  await Promise.all(Array.from({ length: Math.min(batch, 200) }, (_, i) => fn(i)));
  let calls = 0;
  const start = process.hrtime.bigint();
  const end = start + BigInt(sliceMs) * 1_000_000n;
  let now = start;
  while (now < end) {
    if (batch === 1) await fn(calls);
    else await Promise.all(Array.from({ length: batch }, (_, k) => fn(calls + k)));
    calls += batch;
    now = process.hrtime.bigint();
  }
  return Number(now - start) / calls / 1_000;
}

function v4(i: number): string {
  return `${10 + ((i >>> 24) & 0x3f)}.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`;
}

function list(n: number): string[] {
  // Mixed /32 hosts and /24 networks far from the probed addresses, plus the probed network.
  const out: string[] = ['192.0.2.0/24'];
  for (let i = 1; i < n; i++) out.push(i % 2 ? `100.${(i >> 8) & 255}.${i & 255}.7` : `100.${(i >> 8) & 255}.${i & 255}.0/24`);
  return out;
}

function ipFilterFigures(): Record<string, number> {
  const peers = Array.from({ length: 256 }, (_, i) => `192.0.2.${i}`);
  const mapped = peers.map((p) => `::ffff:${p}`);
  const missPeers = Array.from({ length: 256 }, (_, i) => `198.51.100.${i}`);
  // More distinct peers than the cache holds: every check parses and matches.
  const unique = Array.from({ length: 200_000 }, (_, i) => v4(i * 7919));
  const unique6 = Array.from({ length: 50_000 }, (_, i) => `2001:db8:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}::1`);
  const mk = (n: number): IpFilter => compileIpFilter({ whitelist: list(n), blacklist: [], keyPath: 'bench' });
  const empty = compileIpFilter({ whitelist: [], blacklist: [], keyPath: 'bench' });
  const f10 = mk(10);
  const f1000 = mk(1_000);
  const f1000v6 = compileIpFilter({ whitelist: [...list(500), ...Array.from({ length: 500 }, (_, i) => `2001:db8:${i.toString(16)}::/48`)], blacklist: [], keyPath: 'bench' });
  return {
    empty_lists: timeSync((i) => empty.check(peers[i & 255] ?? '')),
    list10_cached: timeSync((i) => f10.check(peers[i & 255] ?? '')),
    list1000_hit_cached: timeSync((i) => f1000.check(peers[i & 255] ?? '')),
    list1000_miss_cached: timeSync((i) => f1000.check(missPeers[i & 255] ?? '')),
    list1000_mapped_v6_cached: timeSync((i) => f1000.check(mapped[i & 255] ?? '')),
    list1000_v4_uncached: timeSync((i) => f1000.check(unique[i % unique.length] ?? '')),
    list1000_mapped_v6_uncached: timeSync((i) => f1000.check(`::ffff:${unique[i % unique.length] ?? ''}`)),
    list1000_with_500_v6_nets_v6_uncached: timeSync((i) => f1000v6.check(unique6[i % unique6.length] ?? '')),
  };
}

/** The hot drop path as the UDP listener would run it: guard verdict + aggregated count. */
function dropsPerSecond(limiter: UdpRateLimiter): Record<string, number> {
  const filter = compileIpFilter({ whitelist: [], blacklist: ['203.0.113.0/24'], keyPath: 'bench' });
  const stats = createDropStats();
  const flood = Array.from({ length: 1_024 }, (_, i) => `198.51.100.${i & 255}`);
  const rateNs = timeSync((i) => {
    const ip = flood[i & 1023] ?? '';
    if (filter.check(ip) !== 'allow') return false;
    const r = limiter.blocked(ip);
    if (r) stats.count(r, ip, 'udp');
    return r;
  });
  const black = Array.from({ length: 1_024 }, (_, i) => `203.0.113.${i & 255}`);
  const blackNs = timeSync((i) => {
    const ip = black[i & 1023] ?? '';
    const v = filter.check(ip);
    if (v !== 'allow') stats.count(v, ip, 'udp');
    return v;
  });
  return { over_rate_limit_sync_blocked: Math.round(1e9 / rateNs), blacklisted: Math.round(1e9 / blackNs) };
}

/** A tiny fixed-window counter, for comparison with rate-limiter-flexible's memory limiter. */
function inlineCounter(limit: number): () => boolean {
  let windowEnd = 0;
  let used = 0;
  return () => {
    const now = Date.now();
    if (now >= windowEnd) {
      windowEnd = now + 60_000;
      used = 0;
    }
    return ++used <= limit;
  };
}

function redisReachable(url: string): Promise<boolean> {
  return tcpReachable(url, 6379);
}

export async function main(): Promise<GuardBenchResult> {
  const ip_filter_ns = ipFilterFigures();

  const consume_us: Record<string, number | null> = {};
  const open = createUdpRateLimiter({ channelId: 'bench-open', maxPacketsPerMinute: 1_000_000_000 });
  consume_us.memory_under_limit_awaited_each = await timeAsync(() => open.consume('10.0.0.1'), 1);
  consume_us.memory_under_limit_batch_1000 = await timeAsync(() => open.consume('10.0.0.1'), 1_000);
  const perIp = createUdpRateLimiter({ channelId: 'bench-ip', maxPacketsPerMinute: 1_000_000_000, maxPacketsPerMinutePerIp: 1_000_000_000 });
  consume_us.memory_with_per_ip_batch_1000 = await timeAsync((i) => perIp.consume(`10.0.${(i >> 8) & 3}.${i & 255}`), 1_000);
  const shut = createUdpRateLimiter({ channelId: 'bench-shut', maxPacketsPerMinute: 10 });
  await Promise.all(Array.from({ length: 20 }, () => shut.consume('10.0.0.1')));
  consume_us.memory_over_limit_batch_1000 = await timeAsync(() => shut.consume('10.0.0.1'), 1_000);
  // For comparison: the library's memory limiter on its own (a refusal is a rejected promise),
  // and a tiny inline counter (what a synchronous fast path without the library would cost).
  const raw = new RateLimiterMemory({ points: 10, duration: 60 });
  const rawConsume = (): Promise<unknown> => raw.consume('k').catch((e: unknown) => (e instanceof RateLimiterRes ? false : Promise.reject(e)));
  consume_us.library_memory_over_limit_batch_1000 = await timeAsync(rawConsume, 1_000);
  const inline = inlineCounter(1_000_000_000);
  consume_us.inline_counter_sync = timeSync(() => inline()) / 1_000;

  const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
  let redis = 'not reachable: skipped';
  consume_us.redis_awaited_each = null;
  consume_us.redis_batch_1000 = null;
  if (await redisReachable(redisUrl)) {
    const keyPrefix = `edge-bench-${randomBytes(4).toString('hex')}`;
    const r = createUdpRateLimiter({ channelId: 'bench', maxPacketsPerMinute: 1_000_000_000, redisUrl, keyPrefix });
    const until = Date.now() + 2_000;
    while (r.store !== 'redis' && Date.now() < until) await new Promise((res) => setTimeout(res, 20));
    if (r.store === 'redis') {
      redis = new URL(redisUrl).host;
      consume_us.redis_awaited_each = await timeAsync(() => r.consume('10.0.0.1'), 1, 250);
      consume_us.redis_batch_1000 = await timeAsync(() => r.consume('10.0.0.1'), 1_000, 250);
    }
    await r.close();
  }

  const drops_per_s = dropsPerSecond(shut);
  const dropStart = process.hrtime.bigint();
  let drops = 0;
  while (process.hrtime.bigint() - dropStart < BigInt(SLICE_MS) * 1_000_000n) {
    await Promise.all(Array.from({ length: 1_000 }, () => shut.consume('10.0.0.1')));
    drops += 1_000;
  }
  drops_per_s.over_rate_limit_via_consume_promise = Math.round(drops / (Number(process.hrtime.bigint() - dropStart) / 1e9));
  await Promise.all([open.close(), perIp.close(), shut.close()]);

  const cpu = cpus()[0]?.model ?? 'unknown';
  const result: GuardBenchResult = { machine: { cpu, cores: cpus().length, node: process.version }, ip_filter_ns, consume_us, drops_per_s, redis };
  printTable(result);
  return result;
}

function printTable(r: GuardBenchResult): void {
  const rows: [string, string][] = [];
  for (const [k, v] of Object.entries(r.ip_filter_ns)) rows.push([`IpFilter.check ${k}`, `${v.toFixed(0)} ns`]);
  for (const [k, v] of Object.entries(r.consume_us)) rows.push([`consume ${k}`, v === null ? `n/a (${r.redis})` : `${v.toFixed(3)} µs`]);
  for (const [k, v] of Object.entries(r.drops_per_s)) rows.push([`drops/s ${k}`, v.toLocaleString('en-US')]);
  const w = Math.max(...rows.map(([k]) => k.length));
  console.log(`guard bench — ${r.machine.cpu}, ${r.machine.cores} cores, Node ${r.machine.node}, Redis: ${r.redis}`);
  for (const [k, v] of rows) console.log(`  ${k.padEnd(w)}  ${v.padStart(14)}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await main();
  if (process.argv.includes('--json')) console.log(JSON.stringify(r, null, 2));
}
