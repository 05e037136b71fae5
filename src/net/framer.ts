import { EdgeError, type ErrorInfo } from '../errors.js';
import { SPLIT_INVALID, SPLIT_NEED_MORE, type ProtocolModule } from '../protocol/types.js';

/**
 * TCP stream → frames, using the protocol's pure `split`. Holds at most one partial frame
 * (bounded by maxFrameBytes) and counts resync skips, so a peer sending garbage is closed
 * instead of growing a buffer.
 */
export class Framer {
  private rest: Buffer | null = null;
  private skipped = 0;

  constructor(
    private readonly proto: Pick<ProtocolModule, 'split' | 'explainInvalid'>,
    private readonly maxFrameBytes: number,
  ) {}

  get buffered(): number {
    return this.rest ? this.rest.length : 0;
  }

  /**
   * Feeds a chunk; calls onFrame for every complete frame (a view into the chunk or the joined
   * buffer: consume it synchronously or copy). Throws EdgeError when the stream is unusable.
   */
  push(chunk: Buffer, onFrame: (frame: Buffer) => void): void {
    let buf = chunk;
    if (this.rest) {
      buf = Buffer.concat([this.rest, chunk]);
      this.rest = null;
    }
    let pos = 0;
    const end = buf.length;
    while (pos < end) {
      const r = this.proto.split(buf, pos, end);
      if (r > 0) {
        if (r > this.maxFrameBytes) throw new EdgeError('EDGE_FRAME_TOO_LARGE', `a ${r}-byte frame exceeds the ${this.maxFrameBytes}-byte limit`, 0);
        if (pos + r > end) throw new EdgeError('EDGE_FRAME_LENGTH', `splitter returned ${r} bytes but only ${end - pos} are buffered (protocol bug)`);
        onFrame(buf.subarray(pos, pos + r));
        pos += r;
        this.skipped = 0;
      } else if (r === SPLIT_NEED_MORE) {
        if (end - pos > this.maxFrameBytes) throw new EdgeError('EDGE_FRAME_TOO_LARGE', `${end - pos} bytes buffered without a complete frame (limit ${this.maxFrameBytes})`, 0);
        this.rest = Buffer.from(buf.subarray(pos, end));
        return;
      } else if (r === SPLIT_INVALID) {
        const info: ErrorInfo = this.proto.explainInvalid(buf, pos, end);
        throw EdgeError.fromInfo(info);
      } else {
        const n = Math.min(-r, end - pos);
        this.skipped += n;
        pos += n;
        if (this.skipped > this.maxFrameBytes * 4) throw new EdgeError('EDGE_FRAME_GARBAGE', `${this.skipped} bytes skipped without finding a frame`);
      }
    }
  }
}
