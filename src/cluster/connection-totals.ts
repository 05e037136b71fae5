/**
 * A channel's retained `connections_count` across every instance and process that serves it
 * (config redis_url). Without it each one published its own count to the same retained topic and
 * the last writer won: with two processes the topic showed one process's half.
 *
 * Each instance reports its own count into one Redis hash per channel (field: its instance id,
 * value: "count expiry-ms" on Redis's clock) and gets the sum of the live fields back in the same
 * script; fields past their expiry (an instance that crashed) are dropped there. The instance
 * publishes that sum. Reports come on every change (coalesced by the channel, channel-log.ts) and
 * every third of the lease, so a crashed instance's count leaves the total within one lease.
 * It is the channel's ConnectionTotals port (channel/connection-totals.ts), matched by shape: the
 * channel layer does not import this one.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../util/log.js';
import { failFastRedis, redisKeys, type RedisKeys } from '../storage/redis.js';

// ARGV: instance id, count ('-' = leave), lease ms. Redis's own clock, so instances' clocks do not matter.
const REPORT = `
pcall(redis.replicate_commands)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if ARGV[2] == '-' then
  redis.call('HDEL', KEYS[1], ARGV[1])
else
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ' ' .. (now + tonumber(ARGV[3])))
end
local all = redis.call('HGETALL', KEYS[1])
local sum = 0
for i = 1, #all, 2 do
  local n, e = string.match(all[i + 1], '^(%d+) (%d+)$')
  if n and tonumber(e) > now then sum = sum + tonumber(n) else redis.call('HDEL', KEYS[1], all[i]) end
end
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return sum`;

export interface RedisTotalsOptions {
  url: string;
  /** Config redis_prefix. */
  prefix: string;
  instanceId: string;
  /** A crashed instance's count stays in the total at most this long (the app: device_lease_s); default 30 s. */
  leaseMs?: number;
  log?: Logger;
}

export class RedisConnectionTotals {
  readonly shared = true;
  readonly leaseMs: number;
  private readonly redis: Redis;
  private readonly keys: RedisKeys;
  /** The first connect while it is under way (channels report at once; a second connect() would throw). */
  private connecting: Promise<void> | null = null;

  constructor(private readonly o: RedisTotalsOptions) {
    this.leaseMs = o.leaseMs ?? 30_000;
    this.keys = redisKeys(o.prefix);
    // fails fast while Redis is down: the next change or renewal reports again
    this.redis = failFastRedis(o.url, 2_000);
    this.redis.on('error', (e: Error) => o.log?.warn({ err: e.message }, 'connection totals: Redis connection error'));
    this.redis.defineCommand('edgeConnTotal', { numberOfKeys: 1, lua: REPORT });
  }

  report(channelId: string, count: number): Promise<number> {
    return this.run(channelId, String(Math.max(0, Math.floor(count))));
  }

  leave(channelId: string): Promise<number> {
    return this.run(channelId, '-');
  }

  private async run(channelId: string, count: string): Promise<number> {
    // forgotten when it settles: after a failed first connect the client reconnects by itself
    // (retryStrategy), and a kept rejection would fail every later report
    if (this.redis.status === 'wait') this.connecting ??= this.redis.connect().finally(() => (this.connecting = null));
    if (this.connecting) await this.connecting;
    const script = this.redis as unknown as { edgeConnTotal(key: string, ...args: string[]): Promise<number> };
    return Number(await script.edgeConnTotal(this.keys.conns(channelId), this.o.instanceId, count, String(this.leaseMs)));
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
