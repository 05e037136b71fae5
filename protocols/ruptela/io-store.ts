/**
 * Flat storage for the IO elements of one records frame (hot path of cmd 1 / cmd 68).
 *
 * Why not a `Map<number, {width, value, bytes}>` per record: a 12-IO record then costs 12 small
 * objects, 12 Map inserts and later 12 Map iterations and lookups, which profiled as the largest
 * share of the decode. Here entry k of the frame is three typed-array slots:
 *
 *   ids[k]     IO id (u8 classic / u16 extended)
 *   widths[k]  1 | 2 | 4 | 8 (the IO group), or DELETED when a later duplicate in the same record
 *              replaced it (the Map semantics it mirrors: delete, then set at the end)
 *   values[k]  the unsigned value for 1/2/4-byte entries; for 8-byte entries the byte offset of the
 *              value inside the frame, so the bytes are never copied or turned into a number
 *
 * A record owns a contiguous range [start, end). The store is reused between frames (decoding is
 * synchronous and never re-entered, so one instance per thread is safe) and only grows.
 */

/** Width marker of an entry superseded by a duplicate id later in the same record. */
export const DELETED = 0;

/** Enough for a 1024-byte frame of 1-byte entries (≥ 2 bytes each) plus merged copies. */
const INITIAL_CAPACITY = 1024;

export class IoStore {
  ids = new Uint16Array(INITIAL_CAPACITY);
  widths = new Uint8Array(INITIAL_CAPACITY);
  values = new Uint32Array(INITIAL_CAPACITY);
  length = 0;

  /** Makes room for `n` more entries. Callers re-read the arrays afterwards (they may be replaced). */
  reserve(n: number): void {
    const need = this.length + n;
    if (need <= this.ids.length) return;
    const cap = Math.max(need, this.ids.length * 2);
    const ids = new Uint16Array(cap);
    const widths = new Uint8Array(cap);
    const values = new Uint32Array(cap);
    ids.set(this.ids.subarray(0, this.length));
    widths.set(this.widths.subarray(0, this.length));
    values.set(this.values.subarray(0, this.length));
    this.ids = ids;
    this.widths = widths;
    this.values = values;
  }

  /** Appends a copy of entry k (used to lay out a merged split record as one range). */
  copyEntry(k: number): void {
    this.reserve(1);
    const j = this.length++;
    this.ids[j] = this.ids[k]!;
    this.widths[j] = this.widths[k]!;
    this.values[j] = this.values[k]!;
  }

  /** Same width and value (8-byte entries: same 8 bytes in `buf`). */
  sameEntry(buf: Uint8Array, a: number, b: number): boolean {
    const w = this.widths[a]!;
    if (w !== this.widths[b]!) return false;
    const va = this.values[a]!;
    const vb = this.values[b]!;
    if (w !== 8) return va === vb;
    for (let i = 0; i < 8; i++) if (buf[va + i] !== buf[vb + i]) return false;
    return true;
  }
}

/**
 * "Has this id been seen since the last `next()`?" for any u16 id, without clearing anything
 * between records: an id is marked by storing the current generation, and `next()` just moves to
 * a new generation. Robust against a decode that throws half-way (nothing to clean up).
 */
export class IdStamps {
  private readonly stamps: Uint32Array;
  private gen = 0;

  constructor(size: number) {
    this.stamps = new Uint32Array(size);
  }

  next(): void {
    if (this.gen === 0xffffffff) {
      this.stamps.fill(0);
      this.gen = 0;
    }
    this.gen++;
  }

  /** Marks `id`; returns true if it was already marked in this generation. */
  mark(id: number): boolean {
    if (this.stamps[id] === this.gen) return true;
    this.stamps[id] = this.gen;
    return false;
  }

  has(id: number): boolean {
    return this.stamps[id] === this.gen;
  }
}
