/**
 * Which instance holds a device's connection, across instances (config redis_url): a Redis key per
 * device whose value is the instance id, with a lease renewed while the connection lasts. The
 * lease is what hands a crashed instance's devices on: once it lapses, nobody holds them, and the
 * shared command store expires their commands (an instance that holds a device expires its own).
 *
 * A device that identifies here takes the key whatever it held (the newest connection wins, as
 * inside one process); when it held another instance's id, that instance is told on its takeover
 * channel and closes its old connection with close code 12 (ident collision). Only Redis is used:
 * a key, a lease and a pub/sub message.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../util/log.js';
import { redisKeys, redisPair, type RedisKeys } from '../storage/redis.js';

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;

export interface DeviceOwnershipOptions {
  url: string;
  prefix: string;
  instanceId: string;
  leaseMs: number;
  /** Another instance now holds a device this instance held: close the local connection (code 12). */
  onTakenOver(channelId: string, ident: string, by: string): void;
  log?: Logger;
}

export class DeviceOwnership {
  private readonly keys: RedisKeys;
  private readonly redis: Redis;
  private readonly sub: Redis;
  /** Devices held here: owner key -> [channel, ident]. */
  private readonly held = new Map<string, [string, string]>();
  private timer: NodeJS.Timeout | null = null;
  private readonly pending = new Set<Promise<unknown>>();
  /** Takeovers seen (this instance's devices that connected elsewhere). */
  takeovers = 0;

  constructor(private readonly o: DeviceOwnershipOptions) {
    this.keys = redisKeys(o.prefix);
    ({ redis: this.redis, sub: this.sub } = redisPair(o.url, 'device ownership', o.log));
    this.sub.on('message', (_ch: string, msg: string) => {
      let v: { channel?: unknown; ident?: unknown; by?: unknown };
      try {
        v = JSON.parse(msg) as typeof v;
      } catch {
        return;
      }
      if (typeof v.channel !== 'string' || typeof v.ident !== 'string' || typeof v.by !== 'string' || v.by === o.instanceId) return;
      this.held.delete(this.keys.owner(v.channel, v.ident));
      this.takeovers++;
      o.onTakenOver(v.channel, v.ident, v.by);
    });
  }

  async start(): Promise<void> {
    // the start-up state check may have connected the command client already (lazyConnect)
    if (this.redis.status === 'wait') await this.redis.connect();
    if (this.sub.status === 'wait') await this.sub.connect();
    await this.sub.subscribe(this.keys.takeoverChannel(this.o.instanceId));
    // renewed at a third of the lease: two renewals may fail (a Redis failover) before it lapses
    this.timer = setInterval(() => this.track(this.renew()), Math.max(100, Math.floor(this.o.leaseMs / 3)));
    this.timer.unref();
  }

  /** The device identified on this instance. */
  claim(channelId: string, ident: string): void {
    const key = this.keys.owner(channelId, ident);
    this.held.set(key, [channelId, ident]);
    this.track(
      (async () => {
        const before = await this.redis.set(key, this.o.instanceId, 'PX', this.o.leaseMs, 'GET');
        if (before && before !== this.o.instanceId) {
          await this.redis.publish(this.keys.takeoverChannel(before), JSON.stringify({ channel: channelId, ident, by: this.o.instanceId }));
        }
      })(),
    );
  }

  /** No connection of this instance serves the device any more: the key goes, unless another instance took it. */
  /**
   * Which instance holds each of these devices now (its instance id; null: none, or its lease
   * lapsed). One MGET; rejects when Redis cannot answer. For the read API and the console: a
   * device connected to another process or instance is connected, not offline.
   */
  async holders(channelId: string, idents: readonly string[]): Promise<(string | null)[]> {
    if (idents.length === 0) return [];
    return this.redis.mget(idents.map((ident) => this.keys.owner(channelId, ident)));
  }

  release(channelId: string, ident: string): void {
    const key = this.keys.owner(channelId, ident);
    if (!this.held.delete(key)) return;
    this.track(this.redis.eval(RELEASE, 1, key, this.o.instanceId));
  }

  /** Of the given devices, those some instance holds now (a live owner key), as `[channel, ident]` indexes. */
  async heldAnywhere(devices: readonly [string, string][]): Promise<boolean[]> {
    if (devices.length === 0) return [];
    const p = this.redis.pipeline();
    for (const [ch, ident] of devices) p.exists(this.keys.owner(ch, ident));
    const rows = (await p.exec()) ?? [];
    return rows.map(([err, n]) => !err && n === 1);
  }

  /** Resolves once every claim and release so far reached Redis. */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  private async renew(): Promise<void> {
    if (this.held.size === 0) return;
    const p = this.redis.pipeline();
    const keys = [...this.held.keys()];
    for (const k of keys) p.eval(RENEW, 1, k, this.o.instanceId, this.o.leaseMs);
    await p.exec();
  }

  private track(p: Promise<unknown>): void {
    const q = p.catch((e: unknown) => this.o.log?.warn({ err: e instanceof Error ? e.message : String(e) }, 'device ownership: a Redis step failed'));
    this.pending.add(q);
    void q.finally(() => this.pending.delete(q));
  }

  /**
   * Stops renewing and releases what this instance held (a graceful stop: the devices reconnect
   * elsewhere at once). After a crash the leases lapse by themselves.
   */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    for (const [channelId, ident] of [...this.held.values()]) this.release(channelId, ident);
    await this.settled().catch(() => undefined);
    await Promise.all([this.redis, this.sub].map((c) => c.quit().catch(() => c.disconnect())));
  }
}
