import { EdgeError } from '../errors.js';

/** Digit string (even length, left-padded with 0 if odd) to packed BCD of `size` bytes. */
export function stringToBcd(digits: string, size: number): Uint8Array {
  if (!/^\d*$/.test(digits)) throw new RangeError(`not a digit string: ${digits}`);
  const padded = digits.padStart(size * 2, '0');
  if (padded.length > size * 2) throw new RangeError(`${digits} does not fit ${size} BCD bytes`);
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (Number(padded[i * 2]) << 4) | Number(padded[i * 2 + 1]);
  return out;
}

/** One packed BCD byte to its value 0..99; `offset` is where it sits in the frame, for the error. */
export function bcdByte(v: number, offset?: number): number {
  const hi = v >> 4;
  const lo = v & 0x0f;
  if (hi > 9 || lo > 9) throw new EdgeError('EDGE_DECODE_INVALID', `byte 0x${v.toString(16).padStart(2, '0')} is not packed BCD`, offset);
  return hi * 10 + lo;
}

/** A value 0..99 as one packed BCD byte. */
export function toBcdByte(n: number): number {
  return (Math.floor(n / 10) << 4) | n % 10;
}
