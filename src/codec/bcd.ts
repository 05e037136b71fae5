/** Digit string (even length, left-padded with 0 if odd) to packed BCD of `size` bytes. */
export function stringToBcd(digits: string, size: number): Uint8Array {
  if (!/^\d*$/.test(digits)) throw new RangeError(`not a digit string: ${digits}`);
  const padded = digits.padStart(size * 2, '0');
  if (padded.length > size * 2) throw new RangeError(`${digits} does not fit ${size} BCD bytes`);
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (Number(padded[i * 2]) << 4) | Number(padded[i * 2 + 1]);
  return out;
}
