/** A jump in camera time larger than this is a discontinuity (clock reset, reconnect), not a frame interval. */
const MAX_FRAME_GAP_MS = 5_000;

/**
 * Camera timestamps (ms, from the device) to decode times in track timescale units, starting at 0.
 * Devices restart their clocks, wrap and repeat timestamps; MP4 decode times must only grow, so a
 * timestamp that goes back, stands still or jumps by more than MAX_FRAME_GAP_MS continues the
 * timeline by one frame interval and re-anchors there, instead of producing a hole or an error.
 */
export class Timeline {
  private readonly timescale: number;
  private originMs = 0;
  private lastMs = 0;
  private lastDts = -1;
  private measured = false;
  /** The current frame interval in ticks: the last delta seen, before that the SPS's frame rate or 25 fps. */
  frameTicks: number;

  constructor(timescale: number) {
    this.timescale = timescale;
    this.frameTicks = Math.round(timescale / 25);
  }

  /** The SPS's VUI frame rate, used until two frames give a real interval. */
  hintFps(fps: number | undefined): void {
    if (!this.measured && fps !== undefined) this.frameTicks = Math.max(1, Math.round(this.timescale / fps));
  }

  next(ms: number): number {
    if (this.lastDts < 0) {
      this.originMs = this.lastMs = Number.isFinite(ms) ? ms : 0;
      this.lastDts = 0;
      return 0;
    }
    let dts = Math.round(((ms - this.originMs) * this.timescale) / 1000);
    const delta = ms - this.lastMs;
    if (delta > 0 && delta <= MAX_FRAME_GAP_MS && dts > this.lastDts) {
      this.frameTicks = dts - this.lastDts;
      this.measured = true;
    } else {
      dts = this.lastDts + this.frameTicks;
      if (Number.isFinite(ms)) this.originMs = ms - (dts * 1000) / this.timescale;
    }
    if (Number.isFinite(ms)) this.lastMs = ms;
    this.lastDts = dts;
    return dts;
  }
}
