/**
 * BCD times `YY MM DD hh mm ss` (JT/T 808 §4.x "BCD[6]") in the device's zone → Unix seconds UTC.
 * The zone is a channel option (default GMT+8, what the standard prescribes); export devices often
 * send UTC, so it is never guessed.
 */
import { bcdByte, toBcdByte } from '../../src/codec/bcd.js';
import { civilFromUnix, utcSeconds } from '../../src/codec/time.js';
import { EdgeError } from '../../src/errors.js';

/** Six BCD bytes (already read) → Unix seconds; null when all six are zero (device has no time yet). */
export function bcdTimeOf(yy: number, mo: number, dd: number, hh: number, mi: number, ss: number, tzOffsetMin: number, at: number): number | null {
  if ((yy | mo | dd | hh | mi | ss) === 0) return null;
  try {
    return utcSeconds(2000 + bcdByte(yy, at), bcdByte(mo, at + 1), bcdByte(dd, at + 2), bcdByte(hh, at + 3), bcdByte(mi, at + 4), bcdByte(ss, at + 5)) - tzOffsetMin * 60;
  } catch (e) {
    if (e instanceof EdgeError && e.offset === undefined) throw new EdgeError(e.code, e.reason, at);
    throw e;
  }
}

/** Six BCD bytes at `at` in `b`. */
export function bcdTimeAt(b: Uint8Array, at: number, tzOffsetMin: number): number | null {
  return bcdTimeOf(b[at]!, b[at + 1]!, b[at + 2]!, b[at + 3]!, b[at + 4]!, b[at + 5]!, tzOffsetMin, at);
}

/** Unix seconds → six BCD bytes in the given zone (server commands 0x9201/0x9205); 0 → all zeros ("no limit"). */
export function bcdTimeBytes(unixS: number, tzOffsetMin: number): Uint8Array {
  const out = new Uint8Array(6);
  if (unixS === 0) return out;
  // civil-from-days arithmetic: no Date object in a protocol module
  const t = civilFromUnix(unixS + tzOffsetMin * 60);
  const parts = [t.year % 100, t.month, t.day, t.hour, t.minute, t.second];
  for (let i = 0; i < 6; i++) out[i] = toBcdByte(parts[i]!);
  return out;
}
