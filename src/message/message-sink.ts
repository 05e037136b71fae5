import type { MessagePublisher, PublishCallback } from '../mqtt/publisher.js';
import type { Topics } from '../mqtt/topics.js';
import { withFields } from './envelope.js';
import type { MqttPort } from './mqtt-port.js';

/**
 * Where everything the server says goes, by intent rather than by topic string:
 *   - `message`: a parsed device message (QoS 1; spooled when the broker cannot confirm it; the
 *     callback fires once it is safe, which is what a frame's ACK waits for);
 *   - `state`: retained QoS 1 state (the latest value is what a late subscriber gets);
 *   - `event`: a QoS 1 event that is not retained (command lifecycle), confirmed by the broker;
 *   - `log`: fire-and-forget QoS 0 (connection events, aggregated counters).
 * Topic choice lives in topics.ts (the grammar) and here (which intent uses which topic).
 *
 * Enrichment: hooks that add fields to a device's messages on the main thread (assets add
 * `asset.*`; a frame that answered a command carries `command.id`). An enricher returns a JSON
 * object text, or null for nothing; it runs per message, so it must be a map lookup, not I/O.
 * `deviceTime` is the message's `timestamp` (s) when the decode path returned it (the pool's watch
 * list, FrameOutcome.watched), so fields can follow device time (a replayed black-box record gets
 * the asset it had then); undefined otherwise.
 */
export type Enricher = (channelId: string, ident: string, deviceTime?: number) => string | null;

const noop: PublishCallback = () => {};
const TOPIC_CACHE_MAX = 200_000;

export class MessageSink implements MqttPort {
  private readonly enrichers: Enricher[] = [];
  /**
   * Per channel and ident: the message topic, built (and validated) once per device, not per message;
   * and the device's latest message (the HTTP API's read side: a reference to the payload already
   * built, so keeping it costs one property write per message).
   */
  private readonly topicCache = new Map<string, Map<string, { topic: string; last: string | null }>>();

  /** Keep each device's latest message for `latest`/`devices`: the HTTP listener (read API, console) turns it on. */
  keepLatest = false;

  constructor(
    private readonly publisher: MessagePublisher,
    readonly topics: Topics,
  ) {}

  addEnricher(e: Enricher): void {
    this.enrichers.push(e);
  }

  /**
   * A device message. `lane` keeps one connection's messages in order in the publisher's fair queue,
   * `priority` is the connection's recently attained service; `fields` are frame-level additions.
   */
  message(channelId: string, ident: string, payload: string, done: PublishCallback, lane: number, priority: number, fields?: string, deviceTime?: number): void {
    let p = fields ? withFields(payload, fields) : payload;
    for (const e of this.enrichers) {
      const f = e(channelId, ident, deviceTime);
      if (f) p = withFields(p, f);
    }
    const d = this.device(channelId, ident);
    this.publisher.publish(d.topic, p, false, done, lane, priority);
    // Kept only when someone can read it: a device's latest payload otherwise lives until its next
    // message, long enough to be promoted to the old generation (bench/README.md, issue #31).
    if (this.keepLatest) d.last = p;
  }

  /** The latest message published (or spooled) for the device since start; null when none (or forgotten: the table is bounded). Its envelope says when (`server.timestamp`). */
  latest(channelId: string, ident: string): string | null {
    return this.topicCache.get(channelId)?.get(ident)?.last ?? null;
  }

  private device(channelId: string, ident: string): { topic: string; last: string | null } {
    let m = this.topicCache.get(channelId);
    if (!m) this.topicCache.set(channelId, (m = new Map()));
    let t = m.get(ident);
    if (t === undefined) {
      // bounded: devices come and go; rebuilding a topic is cheap, an unbounded map is not
      if (m.size >= TOPIC_CACHE_MAX) m.clear();
      m.set(ident, (t = { topic: this.topics.message(channelId, ident), last: null }));
    }
    return t;
  }

  state(topic: string, payload: string, done: PublishCallback = noop): void {
    this.publisher.publish(topic, payload, true, done);
  }

  /** Clears a retained state topic (an empty retained payload). */
  clear(topic: string, done: PublishCallback = noop): void {
    this.publisher.publish(topic, '', true, done);
  }

  event(topic: string, payload: string, done: PublishCallback = noop): void {
    this.publisher.publish(topic, payload, false, done);
  }

  log(topic: string, payload: string): void {
    this.publisher.publishLog(topic, payload);
  }

  /** Inbound MQTT through the same client (commands, asset management). */
  subscribe(filter: string, onMessage: (topic: string, payload: Buffer) => void, qos: 0 | 1 = 1): Promise<void> {
    return this.publisher.subscribe(filter, onMessage, qos);
  }

  /** Ends a `subscribe` with the same filter and handler. */
  unsubscribe(filter: string, onMessage: (topic: string, payload: Buffer) => void): Promise<void> {
    return this.publisher.unsubscribe(filter, onMessage);
  }

  /** The devices of a channel with a message since start (the bounded table `latest` reads), with their latest message text. */
  *devices(channelId: string): IterableIterator<[string, string | null]> {
    const m = this.topicCache.get(channelId);
    if (!m) return;
    for (const [ident, d] of m) yield [ident, d.last];
  }
}
