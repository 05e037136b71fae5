/**
 * Whole-frame checks of TCP data frames (AVL data and GPRS commands share them, ref §2, §5) and the
 * server-frame builder. The CRC field is 4 bytes: CRC-16/ARC of the data field in the low half and
 * zeros in the high half in every published example; a non-zero high half is refused like a wrong
 * CRC (ref §10.1: policy "reject").
 *
 * ```
 *  0          4            8                      8+len        12+len
 *  | 00000000 | u32 len    | codec .. quantity 2  | u32 CRC    |
 *                          |<-- CRC-16/ARC ------>|
 * ```
 */
import { crc16Arc } from '../../src/codec/crc.js';
import { EdgeError } from '../../src/errors.js';
import type { DecodeWarning } from '../../src/protocol/types.js';
import { MAX_DATA_LEN, MIN_DATA_LEN, TCP_HEADER_BYTES, TCP_OVERHEAD_BYTES } from './constants.js';

const hex4 = (v: number) => `0x${v.toString(16).padStart(4, '0')}`;

/**
 * Returns the data length after checking preamble, length and CRC; throws EdgeError otherwise.
 * With `lenientCrc` a CRC mismatch becomes a warning (for vectors known to be hand-edited, never
 * a default: a frame with a wrong CRC is otherwise never acknowledged).
 */
export function checkTcpFrame(frame: Uint8Array, lenientCrc: boolean, warnings: DecodeWarning[]): number {
  if (frame.length < TCP_OVERHEAD_BYTES + MIN_DATA_LEN) {
    throw new EdgeError('EDGE_FRAME_LENGTH', `data frame of ${frame.length} byte(s) is shorter than preamble, length, codec, quantities and CRC`, 0);
  }
  if (frame[0] !== 0 || frame[1] !== 0 || frame[2] !== 0 || frame[3] !== 0) throw new EdgeError('EDGE_FRAME_LENGTH', 'the 4-byte preamble is not zero', 0);
  const len = ((frame[4]! << 24) | (frame[5]! << 16) | (frame[6]! << 8) | frame[7]!) >>> 0;
  if (len < MIN_DATA_LEN || len > MAX_DATA_LEN) throw new EdgeError('EDGE_FRAME_LENGTH', `data length field ${len} is outside ${MIN_DATA_LEN}..${MAX_DATA_LEN}`, 4);
  if (len + TCP_OVERHEAD_BYTES !== frame.length) {
    throw new EdgeError('EDGE_FRAME_LENGTH', `data length field ${len} announces a ${len + TCP_OVERHEAD_BYTES}-byte frame, got ${frame.length} bytes`, 4);
  }
  const crcAt = TCP_HEADER_BYTES + len;
  const high = (frame[crcAt]! << 8) | frame[crcAt + 1]!;
  const wire = (frame[crcAt + 2]! << 8) | frame[crcAt + 3]!;
  const computed = crc16Arc(frame, TCP_HEADER_BYTES, crcAt);
  if (wire !== computed || high !== 0) {
    const reason = `CRC field ${hex4(high)}${hex4(wire).slice(2)} on the wire, CRC-16/ARC ${hex4(computed)} computed`;
    if (!lenientCrc) throw new EdgeError('EDGE_DECODE_CHECKSUM', reason, crcAt);
    warnings.push({ code: 'EDGE_DECODE_CHECKSUM', reason: `${reason} (lenient_crc)` });
  }
  return len;
}

/** `00000000 | u32 len | data | u32 crc16Arc(data)`: a server frame around a data field. */
export function wrapTcpFrame(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length + TCP_OVERHEAD_BYTES);
  const v = new DataView(out.buffer);
  v.setUint32(4, data.length);
  out.set(data, TCP_HEADER_BYTES);
  v.setUint32(TCP_HEADER_BYTES + data.length, crc16Arc(data));
  return out;
}
