import type { Logger } from '../util/log.js';
import { cardKey, downloadPeriod, LEGAL_DRIVER_CARD_DAYS, LEGAL_VEHICLE_UNIT_DAYS, nextDue, type ScheduleSettings } from './schedule-rules.js';
import { vuKey, type ScheduleStore } from './schedule-store.js';

/**
 * Scheduled tachograph downloads (README "Scheduled downloads"). For every online device of a
 * channel whose schedule is on, the vehicle unit is downloaded every `vehicle_unit_days`, and each
 * driver card the device reports in a slot (FMS driver identification, e.g. Ruptela IO 155–158 as
 * `tacho.fms.driver.id.1/2`) every `driver_card_days`. A due download is asked for the way a user
 * would ask: a `request_tachograph_file` command request on the device's command topic, with `meta`
 * saying it was scheduled, so it is queued durably, retried, expired and reported like any command.
 * A download counts when its file is stored, whoever asked for it (ingest calls `downloaded`).
 *
 * Not issued twice: a scheduled command for that source still held (queued or in flight) blocks the
 * next one, and after one ends without a file the next waits `retry_s`. The next due time per device
 * is retained state (`.../devices/{ident}/tacho-schedule`) and the HTTP read API.
 */
export type TachoSource = 'vehicle_unit' | 'driver_1' | 'driver_2';

export interface SchedulerPorts {
  /** Publishes a command request for the device (the command topic, as a user would). */
  request(channelId: string, ident: string, body: string): void;
  /** The device's held commands (queued, in flight). */
  held(channelId: string, ident: string): readonly { id: string; name: string }[];
  /** Retained state of the device's schedule. */
  state(channelId: string, ident: string, payload: string): void;
}

export interface DownloadSchedulerOptions {
  store: ScheduleStore;
  /** The device's settings, or null when the channel has no schedule (and the device no override). */
  settings(channelId: string, ident: string): ScheduleSettings | null;
  /** The company card's ATR (hex), which the command needs. */
  atr: string;
  timeoutS: number;
  retryS: number;
  ports: SchedulerPorts;
  log: Logger;
  now?: () => number;
}

export interface DeviceScheduleView {
  channel: string;
  ident: string;
  enabled: boolean;
  /** `last`/`next`: Unix s (`next` null: never downloaded, due at once while the schedule is on); `due`: a download is due now. */
  vehicle_unit: { last: number | null; next: number | null; due: boolean; every_days: number };
  driver_cards: { slot: 1 | 2; card: string; last: number | null; next: number | null; due: boolean; every_days: number }[];
}

interface Device {
  channelId: string;
  ident: string;
  online: boolean;
  /** Card keys in slot 1 and 2, as last reported; null = no card. */
  cards: [string | null, string | null];
  lastState: string;
}

const SCHEDULED_PREFIX = 'tacho-sched-';

export class DownloadScheduler {
  private readonly devices = new Map<string, Device>();
  /** When a scheduled command was last issued, per device and source. */
  private readonly issued = new Map<string, number>();
  private readonly now: () => number;
  /** Commands issued so far (tests, logs). */
  requests = 0;

  constructor(private readonly o: DownloadSchedulerOptions) {
    this.now = o.now ?? Date.now;
  }

  online(channelId: string, ident: string): void {
    this.device(channelId, ident).online = true;
    this.check(channelId, ident);
  }

  offline(channelId: string, ident: string): void {
    const d = this.devices.get(vuKey(channelId, ident));
    if (d) d.online = false;
  }

  /** The driver ids a message reported (undefined: the message did not say; '' or null: no card). */
  observed(channelId: string, ident: string, slot1: unknown, slot2: unknown): void {
    if (this.o.settings(channelId, ident) === null) return;
    const d = this.device(channelId, ident);
    let changed = false;
    [slot1, slot2].forEach((v, i) => {
      if (v === undefined) return;
      const k = typeof v === 'string' ? cardKey(v) : null;
      if (d.cards[i] !== k) {
        d.cards[i] = k;
        changed = true;
      }
    });
    if (changed) this.check(channelId, ident);
  }

  /** A tachograph file of the device was stored and read: the download it was counts. */
  async downloaded(channelId: string, ident: string, kind: 'vehicle_unit' | 'driver_card', card: string | null, atMs: number): Promise<void> {
    if (kind === 'vehicle_unit') await this.o.store.record('vu', vuKey(channelId, ident), atMs);
    else {
      const k = card === null ? null : cardKey(card);
      if (k === null) return;
      await this.o.store.record('card', k, atMs);
    }
    this.publish(channelId, ident, false);
  }

  /** Every online device, checked against the clock (the feature calls it every `check_s`). */
  tick(): void {
    for (const d of this.devices.values()) if (d.online) this.check(d.channelId, d.ident);
  }

  view(channelId: string, ident: string): DeviceScheduleView | null {
    const s = this.o.settings(channelId, ident);
    if (!s) return null;
    const d = this.devices.get(vuKey(channelId, ident));
    const lastVu = this.o.store.lastVu(channelId, ident);
    const now = this.now();
    const sec = (ms: number | null) => (ms === null ? null : Math.floor(ms / 1000));
    const at = (last: number | null, days: number) => {
      const next = last === null ? null : nextDue(last, days, now);
      return { last: sec(last), next: sec(next), due: s.enabled && (next === null || next <= now), every_days: days };
    };
    const cards: DeviceScheduleView['driver_cards'] = [];
    d?.cards.forEach((c, i) => {
      if (c !== null) cards.push({ slot: (i + 1) as 1 | 2, card: c, ...at(this.o.store.lastCard(c), s.driverCardDays) });
    });
    return { channel: channelId, ident, enabled: s.enabled, vehicle_unit: at(lastVu, s.vehicleUnitDays), driver_cards: cards };
  }

  /** Republishes the retained state of every device seen since start (the resync). */
  republish(): number {
    for (const d of this.devices.values()) this.publish(d.channelId, d.ident, true);
    return this.devices.size;
  }

  private device(channelId: string, ident: string): Device {
    const k = vuKey(channelId, ident);
    let d = this.devices.get(k);
    if (!d) this.devices.set(k, (d = { channelId, ident, online: false, cards: [null, null], lastState: '' }));
    return d;
  }

  private check(channelId: string, ident: string): void {
    const s = this.o.settings(channelId, ident);
    if (!s) return;
    const d = this.device(channelId, ident);
    if (s.enabled && d.online) {
      const now = this.now();
      const lastVu = this.o.store.lastVu(channelId, ident);
      if (nextDue(lastVu, s.vehicleUnitDays, now) <= now) this.issue(d, 'vehicle_unit', lastVu, LEGAL_VEHICLE_UNIT_DAYS, null, now);
      d.cards.forEach((c, i) => {
        if (c === null) return;
        const last = this.o.store.lastCard(c);
        if (nextDue(last, s.driverCardDays, now) <= now) this.issue(d, i === 0 ? 'driver_1' : 'driver_2', last, LEGAL_DRIVER_CARD_DAYS, c, now);
      });
    }
    this.publish(channelId, ident, false);
  }

  private issue(d: Device, source: TachoSource, lastMs: number | null, legalDays: number, card: string | null, now: number): void {
    const prefix = `${SCHEDULED_PREFIX}${source}-`;
    if (this.o.ports.held(d.channelId, d.ident).some((c) => c.id.startsWith(prefix))) return;
    const k = `${vuKey(d.channelId, d.ident)}/${source}`;
    const before = this.issued.get(k);
    if (before !== undefined && now - before < this.o.retryS * 1000) return;
    this.issued.set(k, now);
    const id = `${prefix}${Math.floor(now / 1000)}`;
    const body = {
      id,
      name: 'request_tachograph_file',
      properties: { source, atr: this.o.atr, mask: 0, ...downloadPeriod(lastMs, legalDays, now) },
      timeout: this.o.timeoutS,
      meta: { scheduled: true, schedule: source === 'vehicle_unit' ? 'vehicle_unit' : 'driver_card', card, last_download: lastMs === null ? null : Math.floor(lastMs / 1000) },
    };
    this.requests++;
    this.o.log.info({ channel: d.channelId, ident: d.ident, id, source, card }, `scheduled tachograph download ${id} (${source}${card ? ` card ${card}` : ''}) requested`);
    this.o.ports.request(d.channelId, d.ident, JSON.stringify(body));
  }

  private publish(channelId: string, ident: string, force: boolean): void {
    const v = this.view(channelId, ident);
    if (!v) return;
    const d = this.device(channelId, ident);
    const text = JSON.stringify(v);
    if (!force && text === d.lastState) return;
    d.lastState = text;
    this.o.ports.state(channelId, ident, text);
  }
}
