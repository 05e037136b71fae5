/**
 * An AssetStore in Redis, shared by several instances of the channel (README "Assets", several
 * instances). Layout under `prefix` (default `{redis_prefix}{<topic root>}:assets:`):
 *
 *   {prefix}a:{id}     hash: rev (the service's revision), seq (this store's write number), rec (JSON AssetRecord)
 *   {prefix}ids        set of the asset ids (load reads it: no SCAN over a shared keyspace)
 *   {prefix}seq        counter: every write takes the next number
 *   {prefix}changed    pub/sub channel: "<rev> <id>" after every write (rev 0: deleted)
 *
 * Writes are Lua scripts, so the revision check, the write, the id set and the notice are one atomic
 * step. Why a `seq` beside `rev`: the service restarts an asset's revisions at 1 after a delete, so
 * "rev still 3" could be a different, re-created asset (ABA). The store remembers the `seq` it last
 * read or wrote per asset and a write also requires it unchanged, as the file store remembers revs.
 *
 * Failure contract (as the file store's): every error rejects with EDGE_ASSET_STORE_FAILED and a
 * reason; nothing is queued while Redis is unreachable (the client fails fast), so a frame whose
 * change could not be stored is not acknowledged instead of waiting. A write whose answer timed out
 * may still have been applied: the service reloads the asset after any failure, so its cache
 * follows what Redis holds. Durability across a Redis crash is Redis's (appendonly + appendfsync).
 */
import type { Redis } from 'ioredis';
import { assetKeys, defaultAssetPrefix, failFastRedis } from '../storage/redis.js';
import { EdgeError } from '../errors.js';
import type { AssetStore } from './asset-store.js';
import type { AssetRecord } from './types.js';

export interface RedisAssetStoreOptions {
  url: string;
  /** Key prefix; instances that share timelines use the same prefix. */
  prefix: string;
  /** A command (and the first connection) failing after this long, ms. */
  commandTimeoutMs?: number;
  /** A stored record that could not be read (it is left in place and skipped). */
  onCorrupt?: (info: { id: string; reason: string }) => void;
  /** Connection state changes (not every retry): for the log. */
  onConnection?: (info: { up: boolean; reason: string }) => void;
}

const PUT = `
local cur = redis.call('HMGET', KEYS[1], 'rev', 'seq')
local exp = tonumber(ARGV[1])
if exp == 0 then
  if cur[1] then return 0 end
elseif tonumber(cur[1]) ~= exp or cur[2] ~= ARGV[2] then
  return 0
end
local seq = redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[1], 'rev', ARGV[3], 'seq', seq, 'rec', ARGV[4])
redis.call('SADD', KEYS[2], ARGV[5])
redis.call('PUBLISH', ARGV[6], ARGV[3] .. ' ' .. ARGV[5])
return seq
`;

const DELETE = `
local cur = redis.call('HMGET', KEYS[1], 'rev', 'seq')
local exp = tonumber(ARGV[1])
if exp == 0 then
  if cur[1] then return 0 end
  return 1
end
if tonumber(cur[1]) ~= exp or cur[2] ~= ARGV[2] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[3])
redis.call('PUBLISH', ARGV[4], '0 ' .. ARGV[3])
return 1
`;

export { defaultAssetPrefix };

function fail(what: string, e: unknown): EdgeError {
  return new EdgeError('EDGE_ASSET_STORE_FAILED', `Redis asset store: ${what}: ${(e as Error).message ?? String(e)}`);
}

export class RedisAssetStore implements AssetStore {
  private readonly client: Redis;
  private sub: Redis | null = null;
  /** id → the seq this store last read or wrote (the ABA guard, see the top). */
  private readonly seqs = new Map<string, string>();
  private up = false;
  private closed = false;

  private readonly keys: ReturnType<typeof assetKeys>;

  constructor(private readonly opts: RedisAssetStoreOptions) {
    this.keys = assetKeys(opts.prefix);
    this.client = failFastRedis(opts.url, opts.commandTimeoutMs ?? 5_000);
    this.client.on('ready', () => this.connection(true, 'connected'));
    this.client.on('error', (e: Error) => this.connection(false, e.message));
    this.client.on('close', () => this.connection(false, 'connection closed'));
  }

  private connection(up: boolean, reason: string): void {
    if (this.closed || up === this.up) return;
    this.up = up;
    this.opts.onConnection?.({ up, reason });
  }

  private key(id: string): string {
    return this.keys.asset(id);
  }

  private get idsKey(): string {
    return this.keys.ids;
  }

  private get channel(): string {
    return this.keys.changed;
  }

  private async ready(): Promise<void> {
    if (this.client.status === 'wait') {
      try {
        await this.client.connect();
      } catch (e) {
        throw fail(`cannot connect`, e);
      }
    }
  }

  /**
   * Calls `onChange(id, rev)` after every write by any instance (rev 0: deleted; this store's own
   * writes included), and `onChange(null, 0)` when notices may have been missed (the subscription
   * was re-established after a disconnect): then everything must be compared again.
   * Resolves once the subscription is in place, so a load after it misses nothing.
   */
  async watch(onChange: (id: string | null, rev: number) => void): Promise<void> {
    if (this.sub) throw new Error('watch() was already called');
    const sub = failFastRedis(this.opts.url, this.opts.commandTimeoutMs ?? 5_000, true);
    this.sub = sub;
    sub.on('error', () => undefined); // reported by the main client's handler; retried by ioredis
    let first = true;
    sub.on('ready', () => {
      if (!first) onChange(null, 0);
      first = false;
    });
    sub.on('message', (_ch: string, msg: string) => {
      const sp = msg.indexOf(' ');
      const rev = Number(msg.slice(0, sp));
      if (sp > 0 && Number.isInteger(rev)) onChange(msg.slice(sp + 1), rev);
    });
    try {
      await sub.connect();
      await sub.subscribe(this.channel);
    } catch (e) {
      throw fail(`cannot subscribe to ${this.channel}`, e);
    }
  }

  private parse(id: string, rev: string | null, seq: string | null, rec: string | null): AssetRecord | null {
    if (rev === null || rec === null) return null;
    try {
      const r = JSON.parse(rec) as AssetRecord;
      if (!r || r.asset?.id !== id || !Array.isArray(r.intervals) || r.rev !== Number(rev)) throw new Error('not an asset record of this id and revision');
      if (seq !== null) this.seqs.set(id, seq);
      return r;
    } catch (e) {
      this.opts.onCorrupt?.({ id, reason: (e as Error).message });
      return null;
    }
  }

  async load(): Promise<AssetRecord[]> {
    await this.ready();
    try {
      const ids = (await this.client.smembers(this.idsKey)).sort();
      const out: AssetRecord[] = [];
      for (let i = 0; i < ids.length; i += 500) {
        const batch = ids.slice(i, i + 500);
        const p = this.client.pipeline();
        for (const id of batch) p.hmget(this.key(id), 'rev', 'seq', 'rec');
        const res = (await p.exec()) ?? [];
        batch.forEach((id, k) => {
          const [err, v] = res[k] ?? [new Error('no reply'), null];
          if (err) throw err;
          const [rev, seq, rec] = v as (string | null)[];
          const r = this.parse(id, rev ?? null, seq ?? null, rec ?? null);
          if (r) out.push(r);
        });
      }
      return out;
    } catch (e) {
      throw e instanceof EdgeError ? e : fail('cannot load the assets', e);
    }
  }

  async get(id: string): Promise<AssetRecord | null> {
    await this.ready();
    let v: (string | null)[];
    try {
      v = await this.client.hmget(this.key(id), 'rev', 'seq', 'rec');
    } catch (e) {
      throw fail(`cannot read asset ${id}`, e);
    }
    const r = this.parse(id, v[0] ?? null, v[1] ?? null, v[2] ?? null);
    if (!r && v[0] == null) this.seqs.delete(id);
    return r;
  }

  async put(record: AssetRecord, expectedRev: number): Promise<boolean> {
    await this.ready();
    const id = record.asset.id;
    let seq: unknown;
    try {
      seq = await this.client.eval(PUT, 3, this.key(id), this.idsKey, this.keys.seq, String(expectedRev), this.seqs.get(id) ?? '', String(record.rev), JSON.stringify(record), id, this.channel);
    } catch (e) {
      throw fail(`cannot write asset ${id}`, e);
    }
    if (!seq) return false;
    this.seqs.set(id, String(seq));
    return true;
  }

  async delete(id: string, expectedRev: number): Promise<boolean> {
    await this.ready();
    let ok: unknown;
    try {
      ok = await this.client.eval(DELETE, 2, this.key(id), this.idsKey, String(expectedRev), this.seqs.get(id) ?? '', id, this.channel);
    } catch (e) {
      throw fail(`cannot delete asset ${id}`, e);
    }
    if (!ok) return false;
    this.seqs.delete(id);
    return true;
  }

  async close(): Promise<void> {
    this.closed = true;
    const quit = async (c: Redis | null) => {
      if (!c) return;
      if (c.status === 'ready') await c.quit().catch(() => c.disconnect());
      else c.disconnect();
    };
    await Promise.all([quit(this.client), quit(this.sub)]);
  }
}
