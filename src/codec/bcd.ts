import { EdgeError } from '../errors.js';

/** Packed BCD (two decimal digits per byte, high nibble first) to a digit string. */
export function bcdToString(b: Uint8Array, start = 0, end = b.length): string {
  let s = '';
  for (let i = start; i < end; i++) {
    const hi = b[i]! >> 4;
    const lo = b[i]! & 0x0f;
    if (hi > 9 || lo > 9) throw new EdgeError('EDGE_DECODE_INVALID', `byte 0x${b[i]!.toString(16)} is not packed BCD`, i - start);
    s += hi.toString() + lo.toString();
  }
  return s;
}

/** One packed BCD byte to its value 0..99. */
export function bcdByte(v: number): number {
  const hi = v >> 4;
  const lo = v & 0x0f;
  if (hi > 9 || lo > 9) throw new EdgeError('EDGE_DECODE_INVALID', `byte 0x${v.toString(16)} is not packed BCD`);
  return hi * 10 + lo;
}

/** Digit string (even length, left-padded with 0 if odd) to packed BCD of `size` bytes. */
export function stringToBcd(digits: string, size: number): Uint8Array {
  if (!/^\d*$/.test(digits)) throw new RangeError(`not a digit string: ${digits}`);
  const padded = digits.padStart(size * 2, '0');
  if (padded.length > size * 2) throw new RangeError(`${digits} does not fit ${size} BCD bytes`);
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (Number(padded[i * 2]) << 4) | Number(padded[i * 2 + 1]);
  return out;
}
