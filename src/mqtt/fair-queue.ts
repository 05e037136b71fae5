import { Fifo } from '../util/fifo.js';
import { MinHeap } from '../util/min-heap.js';

/**
 * FIFO per lane, lanes served in turn. The publisher queues messages per device connection
 * (lane = connection), so during an after-load storm a live device's message is not queued behind
 * every storm message.
 *
 * Two kinds of waiting lanes:
 * - *fresh*: lanes that just became active, served most urgent first (lowest `priority`: the
 *   connection's recently attained service, so a live device that sends little goes before devices
 *   flushing a black box);
 * - the *round*: lanes that were served once and still hold messages, round-robin.
 * When both wait, `shift` alternates between them, so neither starves the other.
 *
 * Why a heap for fresh lanes: the earlier queue put a fresh lane at the front of the round only if it
 * was more urgent than the one lane whose turn was next, and at the back of a round of over a
 * thousand storm lanes otherwise. In the after-load bench a live device's message then waited up to
 * 96–111 ms here (p99) although it was the most urgent one queued (bench/README.md, issue #31).
 */
interface Lane<T> {
  readonly items: Fifo<T>;
}

/** Empty lanes kept for reuse before the map is swept (a storm's connections come back within a second). */
const SPARE_LANES = 4096;

export class FairQueue<T> {
  /**
   * Every lane with messages, and recently emptied ones: a lane's object is reused when its
   * connection queues again instead of being deleted per message (set/delete churn on a long-lived
   * Map keeps its dead entries' objects alive through young collections, as in inflight-store.ts).
   */
  private readonly lanes = new Map<number, Lane<T>>();
  private readonly fresh = new MinHeap<Lane<T>>();
  private readonly round = new Fifo<Lane<T>>(64);
  /** Whether the next `shift` takes from the round when both kinds wait. */
  private roundsTurn = false;
  size = 0;

  /** Queues `item` on `lane`; `priority` (lower = more urgent) orders the lane if it was idle. */
  push(lane: number, item: T, priority = 0): void {
    let l = this.lanes.get(lane);
    if (!l) {
      // every lane with messages is either fresh or in the round
      if (this.lanes.size >= this.fresh.size + this.round.size + SPARE_LANES) this.sweep();
      l = { items: new Fifo<T>(16) };
      this.lanes.set(lane, l);
    }
    if (l.items.size === 0) this.fresh.push(priority, l);
    l.items.push(item);
    this.size++;
  }

  /** Next item: the oldest of the lane whose turn it is. */
  shift(): T | undefined {
    if (this.size === 0) return undefined;
    const fromRound = this.round.size > 0 && (this.fresh.size === 0 || this.roundsTurn);
    const l = fromRound ? this.round.shift()! : this.fresh.pop()!;
    this.roundsTurn = !fromRound;
    const item = l.items.shift()!;
    this.size--;
    if (l.items.size > 0) this.round.push(l);
    return item;
  }

  /** Removes and returns everything, in the order `shift` gives. */
  takeAll(): T[] {
    const out: T[] = [];
    for (let x = this.shift(); x !== undefined; x = this.shift()) out.push(x);
    return out;
  }

  /** Drops the empty lanes (connections gone or idle), keeping the map bounded. */
  private sweep(): void {
    for (const [k, l] of this.lanes) if (l.items.size === 0) this.lanes.delete(k);
  }
}
