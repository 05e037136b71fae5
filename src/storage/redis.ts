import { Redis } from 'ioredis';
import type { Logger } from '../util/log.js';
import { topicLevel } from '../util/topic-level.js';

/**
 * Every Redis key, pub/sub channel and connection of the server (config redis_url, redis_prefix),
 * in one place: the commands and device ownership (src/cluster/), the asset timelines
 * (src/assets/redis-asset-store.ts) and the shared UDP counters (src/guard/udp-rate-limit.ts).
 *
 * Commands and ownership: every key and pub/sub channel the instances share. Idents are written as their topic level (the same device key the command service and the
 * topics use). A channel id has no ":", so `{channel}:{ident}` is unambiguous.
 *
 * All keys of one deployment share the prefix; the scripts touch keys they read from a command's
 * hash, so the store needs one Redis (standalone or Sentinel), not Redis Cluster.
 */
export function redisKeys(prefix: string) {
  const dev = (channelId: string, ident: string) => `${channelId}:${topicLevel(ident)}`;
  return {
    prefix,
    /** Hash of one held command: json, attempts, q (its queue key), own (its device's owner key). */
    command: (id: string) => `${prefix}cmd:${id}`,
    /** List of a device's held command ids, in queue order. */
    queue: (channelId: string, ident: string) => `${prefix}q:${dev(channelId, ident)}`,
    /** Sorted set of held command ids by expiry time (ms). */
    expiry: `${prefix}exp`,
    /** An ended command's id, kept for a while so a repeated request is not queued again. */
    done: (id: string) => `${prefix}done:${id}`,
    /** Which instance holds the device's connection (value: instance id), with a lease (PX). */
    owner: (channelId: string, ident: string) => `${prefix}own:${dev(channelId, ident)}`,
    /** Hash of a channel's connection counts: field instance id, value "count expiry-ms" (cluster/connection-totals.ts). */
    conns: (channelId: string) => `${prefix}conns:${channelId}`,
    /** First-to-report tokens (an event several instances could publish, published by one). */
    once: (token: string) => `${prefix}once:${token}`,
    /** Pub/sub: a device's held commands changed (added, removed); message {channel, ident}. */
    changedChannel: `${prefix}changed`,
    /** Pub/sub: another instance took over a device this instance held; message {channel, ident, by}. */
    takeoverChannel: (instanceId: string) => `${prefix}takeover:${instanceId}`,
  };
}

export type RedisKeys = ReturnType<typeof redisKeys>;

/**
 * The asset timelines' keys under `prefix` (default `defaultAssetPrefix`):
 *   a:{id}    hash: rev (the service's revision), seq (the store's write number), rec (JSON AssetRecord)
 *   ids       set of the asset ids (load reads it: no SCAN over a shared keyspace)
 *   seq       counter: every write takes the next number
 *   changed   pub/sub channel: "<rev> <id>" after every write (rev 0: deleted)
 */
export function assetKeys(prefix: string) {
  return {
    prefix,
    asset: (id: string) => `${prefix}a:${id}`,
    ids: `${prefix}ids`,
    seq: `${prefix}seq`,
    changed: `${prefix}changed`,
  };
}

/** Default asset prefix: under the deployment's `redis_prefix`, the topic root in a hash tag, so one deployment's keys stay together. */
export function defaultAssetPrefix(redisPrefix: string, topicRoot: string): string {
  return `${redisPrefix}{${topicRoot}}:assets:`;
}

/**
 * The shared UDP counters of a channel (rate-limiter-flexible's key prefix): `{redis_prefix}udp:{channel}`
 * for the channel's limit and `…:ip` for the per-address one. The prefix's trailing ":" is not
 * doubled (the limiter adds its own separator).
 */
export function udpKeyPrefix(redisPrefix: string, channelId: string): string {
  return `${redisPrefix.replace(/:$/, '')}:udp:${channelId}`;
}

/**
 * The two connections a shared component needs: one for commands and scripts (bounded retries, so a
 * call fails with a reason during a Redis outage instead of hanging) and one for its pub/sub
 * notices (a subscribed connection cannot run commands). Errors are logged with the component's name.
 */
export function redisPair(url: string, component: string, log?: Logger): { redis: Redis; sub: Redis } {
  const redis = new Redis(url, { connectTimeout: 2_000, maxRetriesPerRequest: 3, lazyConnect: true });
  const sub = handledResubscribe(new Redis(url, { connectTimeout: 2_000, lazyConnect: true }));
  for (const c of [redis, sub]) c.on('error', (e: Error) => log?.warn({ err: e.message }, `${component}: Redis connection error`));
  return { redis, sub };
}

/**
 * A connection that fails fast while Redis is down, for work that must be refused rather than held
 * (asset writes decide a frame's ACK): no offline queue, bounded connect and command time, one
 * retry, reconnecting forever with a backoff to 5 s. `notices`: the subscriber twin (it queues its
 * SUBSCRIBE until connected and retries it without bound).
 */
export function failFastRedis(url: string, timeoutMs: number, notices = false): Redis {
  const client = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: notices,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: notices ? null : 1,
    retryStrategy: (times: number) => Math.min(times * 200, 5_000),
  });
  return notices ? handledResubscribe(client) : client;
}

/**
 * A subscriber connection whose SUBSCRIBE promises always have a handler. Why: after a reconnect
 * ioredis subscribes again to the channels it had (autoResubscribe) and drops that promise; a close
 * (quit, disconnect) while it is in flight rejects it with "Connection is closed." and, unhandled,
 * that rejection would end the process (Node's default) — a stop during a Redis restart did so in a
 * test. A caller that awaits its own subscribe still gets the rejection: the promise is returned as is.
 */
export function handledResubscribe(client: Redis): Redis {
  const subscribe = client.subscribe.bind(client) as (...args: unknown[]) => Promise<unknown>;
  (client as unknown as { subscribe: (...args: unknown[]) => Promise<unknown> }).subscribe = (...args: unknown[]) => {
    const p = subscribe(...args);
    p.catch(() => undefined);
    return p;
  };
  return client;
}

/**
 * The per-datagram connection of the shared UDP limiter: never queues while disconnected, gives up
 * on a command after 500 ms (a hung Redis must not hold a promise per datagram: the in-process
 * insurance limiter answers instead), reconnects forever with a backoff to 5 s.
 */
export function perPacketRedis(url: string): Redis {
  return new Redis(url, {
    enableOfflineQueue: false,
    connectTimeout: 1_000,
    commandTimeout: 500,
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => Math.min(times * 200, 5_000),
  });
}
