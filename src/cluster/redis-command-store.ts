/**
 * The command store several instances share (config redis_url): each held command is a hash, each
 * device's queue a list of ids, expiry a sorted set (keys: src/storage/redis.ts). Every change that must
 * happen once across instances is one Lua script, so Redis decides who wins: `addOnce` (idempotent
 * by id, also against ids that ended in the last ten minutes), `remove` (true for the one instance
 * that removed it) and `takeExpired` (skips devices whose owner key is alive: their instance
 * expires them itself). Changes are announced on a pub/sub channel, so the instance that holds the
 * device's connection loads what another instance queued or canceled.
 *
 * Durability is Redis's (AOF with `appendfsync everysec` or `always`, README "Deployment"): a
 * command acknowledged as queued is in Redis's memory and its log, not in a local file.
 */
import type { Redis } from 'ioredis';
import { EdgeError } from '../errors.js';
import type { CommandStore, SharedCommandStore, StoredCommand } from '../commands/command-store.js';
import type { Logger } from '../util/log.js';
import { redisKeys, redisPair, type RedisKeys } from '../storage/redis.js';

/** As long as the file store's "recent" window: a QoS 1 redelivery or a client retry is not queued twice. */
const DONE_TTL_MS = 10 * 60 * 1000;
const ONCE_TTL_MS = 60 * 1000;

const ADD = `
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[4]) == 1 then return 'duplicate' end
if redis.call('LLEN', KEYS[2]) >= tonumber(ARGV[4]) then return 'full' end
redis.call('HSET', KEYS[1], 'json', ARGV[1], 'attempts', '0', 'q', KEYS[2], 'own', ARGV[5])
redis.call('RPUSH', KEYS[2], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[2])
return 'added'`;

const REMOVE = `
local q = redis.call('HGET', KEYS[1], 'q')
if not q then return 0 end
redis.call('DEL', KEYS[1])
redis.call('LREM', q, 0, ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('SET', KEYS[3], '1', 'PX', ARGV[2])
return 1`;

const SET_ATTEMPTS = `
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'attempts', ARGV[1]) return 1 end
return 0`;

const TAKE_EXPIRED = `
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for _, id in ipairs(ids) do
  local k = ARGV[3] .. 'cmd:' .. id
  local h = redis.call('HMGET', k, 'json', 'attempts', 'q', 'own')
  if not h[1] then
    redis.call('ZREM', KEYS[1], id)
  elseif redis.call('EXISTS', h[4]) == 0 then
    redis.call('DEL', k)
    redis.call('LREM', h[3], 0, id)
    redis.call('ZREM', KEYS[1], id)
    redis.call('SET', ARGV[3] .. 'done:' .. id, '1', 'PX', ARGV[4])
    table.insert(out, h[1])
    table.insert(out, h[2])
  end
end
return out`;

export interface RedisCommandStoreOptions {
  url: string;
  prefix: string;
  log?: Logger;
}

type Body = Omit<StoredCommand, 'attempts'>;

export class RedisCommandStore implements CommandStore, SharedCommandStore {
  readonly shared: SharedCommandStore = this;
  private readonly keys: RedisKeys;
  private readonly redis: Redis;
  private readonly sub: Redis;
  private readonly listeners: ((channelId: string, ident: string) => void)[] = [];

  constructor(private readonly o: RedisCommandStoreOptions) {
    this.keys = redisKeys(o.prefix);
    // commands wait (bounded) through a Redis restart instead of failing at once: a request is
    // rejected with EDGE_COMMAND_STORE_FAILED only after the retries
    ({ redis: this.redis, sub: this.sub } = redisPair(o.url, 'command store', o.log));
    this.sub.on('message', (_ch: string, msg: string) => {
      let v: { channel?: unknown; ident?: unknown };
      try {
        v = JSON.parse(msg) as typeof v;
      } catch {
        return;
      }
      if (typeof v.channel !== 'string' || typeof v.ident !== 'string') return;
      for (const cb of this.listeners) cb(v.channel, v.ident);
    });
  }

  /** Connects and subscribes. Nothing is loaded: a device's commands are loaded when it connects here. */
  async load(): Promise<StoredCommand[]> {
    try {
      if (this.redis.status === 'wait') await this.redis.connect();
      if (this.sub.status === 'wait') await this.sub.connect();
      await this.sub.subscribe(this.keys.changedChannel);
    } catch (e) {
      throw new EdgeError('EDGE_COMMAND_STORE_FAILED', `cannot reach Redis for the shared command store: ${(e as Error).message}`);
    }
    // every held command is in the expiry set; the contract's order (add order) is queue time here,
    // the one order several instances agree on
    const all = await this.readAll(await this.redis.zrange(this.keys.expiry, 0, -1));
    return all.sort((a, b) => a.queuedAtMs - b.queuedAtMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** The commands of these ids that are still held, in the given order. */
  private async readAll(ids: readonly string[]): Promise<StoredCommand[]> {
    if (ids.length === 0) return [];
    const p = this.redis.pipeline();
    for (const id of ids) p.hmget(this.keys.command(id), 'json', 'attempts');
    const rows = (await p.exec()) ?? [];
    const out: StoredCommand[] = [];
    for (const [err, v] of rows) {
      const [json, attempts] = (v ?? []) as (string | null)[];
      if (!err && json) {
        const c = parse(json, attempts ?? '0');
        if (c) out.push(c);
      }
    }
    return out;
  }

  async add(cmd: StoredCommand): Promise<void> {
    const r = await this.addOnce(cmd, Number.MAX_SAFE_INTEGER);
    if (r !== 'added') throw new EdgeError('EDGE_COMMAND_STORE_FAILED', `command ${cmd.id} is already held`);
  }

  async addOnce(cmd: StoredCommand, maxPerDevice: number): Promise<'added' | 'duplicate' | 'full'> {
    const { attempts: _attempts, ...body } = cmd;
    const k = this.keys;
    const r = (await this.redis.eval(ADD, 4, k.command(cmd.id), k.queue(cmd.channelId, cmd.ident), k.expiry, k.done(cmd.id), JSON.stringify(body), cmd.id, cmd.expiresAtMs, maxPerDevice, k.owner(cmd.channelId, cmd.ident))) as string;
    if (r === 'added') this.announce(cmd.channelId, cmd.ident);
    return r as 'added' | 'duplicate' | 'full';
  }

  async setAttempts(id: string, attempts: number): Promise<boolean> {
    return (await this.redis.eval(SET_ATTEMPTS, 1, this.keys.command(id), attempts)) === 1;
  }

  async remove(id: string): Promise<boolean> {
    const before = await this.get(id);
    const n = (await this.redis.eval(REMOVE, 3, this.keys.command(id), this.keys.expiry, this.keys.done(id), id, DONE_TTL_MS)) as number;
    if (n === 1 && before) this.announce(before.channelId, before.ident);
    return n === 1;
  }

  async get(id: string): Promise<StoredCommand | null> {
    const [json, attempts] = await this.redis.hmget(this.keys.command(id), 'json', 'attempts');
    return json ? parse(json, attempts ?? null) : null;
  }

  async loadDevice(channelId: string, ident: string): Promise<StoredCommand[]> {
    return this.readAll(await this.redis.lrange(this.keys.queue(channelId, ident), 0, -1));
  }

  async takeExpired(nowMs: number, limit: number): Promise<StoredCommand[]> {
    const flat = (await this.redis.eval(TAKE_EXPIRED, 1, this.keys.expiry, nowMs, limit, this.keys.prefix, DONE_TTL_MS)) as string[];
    const out: StoredCommand[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const c = parse(flat[i]!, flat[i + 1]!);
      if (c) out.push(c);
    }
    return out;
  }

  async firstToReport(token: string): Promise<boolean> {
    return (await this.redis.set(this.keys.once(token), '1', 'PX', ONCE_TTL_MS, 'NX')) === 'OK';
  }

  onChanged(cb: (channelId: string, ident: string) => void): void {
    this.listeners.push(cb);
  }

  async close(): Promise<void> {
    await Promise.all([this.redis, this.sub].map((c) => c.quit().catch(() => c.disconnect())));
  }

  private announce(channelId: string, ident: string): void {
    this.redis.publish(this.keys.changedChannel, JSON.stringify({ channel: channelId, ident })).catch((e: Error) => this.o.log?.warn({ err: e.message }, 'command store: change not announced'));
  }
}

function parse(json: string, attempts: string | null): StoredCommand | null {
  try {
    const b = JSON.parse(json) as Body;
    return { ...b, attempts: Number(attempts ?? 0) || 0 };
  } catch {
    return null;
  }
}
