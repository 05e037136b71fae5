/**
 * Pure helpers for simulators and fuzzing (contract: rewriteIdent, resealFrame).
 * IMEI is bytes 2..10 of a device frame (ref §2); frames shorter than that (cmd 30) carry none.
 */
import { wrapFrame } from './frame.js';

const IMEI_END = 10;

/** Recomputes the length and CRC of a (possibly mutated) device frame. */
export function resealFrame(frame: Uint8Array): Uint8Array {
  if (frame.length < 4) return frame.slice();
  return wrapFrame(frame.subarray(2, frame.length - 2));
}

/** The same frame as sent by device `ident` (decimal IMEI). */
export function rewriteIdent(frame: Uint8Array, ident: string): Uint8Array {
  if (frame.length < IMEI_END + 3 || !/^\d{1,20}$/.test(ident)) return frame;
  const body = frame.slice(2, frame.length - 2);
  new DataView(body.buffer).setBigUint64(0, BigInt(ident));
  return wrapFrame(body);
}
