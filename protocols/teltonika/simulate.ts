/**
 * Pure helpers for simulators and fuzzing (contract: rewriteIdent, resealFrame). The IMEI travels
 * in the TCP login and in every UDP datagram; TCP data frames carry none.
 */
import { TCP_HEADER_BYTES, TCP_OVERHEAD_BYTES } from './constants.js';
import { wrapTcpFrame } from './frame.js';

const isDataFrame = (f: Uint8Array) => f.length >= 4 && f[0] === 0 && f[1] === 0;

/** Recomputes the length fields (and the CRC of a TCP data frame) of a possibly mutated device frame. */
export function resealFrame(frame: Uint8Array): Uint8Array {
  if (frame.length < 2 || (frame.length === 1 && frame[0] === 0xff)) return frame.slice();
  if (isDataFrame(frame)) {
    if (frame.length < TCP_OVERHEAD_BYTES) return frame.slice();
    return wrapTcpFrame(frame.subarray(TCP_HEADER_BYTES, frame.length - 4));
  }
  const out = frame.slice();
  out[0] = (frame.length - 2) >>> 8;
  out[1] = (frame.length - 2) & 0xff;
  return out;
}

/** The login or UDP datagram as sent by device `ident` (decimal IMEI); data frames unchanged. */
export function rewriteIdent(frame: Uint8Array, ident: string, transport: 'tcp' | 'udp' = frame.length > 2 + 32 ? 'udp' : 'tcp'): Uint8Array {
  if (!/^\d{1,32}$/.test(ident) || frame.length < 2 || isDataFrame(frame) || frame[0] === 0xff) return frame;
  const id = new TextEncoder().encode(ident);
  if (transport === 'tcp') {
    const out = new Uint8Array(2 + id.length);
    out[1] = id.length;
    out.set(id, 2);
    return out;
  }
  // UDP: len 2 | packet id 2 | 01 | AVL id | IMEI length 2 | IMEI | AVL data
  const oldLen = (frame[6]! << 8) | frame[7]!;
  const rest = frame.subarray(8 + oldLen);
  const out = new Uint8Array(8 + id.length + rest.length);
  out.set(frame.subarray(0, 6), 0);
  out[6] = id.length >>> 8;
  out[7] = id.length & 0xff;
  out.set(id, 8);
  out.set(rest, 8 + id.length);
  return resealFrame(out);
}
