import type { ChannelHooks } from '../channel/channel.js';
import type { StateOwner } from '../mqtt/state-resync.js';

/**
 * A feature of the server (commands, assets, relay, ownership, instance state, credentials, ops,
 * and the ones to come): what it needs from the channels (hooks), what retained state it owns (the
 * resync republishes it), and its lifecycle. In the manner of fastify's plugins, features are
 * registered in order; start runs in that order, stop in its reverse, so a feature can rely on
 * every feature registered before it while it starts, runs and stops.
 */
export interface Feature {
  readonly name: string;
  /** The channel seams this feature answers (composed with every other feature's, see composeHooks). */
  readonly hooks?: ChannelHooks;
  /** Retained state this feature owns. */
  readonly state?: StateOwner;
  start?(): Promise<void>;
  /**
   * Stops within `timeoutMs` (0: a failed start is being undone). Must be safe to call when
   * `start` never ran or failed: a failed start stops every registered feature.
   */
  stop?(timeoutMs: number): Promise<void>;
}

/** The features of one server, in registration order. */
export class FeatureSet {
  private readonly list: Feature[] = [];

  add<F extends Feature>(f: F): F {
    this.list.push(f);
    return f;
  }

  get names(): string[] {
    return this.list.map((f) => f.name);
  }

  /** The retained-state owners, in registration order. */
  stateOwners(): StateOwner[] {
    return this.list.flatMap((f) => (f.state ? [f.state] : []));
  }

  /** The hooks of the features registered so far, as one set (the channels are built with it). */
  hooks(): ChannelHooks {
    return composeHooks(this.list.flatMap((f) => (f.hooks ? [f.hooks] : [])));
  }

  /** Starts in registration order; on a failure every feature is stopped (reverse order, errors ignored) and the failure rethrown. */
  async start(): Promise<void> {
    try {
      for (const f of this.list) await f.start?.();
    } catch (e) {
      await this.stop(0, true);
      throw e;
    }
  }

  /** Stops in reverse registration order. `bestEffort`: a feature's failure does not keep the next from stopping. */
  async stop(timeoutMs: number, bestEffort = false): Promise<void> {
    for (const f of [...this.list].reverse()) {
      if (bestEffort) await f.stop?.(timeoutMs).catch(() => undefined);
      else await f.stop?.(timeoutMs);
    }
  }
}

/**
 * One ChannelHooks out of several, in order. Notifications go to every feature that has the hook;
 * questions with one answer take the first feature's answer that is not null (`commandReply`,
 * `mediaCommand`); `observe` goes to every feature, and the first that starts a durable write owns
 * the `done` call; a relay request goes to the first feature that relays.
 */
const noDone = (): void => {};

export function composeHooks(all: readonly ChannelHooks[]): ChannelHooks {
  const each = <K extends keyof ChannelHooks>(k: K): NonNullable<ChannelHooks[K]>[] => all.flatMap((h) => (h[k] ? [h[k]!] : []));
  const identified = each('identified');
  const commandsReady = each('commandsReady');
  const offline = each('offline');
  const mediaStored = each('mediaStored');
  const mediaFailed = each('mediaFailed');
  const commandReply = each('commandReply');
  const mediaCommand = each('mediaCommand');
  const observe = each('observe');
  const relay = each('relay')[0];
  const mediaStream = each('mediaStream')[0];
  const out: ChannelHooks = {
    identified: (ch, ident) => identified.forEach((h) => h(ch, ident)),
    commandsReady: (ch, ident) => commandsReady.forEach((h) => h(ch, ident)),
    offline: (ch, ident) => offline.forEach((h) => h(ch, ident)),
    mediaStored: (ch, ident, stored, meta) => mediaStored.forEach((h) => h(ch, ident, stored, meta)),
    mediaFailed: (ch, ident, key, err) => mediaFailed.forEach((h) => h(ch, ident, key, err)),
    commandReply: (ch, ident, reply) => {
      for (const h of commandReply) {
        const c = h(ch, ident, reply);
        if (c) return c;
      }
      return null;
    },
    mediaCommand: (ch, ident, kind) => {
      for (const h of mediaCommand) {
        const c = h(ch, ident, kind);
        if (c) return c;
      }
      return null;
    },
  };
  // absent hooks stay absent: the pipeline fails a relay frame or skips observation when nobody listens
  if (relay) out.relay = relay;
  // a channel opens its stream port only when a feature takes the streams
  if (mediaStream) out.mediaStream = mediaStream;
  // every feature observes; the first that starts a durable write owns `done` (only one may: the
  // assets), so a later one that only takes note (the tacho schedule) still sees every message
  if (observe.length)
    out.observe = (ch, ident, w, k, done) => {
      let owned = false;
      for (const h of observe) if (h(ch, ident, w, k, owned ? noDone : done)) owned = true;
      return owned;
    };
  return out;
}
