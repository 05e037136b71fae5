/**
 * FIFO per lane, lanes served round-robin. The publisher queues messages per device connection
 * (lane = connection), so during an after-load storm a live device's message waits about one
 * round of the queued connections instead of behind every queued storm message.
 */
interface Lane<T> {
  items: T[];
  head: number;
  priority: number;
}

export class FairQueue<T> {
  private readonly lanes = new Map<number, Lane<T>>();
  private ring: number[] = [];
  private ringHead = 0;
  size = 0;

  /**
   * `priority` (lower = more urgent) matters when a lane becomes active: a lane more urgent than
   * the one whose turn is next goes to the front of the round instead of the back (least attained
   * service: a live device that sends little overtakes connections flushing a backlog).
   */
  push(lane: number, item: T, priority = 0): void {
    let l = this.lanes.get(lane);
    if (!l) {
      l = { items: [], head: 0, priority };
      this.lanes.set(lane, l);
      const next = this.ringHead < this.ring.length ? this.lanes.get(this.ring[this.ringHead]!) : undefined;
      if (next && priority < next.priority) {
        if (this.ringHead > 0) this.ring[--this.ringHead] = lane;
        else this.ring.unshift(lane);
      } else this.ring.push(lane);
    }
    l.items.push(item);
    this.size++;
  }

  /** Next item: the oldest of the lane whose turn it is. */
  shift(): T | undefined {
    while (this.ringHead < this.ring.length) {
      const key = this.ring[this.ringHead++]!;
      const l = this.lanes.get(key);
      if (!l) continue;
      const item = l.items[l.head]!;
      l.items[l.head++] = undefined as unknown as T;
      this.size--;
      if (l.head < l.items.length) {
        this.ring.push(key);
        if (l.head > 64 && l.head * 2 > l.items.length) {
          l.items.splice(0, l.head);
          l.head = 0;
        }
      } else this.lanes.delete(key);
      if (this.ringHead > 1024 && this.ringHead * 2 > this.ring.length) {
        this.ring.splice(0, this.ringHead);
        this.ringHead = 0;
      }
      return item;
    }
    return undefined;
  }

  /** Removes and returns everything, oldest lane first. */
  takeAll(): T[] {
    const out: T[] = [];
    for (let x = this.shift(); x !== undefined; x = this.shift()) out.push(x);
    return out;
  }
}
