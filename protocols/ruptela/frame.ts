/**
 * Whole-frame checks shared by the decoder (device frames) and parseCommand (server frames):
 * the declared length must equal the bytes received, and the CRC-16/KERMIT trailer (big-endian,
 * covering everything after the 2-byte length, ref §3.1) must match.
 *
 * ```
 *  0      2                  2+len   4+len
 *  | len  | covered by CRC   | CRC16 |
 * ```
 *
 * A length mismatch is EDGE_FRAME_LENGTH at offset 0 (the field that is wrong) — the same code the
 * splitter reports, because on a stream both mean "the length field lies" (T#7, T#9, V#5).
 */
import { crc16Kermit } from '../../src/codec/crc.js';
import { EdgeError } from '../../src/errors.js';
import { MAX_LEN } from './constants.js';

/** Returns `len` after checking length and CRC; throws EdgeError otherwise. */
export function checkFrame(frame: Uint8Array, minLen: number): number {
  if (frame.length < 4) {
    throw new EdgeError('EDGE_FRAME_LENGTH', `frame of ${frame.length} byte(s) is shorter than length field + CRC`, 0);
  }
  const len = (frame[0]! << 8) | frame[1]!;
  if (len > MAX_LEN || len < minLen) {
    throw new EdgeError('EDGE_FRAME_LENGTH', `length field ${len} is outside ${minLen}..${MAX_LEN}`, 0);
  }
  if (len + 4 !== frame.length) {
    throw new EdgeError('EDGE_FRAME_LENGTH', `length field ${len} announces a ${len + 4}-byte frame, got ${frame.length} bytes`, 0);
  }
  const crcAt = 2 + len;
  const wire = (frame[crcAt]! << 8) | frame[crcAt + 1]!;
  const computed = crc16Kermit(frame, 2, crcAt);
  if (wire !== computed) {
    throw new EdgeError(
      'EDGE_DECODE_CHECKSUM',
      `CRC-16/KERMIT 0x${wire.toString(16).padStart(4, '0')} on the wire, 0x${computed.toString(16).padStart(4, '0')} computed`,
      crcAt,
    );
  }
  return len;
}

/** Builds `len | body | crc16Kermit(body)` (server frames: body = cmd + payload). */
export function wrapFrame(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.length + 4);
  out[0] = body.length >>> 8;
  out[1] = body.length & 0xff;
  out.set(body, 2);
  const crc = crc16Kermit(body);
  out[out.length - 2] = crc >>> 8;
  out[out.length - 1] = crc & 0xff;
  return out;
}
