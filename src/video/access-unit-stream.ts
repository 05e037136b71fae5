import { splitAccessUnits, type AccessUnit, type VideoCodec } from './annexb.js';

/**
 * Access units out of an Annex B byte stream that arrives in arbitrary pieces (ffmpeg's stdout).
 * An access unit is known to be complete only when the next one starts, so the last one seen is
 * held back until more bytes come or the stream ends: one frame of delay, no guessing. Memory: the
 * unfinished access unit only.
 */
export class AccessUnitStream {
  private rest: Uint8Array = new Uint8Array(0);

  constructor(
    private readonly codec: VideoCodec,
    private readonly emit: (au: AccessUnit) => void,
  ) {}

  push(chunk: Uint8Array): void {
    const buf = this.rest.length === 0 ? chunk : concat(this.rest, chunk);
    const units = splitAccessUnits(this.codec, buf);
    if (units.length === 0) {
      this.rest = buf.slice();
      return;
    }
    const last = units[units.length - 1]!;
    for (let i = 0; i < units.length - 1; i++) this.emit(units[i]!);
    // the units tile the buffer to its end: the last one is its tail
    this.rest = buf.slice(buf.length - last.data.length);
  }

  /** The stream ended: what is held is a whole access unit. */
  end(): void {
    if (this.rest.length) for (const u of splitAccessUnits(this.codec, this.rest)) this.emit(u);
    this.rest = new Uint8Array(0);
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
