/**
 * Pure helpers for simulators and fuzzing (contract: rewriteIdent, resealFrame). Both work on the
 * un-escaped frame and re-escape; anything that is not a 7E…7E frame with a header comes back
 * unchanged (fuzzing feeds arbitrary bytes).
 */
import { xor8 } from '../../src/codec/crc.js';
import { EdgeError } from '../../src/errors.js';
import { ATTR_BODY_LEN_MASK, ATTR_SUBPACKAGED, ATTR_VERSION_2019, DELIM, HEADER_2013, HEADER_2019, SUBPACKAGE_FIELDS } from './constants.js';
import { escapeInner, phoneFromIdent, unescapeFrame } from './frame.js';

function inner(frame: Uint8Array): Uint8Array | null {
  if (frame.length < 2 + HEADER_2013 + 1 || frame[0] !== DELIM || frame[frame.length - 1] !== DELIM) return null;
  try {
    return unescapeFrame(frame).slice(1, -1);
  } catch (e) {
    if (e instanceof EdgeError) return null;
    throw e;
  }
}

/** Body length field and XOR recomputed from the bytes present. */
export function resealFrame(frame: Uint8Array): Uint8Array {
  const x = inner(frame);
  if (!x) return frame.slice();
  const attr = (x[2]! << 8) | x[3]!;
  const headerLen = (attr & ATTR_VERSION_2019 ? HEADER_2019 : HEADER_2013) + (attr & ATTR_SUBPACKAGED ? SUBPACKAGE_FIELDS : 0);
  const bodyLen = x.length - 1 - headerLen;
  if (bodyLen < 0 || bodyLen > ATTR_BODY_LEN_MASK) return frame.slice();
  const a = (attr & ~ATTR_BODY_LEN_MASK) | bodyLen;
  x[2] = a >>> 8;
  x[3] = a & 0xff;
  x[x.length - 1] = xor8(x, 0, x.length - 1);
  return escapeInner(x);
}

/**
 * The same frame from terminal `ident` (phone field rewritten, XOR recomputed). A digit ident longer
 * than the phone field (replay numbers its devices with 15-digit IMEI-like idents; a 2013 field holds
 * 12 digits) keeps its last digits, so distinct simulated devices stay distinct terminals.
 */
export function rewriteIdent(frame: Uint8Array, ident: string): Uint8Array {
  const x = inner(frame);
  if (!x) return frame;
  const v2019 = (((x[2]! << 8) | x[3]!) & ATTR_VERSION_2019) !== 0;
  const width = v2019 ? 20 : 12;
  const phone = phoneFromIdent(/^\d+$/.test(ident) && ident.length > width ? ident.slice(-width) : ident, v2019 ? 2019 : 2013);
  if (!phone) return frame;
  x.set(phone, v2019 ? 5 : 4);
  x[x.length - 1] = xor8(x, 0, x.length - 1);
  return escapeInner(x);
}
