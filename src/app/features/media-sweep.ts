import { MediaCatalog, type MediaEntry } from '../../media/media-catalog.js';
import { deleteStored, readDeviceRetention, retentionDeletions, type DeletionReason, type RetentionRule } from '../../media/retention.js';
import { safeLevel } from '../../media/media-store.js';
import { channelIdValue } from '../../message/naming.js';
import type { Feature } from '../feature.js';
import type { Runtime } from '../runtime.js';

/** The `deleted` media log event of a file (retention or the API), as every instance publishes it. */
export function deletedEvent(e: MediaEntry, reason: string, nowMs: number): string {
  return JSON.stringify({ event: 'deleted', timestamp: nowMs / 1000, 'channel.id': channelIdValue(e.channel_id), ident: e.ident, reason, kind: e.kind, 'media.file.id': e.id, 'media.file.name': e.name, 'media.size': e.bytes, 'media.sha256': e.sha256 });
}

export interface MediaSweepFeature extends Feature {
  /** One sweep now; resolves with the number of files deleted. */
  sweep(): Promise<number>;
  /** The rule a device's files follow now (its own, its channel's or the default). */
  ruleOf(channel: string, ident: string): Promise<RetentionRule>;
  /** Applies the device's rule now (after it changed over the API); resolves with the number of files deleted. */
  applyTo(channel: string, ident: string): Promise<number>;
}

/**
 * Upkeep of the media folder (README "Media store", "HTTP API"):
 * - uploads devices gave up: their `.part` files would otherwise stay forever; swept at start and
 *   hourly, files untouched for media.part_max_age_s go (0 = never);
 * - retention: files past their age limit, and a device's oldest files while it holds more than its
 *   size cap, go (protected ones never), at start, every media.retention.sweep_s, and for a device
 *   right after it stored a file. The rule of a device: its own (set over the HTTP API), else its
 *   channel's (channels[i].media_retention), else media.retention. Each deletion is a `deleted`
 *   media log event with the reason; `.part` uploads are never touched. Instances sharing the folder
 *   may sweep at once: a file is reported by the one whose delete succeeded.
 */
export function mediaSweepFeature(rt: Runtime): MediaSweepFeature {
  const { config, log } = rt;
  const maxAgeMs = config.media.part_max_age_s * 1000;
  const catalog = new MediaCatalog(config.media.dir);
  const byChannel = new Map(config.channels.map((c) => [String(c.id), c.media_retention]));
  const timers: NodeJS.Timeout[] = [];
  let stopped = false;
  let running: Promise<number> | null = null;
  const sweepParts = () => {
    if (maxAgeMs > 0)
      void rt.media.sweepStaleParts(maxAgeMs).then((n) => {
        if (n > 0) log.info({ removed: n }, `media: removed ${n} unfinished upload(s) untouched for media.part_max_age_s`);
      });
  };
  const ruleOf = async (channel: string, ident: string): Promise<RetentionRule> => {
    const g = config.media.retention;
    const c = byChannel.get(channel);
    const d = await readDeviceRetention(config.media.dir, channel, ident);
    return { ttlDays: d.ttl_days ?? c?.ttl_days ?? g.ttl_days, rotateBytes: d.rotate_bytes ?? c?.rotate_bytes ?? g.rotate_bytes };
  };
  const report = (e: MediaEntry, reason: DeletionReason) => rt.sink.log(rt.topics.mediaEvent(e.channel_id, e.ident), deletedEvent(e, reason, Date.now()));
  const device = async (channel: string, ident: string): Promise<number> => {
    const rule = await ruleOf(channel, ident);
    if (rule.ttlDays === 0 && rule.rotateBytes === 0) return 0;
    let n = 0;
    for (const { entry, reason } of retentionDeletions(await catalog.deviceFiles(channel, ident), rule, Date.now() / 1000)) {
      if (stopped) break;
      if (await deleteStored(entry)) {
        report(entry, reason);
        n++;
      }
    }
    return n;
  };
  const sweep = (): Promise<number> =>
    (running ??= (async () => {
      let n = 0;
      try {
        for (const d of await catalog.devices()) n += await device(d.channel, d.ident);
        if (n > 0) log.info({ deleted: n }, `media retention: deleted ${n} file(s)`);
      } catch (e) {
        log.warn({ err: (e as Error).message }, 'media retention sweep failed; it runs again at the next interval');
      } finally {
        running = null;
      }
      return n;
    })());
  return {
    name: 'media-sweep',
    sweep,
    ruleOf,
    applyTo: (channel, ident) => device(safeLevel(channel), safeLevel(ident)),
    hooks: {
      // the size cap holds right after a file arrives, not only at the next sweep
      mediaStored: (ch, ident) => void device(safeLevel(ch), safeLevel(ident)).catch((e: unknown) => log.warn({ err: (e as Error).message, ident }, 'media retention check failed')),
    },
    async start() {
      timers.push(setInterval(sweepParts, 3_600_000), setInterval(() => void sweep(), config.media.retention.sweep_s * 1000));
      for (const t of timers) t.unref();
      sweepParts();
      // not awaited: a first read of a large media folder must not hold the channels back
      void sweep();
    },
    async stop() {
      stopped = true;
      for (const t of timers) clearInterval(t);
      await running;
    },
  };
}
