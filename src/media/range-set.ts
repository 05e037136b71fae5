/**
 * Which byte ranges of a file arrived: sorted, merged [start, end) pairs. Pieces come in any order
 * and may overlap or repeat (a resend after a lost connection); `missing` gives the gaps up to a
 * size, which is what a resend request (JT/T 808 0x9212) lists.
 */
export class RangeSet {
  /** Flat [start0, end0, start1, end1, ...], sorted and non-touching. */
  private r: number[] = [];

  add(start: number, end: number): void {
    if (end <= start) return;
    const r = this.r;
    let i = 0;
    while (i < r.length && r[i + 1]! < start) i += 2;
    let j = i;
    let s = start;
    let e = end;
    while (j < r.length && r[j]! <= e) {
      s = Math.min(s, r[j]!);
      e = Math.max(e, r[j + 1]!);
      j += 2;
    }
    r.splice(i, j - i, s, e);
  }

  /** Bytes covered. */
  get covered(): number {
    let n = 0;
    for (let i = 0; i < this.r.length; i += 2) n += this.r[i + 1]! - this.r[i]!;
    return n;
  }

  /** Number of separate ranges (bounded per upload by the caller: a hostile peer could fragment it). */
  get count(): number {
    return this.r.length / 2;
  }

  /** Gaps in [0, size) as [offset, length] pairs. */
  missing(size: number): [number, number][] {
    const out: [number, number][] = [];
    let at = 0;
    for (let i = 0; i < this.r.length && at < size; i += 2) {
      const s = this.r[i]!;
      if (s > at) out.push([at, Math.min(s, size) - at]);
      at = Math.max(at, this.r[i + 1]!);
    }
    if (at < size) out.push([at, size - at]);
    return out;
  }
}
