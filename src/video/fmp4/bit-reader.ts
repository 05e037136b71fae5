import { EdgeError } from '../../errors.js';

/**
 * Reads the RBSP of a NAL unit bit by bit, with the exp-Golomb codes parameter sets use. The
 * emulation prevention bytes (00 00 03) are removed first, so the bit positions are the syntax's.
 * Every read past the end is a typed error: a parameter set comes from a device, not from us.
 */
export class BitReader {
  private readonly rbsp: Uint8Array;
  private bit = 0;
  private readonly what: string;

  constructor(nal: Uint8Array, what: string) {
    this.rbsp = unescapeRbsp(nal);
    this.what = what;
  }

  private fail(reason: string): never {
    throw new EdgeError('EDGE_VIDEO_AVC_INVALID', `${this.what}: ${reason}`, this.bit >>> 3);
  }

  u1(): number {
    const byte = this.rbsp[this.bit >>> 3];
    if (byte === undefined) this.fail('ends inside a field');
    const v = (byte >>> (7 - (this.bit & 7))) & 1;
    this.bit++;
    return v;
  }

  /** An unsigned field of n ≤ 32 bits. */
  u(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 2 + this.u1();
    return v;
  }

  skip(n: number): void {
    this.u(n);
  }

  /** ue(v): unsigned exp-Golomb. More than 31 leading zeros cannot be a valid value. */
  ue(): number {
    let zeros = 0;
    while (this.u1() === 0) {
      if (++zeros > 31) this.fail('exp-Golomb code longer than 32 bits');
    }
    return 2 ** zeros - 1 + this.u(zeros);
  }

  /** se(v): signed exp-Golomb (1 → 1, 2 → −1, 3 → 2, …). */
  se(): number {
    const k = this.ue();
    return k % 2 === 1 ? (k + 1) / 2 : -(k / 2);
  }

  /** A ue(v) that must lie in [0, max]: values past it would make later sizes absurd. */
  ueMax(max: number, field: string): number {
    const v = this.ue();
    if (v > max) this.fail(`${field} ${v} is more than ${max}`);
    return v;
  }
}

/** The NAL unit without its emulation prevention bytes (the 03 of every 00 00 03). */
export function unescapeRbsp(nal: Uint8Array): Uint8Array {
  let zeros = 0;
  let escaped = -1;
  for (let i = 0; i < nal.length; i++) {
    if (zeros >= 2 && nal[i] === 3) {
      escaped = i;
      break;
    }
    zeros = nal[i] === 0 ? zeros + 1 : 0;
  }
  if (escaped < 0) return nal;
  const out = new Uint8Array(nal.length);
  let n = 0;
  zeros = 0;
  for (let i = 0; i < nal.length; i++) {
    const b = nal[i]!;
    if (zeros >= 2 && b === 3) {
      zeros = 0;
      continue;
    }
    out[n++] = b;
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return out.subarray(0, n);
}
