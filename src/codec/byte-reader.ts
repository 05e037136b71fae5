import { EdgeError } from '../errors.js';

/**
 * Bounds-checked big/little-endian reader over a Uint8Array slice. Every read that would run past
 * `end` throws EDGE_DECODE_TRUNCATED with the absolute offset of the field, so a truncated frame
 * becomes a typed error instead of a RangeError or silently wrong data.
 * Offsets reported in errors are relative to `base` (the frame start), which is what a user
 * comparing against a hex dump of the frame needs.
 */
export class ByteReader {
  readonly buf: Uint8Array;
  private readonly view: DataView;
  private readonly base: number;
  pos: number;
  readonly end: number;

  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.base = start;
    this.pos = start;
    this.end = end;
  }

  /** Offset of the cursor relative to the frame start. */
  get offset(): number {
    return this.pos - this.base;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  /** Throws unless `n` more bytes are available; `what` names the field in the error. */
  need(n: number, what: string): void {
    if (n < 0 || this.pos + n > this.end) {
      throw new EdgeError('EDGE_DECODE_TRUNCATED', `${what} needs ${n} byte(s), ${this.end - this.pos} left`, this.offset);
    }
  }

  u8(what = 'u8'): number {
    this.need(1, what);
    return this.buf[this.pos++]!;
  }

  i8(what = 'i8'): number {
    this.need(1, what);
    return this.view.getInt8(this.pos++);
  }

  u16(what = 'u16'): number {
    this.need(2, what);
    const v = this.view.getUint16(this.pos);
    this.pos += 2;
    return v;
  }

  i16(what = 'i16'): number {
    this.need(2, what);
    const v = this.view.getInt16(this.pos);
    this.pos += 2;
    return v;
  }

  u16le(what = 'u16le'): number {
    this.need(2, what);
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }

  u32(what = 'u32'): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }

  i32(what = 'i32'): number {
    this.need(4, what);
    const v = this.view.getInt32(this.pos);
    this.pos += 4;
    return v;
  }

  u32le(what = 'u32le'): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  u64(what = 'u64'): bigint {
    this.need(8, what);
    const v = this.view.getBigUint64(this.pos);
    this.pos += 8;
    return v;
  }

  i64(what = 'i64'): bigint {
    this.need(8, what);
    const v = this.view.getBigInt64(this.pos);
    this.pos += 8;
    return v;
  }

  /** A view (no copy) of the next n bytes. */
  bytes(n: number, what = 'bytes'): Uint8Array {
    this.need(n, what);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** Latin-1/ASCII text of n bytes (protocol strings are single-byte). */
  ascii(n: number, what = 'ascii'): string {
    const b = this.bytes(n, what);
    let s = '';
    for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]!);
    return s;
  }

  skip(n: number, what = 'skipped bytes'): void {
    this.need(n, what);
    this.pos += n;
  }

  /** Remaining bytes as a view. */
  rest(): Uint8Array {
    const out = this.buf.subarray(this.pos, this.end);
    this.pos = this.end;
    return out;
  }
}
