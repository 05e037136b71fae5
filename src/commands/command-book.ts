import { EdgeError, type ErrorCode } from '../errors.js';
import { topicLevel } from '../mqtt/topics.js';
import type { CommandReply } from '../protocol/types.js';
import type { StoredCommand } from './command-store.js';
import type { CommandStatus } from './lifecycle-payloads.js';

/** A command this instance holds in memory (queued or in flight). */
export interface Held {
  c: StoredCommand;
  state: 'queued' | 'sending' | 'sent';
  replyKey: string | null;
  /** The second-stage reply key after the device accepted (EncodedCommand.then), null when none or reached. */
  then: string | null;
  /** When the reply is due (sending/sent). */
  deadlineMs: number;
  /** Lifecycle over (processed, expired, canceled); a canceled in-flight command still holds the slot. */
  ended: boolean;
  /** A matching reply that arrived before send() resolved. */
  earlyReply: CommandReply | null;
}

/** A device's commands and the chains that keep its requests and events in order. */
export interface Device {
  channelId: string;
  /** The ident as the runtime knows it (from deviceOnline), else as addressed in the topic. */
  ident: string;
  online: boolean;
  queue: Held[];
  inflight: Held | null;
  pumping: boolean;
  repump: boolean;
  /** Requests of the device are admitted one after the other, in arrival order. */
  intake: Promise<void>;
  /** The device's events are issued in the order they happen, each after the store change it reports. */
  outbox: Promise<void>;
  /** How the device's last commands ended here, newest last (bounded: RECENT_PER_DEVICE). */
  recent: { id: string; name: string; status: string; at: number; executed?: boolean; code?: string }[];
}

/** Ended commands remembered per device for the HTTP API's read side. */
export const RECENT_PER_DEVICE = 20;

/** How long an ended command's id still dedupes a repeated request (a QoS 1 redelivery or a client retry). */
const RECENT_ID_MS = 10 * 60 * 1000;
const RECENT_ID_MAX = 10_000;

export function held(c: StoredCommand, ended = false): Held {
  return { c, state: 'queued', replyKey: null, then: null, deadlineMs: 0, ended, earlyReply: null };
}

export function deviceKey(channelId: string, ident: string): string {
  return `${channelId}\u0000${topicLevel(ident)}`;
}

export function asEdge(e: unknown, fallback: ErrorCode): EdgeError {
  return e instanceof EdgeError ? e : new EdgeError(fallback, e instanceof Error ? e.message : String(e));
}

/**
 * What this instance knows of commands: the devices with their queues, the held commands by id,
 * the ids being admitted and the recently ended ones (dedupe). Memory only; the store is the truth
 * after a restart.
 */
export class CommandBook {
  readonly devices = new Map<string, Device>();
  readonly held = new Map<string, Held>();
  /** Ids of requests being admitted (validated, stored): already taken for dedupe. */
  readonly admitting = new Set<string>();
  /** Ended commands' ids (for dedupe and the duplicate's `rejected` event): when and how they ended. */
  readonly recent = new Map<string, { atMs: number; status: CommandStatus }>();

  constructor(
    private readonly now: () => number,
    private readonly isOnline: (channelId: string, ident: string) => boolean,
  ) {}

  get(channelId: string, ident: string): Device | undefined {
    return this.devices.get(deviceKey(channelId, ident));
  }

  deviceFor(channelId: string, ident: string): Device {
    const k = deviceKey(channelId, ident);
    let dev = this.devices.get(k);
    if (!dev) {
      dev = { channelId, ident, online: this.isOnline(channelId, ident), queue: [], inflight: null, pumping: false, repump: false, intake: Promise.resolve(), outbox: Promise.resolve(), recent: [] };
      this.devices.set(k, dev);
    }
    return dev;
  }

  /** Queued and in-flight commands of a device, in flight first. */
  listOf(dev: Device): Held[] {
    return dev.inflight && !dev.inflight.ended ? [dev.inflight, ...dev.queue] : dev.queue;
  }

  /** Out of memory only (the store and the events are another instance's business). */
  drop(dev: Device, h: Held): void {
    h.ended = true;
    this.held.delete(h.c.id);
    const i = dev.queue.indexOf(h);
    if (i >= 0) dev.queue.splice(i, 1);
  }

  /** An ended command's id and how it ended, kept RECENT_ID_MS for dedupe (bounded). */
  remember(id: string, status: CommandStatus): void {
    this.recent.delete(id);
    this.recent.set(id, { atMs: this.now(), status });
    if (this.recent.size > RECENT_ID_MAX) this.recent.delete(this.recent.keys().next().value!);
  }

  forgetOld(now: number): void {
    for (const [id, { atMs }] of this.recent) {
      if (now - atMs < RECENT_ID_MS) break;
      this.recent.delete(id);
    }
  }

  /** Where a command id stands here: held (queued/sending/sent), being admitted, recently ended, or null. */
  statusOf(id: string): string | null {
    const h = this.held.get(id);
    if (h) return h.state;
    if (this.admitting.has(id)) return 'admitting';
    return this.recent.get(id)?.status ?? null;
  }
}
