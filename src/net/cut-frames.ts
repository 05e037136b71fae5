import type { ErrorInfo } from '../errors.js';
import type { FramePart } from '../protocol/types.js';
import { cutStep } from './frame-cutter.js';

/**
 * Numbered byte lines (hex lines of a capture) → frames, cut as a channel would cut a TCP stream
 * (UDP: a line is one datagram), with the rules of frame-cutter.ts. Bytes that cannot make a frame
 * end the line as one invalid item, so `decode` can report them and `replay` can refuse to send
 * them. A generator, so skips reported through `onSkip` interleave with the frames around them.
 */
export interface CutFrame {
  line: number;
  bytes: Uint8Array;
  invalid: ErrorInfo | null;
}

export function* cutFrames(part: Pick<FramePart, 'split' | 'explainInvalid' | 'maxFrameBytes'>, lines: readonly { line: number; bytes: Uint8Array }[], transport: 'tcp' | 'udp', onSkip?: (line: number, bytes: number) => void): Generator<CutFrame> {
  for (const { line, bytes } of lines) {
    if (transport === 'udp') {
      yield { line, bytes, invalid: null };
      continue;
    }
    let pos = 0;
    while (pos < bytes.length) {
      let s: number;
      try {
        s = cutStep(part, bytes, pos, bytes.length, part.maxFrameBytes);
      } catch (e) {
        yield { line, bytes: bytes.subarray(pos), invalid: (e as { toInfo(): ErrorInfo }).toInfo() };
        break;
      }
      if (s === 0) {
        yield { line, bytes: bytes.subarray(pos), invalid: { code: 'EDGE_DECODE_TRUNCATED', reason: `${bytes.length - pos} byte(s) left that do not make a complete frame`, offset: 0 } };
        break;
      }
      if (s < 0) {
        onSkip?.(line, -s);
        pos -= s;
        continue;
      }
      yield { line, bytes: bytes.subarray(pos, pos + s), invalid: null };
      pos += s;
    }
  }
}
