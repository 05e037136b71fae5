/**
 * Ruptela TCP splitter. Frames are length-prefixed with no sync word (ref §2), so a bad length
 * field cannot be skipped past: it is reported as SPLIT_INVALID and the connection is closed
 * (ref §13.1). The CRC is checked by the decoder, not here: split runs on the main thread for
 * every frame and must stay a few comparisons.
 *
 * ```
 *  0      2                 2+len    4+len
 *  +------+-----------------+--------+
 *  | len  | body (len bytes)| CRC16  |   len: u16 BE, 2..1020 (frame 6..1024 bytes)
 *  +------+-----------------+--------+
 *  body, len >= 9: IMEI u64 BE | cmd u8 | payload        (every command but one)
 *  body, len 2..8: cmd u8 | payload, no IMEI             (cmd 30 Garmin status, V#20)
 * ```
 *
 * Lengths 2..8 are accepted as frames because the vendor's Garmin status frame (`0002 1e 01 1e08`)
 * has no IMEI; the decoder decides what a short body means. Lengths 0 and 1 cannot hold a device
 * frame at all (a device always sends cmd + at least one byte, or an IMEI), and lengths above
 * 1020 exceed the 1024-byte maximum every firmware and Traccar's framer use.
 */
import { SPLIT_INVALID, SPLIT_NEED_MORE } from '../../src/protocol/types.js';
import type { ErrorInfo } from '../../src/errors.js';
import { MAX_LEN, MIN_DEVICE_LEN } from './constants.js';

export function split(buf: Uint8Array, start: number, end: number): number {
  if (end - start < 2) return SPLIT_NEED_MORE;
  const len = (buf[start]! << 8) | buf[start + 1]!;
  if (len > MAX_LEN || len < MIN_DEVICE_LEN) return SPLIT_INVALID;
  const total = len + 4;
  return end - start < total ? SPLIT_NEED_MORE : total;
}

export function explainInvalid(buf: Uint8Array, start: number, end: number): ErrorInfo {
  if (end - start < 2) return { code: 'EDGE_FRAME_LENGTH', reason: 'fewer than 2 bytes: no length field', offset: 0 };
  const len = (buf[start]! << 8) | buf[start + 1]!;
  const reason =
    len > MAX_LEN
      ? `length field ${len} exceeds ${MAX_LEN} (frames are at most 1024 bytes)`
      : len < MIN_DEVICE_LEN
        ? `length field ${len} is below ${MIN_DEVICE_LEN} (no device frame is that short)`
        : `length field ${len} is valid`;
  return { code: 'EDGE_FRAME_LENGTH', reason, offset: 0 };
}
