import type { FramePart } from '../protocol/types.js';
import { cutStep } from './frame-cutter.js';
import { EdgeError } from '../errors.js';

/**
 * TCP stream → frames, with the rules of frame-cutter.ts. Holds at most one partial frame (bounded
 * by maxFrameBytes) and counts resync skips, so a peer sending garbage is closed instead of
 * growing a buffer.
 */
export class Framer {
  private rest: Buffer | null = null;
  private skipped = 0;

  constructor(
    private readonly part: Pick<FramePart, 'split' | 'explainInvalid'>,
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
      const r = cutStep(this.part, buf, pos, end, this.maxFrameBytes);
      if (r > 0) {
        onFrame(buf.subarray(pos, pos + r));
        pos += r;
        this.skipped = 0;
      } else if (r === 0) {
        this.rest = Buffer.from(buf.subarray(pos, end));
        return;
      } else {
        this.skipped -= r;
        pos -= r;
        if (this.skipped > this.maxFrameBytes * 4) throw new EdgeError('EDGE_FRAME_GARBAGE', `${this.skipped} bytes skipped without finding a frame`);
      }
    }
  }
}
