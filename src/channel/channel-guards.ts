import type { ChannelConfig } from '../config/schema.js';
import { EdgeError } from '../errors.js';
import { createDropStats, type DropReason, type DropSnapshot, type DropStats } from '../guard/drop-stats.js';
import { compileIpFilter, type IpFilter, type IpFilterVerdict } from '../guard/ip-filter.js';
import { createUdpRateLimiter, type UdpRateLimiter, type UdpRateVerdict } from '../guard/udp-rate-limit.js';
import type { Logger } from '../util/log.js';
import { PerSecondBudget } from '../util/tally.js';

/**
 * A channel's guards: IP allow/deny lists (TCP at accept, UDP per datagram, both before any byte
 * is buffered or decoded) and the UDP packets-per-minute limits. Drops are only counted here;
 * the channel publishes them in aggregate once per stats interval.
 */
export class ChannelGuards {
  private filter: IpFilter;
  /** Load balancers allowed to send a PROXY header (channel proxy_protocol); null when off. */
  private proxies: IpFilter | null = null;
  private limiter: UdpRateLimiter | null = null;
  private limiterKey = '';
  readonly drops: DropStats = createDropStats();
  /** Individual "rejected" log events allowed per second (a connection flood must not become a log flood). */
  private readonly rejectedBudget = new PerSecondBudget(20);

  constructor(
    cfg: ChannelConfig,
    private readonly redisUrl: string,
    private readonly log: Logger,
    /** Config redis_prefix: the shared UDP counters live under it like every shared key (src/storage/redis.ts). */
    private readonly redisPrefix = 'edge-channel:',
  ) {
    this.filter = compileIpFilter({ whitelist: cfg.ip_whitelist, blacklist: cfg.ip_blacklist, keyPath: `channels[${cfg.id}]` });
    this.proxies = compileProxies(cfg);
    this.setLimiter(cfg);
  }

  /** Applies new lists and limits (config reload). Throws EDGE_CONFIG_INVALID and keeps the old ones on a bad entry. */
  update(cfg: ChannelConfig): void {
    const proxies = compileProxies(cfg);
    this.filter = compileIpFilter({ whitelist: cfg.ip_whitelist, blacklist: cfg.ip_blacklist, keyPath: `channels[${cfg.id}]` });
    this.proxies = proxies;
    this.setLimiter(cfg);
  }

  private setLimiter(cfg: ChannelConfig): void {
    const key = `${cfg.max_udp_packets_per_minute}/${cfg.max_udp_packets_per_minute_per_ip}/${this.redisUrl}`;
    if (key === this.limiterKey) return;
    const old = this.limiter;
    this.limiterKey = key;
    this.limiter =
      cfg.max_udp_packets_per_minute > 0 || cfg.max_udp_packets_per_minute_per_ip > 0
        ? createUdpRateLimiter({
            channelId: cfg.id,
            maxPacketsPerMinute: cfg.max_udp_packets_per_minute,
            maxPacketsPerMinutePerIp: cfg.max_udp_packets_per_minute_per_ip,
            ...(this.redisUrl ? { redisUrl: this.redisUrl, keyPrefix: this.redisPrefix } : {}),
            log: (level, msg) => this.log[level](msg),
          })
        : null;
    if (old) void old.close();
  }

  /** With proxy_protocol: may this socket address send a PROXY header? */
  trustedProxy(address: string): boolean {
    return this.proxies !== null && this.proxies.check(address) === 'allow';
  }

  checkIp(address: string): IpFilterVerdict {
    return this.filter.check(address);
  }

  /**
   * UDP admission: sync verdict when possible (no limiter, or a counter already exhausted for this
   * window), else a promise. Callers count the drop.
   */
  admitUdp(address: string): UdpRateVerdict | Promise<UdpRateVerdict> {
    if (!this.limiter) return true;
    const blocked = this.limiter.blocked(address);
    if (blocked) return blocked;
    return this.limiter.consume(address);
  }

  count(reason: DropReason, address: string, transport: 'tcp' | 'udp'): void {
    this.drops.count(reason, address, transport);
  }

  /** True while individual rejection events may still be logged this second. */
  mayLogRejection(nowMs: number): boolean {
    return this.rejectedBudget.take(nowMs);
  }

  snapshot(): DropSnapshot | null {
    return this.drops.snapshot();
  }

  get limiterStore(): string {
    return this.limiter ? this.limiter.store : 'none';
  }

  async close(): Promise<void> {
    if (this.limiter) await this.limiter.close();
  }
}

/**
 * The trusted_proxies list as an allow-list. proxy_protocol without one is a config error: trusting
 * every source would let any device write its own address past the blacklist.
 */
function compileProxies(cfg: ChannelConfig): IpFilter | null {
  if (!cfg.proxy_protocol) return null;
  if (cfg.trusted_proxies.length === 0) {
    throw new EdgeError('EDGE_CONFIG_INVALID', `channels[${cfg.id}].trusted_proxies: proxy_protocol is on, so list the load balancers' addresses (IPs or CIDR networks) allowed to send the PROXY header`);
  }
  return compileIpFilter({ whitelist: cfg.trusted_proxies, blacklist: [], keyPath: `channels[${cfg.id}]`, whitelistKey: 'trusted_proxies' });
}
