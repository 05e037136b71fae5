import type { Topics } from '../mqtt/topics.js';
import { assetIdValue } from '../message/naming.js';
import type { Logger } from '../util/log.js';
import type { AssetCache, AssetCounters, AssetMqttPort } from './asset-cache.js';
import type { AssetPersistence } from './asset-persistence.js';
import type { AssetRules } from './asset-rules.js';
import { parseRequest, type ManagementRequest } from './management.js';
import { manualAssign, manualClose } from './timeline.js';
import type { Interval } from './types.js';

export interface AssetRequestsOptions {
  mqtt: AssetMqttPort;
  topics: Topics;
  maxMetaBytes: number;
  /** Ids of the channels this server runs: `assign` to any other is refused (EDGE_ASSET_CHANNEL_UNKNOWN). Absent: not checked. */
  channelIds?: readonly string[] | undefined;
  counters: AssetCounters;
  log: Logger;
}

/**
 * The management topic (`{root}/command/gw/assets`): create, update, delete, assign, close. Each
 * request is checked and applied to the cache, written, and answered on
 * `{root}/log/gw/assets/requests/applied|rejected` once the write is durable (or refused).
 */
export class AssetRequests {
  constructor(
    private readonly cache: AssetCache,
    private readonly rules: AssetRules,
    private readonly persistence: AssetPersistence,
    private readonly o: AssetRequestsOptions,
  ) {}

  async handle(payload: Buffer): Promise<void> {
    const p = parseRequest(payload, { maxMetaBytes: this.o.maxMetaBytes });
    if (!p.ok) return this.answer(false, { request_id: p.request_id, op: p.op, id: p.id }, p.reason);
    const req = p.req;
    const id = req.op === 'create' || req.op === 'update' ? req.asset.id : req.id;
    const head = { request_id: req.request_id, op: req.op, id };
    const known = this.o.channelIds;
    if (req.op === 'assign' && known && !known.includes(String(req.channel_id))) {
      return this.answer(false, head, `channel_id ${JSON.stringify(req.channel_id)} is not a channel this server runs (it runs: ${known.join(', ') || 'none'})`, 'EDGE_ASSET_CHANNEL_UNKNOWN');
    }
    if (this.cache.unsure.has(id)) return this.answer(false, head, `asset ${id} cannot be read from the store now; retry later`, 'EDGE_ASSET_STORE_FAILED');
    const outcome = this.apply(req);
    if (typeof outcome === 'string') return this.answer(false, head, outcome);
    try {
      await outcome.write;
    } catch (e) {
      return this.answer(false, head, (e as Error).message, 'EDGE_ASSET_STORE_FAILED');
    }
    this.answer(true, { ...head, ...(outcome.interval ? { interval: outcome.interval } : {}) });
  }

  /** Checks and applies one request to the cache; a string is a refusal (nothing changed). */
  private apply(req: ManagementRequest): string | { write: Promise<void>; interval?: Interval } {
    const { cache, rules, persistence } = this;
    const now = cache.now();
    if (req.op === 'create' || req.op === 'update') {
      const a = req.asset;
      const cur = cache.records.get(a.id);
      if (req.op === 'create' && cur) return `asset ${a.id} exists`;
      if (req.op === 'update' && !cur) return `unknown asset ${a.id}`;
      if (cur?.asset.declared) return `asset ${a.id} is declared in the config file; change it there`;
      const before = cur?.asset;
      if (cur) cur.asset = a;
      else cache.records.set(a.id, { asset: a, rev: 0, next_interval_id: 1, intervals: [] });
      const dup = rules.rebuild();
      if (dup) {
        if (before && cur) cur.asset = before;
        else cache.records.delete(a.id);
        rules.rebuild();
        return dup;
      }
      if (before && JSON.stringify(before.match) !== JSON.stringify(a.match)) rules.dropAllTrackers(a.id);
      return { write: persistence.commit(a.id, []) };
    }
    const r = cache.records.get(req.id);
    if (!r) return `unknown asset ${req.id}`;
    if (req.op === 'delete') {
      if (r.asset.declared) return `asset ${req.id} is declared in the config file; remove it there`;
      cache.records.delete(req.id);
      rules.dropAllTrackers(req.id);
      rules.rebuild();
      cache.reindex(req.id);
      return { write: persistence.commit(req.id, []) };
    }
    const ivs = r.intervals.slice();
    const res =
      req.op === 'assign'
        ? manualAssign(ivs, { channel_id: req.channel_id, ident: req.ident, begin: req.begin ?? now, end: req.end, meta: req.meta }, r.next_interval_id, now)
        : manualClose(ivs, req.interval_id, req.end ?? now, req.meta, now);
    if ('reason' in res) return res.reason;
    r.intervals = ivs;
    if (req.op === 'assign') r.next_interval_id++;
    rules.dropTrackersOf(req.id, res.events);
    return { write: persistence.commit(req.id, res.events), interval: res.interval };
  }

  private answer(ok: boolean, head: { request_id?: string | undefined; op?: string | undefined; id?: string | undefined }, reason?: string, code = 'EDGE_ASSET_REQUEST_INVALID'): void {
    if (ok) this.o.counters.requestsApplied++;
    else this.o.counters.requestsRejected++;
    const body: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(head)) if (v !== undefined) body[k] = k === 'id' ? assetIdValue(v) : v;
    if (reason) {
      body.code = code;
      body.reason = reason;
    }
    if (!ok) this.o.log.info({ ...body }, 'asset request rejected');
    this.o.mqtt.event(this.o.topics.assetRequestLog(ok ? 'applied' : 'rejected'), JSON.stringify(body));
  }
}
