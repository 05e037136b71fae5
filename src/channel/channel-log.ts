import type { MessageSink } from '../message/message-sink.js';
import type { Topics } from '../mqtt/topics.js';
import type { CloseCode } from '../net/close-codes.js';
import { CLOSE_REASONS } from '../net/close-codes.js';
import type { DeviceLink } from './device-link.js';
import { channelIdValue } from '../message/naming.js';
import { LOCAL_TOTALS, type ConnectionTotals } from './connection-totals.js';
import type { Logger } from '../util/log.js';

const RECENT_CLOSES = 200;

/**
 * Connection events and retained state on MQTT (flespi-style event codes: 100 accepted,
 * 101 identified, 102 closed, 103 data processing error). Log events are QoS 0 and not retained;
 * state is retained QoS 1. None of this runs per packet.
 */
export class ChannelLog {
  private countTimer: NodeJS.Timeout | null = null;
  /** The total last published on connections_count (-1: none yet). */
  private lastCount = -1;
  /** Reports to the totals, one after another (a later one never overtakes an earlier one). */
  private countChain: Promise<void> = Promise.resolve();
  private renewTimer: NodeJS.Timeout | null = null;
  private countFailed = false;

  private readonly topics: Topics;
  /** The last payload of each retained channel property (counters, drops), for a resync. */
  private readonly channelStateLast = new Map<string, string>();
  /** The last closes of identified connections, newest last (the web console's "recent disconnects"; a close is rare, so a bounded array). */
  readonly recentCloses: { ident: string; close_code: number; reason: string; timestamp: number }[] = [];

  constructor(
    private readonly channelId: string,
    private readonly sink: MessageSink,
    /** Every instance's and process's connections (cluster/connection-totals.ts); default: this one's alone. */
    private readonly totals: ConnectionTotals = LOCAL_TOTALS,
    private readonly log?: Logger,
  ) {
    this.topics = sink.topics;
  }

  private base(link: DeviceLink, nowMs: number, event: number): Record<string, unknown> {
    const o: Record<string, unknown> = { event_code: event, timestamp: nowMs / 1000, 'channel.id': channelIdValue(this.channelId), conn: link.id, peer: link.peer, transport: link.transport };
    if (link.ident) o.ident = link.ident;
    return o;
  }

  accepted(link: DeviceLink, nowMs: number): void {
    this.sink.log(this.topics.connectionLog(this.channelId, link.id, 'accepted'), JSON.stringify(this.base(link, nowMs, 100)));
  }

  /** `logged` false: over the event budget, only the retained state is published. */
  identified(link: DeviceLink, nowMs: number, logged = true): void {
    if (logged) this.sink.log(this.topics.connectionLog(this.channelId, link.id, 'identified'), JSON.stringify(this.base(link, nowMs, 101)));
    this.sink.state(this.topics.deviceState(this.channelId, link.ident!, 'connected'), 'true');
  }

  closed(link: DeviceLink, nowMs: number, code: CloseCode, detail: string, stillConnected: boolean): void {
    const o = this.base(link, nowMs, 102);
    o.close_code = code;
    o.reason = detail || CLOSE_REASONS[code];
    o.duration = Math.round(nowMs - link.openedAtMs) / 1000;
    o.msgs = link.messages;
    o.recv = link.bytesIn;
    o.send = link.bytesOut;
    this.sink.log(this.topics.connectionLog(this.channelId, link.id, 'closed'), JSON.stringify(o));
    if (link.ident) {
      if (this.recentCloses.length >= RECENT_CLOSES) this.recentCloses.shift();
      this.recentCloses.push({ ident: link.ident, close_code: code, reason: o.reason as string, timestamp: nowMs / 1000 });
    }
    if (link.ident && !stillConnected) this.sink.state(this.topics.deviceState(this.channelId, link.ident, 'connected'), 'false');
  }

  /** An ident no longer served by any connection of this channel (its connection changed ident). */
  released(ident: string): void {
    this.sink.state(this.topics.deviceState(this.channelId, ident, 'connected'), 'false');
  }

  /** A rejected connection that never became a link (guards, connection cap). */
  rejected(peer: string, transport: string, nowMs: number, code: CloseCode, detail?: string): void {
    const o: Record<string, unknown> = { event_code: 102, timestamp: nowMs / 1000, 'channel.id': channelIdValue(this.channelId), peer, transport, close_code: code, reason: CLOSE_REASONS[code], duration: 0 };
    if (detail) o.detail = detail;
    this.sink.log(this.topics.channelLog(this.channelId, 'connections/rejected'), JSON.stringify(o));
  }

  error(link: DeviceLink, nowMs: number, info: { code: string; reason: string; offset?: number }, hex: string): void {
    const o = this.base(link, nowMs, 103);
    o.code = info.code;
    o.reason = info.reason;
    if (info.offset !== undefined) o.offset = info.offset;
    o.hex = hex;
    this.sink.log(this.topics.connectionLog(this.channelId, link.id, 'error'), JSON.stringify(o));
  }

  /** Aggregated channel-level event (drops, warnings): one publish per stats interval at most. */
  channelEvent(event: string, payload: Record<string, unknown>, retainedStateProperty?: string): void {
    const json = JSON.stringify(payload);
    this.sink.log(this.topics.channelLog(this.channelId, event), json);
    if (retainedStateProperty) {
      this.channelStateLast.set(retainedStateProperty, json);
      this.sink.state(this.topics.channelState(this.channelId, retainedStateProperty), json);
    }
  }

  /**
   * Resync (src/mqtt/state-resync.ts): the retained state of this channel again, from the live
   * tables: `connected true` of every ident a link serves now, `connections_count`, and the last
   * counters and drops. No log event is repeated. Returns the number of retained publishes.
   */
  republish(idents: Iterable<string>, connections: number): number {
    let n = 0;
    for (const ident of idents) {
      this.sink.state(this.topics.deviceState(this.channelId, ident, 'connected'), 'true');
      n++;
    }
    void this.flushCount(connections);
    for (const [property, json] of this.channelStateLast) this.sink.state(this.topics.channelState(this.channelId, property), json);
    return n + 1 + this.channelStateLast.size;
  }

  /** Retained connections_count, coalesced to at most one report per 500 ms; published when the total changed. */
  connectionsCount(count: () => number): void {
    if (this.countTimer) return;
    this.countTimer = setTimeout(() => {
      this.countTimer = null;
      void this.countNow(count(), false);
    }, 500);
    this.countTimer.unref();
  }

  /** Reports `n` at once and publishes the total even if unchanged (channel start, resync). */
  flushCount(n: number): Promise<void> {
    if (this.countTimer) clearTimeout(this.countTimer);
    this.countTimer = null;
    return this.countNow(n, true);
  }

  /**
   * Shared totals (Redis) only: reports again every third of the lease, so another instance's
   * change or crash reaches this one's publish too. Stopped by `leave()`.
   */
  renewCount(count: () => number): void {
    if (!this.totals.shared || this.renewTimer) return;
    this.renewTimer = setInterval(() => void this.countNow(count(), false), Math.max(100, Math.floor(this.totals.leaseMs / 3)));
    this.renewTimer.unref();
  }

  /** The channel stops here: this instance's count leaves the total, which is published once more. */
  leave(): Promise<void> {
    if (this.countTimer) clearTimeout(this.countTimer);
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.countTimer = this.renewTimer = null;
    return this.queueCount(() => this.totals.leave(this.channelId), true);
  }

  private countNow(n: number, force: boolean): Promise<void> {
    return this.queueCount(() => this.totals.report(this.channelId, n), force);
  }

  private queueCount(total: () => Promise<number>, force: boolean): Promise<void> {
    this.countChain = this.countChain.then(total).then(
      (t) => {
        if (this.countFailed) this.log?.info({ channel: this.channelId }, 'connections_count: the shared total is reachable again');
        this.countFailed = false;
        if (!force && t === this.lastCount) return;
        this.lastCount = t;
        this.sink.state(this.topics.channelState(this.channelId, 'connections_count'), String(t));
      },
      (e: unknown) => {
        // nothing is published: this instance's count alone would pass for every instance's; the next report tries again
        if (!this.countFailed) this.log?.warn({ channel: this.channelId, err: e instanceof Error ? e.message : String(e) }, 'connections_count: the shared total is unreachable (Redis); not published until it is back');
        this.countFailed = true;
      },
    );
    return this.countChain;
  }
}
