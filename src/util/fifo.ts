/**
 * A FIFO on a ring of slots that are cleared as soon as they are left behind, for queues that see an
 * entry per record and live as long as the process.
 *
 * Why not an array with push and a moving head: such an array lives long enough to reach V8's old
 * generation, and each time it grows V8 copies it into a bigger backing store and abandons the old
 * one, which still points at every entry it held. Until the next full collection those stale slots
 * keep the entries (and all they reference: a record's payload, its frame) alive through every
 * young-generation collection, so each record was copied to the old generation (bench/README.md,
 * issue #31). Here, growing copies into a new ring and clears the old one, and `shift` clears its slot.
 */
export class Fifo<T> {
  private slots: (T | undefined)[];
  private head = 0;
  private count = 0;

  constructor(initialCapacity = 1024) {
    let cap = 16;
    while (cap < initialCapacity) cap *= 2;
    this.slots = new Array<T | undefined>(cap).fill(undefined);
  }

  get size(): number {
    return this.count;
  }

  push(v: T): void {
    if (this.count === this.slots.length) this.grow();
    this.slots[(this.head + this.count) & (this.slots.length - 1)] = v;
    this.count++;
  }

  /** The oldest entry, still queued. */
  peek(): T | undefined {
    return this.count > 0 ? this.slots[this.head] : undefined;
  }

  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const v = this.slots[this.head];
    this.slots[this.head] = undefined;
    this.head = (this.head + 1) & (this.slots.length - 1);
    this.count--;
    return v;
  }

  /** Every queued entry, oldest first. */
  forEach(f: (v: T) => void): void {
    const mask = this.slots.length - 1;
    for (let i = 0; i < this.count; i++) f(this.slots[(this.head + i) & mask]!);
  }

  private grow(): void {
    const old = this.slots;
    const next = new Array<T | undefined>(old.length * 2).fill(undefined);
    for (let i = 0; i < this.count; i++) next[i] = old[(this.head + i) & (old.length - 1)];
    // the abandoned ring must not keep what it held (see above)
    old.fill(undefined);
    this.slots = next;
    this.head = 0;
  }
}
