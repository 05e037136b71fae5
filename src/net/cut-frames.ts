import type { ErrorInfo } from '../errors.js';
import type { FramePart } from '../protocol/types.js';
import { cutStep } from './frame-cutter.js';

/**
 * Numbered byte lines (hex lines of a capture) → frames, cut as a channel would cut a TCP stream
 * (UDP: a line is one datagram), with the rules of frame-cutter.ts. Bytes that cannot make a frame
 * end the line as one invalid item, so `decode` can report them and `replay` can refuse to send
 * them. A generator, so skips reported through `onSkip` interleave with the frames around them.
 *
 * Lines of one `stream` (the rows of one connection in a traffic capture: socket reads, not frames)
 * are cut as one stream: an incomplete tail waits for the stream's next line, and is reported as
 * truncated only when the input ends without it.
 */
export interface CutFrame {
  line: number;
  bytes: Uint8Array;
  invalid: ErrorInfo | null;
  /** The input line's stream, when it had one (decode keeps a device session per stream). */
  stream?: string;
  /** Bytes the server sends (a `<` line of a session file), passed through uncut. */
  server?: boolean;
}

export function* cutFrames(part: Pick<FramePart, 'split' | 'explainInvalid' | 'maxFrameBytes'>, lines: readonly { line: number; bytes: Uint8Array; stream?: string; server?: boolean }[], transport: 'tcp' | 'udp', onSkip?: (line: number, bytes: number) => void): Generator<CutFrame> {
  const tails = new Map<string, { line: number; bytes: Uint8Array }>();
  for (const { line, bytes: own, stream, server } of lines) {
    if (server) {
      yield { line, bytes: own, invalid: null, server };
      continue;
    }
    const s = stream === undefined ? {} : { stream };
    if (transport === 'udp') {
      yield { line, bytes: own, invalid: null, ...s };
      continue;
    }
    let bytes = own;
    const tail = stream === undefined ? undefined : tails.get(stream);
    if (tail) {
      tails.delete(stream!);
      bytes = Buffer.concat([tail.bytes, own]);
    }
    let pos = 0;
    while (pos < bytes.length) {
      let n: number;
      try {
        n = cutStep(part, bytes, pos, bytes.length, part.maxFrameBytes);
      } catch (e) {
        yield { line, bytes: bytes.subarray(pos), invalid: (e as { toInfo(): ErrorInfo }).toInfo(), ...s };
        break;
      }
      if (n === 0) {
        if (stream !== undefined) tails.set(stream, { line, bytes: bytes.subarray(pos) });
        else yield truncated(line, bytes.subarray(pos));
        break;
      }
      if (n < 0) {
        onSkip?.(line, -n);
        pos -= n;
        continue;
      }
      yield { line, bytes: bytes.subarray(pos, pos + n), invalid: null, ...s };
      pos += n;
    }
  }
  for (const [stream, t] of tails) yield { ...truncated(t.line, t.bytes), stream };
}

function truncated(line: number, bytes: Uint8Array): CutFrame {
  return { line, bytes, invalid: { code: 'EDGE_DECODE_TRUNCATED', reason: `${bytes.length} byte(s) left that do not make a complete frame`, offset: 0 } };
}
