import type { IClientOptions } from 'mqtt';
import type { MessagePublisher } from './publisher.js';
import type { Topics } from './topics.js';
import type { Logger } from '../util/log.js';

/**
 * Retained state that tells the truth after a crash.
 *
 * - `{root}/state/gw/instances/{instance}/online`: the MQTT last will sets it to `false` when the
 *   process dies without a clean disconnect (kill -9, power loss, network cut past the keepalive);
 *   every (re)connect sets it to `true`; a clean stop sets it to `false` before disconnecting.
 * - `{root}/state/gw/channels/{channel}/instance`: which instance serves the channel, so a consumer
 *   can read a device's `connected` together with the `online` of the instance that published it.
 * - On the first connection of a run, retained `devices/{ident}/connected true` left by an earlier
 *   run of this instance's channels are corrected to `false` (`connections_count` is published by
 *   each channel when it starts: 0, or with redis_url the other instances' total). A device that
 *   identified in this run meanwhile is left alone.
 *
 * A channel id's state topics are owned by the one instance that serves it; two instances serving
 * the same channel id would correct each other's devices (README "Running in production").
 */
/** A channel as the instance state sees it (its id); devices come in through `identified`/`offline`. */
export interface ChannelEvents {
  readonly id: string;
}

export interface InstanceStateOptions {
  publisher: MessagePublisher;
  topics: Topics;
  instanceId: string;
  channels: readonly ChannelEvents[];
  log: Logger;
  /** How long the retained scan waits for more retained messages after the last one (default 300 ms). */
  quietMs?: number;
  /** Upper bound of the retained scan (default 3000 ms). */
  scanMaxMs?: number;
  /** How long start() waits for the scan and its corrections before the channels open anyway (default 5000 ms). */
  startWaitMs?: number;
  /**
   * Several instances serving the same channels (redis_url): of the given `connected` topics, those
   * whose device another instance holds right now; they are not stale and are left alone.
   */
  heldElsewhere?: (topics: string[]) => Promise<Set<string>>;
}

/** The last will that turns the instance's `online` false when the broker loses it uncleanly. */
export function instanceWill(topics: Topics, instanceId: string): NonNullable<IClientOptions['will']> {
  return { topic: topics.instanceState(instanceId, 'online'), payload: Buffer.from('false'), qos: 1, retain: true };
}

export class InstanceState {
  readonly onlineTopic: string;
  /** Device state topics set `true` by this run (never corrected). */
  private readonly liveHere = new Set<string>();
  private corrected: Promise<number> | null = null;
  private stopped = false;
  private readonly onUp = () => this.announce();

  constructor(private readonly o: InstanceStateOptions) {
    this.onlineTopic = o.topics.instanceState(o.instanceId, 'online');
    o.publisher.on('up', this.onUp);
  }

  /** A device identified in this run (channel hook): its `connected true` is never corrected. */
  identified(channelId: string, ident: string): void {
    this.liveHere.add(this.o.topics.deviceState(channelId, ident, 'connected'));
  }

  /** No link of the channel serves the ident any more (channel hook). */
  offline(channelId: string, ident: string): void {
    this.liveHere.delete(this.o.topics.deviceState(channelId, ident, 'connected'));
  }

  /**
   * Publishes `online true` and the channels' instance now if connected (else on connect), and
   * corrects stale `connected` state once per run. Resolves with the number of corrected devices
   * when connected now, or 0 at once when the broker is not reachable yet (it runs on connect).
   */
  async start(): Promise<number> {
    if (!this.o.publisher.connected) return 0;
    // bounded: if the broker drops meanwhile, the corrections wait in the publisher, not the start
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<number>((resolve) => (timer = setTimeout(() => resolve(0), this.o.startWaitMs ?? 5000)));
    try {
      return await Promise.race([this.announce(), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  private announce(): Promise<number> {
    if (this.stopped) return Promise.resolve(0);
    this.republish();
    return (this.corrected ??= this.correctStale().catch((e: unknown) => {
      this.o.log.warn({ err: (e as Error).message }, 'could not check retained device state left by an earlier run');
      return 0;
    }));
  }

  /** Reads retained `connected` of our channels and publishes `false` where an earlier run left `true`. */
  private async correctStale(): Promise<number> {
    const { publisher, topics, channels } = this.o;
    const client = publisher.client;
    const filters = channels.map((c) => topics.deviceStateFilter(c.id, 'connected'));
    const stale = new Set<string>();
    let last = Date.now();
    const onMessage = (topic: string, payload: Buffer, packet: { retain?: boolean }) => {
      if (!packet.retain || !filters.some((f) => matches(f, topic))) return;
      last = Date.now();
      if (payload.toString() === 'true') stale.add(topic);
      else stale.delete(topic);
    };
    client.on('message', onMessage);
    try {
      await client.subscribeAsync(filters, { qos: 0 });
      // retained messages follow the SUBACK; wait until they stop coming
      const quietMs = this.o.quietMs ?? 300;
      const until = Date.now() + (this.o.scanMaxMs ?? 3000);
      last = Date.now();
      while (Date.now() - last < quietMs && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      await client.unsubscribeAsync(filters);
    } finally {
      client.off('message', onMessage);
    }
    let toFix = [...stale].filter((t) => !this.liveHere.has(t));
    if (this.o.heldElsewhere && toFix.length > 0) {
      const held = await this.o.heldElsewhere(toFix);
      toFix = toFix.filter((t) => !held.has(t));
    }
    await Promise.all(toFix.map((t) => new Promise<void>((resolve) => publisher.publish(t, 'false', true, () => resolve()))));
    if (toFix.length > 0) this.o.log.info({ devices: toFix.length }, 'retained "connected true" left by an earlier run corrected to false');
    return toFix.length;
  }

  /** Resync (src/mqtt/state-resync.ts): `online true` and each channel's `instance` again. */
  republish(): number {
    if (this.stopped) return 0;
    const { publisher, topics, instanceId, channels } = this.o;
    publisher.publish(this.onlineTopic, 'true', true, noop);
    for (const ch of channels) publisher.publish(topics.channelState(ch.id, 'instance'), instanceId, true, noop);
    return 1 + channels.length;
  }

  /** Clean stop: `online false` (a clean disconnect does not fire the last will). */
  async stop(timeoutMs: number): Promise<void> {
    this.stopped = true;
    this.o.publisher.off('up', this.onUp);
    if (!this.o.publisher.connected) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      this.o.publisher.publish(this.onlineTopic, 'false', true, () => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}

/** MQTT filter match for filters with single-level `+` wildcards only (what deviceStateFilter makes). */
function matches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  if (f.length !== t.length) return false;
  return f.every((l, i) => l === '+' || l === t[i]);
}

function noop(): void {}
