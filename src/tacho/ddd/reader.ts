import { EdgeError } from '../../errors.js';

/**
 * Bounds-checked big-endian cursor over a whole .ddd file. Unlike `src/codec/ByteReader` (offsets
 * relative to a frame, `EDGE_DECODE_*` codes), every offset here is absolute in the file and every
 * failure is an `EDGE_DDD_*` error naming the structure being read, because the user of a download
 * file compares it against a hex dump of the file, not of a frame.
 */
export class DddReader {
  pos: number;

  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  need(n: number, what: string): void {
    if (n < 0 || this.pos + n > this.end) throw new EdgeError('EDGE_DDD_TRUNCATED', `${what} needs ${n} byte(s), ${this.end - this.pos} left`, this.pos);
  }

  u8(what: string): number {
    this.need(1, what);
    return this.buf[this.pos++]!;
  }

  u16(what: string): number {
    this.need(2, what);
    const p = this.pos;
    this.pos += 2;
    return (this.buf[p]! << 8) | this.buf[p + 1]!;
  }

  u24(what: string): number {
    this.need(3, what);
    const p = this.pos;
    this.pos += 3;
    return (this.buf[p]! << 16) | (this.buf[p + 1]! << 8) | this.buf[p + 2]!;
  }

  u32(what: string): number {
    this.need(4, what);
    const p = this.pos;
    this.pos += 4;
    return ((this.buf[p]! << 24) | (this.buf[p + 1]! << 16) | (this.buf[p + 2]! << 8) | this.buf[p + 3]!) >>> 0;
  }

  /** A view (not a copy) of the next `n` bytes. */
  bytes(n: number, what: string): Uint8Array {
    this.need(n, what);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  /** A reader over the next `n` bytes (same absolute offsets); this one moves past them. */
  sub(n: number, what: string): DddReader {
    this.need(n, what);
    const r = new DddReader(this.buf, this.pos, this.pos + n);
    this.pos += n;
    return r;
  }

  invalid(reason: string, at = this.pos): never {
    throw new EdgeError('EDGE_DDD_INVALID', reason, at);
  }
}

/** `count × size` bytes must fit in what is left: checked before any loop, so a fuzzed count cannot make us spin. */
export function needRecords(r: DddReader, count: number, size: number, what: string): void {
  r.need(count * size, `${count} ${what} record(s) of ${size} bytes`);
}
