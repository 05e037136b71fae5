import { EdgeError, type ErrorInfo } from '../errors.js';
import { SPLIT_INVALID, SPLIT_NEED_MORE, type FramePart } from '../protocol/types.js';

/**
 * The one place that turns a protocol's `split` verdict into a decision, with the same rules for
 * the TCP framer, UDP datagrams and the CLI (decode, replay):
 *   > 0  a complete frame of that many bytes (checked against the frame limit and the bytes at hand);
 *   0    more bytes are needed (an error once more than the frame limit is buffered);
 *   < 0  skip that many bytes to resynchronise (never past the end).
 * An invalid stream, an oversized frame or a splitter bug throws an EdgeError. A number rather than
 * an object, because it runs for every frame on the main thread.
 */
export function cutStep(part: Pick<FramePart, 'split' | 'explainInvalid'>, buf: Uint8Array, pos: number, end: number, maxFrameBytes: number): number {
  const r = part.split(buf, pos, end);
  if (r > 0) {
    if (r > maxFrameBytes) throw new EdgeError('EDGE_FRAME_TOO_LARGE', `a ${r}-byte frame exceeds the ${maxFrameBytes}-byte limit`, 0);
    if (pos + r > end) throw new EdgeError('EDGE_FRAME_LENGTH', `splitter returned ${r} bytes but only ${end - pos} are buffered (protocol bug)`);
    return r;
  }
  if (r === SPLIT_NEED_MORE) {
    if (end - pos > maxFrameBytes) throw new EdgeError('EDGE_FRAME_TOO_LARGE', `${end - pos} bytes buffered without a complete frame (limit ${maxFrameBytes})`, 0);
    return 0;
  }
  if (r === SPLIT_INVALID) throw EdgeError.fromInfo(part.explainInvalid(buf, pos, end));
  return Math.max(r, pos - end);
}

/** A datagram must be exactly one frame: null when it is, else why not. */
export function checkDatagram(part: Pick<FramePart, 'split' | 'explainInvalid'>, msg: Uint8Array, maxFrameBytes: number): ErrorInfo | null {
  let r: number;
  try {
    r = cutStep(part, msg, 0, msg.length, maxFrameBytes);
  } catch (e) {
    return (e as EdgeError).toInfo();
  }
  if (r === msg.length) return null;
  if (r > 0) return { code: 'EDGE_FRAME_LENGTH', reason: `datagram of ${msg.length} bytes holds a ${r}-byte frame`, offset: 0 };
  if (r === 0) return { code: 'EDGE_DECODE_TRUNCATED', reason: `datagram of ${msg.length} bytes is shorter than its frame`, offset: 0 };
  return { code: 'EDGE_FRAME_GARBAGE', reason: `datagram does not start with a frame (${-r} bytes to skip)`, offset: 0 };
}
