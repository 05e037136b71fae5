/**
 * Teltonika TCP splitter (ref §2.2), also used on UDP datagrams (the runtime checks that a datagram
 * is exactly one frame). Three shapes, decided by the first bytes:
 *
 * ```
 *  ff                                         keep-alive ping, 1 byte
 *  | u16 len ≠ 0 | len bytes |                IMEI login (TCP) or a whole UDP datagram
 *  | 00000000 | u32 len | len bytes | crc32 | AVL data or a GPRS command frame (len + 12 bytes)
 * ```
 *
 * A u16 length cannot be checked against a transport here (split has none), so both the 17-byte
 * login and a 1 KiB UDP datagram pass; the decoder then holds the login to 1..32 IMEI digits.
 * `00 00` followed by anything but `00 00` is no frame start: the stream cannot be resynchronised.
 * The CRC is checked by the decoder, not here (split runs on the main thread for every frame).
 */
import { SPLIT_INVALID, SPLIT_NEED_MORE } from '../../src/protocol/types.js';
import type { ErrorInfo } from '../../src/errors.js';
import { MAX_DATA_LEN, MAX_FRAME_BYTES, MIN_DATA_LEN, PING_BYTE, TCP_OVERHEAD_BYTES } from './constants.js';

export function split(buf: Uint8Array, start: number, end: number): number {
  const n = end - start;
  if (n < 1) return SPLIT_NEED_MORE;
  if (buf[start] === PING_BYTE) return 1;
  if (n < 2) return SPLIT_NEED_MORE;
  const short = (buf[start]! << 8) | buf[start + 1]!;
  if (short !== 0) {
    if (short > MAX_FRAME_BYTES - 2) return SPLIT_INVALID;
    return n < short + 2 ? SPLIT_NEED_MORE : short + 2;
  }
  if (n < 4) return SPLIT_NEED_MORE;
  if (buf[start + 2] !== 0 || buf[start + 3] !== 0) return SPLIT_INVALID;
  if (n < 8) return SPLIT_NEED_MORE;
  const len = ((buf[start + 4]! << 24) | (buf[start + 5]! << 16) | (buf[start + 6]! << 8) | buf[start + 7]!) >>> 0;
  if (len < MIN_DATA_LEN || len > MAX_DATA_LEN) return SPLIT_INVALID;
  const total = len + TCP_OVERHEAD_BYTES;
  return n < total ? SPLIT_NEED_MORE : total;
}

export function explainInvalid(buf: Uint8Array, start: number, end: number): ErrorInfo {
  const n = end - start;
  if (n >= 2 && ((buf[start]! << 8) | buf[start + 1]!) !== 0) {
    return { code: 'EDGE_FRAME_LENGTH', reason: `length field ${(buf[start]! << 8) | buf[start + 1]!} exceeds the ${MAX_FRAME_BYTES - 2}-byte limit`, offset: 0 };
  }
  if (n >= 4 && (buf[start + 2] !== 0 || buf[start + 3] !== 0)) {
    return { code: 'EDGE_FRAME_LENGTH', reason: 'bytes 0..3 are neither an IMEI/UDP length nor the zero preamble of a data frame', offset: 0 };
  }
  if (n >= 8) {
    const len = ((buf[start + 4]! << 24) | (buf[start + 5]! << 16) | (buf[start + 6]! << 8) | buf[start + 7]!) >>> 0;
    return { code: 'EDGE_FRAME_LENGTH', reason: `data length field ${len} is outside ${MIN_DATA_LEN}..${MAX_DATA_LEN}`, offset: 4 };
  }
  return { code: 'EDGE_FRAME_LENGTH', reason: 'no frame start', offset: 0 };
}
