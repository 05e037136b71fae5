/**
 * Device ⇄ outside-service relay (README "Tachograph download"; the `relay` decode effect). Some
 * device exchanges need a party the server does not hold: the tachograph company card sits in a
 * reader at the fleet's office, behind a card bridge. The decoder turns such a device frame into a
 * `relay` effect; this module
 *   1. publishes the request as JSON (QoS 1; the frame's durable work waits for it) on
 *      `{root}/relay/gw/channels/{channel}/devices/{ident}/{service}/request`:
 *      `{ "ident", "channel.id", "service", "transaction", "timestamp", ...request }`
 *      (`transaction` is null for notices that expect no answer, e.g. `finish: true`);
 *   2. takes the service's answer on `.../{service}/answer`: `{ "transaction"?, "payload": "<hex>" }` or
 *      `{ "transaction"?, "error": "<reason>" }`; a given `transaction` must be the pending one (a late
 *      answer to an earlier request is dropped), an absent one answers the pending request;
 *   3. encodes the payload with the protocol command the effect named and writes it to the device
 *      between frames (`Channel.send`);
 *   4. when no answer comes in time, or the answer is unusable, ends the device's in-flight command
 *      that waits for the effect's reply key (`executed: false`, EDGE_RELAY_TIMEOUT / EDGE_RELAY_FAILED)
 *      and tells the service `{ "finish": true, "reason" }` so it can close its session.
 * One request per device and service is pending at a time (the device waits for each answer); a new
 * one replaces it. A device going offline drops its pending requests (its command is queued again by
 * the command service and starts over on the next connection).
 */
import { randomUUID } from 'node:crypto';
import { EdgeError, type ErrorCode } from '../errors.js';
import type { MqttPort } from '../message/mqtt-port.js';
import { channelIdValue } from '../message/naming.js';
import { topicLevel, type Topics } from '../mqtt/topics.js';
import type { CommandRequest, EncodedCommand, MessageValue, RelayEffect } from '../protocol/types.js';
import type { Logger } from '../util/log.js';

export interface RelayDevicePort {
  encode(channelId: string, ident: string, req: CommandRequest): Promise<EncodedCommand>;
  send(channelId: string, ident: string, bytes: Uint8Array): Promise<void>;
}

/** Ends the in-flight command waiting for `replyKey` (CommandService.complete). */
export type RelayCommandEnd = (channelId: string, ident: string, replyKey: string, code: ErrorCode, reason: string) => void;

/**
 * Whether a device's request may reach the service: null = yes, else the reason it is refused (the
 * company card authenticates only for a pending download or an allowed device: README "Company
 * card access"). Asked for requests that expect an answer; notices (`finish`) always pass.
 */
export type RelayAdmission = (channelId: string, ident: string, e: RelayEffect) => string | null;

export interface DeviceRelayOptions {
  /** QoS 1 events out, inbound subscriptions (the runtime's MessageSink). */
  sink: MqttPort;
  topics: Topics;
  device: RelayDevicePort;
  endCommand: RelayCommandEnd;
  log: Logger;
  admit?: RelayAdmission;
  now?: () => number;
}

interface Pending {
  channelId: string;
  ident: string;
  service: string;
  transaction: string;
  answer: NonNullable<RelayEffect['answer']>;
  timer: NodeJS.Timeout;
}

const HEX = /^(?:[0-9a-fA-F]{2})+$/;
const MAX_ANSWER_BYTES = 64 * 1024;

export class DeviceRelay {
  private readonly pending = new Map<string, Pending>();
  private readonly services = new Set<string>();
  private readonly prefix = randomUUID().slice(0, 8);
  private seq = 0;
  private readonly now: () => number;
  /** Answers that matched nothing or could not be read (for tests and the log). */
  dropped = 0;
  /** Requests refused by the admission rule. */
  refused = 0;

  constructor(private readonly o: DeviceRelayOptions) {
    this.now = o.now ?? Date.now;
  }

  /**
   * A frame's relay effect: published (`done` once the broker has it), and the answer awaited. The
   * service's answer topic is subscribed on first use, before the request goes out.
   */
  request(channelId: string, ident: string, e: RelayEffect, done: (err?: Error | null) => void): void {
    const refusal = e.answer && this.o.admit ? this.o.admit(channelId, ident, e) : null;
    if (refusal !== null) return this.refuse(channelId, ident, e, refusal, done);
    const k = pendingKey(channelId, ident, e.service);
    this.clear(k);
    let transaction: string | null = null;
    if (e.answer) {
      transaction = `${this.prefix}-${++this.seq}`;
      const p: Pending = { channelId, ident, service: e.service, transaction, answer: e.answer, timer: setTimeout(() => this.timedOut(k, p), e.answer.timeoutMs) };
      p.timer.unref();
      this.pending.set(k, p);
    }
    const payload = JSON.stringify({ ident, 'channel.id': channelIdValue(channelId), service: e.service, transaction, timestamp: this.now() / 1000, ...e.request });
    this.subscribe(e.service).then(
      () => this.o.sink.event(this.o.topics.relayRequest(channelId, ident, e.service), payload, done),
      (err: Error) => done(new EdgeError('EDGE_RELAY_FAILED', `cannot subscribe to the ${e.service} answers: ${err.message}`)),
    );
  }

  /**
   * A refused request: a log event with the device and the reason (QoS 1: the frame's ACK waits for
   * it), a warning, and the protocol's refusal to the device when it has one; the service never sees it.
   */
  private refuse(channelId: string, ident: string, e: RelayEffect, reason: string, done: (err?: Error | null) => void): void {
    this.refused++;
    this.o.log.warn({ code: 'EDGE_RELAY_REFUSED', channel: channelId, ident, service: e.service }, `EDGE_RELAY_REFUSED: ${e.service} request of ${ident} refused: ${reason}`);
    const ev = JSON.stringify({ event: 'refused', code: 'EDGE_RELAY_REFUSED', timestamp: this.now() / 1000, 'channel.id': channelIdValue(channelId), ident, service: e.service, reason, payload: e.request.payload ?? null });
    this.o.sink.event(this.o.topics.relayEvent(channelId, ident), ev, done);
    const a = e.answer;
    if (!a?.refusal) return;
    this.o.device
      .encode(channelId, ident, { name: a.command, properties: { ...a.properties, payload: a.refusal } })
      .then((enc) => this.o.device.send(channelId, ident, enc.bytes))
      .catch((err: unknown) => this.o.log.warn({ code: 'EDGE_RELAY_FAILED', channel: channelId, ident }, `the refusal of a ${e.service} request could not go to ${ident}: ${err instanceof Error ? err.message : String(err)}`));
  }

  deviceOffline(channelId: string, ident: string): void {
    for (const [k, p] of this.pending) if (p.channelId === channelId && p.ident === ident) this.clear(k);
  }

  stop(): void {
    for (const k of [...this.pending.keys()]) this.clear(k);
  }

  private subscribe(service: string): Promise<void> {
    if (this.services.has(service)) return Promise.resolve();
    this.services.add(service);
    return this.o.sink.subscribe(this.o.topics.relayAnswerFilter(service), (t, b) => this.onAnswer(t, b)).catch((e: unknown) => {
      this.services.delete(service);
      throw e;
    });
  }

  private clear(k: string): void {
    const p = this.pending.get(k);
    if (!p) return;
    clearTimeout(p.timer);
    this.pending.delete(k);
  }

  private timedOut(k: string, p: Pending): void {
    if (this.pending.get(k) !== p) return;
    this.pending.delete(k);
    this.fail(p, 'EDGE_RELAY_TIMEOUT', `the ${p.service} service did not answer within ${p.answer.timeoutMs / 1000} s`);
  }

  private fail(p: Pending, code: ErrorCode, reason: string): void {
    this.o.log.warn({ code, channel: p.channelId, ident: p.ident, service: p.service, transaction: p.transaction }, `${code}: ${reason}`);
    this.o.endCommand(p.channelId, p.ident, p.answer.replyKey, code, reason);
    const finish = JSON.stringify({ ident: p.ident, 'channel.id': channelIdValue(p.channelId), service: p.service, transaction: p.transaction, timestamp: this.now() / 1000, payload: null, finish: true, reason });
    this.o.sink.event(this.o.topics.relayRequest(p.channelId, p.ident, p.service), finish);
  }

  private drop(topic: string, why: string): void {
    this.dropped++;
    this.o.log.warn({ code: 'EDGE_RELAY_FAILED', topic }, `EDGE_RELAY_FAILED: relay answer dropped: ${why}`);
  }

  private onAnswer(topic: string, body: Buffer): void {
    const t = this.o.topics.parseRelayTopic(topic);
    if (!t || t.kind !== 'answer') return;
    // the topic carries the ident as a topic level: equal to the ident for every sane one, else a scan
    const direct = pendingKey(t.channel, t.ident, t.service);
    const k = this.pending.has(direct) ? direct : [...this.pending.entries()].find(([, p]) => p.channelId === t.channel && p.service === t.service && topicLevel(p.ident) === t.ident)?.[0];
    const p = k === undefined ? undefined : this.pending.get(k);
    if (!p || k === undefined) return this.drop(topic, 'no request of that device is waiting for an answer (late, repeated or unasked)');
    let a: { transaction?: unknown; payload?: unknown; error?: unknown };
    try {
      if (body.length > MAX_ANSWER_BYTES) throw new Error(`${body.length} bytes`);
      const v: unknown = JSON.parse(body.toString('utf8'));
      if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not a JSON object');
      a = v as typeof a;
    } catch (e) {
      return this.drop(topic, `not a usable JSON object (${(e as Error).message})`);
    }
    if (a.transaction !== undefined && a.transaction !== null && a.transaction !== p.transaction) {
      return this.drop(topic, `transaction ${JSON.stringify(a.transaction)} is not the pending ${p.transaction}`);
    }
    this.clear(k);
    if (a.error !== undefined && a.error !== null) return this.fail(p, 'EDGE_RELAY_FAILED', `the ${p.service} service reported an error: ${String(a.error).slice(0, 200)}`);
    if (typeof a.payload !== 'string' || !HEX.test(a.payload)) return this.fail(p, 'EDGE_RELAY_FAILED', `the ${p.service} answer has no hex "payload"`);
    const props: Record<string, MessageValue> = { ...p.answer.properties, payload: a.payload.toLowerCase() };
    this.o.device
      .encode(p.channelId, p.ident, { name: p.answer.command, properties: props })
      .then((enc) => this.o.device.send(p.channelId, p.ident, enc.bytes))
      .catch((e: unknown) => this.fail(p, 'EDGE_RELAY_FAILED', `the ${p.service} answer could not go to the device: ${e instanceof Error ? e.message : String(e)}`));
  }
}

function pendingKey(channelId: string, ident: string, service: string): string {
  return `${channelId}\u0000${ident}\u0000${service}`;
}
