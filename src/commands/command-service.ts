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
 * No timers inside: the owner calls `tick()` (TTL expiry, reply timeouts) from its housekeeping
 * interval, at least once a second; tests drive an injected clock.
 */
import { createHash, randomUUID } from 'node:crypto';
import { EdgeError, type ErrorCode } from '../errors.js';
import { topicLevel, type Topics } from '../mqtt/topics.js';
import type { CommandReply, MessageValue } from '../protocol/types.js';
import type { Logger } from '../util/log.js';
import { parseCancel, parseCommandRequest, type Rejection } from './command-request.js';
import type { CommandStore, SharedCommandStore, StoredCommand } from './command-store.js';
import type { CommandsConfig } from '../config/commands-defaults.js';
import { eventPayload, queueEntryPayload, type CommandStatus, type EventFields } from './lifecycle-payloads.js';
import type { CommandDevicePort, CommandEvents, CommandMqttPort } from './ports.js';

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

interface Held {
  c: StoredCommand;
  state: 'queued' | 'sending' | 'sent';
  replyKey: string | null;
  /** When the reply is due (sending/sent). */
  deadlineMs: number;
  /** Lifecycle over (processed, expired, canceled); a canceled in-flight command still holds the slot. */
  ended: boolean;
  /** A matching reply that arrived before send() resolved. */
  earlyReply: CommandReply | null;
}

interface Device {
  channelId: string;
  /** The ident as the runtime knows it (from deviceOnline), else as addressed in the topic. */
  ident: string;
  online: boolean;
  queue: Held[];
  inflight: Held | null;
  pumping: boolean;
  repump: boolean;
  intake: Promise<void>;
  outbox: Promise<void>;
}

/** How long an ended command's id still dedupes a repeated request (a QoS 1 redelivery or a client retry). */
const RECENT_ID_MS = 10 * 60 * 1000;
const RECENT_ID_MAX = 10_000;
const IDENT_RE = /^[\x21-\x7e]{1,64}$/;

export class CommandService implements CommandEvents {
  private readonly devices = new Map<string, Device>();
  private readonly held = new Map<string, Held>();
  /** Ids of requests being admitted (validated, stored): already taken for dedupe. */
  private readonly admitting = new Set<string>();
  /** Ended commands' ids (for dedupe and the duplicate's `rejected` event): when and how they ended. */
  private readonly recent = new Map<string, { atMs: number; status: CommandStatus }>();
  private readonly pending = new Set<Promise<unknown>>();
  private readonly now: () => number;
  private readonly newId: () => string;
  private stopped = false;
  private readonly shared: SharedCommandStore | null;
  private sweeping = false;
  /** Requests rejected (EDGE_COMMAND_DUPLICATE) because their id was already held or recently ended. */
  duplicates = 0;

  constructor(private readonly o: CommandServiceOptions) {
    this.now = o.now ?? Date.now;
    this.newId = o.newId ?? randomUUID;
    this.shared = o.store.shared ?? null;
  }

  /** Loads the store (queued commands come back in order), re-publishes their queue entries and subscribes. */
  async start(): Promise<void> {
    const stored = await this.o.store.load();
    for (const c of stored) {
      const dev = this.deviceFor(c.channelId, c.ident);
      const h: Held = { c, state: 'queued', replyKey: null, deadlineMs: 0, ended: false, earlyReply: null };
      dev.queue.push(h);
      this.held.set(c.id, h);
      // a command that was in flight when the process stopped is queued again (its state said "sent")
      this.publishQueueEntry(dev, h, null);
    }
    this.shared?.onChanged((channelId, ident) => this.changed(channelId, ident));
    // a shared group (MQTT 5 / Mosquitto / EMQX $share) gives each request to one instance; without
    // one every instance gets it and the shared store still admits it once
    const share = this.o.config.share_group ? `$share/${this.o.config.share_group}/` : '';
    await this.o.mqtt.subscribe(share + this.o.topics.commandRequestFilter(), (t, p) => this.onMessage(t, p));
    await this.o.mqtt.subscribe(share + this.o.topics.commandCancelFilter(), (t, p) => this.onMessage(t, p));
    for (const dev of this.devices.values()) this.kick(dev);
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
  async settled(): Promise<void> {
    for (;;) {
      const all = [...this.pending, ...[...this.devices.values()].flatMap((d) => [d.intake, d.outbox])];
      await Promise.all(all);
      const again = [...this.pending, ...[...this.devices.values()].flatMap((d) => [d.intake, d.outbox])];
      if (again.length === all.length && again.every((p, i) => p === all[i])) return;
    }
  }

  /**
   * Resync (src/mqtt/state-resync.ts): the retained queue entry of every command this instance
   * owns again. Local store: every held command. Shared store: the commands of devices connected
   * here (held in memory), and those of devices no instance holds, by the one instance that wins
   * this minute's claim (a broker outage makes every instance resync at about the same time; two
   * winners across a minute boundary only publish the same entries twice).
   */
  async republishQueue(): Promise<number> {
    let n = 0;
    for (const dev of this.devices.values()) {
      for (const h of dev.inflight && !dev.inflight.ended ? [dev.inflight, ...dev.queue] : dev.queue) {
        this.publishQueueEntry(dev, h, null);
        n++;
      }
    }
    const shared = this.shared;
    if (shared && (await shared.firstToReport(`resync:${Math.floor(this.now() / 60_000)}`))) {
      for (const c of await this.o.store.load()) {
        if (this.held.has(c.id) || this.o.device.isOnline(c.channelId, c.ident)) continue;
        const dev = this.deviceFor(c.channelId, c.ident);
        this.publishQueueEntry(dev, { c, state: 'queued', replyKey: null, deadlineMs: 0, ended: false, earlyReply: null }, null);
        n++;
      }
    }
    return n;
  }

  /** Commands held (queued or in flight) for a device, in queue order (in flight first). */
  heldFor(channelId: string, ident: string): { id: string; name: string; state: string; attempts: number }[] {
    const dev = this.devices.get(key(channelId, ident));
    if (!dev) return [];
    const list = dev.inflight && !dev.inflight.ended ? [dev.inflight, ...dev.queue] : dev.queue;
    return list.map((h) => ({ id: h.c.id, name: h.c.name, state: h.state, attempts: h.c.attempts }));
  }

  /** TTL expiry and reply timeouts; call at least once a second. */
  tick(): void {
    const now = this.now();
    for (const dev of this.devices.values()) {
      for (const h of dev.queue.filter((q) => now >= q.c.expiresAtMs)) {
        this.finish(dev, h, 'expired', { reason: `not delivered within its ttl (${(h.c.expiresAtMs - h.c.queuedAtMs) / 1000} s)` });
      }
      const f = dev.inflight;
      if (f && now >= f.deadlineMs) {
        dev.inflight = null;
        if (!f.ended) {
          this.finish(dev, f, 'processed', {
            executed: false,
            response: null,
            code: 'EDGE_COMMAND_TIMEOUT',
            reason: `no reply within ${f.c.timeoutMs / 1000} s`,
          });
        }
        this.kick(dev);
      }
    }
    for (const [id, { atMs }] of this.recent) {
      if (now - atMs < RECENT_ID_MS) break;
      this.recent.delete(id);
    }
    if (this.shared && !this.sweeping && !this.stopped) {
      this.sweeping = true;
      this.track(this.sweepShared(now).finally(() => (this.sweeping = false)));
    }
  }

  /** Expiry of commands whose device no instance holds (each instance expires its own devices' in tick). */
  private async sweepShared(now: number): Promise<void> {
    const expired = await this.shared!.takeExpired(now, 100);
    for (const c of expired) {
      const dev = this.deviceFor(c.channelId, c.ident);
      const local = this.held.get(c.id);
      if (local) this.drop(dev, local);
      const h: Held = { c, state: 'queued', replyKey: null, deadlineMs: 0, ended: true, earlyReply: null };
      this.remember(c.id, 'expired');
      this.publishEvent(dev, h, 'expired', { reason: `not delivered within its ttl (${(c.expiresAtMs - c.queuedAtMs) / 1000} s)` }, null);
      this.enqueuePublish(dev, null, this.o.topics.commandQueueState(c.channelId, c.ident, c.id), '', true);
    }
  }

  /** Another instance added or removed commands of a device: reload them if it is connected here. */
  private changed(channelId: string, ident: string): void {
    const dev = this.devices.get(key(channelId, ident));
    if (dev?.online && !this.stopped) this.track(this.refresh(dev));
  }

  /**
   * Shared store: the device's held commands as the store has them. New ones join the queue; ones
   * that are gone (canceled or expired by another instance, which reported it) leave it silently;
   * an in-flight one that is gone keeps the slot until its reply or timeout, like a local cancel.
   */
  private async refresh(dev: Device): Promise<void> {
    const list = await this.shared!.loadDevice(dev.channelId, dev.ident);
    if (!dev.online) return;
    const ids = new Set(list.map((c) => c.id));
    for (const h of [...dev.queue]) if (!ids.has(h.c.id) && !this.admitting.has(h.c.id)) this.drop(dev, h);
    if (dev.inflight && !ids.has(dev.inflight.c.id)) dev.inflight.ended = true;
    for (const c of list) {
      if (this.held.has(c.id) || this.recent.has(c.id)) continue;
      const h: Held = { c, state: 'queued', replyKey: null, deadlineMs: 0, ended: false, earlyReply: null };
      this.held.set(c.id, h);
      dev.queue.push(h);
    }
    this.kick(dev);
  }

  /** Out of memory only (the store and the events are another instance's business). */
  private drop(dev: Device, h: Held): void {
    h.ended = true;
    this.held.delete(h.c.id);
    const i = dev.queue.indexOf(h);
    if (i >= 0) dev.queue.splice(i, 1);
  }

  deviceOnline(channelId: string, ident: string): void {
    const dev = this.shared ? this.deviceFor(channelId, ident) : this.devices.get(key(channelId, ident));
    if (!dev) return;
    dev.ident = ident;
    dev.online = true;
    if (this.shared) this.track(this.refresh(dev));
    else this.kick(dev);
  }

  deviceOffline(channelId: string, ident: string): void {
    const dev = this.devices.get(key(channelId, ident));
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
        this.publishEvent(dev, h, 'queued', { attempt: h.c.attempts, reason: 'the connection closed before the reply; queued again' }, null);
        this.publishQueueEntry(dev, h, null);
      }
    }
    if (dev.online) this.kick(dev);
    // shared store: the commands stay there for whichever instance the device connects to next
    else if (this.shared) for (const q of [...dev.queue]) this.drop(dev, q);
  }

  reply(channelId: string, ident: string, reply: CommandReply): { id: string; name: string } | null {
    const dev = this.devices.get(key(channelId, ident));
    const h = dev?.inflight;
    if (!dev || !h || h.replyKey === null || h.replyKey !== reply.replyKey) return null;
    const match = { id: h.c.id, name: h.c.name };
    if (h.state === 'sending') {
      h.earlyReply = reply; // finished once send() resolves, so "sent" is published before "processed"
      return match;
    }
    dev.inflight = null;
    if (!h.ended) this.completeWithReply(dev, h, reply);
    this.kick(dev);
    return match;
  }

  /** The in-flight command waiting for exactly `replyKey` (e.g. `media:tacho`): its id and raw meta, or null. */
  waiting(channelId: string, ident: string, replyKey: string): { id: string; meta: string | null } | null {
    const h = this.devices.get(key(channelId, ident))?.inflight;
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
    const dev = this.devices.get(key(channelId, ident));
    const h = dev?.inflight;
    if (!dev || !h || h.ended || h.state !== 'sent' || h.replyKey === null) return null;
    if (typeof matches === 'string' ? h.replyKey !== matches : !matches(h.replyKey)) return null;
    const extra: Partial<EventFields> = { executed: outcome.executed, response: outcome.response ?? null };
    if (outcome.result) extra.result = outcome.result;
    if (!outcome.executed) {
      extra.code = outcome.code ?? 'EDGE_COMMAND_FAILED';
      extra.reason = outcome.reason ?? 'the command failed';
    }
    this.finish(dev, h, 'processed', extra);
    this.kick(dev);
    return { id: h.c.id, name: h.c.name };
  }

  /** An ended command's id and how it ended, kept RECENT_ID_MS for dedupe (bounded). */
  private remember(id: string, status: CommandStatus): void {
    this.recent.delete(id);
    this.recent.set(id, { atMs: this.now(), status });
    if (this.recent.size > RECENT_ID_MAX) this.recent.delete(this.recent.keys().next().value!);
  }

  /** Where a command id stands here: held (queued/sending/sent), being admitted, recently ended, or null. */
  private statusOf(id: string): string | null {
    const h = this.held.get(id);
    if (h) return h.state;
    if (this.admitting.has(id)) return 'admitting';
    return this.recent.get(id)?.status ?? null;
  }

  // ---- intake ----

  private onMessage(topic: string, payload: Buffer): void {
    if (this.stopped) return;
    const t = this.o.topics.parseCommandTopic(topic);
    if (t === null) return;
    // several instances may get the same request (no shared subscription): one reports its rejection
    const token = this.shared ? createHash('sha1').update(topic).update('\u0000').update(payload).digest('hex') : '';
    if (t.kind === 'request') this.request(t.channel, t.ident, payload, token);
    else this.cancel(t.channel, t.ident, payload, token);
  }

  private request(channelId: string, ident: string, payload: Buffer, token: string): void {
    const specs = this.o.device.commandsOf(channelId);
    const r = parseCommandRequest(payload, specs, this.o.config, this.newId);
    if (!r.ok) return this.publishRejected(channelId, ident, r, token);
    if (!IDENT_RE.test(ident)) {
      return this.publishRejected(channelId, ident, { ...r, ok: false, code: 'EDGE_COMMAND_CHANNEL_UNKNOWN', reason: 'ident: must be 1-64 printable ASCII characters' }, token);
    }
    const first = this.statusOf(r.id);
    if (first !== null) {
      // a client retry or a QoS 1 redelivery: the device gets the command once, and the requester
      // learns why nothing new happens and where the first one stands
      this.duplicates++;
      this.o.log?.debug({ channel: channelId, ident, id: r.id, first }, 'command request with an id already held or just ended: rejected');
      return this.publishRejected(channelId, ident, { ...r, ok: false, code: 'EDGE_COMMAND_DUPLICATE', reason: `a command with id "${r.id}" is already ${first === 'admitting' ? 'being queued' : first === 'queued' || first === 'sent' || first === 'sending' ? first : `ended (${first})`}; this request was not queued`, firstStatus: first }, token);
    }
    this.admitting.add(r.id);
    const dev = this.deviceFor(channelId, ident);
    const reject = (code: ErrorCode, reason: string) => this.publishRejected(channelId, ident, { ok: false, code, reason, id: r.id, name: r.name, properties: r.properties, meta: r.meta }, token);
    dev.intake = dev.intake.then(async () => {
      try {
        const count = dev.queue.length + (dev.inflight && !dev.inflight.ended ? 1 : 0);
        // shared store: it counts the device's commands (most are not in this instance's memory)
        if (!this.shared && count >= this.o.config.max_queued_per_device) {
          return reject('EDGE_COMMAND_QUEUE_FULL', `the device already holds ${count} commands (commands.max_queued_per_device)`);
        }
        try {
          await this.o.device.validate(channelId, ident, { name: r.name, properties: r.properties });
        } catch (e) {
          const ee = asEdge(e, 'EDGE_COMMAND_INVALID');
          return reject(ee.code, ee.reason);
        }
        const now = this.now();
        const c: StoredCommand = {
          id: r.id,
          channelId,
          ident,
          name: r.name,
          properties: r.properties,
          meta: r.meta,
          queuedAtMs: now,
          expiresAtMs: now + Math.round(r.ttlS * 1000),
          timeoutMs: Math.round(r.timeoutS * 1000),
          attempts: 0,
        };
        try {
          if (this.shared) {
            const added = await this.shared.addOnce(c, this.o.config.max_queued_per_device);
            if (added === 'duplicate') {
              this.duplicates++;
              return; // another instance admitted it (and reports it)
            }
            if (added === 'full') return reject('EDGE_COMMAND_QUEUE_FULL', `the device already holds ${this.o.config.max_queued_per_device} commands (commands.max_queued_per_device)`);
          } else await this.o.store.add(c);
        } catch (e) {
          return reject('EDGE_COMMAND_STORE_FAILED', asEdge(e, 'EDGE_COMMAND_STORE_FAILED').reason);
        }
        const h: Held = { c, state: 'queued', replyKey: null, deadlineMs: 0, ended: false, earlyReply: null };
        // shared store: held in memory only where the device is connected (else by whichever instance it connects to)
        const hold = !this.shared || this.o.device.isOnline(channelId, ident);
        if (hold && !this.held.has(c.id)) {
          this.held.set(c.id, h);
          dev.queue.push(h);
        }
        this.publishEvent(dev, h, 'queued', { attempt: 0, ttlS: r.ttlS, timeoutS: r.timeoutS }, null);
        this.publishQueueEntry(dev, h, null);
        this.kick(dev);
      } finally {
        this.admitting.delete(r.id);
      }
    });
  }

  private cancel(channelId: string, ident: string, payload: Buffer, token: string): void {
    // several instances may get the same cancel (no shared subscription): the first to claim it
    // handles it, the others would only find the command gone and report it as not found
    if (this.shared && token) {
      this.track(this.firstToReport(this.shared, token).then((first) => (first ? this.cancelNow(channelId, ident, payload) : undefined)));
      return;
    }
    this.cancelNow(channelId, ident, payload);
  }

  private cancelNow(channelId: string, ident: string, payload: Buffer): void {
    const token = '';
    const r = parseCancel(payload);
    const rejection = (code: ErrorCode, reason: string, id: string | null): Rejection => ({ ok: false, code, reason: `cancel: ${reason}`, id, name: null, properties: null, meta: null });
    if (!r.ok) return this.publishRejected(channelId, ident, rejection('EDGE_COMMAND_MALFORMED', r.reason, r.id), token);
    const h = this.held.get(r.id);
    const dev = this.devices.get(key(channelId, ident));
    const notFound = () => this.publishRejected(channelId, ident, rejection('EDGE_COMMAND_NOT_FOUND', `no queued or sent command "${r.id}" for this device`, r.id), token);
    if (this.shared && !h) {
      // held by the store only (its device is offline or on another instance): whoever removes it reports it
      const shared = this.shared;
      this.track(
        (async () => {
          const c = await shared.get(r.id);
          if (!c || key(c.channelId, c.ident) !== key(channelId, ident)) return notFound();
          if (!(await this.o.store.remove(c.id))) return notFound();
          const d = this.deviceFor(c.channelId, c.ident);
          this.remember(c.id, 'canceled');
          this.publishEvent(d, { c, state: 'queued', replyKey: null, deadlineMs: 0, ended: true, earlyReply: null }, 'canceled', { attempt: c.attempts }, null);
          this.enqueuePublish(d, null, this.o.topics.commandQueueState(c.channelId, c.ident, c.id), '', true);
        })(),
      );
      return;
    }
    if (!h || !dev || key(h.c.channelId, h.c.ident) !== key(channelId, ident)) return notFound();
    // an in-flight command keeps the slot (finish leaves dev.inflight) until its reply or timeout
    this.finish(dev, h, 'canceled', { attempt: h.c.attempts }, true);
  }

  // ---- delivery ----

  private kick(dev: Device): void {
    this.track(this.pump(dev));
  }

  private async pump(dev: Device): Promise<void> {
    if (dev.pumping) {
      dev.repump = true;
      return;
    }
    dev.pumping = true;
    try {
      do {
        dev.repump = false;
        await this.deliver(dev);
      } while (dev.repump);
    } finally {
      dev.pumping = false;
    }
  }

  private async deliver(dev: Device): Promise<void> {
    while (dev.online && dev.inflight === null && dev.queue.length > 0) {
      const h = dev.queue[0]!;
      if (this.now() >= h.c.expiresAtMs) {
        this.finish(dev, h, 'expired', { reason: `not delivered within its ttl (${(h.c.expiresAtMs - h.c.queuedAtMs) / 1000} s)` });
        continue;
      }
      if (h.c.attempts >= this.o.config.max_attempts) {
        this.finish(dev, h, 'processed', {
          executed: false,
          response: null,
          code: 'EDGE_COMMAND_ATTEMPTS',
          reason: `written ${h.c.attempts} times without a reply (the connection closed each time; commands.max_attempts)`,
        });
        continue;
      }
      let enc;
      try {
        enc = await this.o.device.encode(dev.channelId, dev.ident, { name: h.c.name, properties: h.c.properties });
      } catch (e) {
        const ee = asEdge(e, 'EDGE_COMMAND_INVALID');
        this.finish(dev, h, 'processed', { executed: false, response: null, code: ee.code, reason: `not encodable for this device: ${ee.reason}` });
        continue;
      }
      if (h.ended || dev.queue[0] !== h || dev.inflight !== null) continue;
      if (!dev.online) return;
      dev.queue.shift();
      dev.inflight = h;
      h.state = 'sending';
      h.replyKey = enc.replyKey;
      h.deadlineMs = this.now() + h.c.timeoutMs;
      h.c.attempts++;
      // counted durably before the bytes go out, so the bound holds across crashes
      const still = await this.o.store.setAttempts(h.c.id, h.c.attempts).catch((e: unknown) => this.storeError(e, h.c.id));
      if (still === false && dev.inflight === h) {
        // a shared store no longer holds it: another instance canceled or expired it (and reported it)
        dev.inflight = null;
        this.drop(dev, h);
        continue;
      }
      if (dev.inflight !== h) continue;
      if (h.ended) {
        dev.inflight = null; // canceled before the write: nothing is sent, nothing will answer
        continue;
      }
      try {
        await this.o.device.send(dev.channelId, dev.ident, enc.bytes);
      } catch {
        if (dev.inflight === h) {
          // not written: the device went away; the command waits at the head for the next connection
          dev.inflight = null;
          if (!h.ended) {
            h.state = 'queued';
            dev.queue.unshift(h);
            dev.online = this.o.device.isOnline(dev.channelId, dev.ident);
          }
        }
        continue;
      }
      this.written(dev, h);
    }
  }

  private written(dev: Device, h: Held): void {
    if (dev.inflight !== h) return; // timed out, or the connection closed, while sending
    if (h.ended) {
      // canceled while being sent: hold the slot for its reply unless none will come
      h.state = 'sent';
      if (h.replyKey === null || h.earlyReply) dev.inflight = null;
      return;
    }
    h.state = 'sent';
    this.publishEvent(dev, h, 'sent', { attempt: h.c.attempts }, null);
    this.publishQueueEntry(dev, h, null);
    if (h.replyKey === null) {
      this.finish(dev, h, 'processed', { executed: true, response: null });
    } else if (h.earlyReply) {
      dev.inflight = null;
      this.completeWithReply(dev, h, h.earlyReply);
    }
  }

  private completeWithReply(dev: Device, h: Held, reply: CommandReply): void {
    this.finish(
      dev,
      h,
      'processed',
      reply.executed
        ? { executed: true, response: reply.response }
        : { executed: false, response: reply.response, code: 'EDGE_COMMAND_FAILED', reason: `the device answered that it did not execute the command (response ${JSON.stringify(reply.response)})` },
    );
  }

  /** Ends a command: out of the queue and the store, then its final event and the cleared queue entry. */
  private finish(dev: Device, h: Held, status: CommandStatus, extra: Partial<EventFields>, keepSlot = false): void {
    if (h.ended) return;
    h.ended = true;
    this.held.delete(h.c.id);
    this.remember(h.c.id, status);
    const i = dev.queue.indexOf(h);
    if (i >= 0) dev.queue.splice(i, 1);
    if (dev.inflight === h && !keepSlot) dev.inflight = null;
    const removed = this.o.store.remove(h.c.id).catch((e: unknown) => this.storeError(e, h.c.id));
    const attempt = status === 'processed' || status === 'canceled' ? { attempt: h.c.attempts } : {};
    this.publishEvent(dev, h, status, { ...attempt, ...extra }, removed);
    this.enqueuePublish(dev, removed, this.o.topics.commandQueueState(h.c.channelId, h.c.ident, h.c.id), '', true);
  }

  // ---- publishing ----

  private publishRejected(channelId: string, ident: string, r: Rejection, token = ''): void {
    const fields: EventFields = { id: r.id, name: r.name, properties: r.properties, channelId, ident, timestampMs: this.now(), code: r.code, reason: r.reason };
    if (r.firstStatus) fields.firstStatus = r.firstStatus;
    const publish = () => this.o.mqtt.publish(this.o.topics.commandEvent(channelId, ident, 'rejected'), eventPayload('rejected', fields, r.meta), { retain: false });
    if (this.shared && token) {
      const shared = this.shared;
      this.track(this.firstToReport(shared, token).then((first) => (first ? publish() : undefined)));
    } else this.track(publish());
  }

  /**
   * Whether this instance reports the event. The claim is a Redis write, so during a Redis outage
   * it fails: then every instance that got the request reports it (a repeated `rejected` is
   * harmless, an unanswered request is not: the requester would wait for its TTL).
   */
  private firstToReport(shared: SharedCommandStore, token: string): Promise<boolean> {
    return shared.firstToReport(token).catch((e: unknown) => {
      this.o.log?.warn({ code: 'EDGE_COMMAND_STORE_FAILED', err: e instanceof Error ? e.message : String(e) }, 'command service: cannot claim the report in Redis; reporting it from this instance');
      return true;
    });
  }

  private publishEvent(dev: Device, h: Held, status: CommandStatus, extra: Partial<EventFields>, after: Promise<unknown> | null): void {
    const fields: EventFields = { id: h.c.id, name: h.c.name, properties: h.c.properties, channelId: h.c.channelId, ident: h.c.ident, timestampMs: this.now(), ...extra };
    this.enqueuePublish(dev, after, this.o.topics.commandEvent(h.c.channelId, h.c.ident, status), eventPayload(status, fields, h.c.meta), false);
  }

  private publishQueueEntry(dev: Device, h: Held, after: Promise<unknown> | null): void {
    const payload = queueEntryPayload(
      {
        id: h.c.id,
        name: h.c.name,
        properties: h.c.properties,
        status: h.state === 'queued' ? 'queued' : 'sent',
        attempts: h.c.attempts,
        queuedAtMs: h.c.queuedAtMs,
        expiresAtMs: h.c.expiresAtMs,
        timestampMs: this.now(),
      },
      h.c.meta,
    );
    this.enqueuePublish(dev, after, this.o.topics.commandQueueState(h.c.channelId, h.c.ident, h.c.id), payload, true);
  }

  /**
   * Issues the publish after `after` (a store write) and after every earlier publish of this device
   * was issued: the client keeps the order of issued publishes, so confirmations are not awaited.
   */
  private enqueuePublish(dev: Device, after: Promise<unknown> | null, topic: string, payload: string, retain: boolean): void {
    dev.outbox = Promise.all([dev.outbox, after]).then(([, done]) => {
      // a shared store's remove resolves false when another instance ended the command first: that one reports it
      if (done === false) return;
      this.track(this.o.mqtt.publish(topic, payload, { retain }));
    });
  }

  private track(p: Promise<unknown>): void {
    const q = p.catch((e: unknown) => this.o.log?.warn({ err: e instanceof Error ? e.message : String(e) }, 'command service: a publish or delivery step failed'));
    this.pending.add(q);
    void q.finally(() => this.pending.delete(q));
  }

  private storeError(e: unknown, id: string): void {
    this.o.log?.error({ code: 'EDGE_COMMAND_STORE_FAILED', id, err: e instanceof Error ? e.message : String(e) }, 'command store write failed; the change is kept in memory only');
  }

  private deviceFor(channelId: string, ident: string): Device {
    const k = key(channelId, ident);
    let dev = this.devices.get(k);
    if (!dev) {
      dev = { channelId, ident, online: this.o.device.isOnline(channelId, ident), queue: [], inflight: null, pumping: false, repump: false, intake: Promise.resolve(), outbox: Promise.resolve() };
      this.devices.set(k, dev);
    }
    return dev;
  }
}

function key(channelId: string, ident: string): string {
  return `${channelId}\u0000${topicLevel(ident)}`;
}

function asEdge(e: unknown, fallback: ErrorCode): EdgeError {
  return e instanceof EdgeError ? e : new EdgeError(fallback, e instanceof Error ? e.message : String(e));
}
