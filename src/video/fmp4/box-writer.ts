/**
 * Big-endian writer for ISO BMFF boxes. A box's 32-bit size is written as a placeholder and
 * patched when its body is done, so nested boxes are written in one pass into one buffer (a
 * fragment is built without intermediate arrays; the caller passes a capacity hint).
 */
export class BoxWriter {
  private buf: Uint8Array;
  private view: DataView;
  length = 0;

  constructor(capacity = 512) {
    this.buf = new Uint8Array(capacity);
    this.view = new DataView(this.buf.buffer);
  }

  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.length + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** A box: size and four-character type, then whatever `body` writes. */
  box(type: string, body?: (w: BoxWriter) => void): this {
    const start = this.length;
    this.u32(0).fourcc(type);
    body?.(this);
    this.view.setUint32(start, this.length - start);
    return this;
  }

  /** A full box: a box whose body starts with a version byte and 24 bits of flags. */
  fullBox(type: string, version: number, flags: number, body?: (w: BoxWriter) => void): this {
    return this.box(type, (w) => {
      w.u8(version).u24(flags);
      body?.(w);
    });
  }

  u8(v: number): this {
    this.ensure(1);
    this.buf[this.length++] = v & 0xff;
    return this;
  }

  u16(v: number): this {
    this.ensure(2);
    this.view.setUint16(this.length, v);
    this.length += 2;
    return this;
  }

  i16(v: number): this {
    this.ensure(2);
    this.view.setInt16(this.length, v);
    this.length += 2;
    return this;
  }

  u24(v: number): this {
    return this.u8(v >>> 16).u16(v & 0xffff);
  }

  u32(v: number): this {
    this.ensure(4);
    this.view.setUint32(this.length, v);
    this.length += 4;
    return this;
  }

  /** 64-bit field from a JS number (exact up to 2^53, decades of 90 kHz ticks). */
  u64(v: number): this {
    return this.u32(Math.floor(v / 0x1_0000_0000)).u32(v >>> 0);
  }

  fourcc(s: string): this {
    this.ensure(4);
    for (let i = 0; i < 4; i++) this.buf[this.length++] = s.charCodeAt(i);
    return this;
  }

  zeros(n: number): this {
    this.ensure(n);
    this.buf.fill(0, this.length, this.length + n);
    this.length += n;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
    return this;
  }

  /** Overwrite a u32 written earlier (trun's data offset is known only once the moof is done). */
  patchU32(at: number, v: number): this {
    this.view.setUint32(at, v);
    return this;
  }

  /** The bytes written; the writer's buffer is handed over when it is exactly full (no copy). */
  finish(): Uint8Array {
    return this.length === this.buf.length ? this.buf : this.buf.slice(0, this.length);
  }
}
