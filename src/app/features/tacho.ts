import { readFileSync } from 'node:fs';
import type { CommandService } from '../../commands/command-service.js';
import type { ChannelConfig, EdgeConfig } from '../../config/schema.js';
import { EdgeError } from '../../errors.js';
import { mediaId } from '../../media/media-catalog.js';
import { DeviceMessages } from '../device-messages.js';
import type { RelayEffect } from '../../protocol/types.js';
import { DddIngest, JSON_SUFFIX } from '../../tachograph/ddd-ingest.js';
import { DownloadScheduler, type DeviceScheduleView } from '../../tachograph/download-scheduler.js';
import type { ScheduleSettings } from '../../tachograph/schedule-rules.js';
import { ScheduleStore } from '../../tachograph/schedule-store.js';
import type { Feature } from '../feature.js';
import type { Runtime } from '../runtime.js';

export interface TachoFeature extends Feature {
  readonly ingest: DddIngest | null;
  readonly scheduler: DownloadScheduler | null;
  /** The relay's admission rule for company-card requests (README "Company card access"). */
  admit(channelId: string, ident: string, e: RelayEffect): string | null;
  view(channelId: string, ident: string): DeviceScheduleView | null;
}

/** The parameters that say which driver card is in which slot (FMS driver identification). */
export const DRIVER_ID_PARAMS = ['tacho.fms.driver.id.1', 'tacho.fms.driver.id.2'] as const;

/**
 * Tachograph files as their users need them (README "Tachograph download"): every stored DDD file
 * read in the pool into a JSON document and messages; downloads requested on schedule; the company
 * card's requests relayed only for a pending download or an allowed device. `links`: the signed
 * media links of the HTTP listener, asked when a file is read (the ops feature, built later, has them).
 */
export function tachoFeature(rt: Runtime, commands: CommandService, links: () => { url(id: string): string } | null): TachoFeature {
  const { config, log } = rt;
  const t = config.tacho;
  const tlog = log.child({ component: 'tacho' });
  const byId = new Map(config.channels.map((c) => [String(c.id), c]));
  const roots = t.roots.map((f) => {
    try {
      return new Uint8Array(readFileSync(f));
    } catch (e) {
      throw new EdgeError('EDGE_CONFIG_INVALID', `tacho.roots: cannot read ${f}: ${(e as Error).message}`);
    }
  });
  const settings = (channelId: string, ident: string): ScheduleSettings | null => scheduleSettings(config, byId.get(channelId), ident);
  const anySchedule = t.schedule.enabled || config.channels.some((c) => c.tacho.schedule === true || Object.values(c.tacho.devices).some((d) => d.schedule === true));
  if (anySchedule && !t.schedule.atr) throw new EdgeError('EDGE_CONFIG_INVALID', 'tacho.schedule.atr: a download schedule is on, and request_tachograph_file needs the company card\'s ATR (hex)');
  if (t.schedule.timeout_s > config.commands.max_timeout_s) throw new EdgeError('EDGE_CONFIG_INVALID', `tacho.schedule.timeout_s ${t.schedule.timeout_s} is over commands.max_timeout_s ${config.commands.max_timeout_s}: the scheduled commands would be rejected`);

  const store = anySchedule ? new ScheduleStore(t.dir, t.fsync) : null;
  const scheduler = store
    ? new DownloadScheduler({
        store,
        settings,
        atr: t.schedule.atr,
        timeoutS: t.schedule.timeout_s,
        retryS: t.schedule.retry_s,
        log: tlog,
        ports: {
          // as a user would: the command topic; the command service takes it from there
          request: (ch, ident, body) => rt.sink.event(rt.topics.commandRequest(ch, ident), body),
          held: (ch, ident) => commands.heldFor(ch, ident),
          state: (ch, ident, payload) => rt.sink.state(rt.topics.deviceState(ch, ident, 'tacho-schedule'), payload),
        },
      })
    : null;

  const out = new DeviceMessages(rt);
  const ingest = t.read_files
    ? new DddIngest({
        roots,
        strict: t.strict,
        activityMessages: t.activity_messages,
        log: tlog,
        ports: {
          parse: (task) => rt.pool.parseDdd(task),
          storeJson: (of, bytes, meta) => rt.media.storeDerived(of, JSON_SUFFIX, bytes, 'file', meta),
          publish: (ch, ident, msg, done) => out.publish(ch, ident, msg, done),
          event: (ch, ident, event, fields) => out.mediaEvent(ch, ident, event, fields),
          link: (ch, ident, name) => links()?.url(mediaId(ch, ident, name)),
          downloaded: (ch, ident, kind, card, atMs) => scheduler?.downloaded(ch, ident, kind, card, atMs),
        },
      })
    : null;

  const allowed = (channelId: string, ident: string): boolean => {
    const lists = [t.card_allow, byId.get(channelId)?.tacho.card_allow ?? []];
    return lists.some((l) => l.includes('*') || l.includes(ident));
  };
  let tick: NodeJS.Timeout | null = null;
  let driverIdx: [number, number] | null = null;
  let seenNames: readonly string[] | null = null;
  return {
    name: 'tacho',
    ingest,
    scheduler,
    admit(channelId, ident, e) {
      // a request the device makes on its own (no command waits for its reply) authenticates the
      // fleet's company card for whatever the device wants: only for devices on an allow list
      if (!e.answer || commands.waiting(channelId, ident, e.answer.replyKey) !== null || allowed(channelId, ident)) return null;
      return `no ${e.answer.replyKey === 'media:tacho' ? 'tachograph download' : `command waiting for ${e.answer.replyKey}`} is pending for the device, and it is not on tacho.card_allow`;
    },
    view: (ch, ident) => scheduler?.view(ch, ident) ?? null,
    hooks: {
      ...(ingest ? { mediaStored: (ch: string, ident: string, stored, meta) => ingest.stored(ch, ident, stored, meta) } : {}),
      ...(scheduler
        ? {
            commandsReady: (ch: string, ident: string) => scheduler.online(ch, ident),
            offline: (ch: string, ident: string) => scheduler.offline(ch, ident),
            // never a durable write: returns false, so the ACK does not wait for it
            observe: (ch, ident, w, k) => {
              if (w.names !== seenNames) {
                seenNames = w.names;
                driverIdx = [w.names.indexOf(DRIVER_ID_PARAMS[0]), w.names.indexOf(DRIVER_ID_PARAMS[1])];
              }
              const base = k * (w.names.length + 1) + 1;
              const [a, b] = driverIdx!;
              // a message without the parameter (another record type) says nothing about the slots
              const v1 = a < 0 ? undefined : w.values[base + a];
              const v2 = b < 0 ? undefined : w.values[base + b];
              if ((v1 !== undefined && v1 !== null) || (v2 !== undefined && v2 !== null)) scheduler.observed(ch, ident, v1 ?? undefined, v2 ?? undefined);
              return false;
            },
          }
        : {}),
    },
    state: scheduler ? { name: 'tacho', republish: () => scheduler.republish() } : undefined,
    async start() {
      store?.load();
      if (scheduler) {
        rt.watch.set('tacho', DRIVER_ID_PARAMS);
        tick = setInterval(() => scheduler.tick(), t.schedule.check_s * 1000);
        tick.unref();
      }
      // files stored before a stop that came before their reading: one process of several looks
      // (they share the media folder; each would otherwise read every such file again)
      if (ingest && rt.process.index === 0) {
        const n = await ingest.recover(config.media.dir);
        if (n) tlog.info({ files: n }, `read ${n} tachograph file(s) stored before the last stop`);
      }
    },
    async stop() {
      if (tick) clearInterval(tick);
      await ingest?.settled();
      await store?.settled();
    },
  };
}

/** A device's schedule: the device's override, else its channel's, else the top-level section; null = no schedule anywhere for it. */
export function scheduleSettings(config: EdgeConfig, channel: ChannelConfig | undefined, ident: string): ScheduleSettings | null {
  if (!channel) return null;
  const s = config.tacho.schedule;
  const c = channel.tacho;
  const d = c.devices[ident];
  const enabled = d?.schedule ?? c.schedule ?? s.enabled;
  if (!enabled && d?.schedule === undefined && c.schedule === null && !s.enabled) return null;
  return { enabled, driverCardDays: d?.driver_card_days ?? c.driver_card_days ?? s.driver_card_days, vehicleUnitDays: d?.vehicle_unit_days ?? c.vehicle_unit_days ?? s.vehicle_unit_days };
}
