/**
 * JT/T 808 TCP splitter: a frame is everything from a 7E to the next 7E, inclusive. Escaping
 * guarantees no 7E inside a frame, so no length field is needed to cut; un-escaping and the XOR
 * check happen in the decoder (worker), keeping split a plain byte scan.
 *
 * ```
 *  .. garbage .. | 7E | escaped header + body + XOR | 7E | 7E | ... next frame
 * ```
 *
 * - Bytes before a 7E are skipped (Traccar frame test fdec-3: "$$" before the frame).
 * - `7E 7E`, or two 7E closer than the smallest message (15 bytes), means the first 7E was a lost
 *   frame's end: skip up to the second 7E, which then opens the next frame. This is what brings a
 *   stream joined mid-frame back into step.
 * - No closing 7E within the largest possible frame: skip the opening 7E and look again, so the
 *   framer never buffers more than MAX_FRAME_BYTES.
 */
import { SPLIT_NEED_MORE, SPLIT_INVALID } from '../../src/protocol/types.js';
import type { ErrorInfo } from '../../src/errors.js';
import { DELIM, MAX_FRAME_BYTES, MIN_FRAME_BYTES } from './constants.js';

export function split(buf: Uint8Array, start: number, end: number): number {
  if (end <= start) return SPLIT_NEED_MORE;
  if (buf[start] !== DELIM) {
    let i = start + 1;
    while (i < end && buf[i] !== DELIM) i++;
    return -(i - start);
  }
  const limit = Math.min(end, start + MAX_FRAME_BYTES);
  for (let i = start + 1; i < limit; i++) {
    if (buf[i] !== DELIM) continue;
    const size = i - start + 1;
    return size < MIN_FRAME_BYTES ? -(i - start) : size;
  }
  return end - start >= MAX_FRAME_BYTES ? -1 : SPLIT_NEED_MORE;
}

/** split never returns SPLIT_INVALID: a 7E-delimited stream can always resynchronise. */
export function explainInvalid(_buf: Uint8Array, _start: number, _end: number): ErrorInfo {
  return { code: 'EDGE_FRAME_GARBAGE', reason: `JT/T 808 framing always resynchronises on 7E (SPLIT_INVALID ${SPLIT_INVALID} is never returned)` };
}
