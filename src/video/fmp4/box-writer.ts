import { ByteWriter } from '../../codec/byte-writer.js';

/**
 * Big-endian writer for ISO BMFF boxes, on the project's ByteWriter. A box's 32-bit size is written
 * as a placeholder and patched when its body is done, so nested boxes are written in one pass into
 * one buffer (a fragment is built without intermediate arrays; the caller passes a capacity hint).
 */
export class BoxWriter extends ByteWriter {
  constructor(capacity = 512) {
    super(capacity);
  }

  /** A box: size and four-character type, then whatever `body` writes. */
  box(type: string, body?: (w: BoxWriter) => void): this {
    const start = this.length;
    this.u32(0).fourcc(type);
    body?.(this);
    this.patchU32(start, this.length - start);
    return this;
  }

  /** A full box: a box whose body starts with a version byte and 24 bits of flags. */
  fullBox(type: string, version: number, flags: number, body?: (w: BoxWriter) => void): this {
    return this.box(type, (w) => {
      w.u8(version).u24(flags);
      body?.(w);
    });
  }

  fourcc(s: string): this {
    if (s.length !== 4) throw new RangeError(`a box type has 4 characters, not "${s}"`);
    return this.ascii(s);
  }

  /** 64-bit field from a JS number (exact up to 2^53, decades of 90 kHz ticks). */
  u64n(v: number): this {
    return this.u32(Math.floor(v / 0x1_0000_0000)).u32(v >>> 0);
  }

  /** The bytes written; the buffer is handed over when it is exactly full (no copy). */
  override finish(): Uint8Array {
    return this.length === this.buf.length ? this.buf : super.finish();
  }
}
