/** A binary min-heap ordered by (priority, insertion sequence): equal priorities stay FIFO. */
interface Entry<T> {
  p: number;
  seq: number;
  v: T;
}

export class MinHeap<T> {
  private readonly a: Entry<T>[] = [];
  private seq = 0;

  get size(): number {
    return this.a.length;
  }

  /** The priority `pop` would return next (undefined when empty). */
  peekPriority(): number | undefined {
    return this.a[0]?.p;
  }

  push(priority: number, v: T): void {
    const a = this.a;
    a.push({ p: priority, seq: this.seq++, v });
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!less(a[i]!, a[parent]!)) break;
      [a[i], a[parent]] = [a[parent]!, a[i]!];
      i = parent;
    }
  }

  pop(): T | undefined {
    const a = this.a;
    if (a.length === 0) return undefined;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && less(a[l]!, a[m]!)) m = l;
        if (r < a.length && less(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top.v;
  }
}

function less<T>(x: Entry<T>, y: Entry<T>): boolean {
  return x.p < y.p || (x.p === y.p && x.seq < y.seq);
}
