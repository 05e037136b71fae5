import type { Redis } from 'ioredis';
import { perPacketRedis, udpKeyPrefix } from '../storage/redis.js';
import { peerIp } from './peer-ip.js';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract, type IRateLimiterOptions } from 'rate-limiter-flexible';
import { EdgeError } from '../errors.js';

/**
 * "max UDP packets per minute" per channel (this project's definition, flespi-conventions §1.4):
 * a fixed 60-second window counting accepted datagrams, channel-wide, plus an optional counter per
 * source IP. Excess datagrams are dropped and counted (drop-stats), never logged one by one.
 *
 * Counting uses rate-limiter-flexible. With a Redis URL the counters live in Redis under a key
 * that contains the channel id, so several processes serving the same channel behind a load
 * balancer share one limit. Redis is an optimisation for accuracy, not a dependency for
 * availability: when it is unreachable each process counts in its own memory (the insurance
 * limiter) and goes back to Redis as soon as the client reconnects.
 *
 * Once a counter is over its limit, the rest of its window is known to be refused (fixed
 * window), so the deadline is remembered locally and later datagrams are refused by `blocked()`
 * without a promise or a Redis round trip: a flood costs a Map lookup per datagram.
 *
 * Where "exactly N per window" bends, always towards refusing more, never fewer:
 * - while the first Redis connection is being made (a few ms) and during a fallback, each
 *   process counts alone, so N processes may pass up to N × the limit in that window;
 * - a command that timed out (500 ms) may still run in Redis later and count twice.
 * Memory: the per-IP counter keeps one record and timer per source per window (the library's
 * memory store). With a channel-wide limit too, at most that many new sources reach it per
 * window (the exhausted channel window refuses before it); a per-IP limit alone under a
 * spoofed-source flood grows with the number of sources.
 */

export type UdpRateVerdict = true | 'rate' | 'rate_ip';
export type UdpRateDropReason = Exclude<UdpRateVerdict, true>;

export interface UdpRateLimiterOptions {
  channelId: string | number;
  /** Accepted datagrams per window for the whole channel; 0 = unlimited. */
  maxPacketsPerMinute: number;
  /** Accepted datagrams per window per source IP; 0 or absent = no per-IP limit. */
  maxPacketsPerMinutePerIp?: number;
  /** redis:// or rediss:// URL; absent or empty = count in this process's memory. */
  redisUrl?: string;
  log?: (level: 'warn' | 'info', msg: string) => void;
  /** The deployment's Redis prefix (config redis_prefix, default `edge-channel:`); keys are `udpKeyPrefix(prefix, channelId)…` (src/storage/redis.ts). */
  keyPrefix?: string;
}

export interface UdpRateLimiter {
  /** Counts one datagram from `ip`: true if it may pass, else the drop reason. */
  consume(ip: string): Promise<UdpRateVerdict>;
  /**
   * Synchronous pre-check: the drop reason if a counter this datagram would hit is already
   * exhausted for its window, else undefined (then call consume). Counts nothing.
   */
  blocked(ip: string): UdpRateDropReason | undefined;
  /** Where counts live right now: 'redis', or 'memory' (no Redis configured, or fallback). */
  readonly store: 'memory' | 'redis';
  close(): Promise<void>;
}

const WINDOW_S = 60;
const CHANNEL_KEY = 'all';
/** Per-generation bound on remembered per-IP deadlines (spoofed sources could present millions). */
const MAX_BLOCKED_IPS = 10_000;
/** A fallback caused by failing commands on a live connection ends after this long without one. */
const RECOVERY_QUIET_MS = 5_000;


/** The URL without credentials, for log lines. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}

function checkLimit(value: number | undefined, key: string): number {
  const v = value ?? 0;
  if (!Number.isInteger(v) || v < 0) throw new EdgeError('EDGE_CONFIG_INVALID', `${key}: expected an integer >= 0, got ${String(value)}`);
  return v;
}

/** Memory limiter that reports each use: it is only ever called when the Redis path failed. */
class InsuranceLimiter extends RateLimiterMemory {
  constructor(
    opts: IRateLimiterOptions,
    private readonly onUse: () => void,
  ) {
    super(opts);
  }

  override consume(key: string | number, points?: number, options?: Record<string, unknown>): Promise<RateLimiterRes> {
    this.onUse();
    return super.consume(key, points, options);
  }
}

export function createUdpRateLimiter(opts: UdpRateLimiterOptions): UdpRateLimiter {
  const perChannel = checkLimit(opts.maxPacketsPerMinute, 'max_udp_packets_per_minute');
  const perIp = checkLimit(opts.maxPacketsPerMinutePerIp, 'max_udp_packets_per_minute_per_ip');
  const log = opts.log ?? (() => undefined);
  const prefix = udpKeyPrefix(opts.keyPrefix ?? 'edge-channel:', String(opts.channelId));
  const useRedis = Boolean(opts.redisUrl) && (perChannel > 0 || perIp > 0);

  let client: Redis | undefined;
  // Redis health as seen by this limiter: 'connecting' until the first ready or failure.
  let health: 'connecting' | 'ready' | 'degraded' = 'connecting';
  let lastRedisError = '';
  let insuranceUses = 0;
  let lastInsuranceMs = 0;
  let closing = false;

  function degrade(why: string): void {
    if (health === 'degraded' || closing) return;
    health = 'degraded';
    log('warn', `channel ${opts.channelId}: Redis ${redactUrl(opts.redisUrl ?? '')} unavailable (${why}); UDP rate limits are counted in this process only until it is back`);
  }

  function recover(): void {
    if (health === 'degraded') {
      log('info', `channel ${opts.channelId}: Redis is back; UDP rate limits are shared again`);
      // Deadlines learnt from the local fallback counters may be stricter than the shared ones;
      // forgetting them costs one Redis trip per counter to learn the shared state.
      forgetBlocks();
    }
    health = 'ready';
  }

  let countingFailureLogged = false;
  function countingFailed(e: unknown): void {
    if (countingFailureLogged) return;
    countingFailureLogged = true;
    log('warn', `channel ${opts.channelId}: UDP rate counting failed (${e instanceof Error ? e.message : String(e)}); such datagrams are let through`);
  }

  function makeLimiter(points: number, keyPrefix: string): RateLimiterAbstract {
    const base = { points, duration: WINDOW_S, keyPrefix };
    if (!client) return new RateLimiterMemory(base);
    return new RateLimiterRedis({
      ...base,
      storeClient: client,
      // Fail over at once instead of waiting for a connection that is down.
      rejectIfRedisNotReady: true,
      insuranceLimiter: new InsuranceLimiter(base, () => {
        insuranceUses++;
        lastInsuranceMs = Date.now();
        // While the first connection is still being made, memory is expected; not a fallback.
        if (health === 'ready') degrade(lastRedisError || 'command failed');
      }),
    });
  }

  if (useRedis && opts.redisUrl) {
    // never queues per-packet commands while disconnected: fails fast into the insurance limiter
    client = perPacketRedis(opts.redisUrl);
    client.on('ready', recover);
    client.on('error', (err: Error) => {
      lastRedisError = err.message;
      degrade(err.message);
    });
    client.on('close', () => {
      if (health === 'ready') degrade(lastRedisError || 'connection closed');
    });
  }

  const channelLimiter = perChannel > 0 ? makeLimiter(perChannel, prefix) : undefined;
  const ipLimiter = perIp > 0 ? makeLimiter(perIp, `${prefix}:ip`) : undefined;

  let channelBlockedUntil = 0;
  // Per-IP deadlines in two generations (swap when the young one is full) rather than evicting
  // single keys: bounded at 2 × MAX_BLOCKED_IPS with O(1) upkeep even when every entry is live.
  // Losing a deadline only costs a trip to the limiter, which refuses the datagram all the same.
  let ipBlockedYoung = new Map<string, number>();
  let ipBlockedOld = new Map<string, number>();

  function forgetBlocks(): void {
    channelBlockedUntil = 0;
    ipBlockedYoung = new Map();
    ipBlockedOld = new Map();
  }

  function rememberIpBlock(ip: string, until: number): void {
    if (ipBlockedYoung.size >= MAX_BLOCKED_IPS) {
      ipBlockedOld = ipBlockedYoung;
      ipBlockedYoung = new Map();
    }
    ipBlockedYoung.set(ip, until);
  }

  function blocked(rawIp: string): UdpRateDropReason | undefined {
    const now = Date.now();
    if (ipBlockedYoung.size > 0 || ipBlockedOld.size > 0) {
      const ip = peerIp(rawIp);
      const until = ipBlockedYoung.get(ip) ?? ipBlockedOld.get(ip);
      if (until !== undefined && now < until) return 'rate_ip';
    }
    if (now < channelBlockedUntil) return 'rate';
    return undefined;
  }

  /** Consumes one point; on refusal returns the window deadline (measured from before the call). */
  async function take(limiter: RateLimiterAbstract, key: string): Promise<number | undefined> {
    const startMs = Date.now();
    try {
      await limiter.consume(key);
      return undefined;
    } catch (e) {
      if (e instanceof RateLimiterRes) return startMs + e.msBeforeNext;
      // Only reachable if the memory limiter itself failed (a bug): let traffic through rather
      // than drop everything, and say so once.
      countingFailed(e);
      return undefined;
    }
  }

  async function consume(rawIp: string): Promise<UdpRateVerdict> {
    const pre = blocked(rawIp);
    if (pre) return pre;
    const usesBefore = insuranceUses;
    const ip = peerIp(rawIp);
    // Per-IP first: a single noisy source must not spend the channel-wide budget.
    if (ipLimiter) {
      const until = await take(ipLimiter, ip);
      if (until !== undefined) {
        rememberIpBlock(ip, until);
        return 'rate_ip';
      }
    }
    if (channelLimiter) {
      const until = await take(channelLimiter, CHANNEL_KEY);
      if (until !== undefined) {
        channelBlockedUntil = until;
        return 'rate';
      }
    }
    // A fallback from failing commands on a connection that never dropped emits no 'ready';
    // end it once Redis has answered again and nothing needed the insurance for a while.
    if (health === 'degraded' && insuranceUses === usesBefore && client?.status === 'ready' && Date.now() - lastInsuranceMs > RECOVERY_QUIET_MS) {
      recover();
    }
    return true;
  }

  return {
    consume,
    blocked,
    get store() {
      return client && health !== 'degraded' && client.status === 'ready' ? 'redis' : 'memory';
    },
    async close() {
      closing = true;
      if (!client) return;
      const c = client;
      client = undefined;
      try {
        await c.quit();
      } catch {
        // Not connected (or already closed): nothing to flush.
        c.disconnect();
      }
    },
  };
}
