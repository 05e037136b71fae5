import { Redis } from 'ioredis';
import type { Logger } from '../util/log.js';
import { topicLevel } from '../mqtt/topics.js';

/**
 * Every Redis key and pub/sub channel the instances share (config redis_url, redis_prefix), in one
 * place. Idents are written as their topic level (the same device key the command service and the
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
 * The two connections a shared component needs: one for commands and scripts (bounded retries, so a
 * call fails with a reason during a Redis outage instead of hanging) and one for its pub/sub
 * notices (a subscribed connection cannot run commands). Errors are logged with the component's name.
 */
export function redisPair(url: string, component: string, log?: Logger): { redis: Redis; sub: Redis } {
  const redis = new Redis(url, { connectTimeout: 2_000, maxRetriesPerRequest: 3, lazyConnect: true });
  const sub = new Redis(url, { connectTimeout: 2_000, lazyConnect: true });
  for (const c of [redis, sub]) c.on('error', (e: Error) => log?.warn({ err: e.message }, `${component}: Redis connection error`));
  return { redis, sub };
}
