import type { ErrorInfo } from '../errors.js';
import { SPLIT_INVALID, SPLIT_NEED_MORE, type ProtocolModule } from '../protocol/types.js';
import type { HexLine } from './hex-input.js';

/**
 * Hex lines → frames with the protocol's own splitter, as a channel would cut a TCP stream (UDP:
 * a line is one datagram). Bytes that cannot make a frame end the line as one invalid item, so
 * `decode` can report them and `replay` can refuse to send them. Used by both commands; a
 * generator, so skips reported through `onSkip` interleave with the frames around them.
 */
export interface CutFrame {
  line: number;
  bytes: Uint8Array;
  invalid: ErrorInfo | null;
}

export function* cutFrames(proto: ProtocolModule, lines: HexLine[], transport: 'tcp' | 'udp', onSkip?: (line: number, bytes: number) => void): Generator<CutFrame> {
  for (const { line, bytes } of lines) {
    if (transport === 'udp') {
      yield { line, bytes, invalid: null };
      continue;
    }
    let pos = 0;
    while (pos < bytes.length) {
      const s = proto.split(bytes, pos, bytes.length);
      if (s === SPLIT_NEED_MORE || s === SPLIT_INVALID) {
        const invalid: ErrorInfo =
          s === SPLIT_INVALID
            ? proto.explainInvalid(bytes, pos, bytes.length)
            : { code: 'EDGE_DECODE_TRUNCATED', reason: `${bytes.length - pos} byte(s) left that do not make a complete frame`, offset: 0 };
        yield { line, bytes: bytes.subarray(pos), invalid };
        break;
      }
      if (s < 0) {
        const n = Math.min(-s, bytes.length - pos);
        onSkip?.(line, n);
        pos += n;
        continue;
      }
      yield { line, bytes: bytes.subarray(pos, pos + s), invalid: null };
      pos += s;
    }
  }
}
