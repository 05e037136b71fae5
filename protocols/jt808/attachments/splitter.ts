/**
 * Splitter of the attachment connection, where two framings share one stream: JT/T 808 frames
 * (0x1210, 0x1211, 0x1212, 7E-delimited and escaped) and raw data chunks (magic `30 31 63 64`,
 * never escaped, so their data may hold any byte, 7E included). At a frame boundary the first byte
 * tells which comes next:
 *
 * ```
 *  7E ......... 7E                                                    → a JT/T 808 frame (splitter.ts of the main link)
 *  30 31 63 64 | name[50] | offset u32 | length u32 | data[length]    → one chunk of 62 + length bytes
 * ```
 *
 * A chunk's size is known from its header, so its data is never scanned for 7E. Bytes that start
 * neither are skipped up to the next 7E or `30` (resynchronisation, as on the main link). A chunk
 * announcing more than MAX_CHUNK_DATA bytes cannot be buffered: SPLIT_INVALID, the connection closes.
 */
import type { ErrorInfo } from '../../../src/errors.js';
import { SPLIT_INVALID, SPLIT_NEED_MORE } from '../../../src/protocol/types.js';
import { DELIM, MAX_FRAME_BYTES } from '../constants.js';
import { split as splitFrame } from '../splitter.js';
import { CHUNK_HEADER_BYTES, CHUNK_MAGIC, CHUNK_NAME_BYTES } from './layouts.js';

/**
 * Largest data part of one chunk. The chunk size is the device's choice and the public sources give
 * no limit (go-jt808 and SmallChi read whatever length the header says); 1 MiB bounds what the framer
 * buffers per connection while leaving room for any plausible piece size.
 */
export const MAX_CHUNK_DATA = 1024 * 1024;
export const MAX_ATTACHMENT_FRAME_BYTES = Math.max(MAX_FRAME_BYTES, CHUNK_HEADER_BYTES + MAX_CHUNK_DATA);

const LENGTH_AT = 8 + CHUNK_NAME_BYTES;

function chunkLength(buf: Uint8Array, at: number): number {
  return ((buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!) >>> 0;
}

export function splitAttachment(buf: Uint8Array, start: number, end: number): number {
  if (end <= start) return SPLIT_NEED_MORE;
  const b = buf[start]!;
  if (b === DELIM) return splitFrame(buf, start, end);
  if (b === CHUNK_MAGIC[0]) {
    const have = Math.min(4, end - start);
    for (let i = 1; i < have; i++) if (buf[start + i] !== CHUNK_MAGIC[i]) return -1;
    if (end - start < CHUNK_HEADER_BYTES) return SPLIT_NEED_MORE;
    const len = chunkLength(buf, start + LENGTH_AT);
    if (len > MAX_CHUNK_DATA) return SPLIT_INVALID;
    const size = CHUNK_HEADER_BYTES + len;
    return end - start >= size ? size : SPLIT_NEED_MORE;
  }
  let i = start + 1;
  while (i < end && buf[i] !== DELIM && buf[i] !== CHUNK_MAGIC[0]) i++;
  return -(i - start);
}

export function explainAttachmentInvalid(buf: Uint8Array, start: number, end: number): ErrorInfo {
  const len = end - start >= CHUNK_HEADER_BYTES ? chunkLength(buf, start + LENGTH_AT) : -1;
  return { code: 'EDGE_FRAME_LENGTH', reason: `a data chunk announces ${len} bytes, more than the ${MAX_CHUNK_DATA} one chunk may carry` };
}
