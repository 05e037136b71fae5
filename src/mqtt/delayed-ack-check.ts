import type { Socket } from 'node:net';
import type { MessagePublisher } from './publisher.js';
import type { Logger } from '../util/log.js';

/**
 * Tells when PUBACKs wait on TCP delayed acknowledgements. A broker that writes PUBACKs with
 * Nagle's algorithm on (Mosquitto without `set_tcp_nodelay true`) holds each one until the
 * previous segment is acknowledged, and the client's kernel delays that ACK by ~40 ms (Linux
 * minimum delayed-ACK time): one device then waits ~40 ms per frame instead of well under 1 ms.
 * Our own sockets have TCP_NODELAY; the broker's cannot be set from here, so the fix is named.
 *
 * Signal (measured with a stock Mosquitto 2.0.11 on this machine: in a burst of two QoS 1
 * publishes, the first PUBACK after 0.65 ms, the second after 42.7 ms): among publishes sent at low
 * load (fewer than 8 already in flight, so no queueing explains a slow one), 40 % or more take
 * 30 ms or longer, and at least 8× the network round trip (~0 for a broker on this host; half the
 * connect time otherwise, so a broker far away is not mistaken for a Nagle stall). Pure: the
 * caller feeds samples and logs the verdict once.
 */
export interface DelayedAckOptions {
  /** Low-load round trips needed before deciding (a sliding window; default 20). */
  samples?: number;
  /** A round trip at or above this is "held" (default 30 ms). */
  heldMs?: number;
  /** Share of held round trips in the window that flags the broker (default 0.4). */
  heldShare?: number;
}

/** Publishes already in flight below which a round trip counts as low load. */
export const LOW_LOAD_INFLIGHT = 8;

export class DelayedAckCheck {
  private readonly window: number[] = [];
  private networkRttMs = 0;
  private warned = false;
  private readonly need: number;
  private readonly heldMs: number;
  private readonly heldShare: number;

  constructor(o: DelayedAckOptions = {}) {
    this.need = o.samples ?? 20;
    this.heldMs = o.heldMs ?? 30;
    this.heldShare = o.heldShare ?? 0.4;
  }

  /** A new connection: `onThisHost` (loopback or our own address) or the connect time as the RTT bound. */
  connected(onThisHost: boolean, connectMs: number): void {
    this.networkRttMs = onThisHost ? 0 : connectMs / 2;
    this.window.length = 0;
  }

  /**
   * One PUBACK round trip and how many publishes were already in flight when it was sent.
   * Returns the median of the held round trips once, the first time they look like delayed ACKs.
   */
  sample(ms: number, alreadyInFlight: number): number | null {
    if (this.warned || alreadyInFlight >= LOW_LOAD_INFLIGHT) return null;
    this.window.push(ms);
    if (this.window.length > this.need) this.window.shift();
    if (this.window.length < this.need) return null;
    const bar = Math.max(this.heldMs, 8 * this.networkRttMs);
    const held = this.window.filter((x) => x >= bar).sort((a, b) => a - b);
    if (held.length < this.heldShare * this.window.length) return null;
    this.warned = true;
    return held[held.length >> 1]!;
  }

  get done(): boolean {
    return this.warned;
  }
}

/** True for a peer address on this host (loopback, or the socket's own local address). */
export function sameHost(remote: string | undefined, local: string | undefined): boolean {
  if (!remote) return false;
  const r = remote.replace(/^::ffff:/, '');
  return r === '::1' || r.startsWith('127.') || r === local?.replace(/^::ffff:/, '');
}

/**
 * Wires the check to a publisher (call right after constructing it): samples low-load round trips
 * until the first verdict, then logs one warning naming the fix and stops measuring.
 */
export function watchDelayedAcks(publisher: MessagePublisher, log: Logger, o: DelayedAckOptions = {}): DelayedAckCheck {
  const check = new DelayedAckCheck(o);
  let connectStarted = performance.now();
  publisher.client.on('reconnect', () => (connectStarted = performance.now()));
  publisher.on('up', () => {
    const s = publisher.client.stream as unknown as Partial<Socket>;
    check.connected(sameHost(s.remoteAddress, s.localAddress), performance.now() - connectStarted);
  });
  publisher.onRoundTrip = (ms, alreadyInFlight) => {
    const median = check.sample(ms, alreadyInFlight);
    if (median === null) return;
    publisher.onRoundTrip = null;
    log.warn(
      { puback_median_ms: Math.round(median * 10) / 10 },
      `PUBACK round trips at low load are ~${Math.round(median)} ms, the TCP delayed-ACK level: the broker sends PUBACKs with Nagle's algorithm on, and every device waits that long per frame. For Mosquitto set "set_tcp_nodelay true" in mosquitto.conf (README "Running with Mosquitto")`,
    );
  };
  return check;
}
