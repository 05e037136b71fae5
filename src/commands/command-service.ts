/**
 * The command service: MQTT requests in, a durable ordered queue per device, commands out to the
 * device one at a time, replies matched, lifecycle events and retained queue entries out
 * (README "Device commands"). It plugs into the runtime through ports.ts only.
 *
 * Per device (channel + ident):
 *
 *   request ──validate──► store.add (durable) ──► queued ──(device online, identified)──►
 *     encode ──► attempts+1 (durable) ──► send ──► sent ──reply (replyKey)──► processed
 *                                                       ──timeout──────────► processed, executed: false
 *                                                       ──connection lost──► queued again (next attempt)
 *   replyKey null (the device never answers): processed once written.
 *   queued past its ttl: expired.   cancel: canceled (an in-flight one keeps the device's slot
 *   until its reply or timeout, so a late reply cannot be taken for the next command's).
 *
 * One command is in flight per device: the protocols so far have no sequence numbers, so a reply
 * can only be told apart by its reply key. Requests of one device are admitted in arrival order
 * (an intake chain), and each device's events are issued in the order they happen (an outbox
 * chain) after the store change they report is durable.
 *
 * Across instances (a store with `shared`, config redis_url): the queue lives in the store, and this
 * service holds in memory only the commands of devices connected here (loaded when the device
 * identifies and when another instance announces a change); those it delivers. A request is
 * admitted by the instance whose `addOnce` wins, an ended command reported by the one whose
 * `remove` wins, expiry of devices nobody holds by the one whose `takeExpired` returns it, so each
 * lifecycle event is published once whichever instances received the request.
 *
 * The parts: command-book.ts (what is held in memory), command-outbox.ts (events and queue entries
 * in order), command-delivery.ts (one command at a time to the device; how a command ends),
 * store-modes.ts (local or shared store: where the truth lives and who reports what). This file
 * is the intake (requests and cancels) and the runtime's entry points.
 *
 * No timers inside: the owner calls `tick()` (TTL expiry, reply timeouts) from its housekeeping
 * interval, at least once a second; tests drive an injected clock.
 */
import { randomUUID } from 'node:crypto';
import type { ErrorCode } from '../errors.js';
import type { Topics } from '../mqtt/topics.js';
import type { CommandReply, MessageValue } from '../protocol/types.js';
import type { Logger } from '../util/log.js';
import { asEdge, CommandBook, deviceKey, held, type Device } from './command-book.js';
import { CommandDelivery, ttlReason } from './command-delivery.js';
import { CommandOutbox } from './command-outbox.js';
import { parseCancel, parseCommandRequest, type Rejection } from './command-request.js';
import type { CommandStore, StoredCommand } from './command-store.js';
import type { CommandsConfig } from '../config/commands-defaults.js';
import type { EventFields } from './lifecycle-payloads.js';
import type { CommandDevicePort, CommandEvents, CommandMqttPort } from './ports.js';
import { LocalMode, SharedMode, type ModeHost, type StoreMode } from './store-modes.js';

/** How a command ends when the runtime, not a device reply, decides it (`CommandService.complete`). */
export interface RuntimeOutcome {
  executed: boolean;
  response?: MessageValue;
  /** Facts for the `processed` event's `result` object (e.g. the stored file's name, size, sha256). */
  result?: Record<string, MessageValue>;
  code?: ErrorCode;
  reason?: string;
}

export interface CommandServiceOptions {
  device: CommandDevicePort;
  mqtt: CommandMqttPort;
  topics: Topics;
  store: CommandStore;
  config: CommandsConfig;
  now?: () => number;
  newId?: () => string;
  log?: Logger;
}

const IDENT_RE = /^[\x21-\x7e]{1,64}$/;

export class CommandService implements CommandEvents {
  private readonly book: CommandBook;
  private readonly outbox: CommandOutbox;
  private readonly delivery: CommandDelivery;
  private readonly mode: StoreMode;
  private readonly now: () => number;
  private readonly newId: () => string;
  private stopped = false;
  /** Requests rejected (EDGE_COMMAND_DUPLICATE) because their id was already held or recently ended. */
  duplicates = 0;

  constructor(private readonly o: CommandServiceOptions) {
    this.now = o.now ?? Date.now;
    this.newId = o.newId ?? randomUUID;
    this.book = new CommandBook(this.now, (ch, ident) => o.device.isOnline(ch, ident));
    this.outbox = new CommandOutbox(o.mqtt, o.topics, this.now, o.log);
    this.delivery = new CommandDelivery(this.book, this.outbox, o.store, o.device, o.config.max_attempts, this.now, o.log);
    const host: ModeHost = { book: this.book, outbox: this.outbox, delivery: this.delivery, store: o.store, device: o.device, log: o.log, now: this.now, isStopped: () => this.stopped };
    this.mode = o.store.shared ? new SharedMode(host, o.store.shared) : new LocalMode(host);
  }

  /** Loads the store (queued commands come back in order), re-publishes their queue entries and subscribes. */
  async start(): Promise<void> {
    for (const c of await this.mode.initialLoad()) {
      const dev = this.book.deviceFor(c.channelId, c.ident);
      const h = held(c);
      dev.queue.push(h);
      this.book.held.set(c.id, h);
      // a command that was in flight when the process stopped is queued again (its state said "sent")
      this.outbox.queueEntry(dev, h, null);
    }
    this.mode.start();
    // a shared group (MQTT 5 / Mosquitto / EMQX $share) gives each request to one instance; without
    // one every instance gets it and the shared store still admits it once
    const share = this.o.config.share_group ? `$share/${this.o.config.share_group}/` : '';
    await this.o.mqtt.subscribe(share + this.o.topics.commandRequestFilter(), (t, p) => this.onMessage(t, p));
    await this.o.mqtt.subscribe(share + this.o.topics.commandCancelFilter(), (t, p) => this.onMessage(t, p));
    for (const dev of this.book.devices.values()) this.delivery.kick(dev);
  }

  /**
   * Stops taking requests and waits (at most `timeoutMs`: a device write or a publish may hang on a
   * dead connection) until admitted work has been stored and its events issued. The store stays
   * open: its owner closes it.
   */
  async stop(timeoutMs = 5000): Promise<void> {
    this.stopped = true;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.settled(), new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
  }

  /** Resolves when no request is being admitted and every event so far has been published. */
  settled(): Promise<void> {
    return this.outbox.settled(() => this.book.devices.values());
  }

  /**
   * Resync (src/mqtt/state-resync.ts): the retained queue entry of every command this instance
   * owns again. Local store: every held command. Shared store: the commands of devices connected
   * here (held in memory), and those of devices no instance holds (store-modes.ts).
   */
  async republishQueue(): Promise<number> {
    let n = 0;
    for (const dev of this.book.devices.values()) {
      for (const h of this.book.listOf(dev)) {
        this.outbox.queueEntry(dev, h, null);
        n++;
      }
    }
    return n + (await this.mode.republishUnheld());
  }

  /** Commands held (queued or in flight) for a device, in queue order (in flight first). */
  heldFor(channelId: string, ident: string): { id: string; name: string; state: string; attempts: number }[] {
    const dev = this.book.get(channelId, ident);
    if (!dev) return [];
    return this.book.listOf(dev).map((h) => ({ id: h.c.id, name: h.c.name, state: h.state, attempts: h.c.attempts }));
  }

  /**
   * The device's held commands as the store has them: this instance's memory when it holds them (a
   * local store, or a shared one while the device is connected here), else the shared store's queue
   * (the device is offline or on another instance).
   */
  async queueOf(channelId: string, ident: string): Promise<{ id: string; name: string; state: string; attempts: number }[]> {
    const held = this.heldFor(channelId, ident);
    const shared = this.o.store.shared;
    if (held.length > 0 || !shared) return held;
    return (await shared.loadDevice(channelId, ident)).map((c) => ({ id: c.id, name: c.name, state: 'queued', attempts: c.attempts }));
  }

  /** How the device's last commands ended on this instance (newest last; at most 20). */
  recentFor(channelId: string, ident: string): { id: string; name: string; status: string; at: number; executed?: boolean; code?: string }[] {
    return [...(this.book.get(channelId, ident)?.recent ?? [])];
  }

  /** TTL expiry and reply timeouts; call at least once a second. */
  tick(): void {
    const now = this.now();
    for (const dev of this.book.devices.values()) {
      for (const h of dev.queue.filter((q) => now >= q.c.expiresAtMs)) this.delivery.finish(dev, h, 'expired', { reason: ttlReason(h) });
      const f = dev.inflight;
      if (f && now >= f.deadlineMs) {
        dev.inflight = null;
        if (!f.ended) this.delivery.finish(dev, f, 'processed', { executed: false, response: null, code: 'EDGE_COMMAND_TIMEOUT', reason: `no reply within ${f.c.timeoutMs / 1000} s` });
        this.delivery.kick(dev);
      }
    }
    this.book.forgetOld(now);
    this.mode.tick(now);
  }

  deviceOnline(channelId: string, ident: string): void {
    const dev = this.mode.onlineDevice(channelId, ident);
    if (!dev) return;
    dev.ident = ident;
    dev.online = true;
    this.mode.resume(dev);
  }

  deviceOffline(channelId: string, ident: string): void {
    const dev = this.book.get(channelId, ident);
    if (!dev) return;
    // asked rather than assumed: with an ident collision the new connection may already be up
    dev.online = this.o.device.isOnline(channelId, ident);
    const h = dev.inflight;
    if (h) {
      dev.inflight = null;
      if (!h.ended) {
        // written on the connection that closed and not answered: goes again on the next one
        h.state = 'queued';
        h.earlyReply = null;
        dev.queue.unshift(h);
        this.outbox.event(dev, h, 'queued', { attempt: h.c.attempts, reason: 'the connection closed before the reply; queued again' }, null);
        this.outbox.queueEntry(dev, h, null);
      }
    }
    if (dev.online) this.delivery.kick(dev);
    else this.mode.offline(dev);
  }

  reply(channelId: string, ident: string, reply: CommandReply): { id: string; name: string } | null {
    const dev = this.book.get(channelId, ident);
    const h = dev?.inflight;
    if (!dev || !h || h.replyKey === null || h.replyKey !== reply.replyKey) return null;
    const match = { id: h.c.id, name: h.c.name };
    if (reply.executed && h.then !== null) {
      // accepted: the command goes on to wait for what the runtime will see (EncodedCommand.then)
      h.replyKey = h.then;
      h.then = null;
      return match;
    }
    if (h.state === 'sending') {
      h.earlyReply = reply; // finished once send() resolves, so "sent" is published before "processed"
      return match;
    }
    dev.inflight = null;
    if (!h.ended) this.delivery.completeWithReply(dev, h, reply);
    this.delivery.kick(dev);
    return match;
  }

  /** The device's command in flight (written, its reply awaited): what the runtime needs to act on it (the recorder reads a playback's channel and time range). */
  inflight(channelId: string, ident: string): { id: string; name: string; properties: Readonly<Record<string, unknown>>; meta: string | null; replyKey: string | null } | null {
    const h = this.book.get(channelId, ident)?.inflight;
    if (!h || h.ended) return null;
    return { id: h.c.id, name: h.c.name, properties: h.c.properties, meta: h.c.meta, replyKey: h.replyKey };
  }

  /** The in-flight command waiting for exactly `replyKey` (e.g. `media:tacho`): its id and raw meta, or null. */
  waiting(channelId: string, ident: string, replyKey: string): { id: string; meta: string | null } | null {
    const h = this.book.get(channelId, ident)?.inflight;
    if (!h || h.ended || h.state !== 'sent' || h.replyKey !== replyKey) return null;
    return { id: h.c.id, meta: h.c.meta };
  }

  /**
   * Ends the device's in-flight command that waits for a reply key `matches` accepts, with an outcome
   * the runtime established rather than a decoded reply: a stored file (`result` carries its facts),
   * an outside service that did not answer, a failed upload. Returns the command it ended, or null
   * when none was waiting (e.g. a file the device uploaded unasked). A command still being written
   * is left alone: nothing it caused can have happened yet.
   */
  complete(channelId: string, ident: string, matches: string | ((replyKey: string) => boolean), outcome: RuntimeOutcome): { id: string; name: string } | null {
    const dev = this.book.get(channelId, ident);
    const h = dev?.inflight;
    if (!dev || !h || h.ended || h.state !== 'sent' || h.replyKey === null) return null;
    if (typeof matches === 'string' ? h.replyKey !== matches : !matches(h.replyKey)) return null;
    const extra: Partial<EventFields> = { executed: outcome.executed, response: outcome.response ?? null };
    if (outcome.result) extra.result = outcome.result;
    if (!outcome.executed) {
      extra.code = outcome.code ?? 'EDGE_COMMAND_FAILED';
      extra.reason = outcome.reason ?? 'the command failed';
    }
    this.delivery.finish(dev, h, 'processed', extra);
    this.delivery.kick(dev);
    return { id: h.c.id, name: h.c.name };
  }

  // ---- intake ----

  private onMessage(topic: string, payload: Buffer): void {
    if (this.stopped) return;
    const t = this.o.topics.parseCommandTopic(topic);
    if (t === null) return;
    // several instances may get the same request (no shared subscription): one reports it
    const token = this.mode.token(topic, payload);
    if (t.kind === 'request') this.request(t.channel, t.ident, payload, token);
    else this.mode.once(token, () => this.cancel(t.channel, t.ident, payload));
  }

  private rejected(channelId: string, ident: string, r: Rejection, token: string): void {
    this.mode.once(token, () => this.outbox.track(this.outbox.rejected(channelId, ident, r)));
  }

  private request(channelId: string, ident: string, payload: Buffer, token: string): void {
    const r = parseCommandRequest(payload, this.o.device.commandsOf(channelId), this.o.config, this.newId);
    if (!r.ok) return this.rejected(channelId, ident, r, token);
    if (!IDENT_RE.test(ident)) {
      return this.rejected(channelId, ident, { ...r, ok: false, code: 'EDGE_COMMAND_CHANNEL_UNKNOWN', reason: 'ident: must be 1-64 printable ASCII characters' }, token);
    }
    const first = this.book.statusOf(r.id);
    if (first !== null) {
      // a client retry or a QoS 1 redelivery: the device gets the command once, and the requester
      // learns why nothing new happens and where the first one stands
      this.duplicates++;
      this.o.log?.debug({ channel: channelId, ident, id: r.id, first }, 'command request with an id already held or just ended: rejected');
      const where = first === 'admitting' ? 'being queued' : first === 'queued' || first === 'sent' || first === 'sending' ? first : `ended (${first})`;
      return this.rejected(channelId, ident, { ...r, ok: false, code: 'EDGE_COMMAND_DUPLICATE', reason: `a command with id "${r.id}" is already ${where}; this request was not queued`, firstStatus: first }, token);
    }
    this.book.admitting.add(r.id);
    const dev = this.book.deviceFor(channelId, ident);
    const reject = (code: ErrorCode, reason: string) => this.rejected(channelId, ident, { ok: false, code, reason, id: r.id, name: r.name, properties: r.properties, meta: r.meta }, token);
    const max = this.o.config.max_queued_per_device;
    dev.intake = dev.intake.then(async () => {
      try {
        const count = dev.queue.length + (dev.inflight && !dev.inflight.ended ? 1 : 0);
        // a shared store counts the device's commands itself (most are not in this instance's memory)
        if (this.mode.limitsInMemory && count >= max) return reject('EDGE_COMMAND_QUEUE_FULL', `the device already holds ${count} commands (commands.max_queued_per_device)`);
        try {
          await this.o.device.validate(channelId, ident, { name: r.name, properties: r.properties });
        } catch (e) {
          const ee = asEdge(e, 'EDGE_COMMAND_INVALID');
          return reject(ee.code, ee.reason);
        }
        const now = this.now();
        const c: StoredCommand = { id: r.id, channelId, ident, name: r.name, properties: r.properties, meta: r.meta, queuedAtMs: now, expiresAtMs: now + Math.round(r.ttlS * 1000), timeoutMs: Math.round(r.timeoutS * 1000), attempts: 0 };
        try {
          const added = await this.mode.admit(c, max);
          if (added === 'duplicate') {
            this.duplicates++;
            return; // another instance admitted it (and reports it)
          }
          if (added === 'full') return reject('EDGE_COMMAND_QUEUE_FULL', `the device already holds ${max} commands (commands.max_queued_per_device)`);
        } catch (e) {
          return reject('EDGE_COMMAND_STORE_FAILED', asEdge(e, 'EDGE_COMMAND_STORE_FAILED').reason);
        }
        const h = held(c);
        if (this.mode.holds(channelId, ident) && !this.book.held.has(c.id)) {
          this.book.held.set(c.id, h);
          dev.queue.push(h);
        }
        this.outbox.event(dev, h, 'queued', { attempt: 0, ttlS: r.ttlS, timeoutS: r.timeoutS }, null);
        this.outbox.queueEntry(dev, h, null);
        this.delivery.kick(dev);
      } finally {
        this.book.admitting.delete(r.id);
      }
    });
  }

  /** A cancel this instance reports (the mode decided): the command ends as `canceled`, or `rejected` says why not. */
  private cancel(channelId: string, ident: string, payload: Buffer): void {
    const r = parseCancel(payload);
    const rejection = (code: ErrorCode, reason: string, id: string | null): Rejection => ({ ok: false, code, reason: `cancel: ${reason}`, id, name: null, properties: null, meta: null });
    if (!r.ok) return this.rejected(channelId, ident, rejection('EDGE_COMMAND_MALFORMED', r.reason, r.id), '');
    const h = this.book.held.get(r.id);
    const dev: Device | undefined = this.book.get(channelId, ident);
    const notFound = () => this.rejected(channelId, ident, rejection('EDGE_COMMAND_NOT_FOUND', `no queued or sent command "${r.id}" for this device`, r.id), '');
    if (!h && this.mode.cancelUnheld(channelId, ident, r.id, notFound)) return;
    if (!h || !dev || deviceKey(h.c.channelId, h.c.ident) !== deviceKey(channelId, ident)) return notFound();
    // an in-flight command keeps the slot (finish leaves dev.inflight) until its reply or timeout
    this.delivery.finish(dev, h, 'canceled', { attempt: h.c.attempts }, true);
  }
}
