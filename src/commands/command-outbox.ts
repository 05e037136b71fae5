import type { Topics } from '../mqtt/topics.js';
import type { Logger } from '../util/log.js';
import type { Device, Held } from './command-book.js';
import type { Rejection } from './command-request.js';
import { eventPayload, queueEntryPayload, type CommandStatus, type EventFields } from './lifecycle-payloads.js';
import type { CommandMqttPort } from './ports.js';

/**
 * The command service's MQTT side: lifecycle events and retained queue entries, issued per device in
 * the order things happen and each after the store change it reports (`after`); and the tracking
 * of every promise the service starts, so `stop` can wait for them.
 */
export class CommandOutbox {
  private readonly pending = new Set<Promise<unknown>>();

  constructor(
    private readonly mqtt: CommandMqttPort,
    private readonly topics: Topics,
    private readonly now: () => number,
    private readonly log: Logger | undefined,
  ) {}

  rejected(channelId: string, ident: string, r: Rejection): Promise<void> {
    const fields: EventFields = { id: r.id, name: r.name, properties: r.properties, channelId, ident, timestampMs: this.now(), code: r.code, reason: r.reason };
    if (r.firstStatus) fields.firstStatus = r.firstStatus;
    return this.publish(this.topics.commandEvent(channelId, ident, 'rejected'), eventPayload('rejected', fields, r.meta), false);
  }

  event(dev: Device, h: Held, status: CommandStatus, extra: Partial<EventFields>, after: Promise<unknown> | null): void {
    const fields: EventFields = { id: h.c.id, name: h.c.name, properties: h.c.properties, channelId: h.c.channelId, ident: h.c.ident, timestampMs: this.now(), ...extra };
    this.enqueue(dev, after, this.topics.commandEvent(h.c.channelId, h.c.ident, status), eventPayload(status, fields, h.c.meta), false);
  }

  queueEntry(dev: Device, h: Held, after: Promise<unknown> | null): void {
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
    this.enqueue(dev, after, this.topics.commandQueueState(h.c.channelId, h.c.ident, h.c.id), payload, true);
  }

  /** The retained queue entry of an ended command is cleared (an empty retained payload). */
  clearEntry(dev: Device, h: Held, after: Promise<unknown> | null): void {
    this.enqueue(dev, after, this.topics.commandQueueState(h.c.channelId, h.c.ident, h.c.id), '', true);
  }

  /**
   * Issues the publish after `after` (a store write) and after every earlier publish of this device
   * was issued: the client keeps the order of issued publishes, so confirmations are not awaited.
   */
  private enqueue(dev: Device, after: Promise<unknown> | null, topic: string, payload: string, retain: boolean): void {
    dev.outbox = Promise.all([dev.outbox, after]).then(([, done]) => {
      // a shared store's remove resolves false when another instance ended the command first: that one reports it
      if (done === false) return;
      this.track(this.publish(topic, payload, retain));
    });
  }

  /** One publish as a promise (resolved on PUBACK): a retained empty payload clears the state. */
  private publish(topic: string, payload: string, retain: boolean): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const done = (err?: Error) => (err ? reject(err) : resolve());
      if (!retain) this.mqtt.event(topic, payload, done);
      else if (payload === '') this.mqtt.clear(topic, done);
      else this.mqtt.state(topic, payload, done);
    });
  }

  track(p: Promise<unknown>): void {
    const q = p.catch((e: unknown) => this.log?.warn({ err: e instanceof Error ? e.message : String(e) }, 'command service: a publish or delivery step failed'));
    this.pending.add(q);
    void q.finally(() => this.pending.delete(q));
  }

  /** Resolves when no tracked work is left and every device's intake and outbox chain has settled. */
  async settled(devices: () => Iterable<Device>): Promise<void> {
    const chains = () => [...this.pending, ...[...devices()].flatMap((d) => [d.intake, d.outbox])];
    for (;;) {
      const all = chains();
      await Promise.all(all);
      const again = chains();
      if (again.length === all.length && again.every((p, i) => p === all[i])) return;
    }
  }
}
