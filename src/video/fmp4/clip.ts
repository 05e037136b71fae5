import { EdgeError } from '../../errors.js';
import { createH264Muxer, type AccessUnit } from './h264-muxer.js';
import { initSegment } from './init-segment.js';

export interface H264Clip {
  /** A whole fragmented MP4 file: init segment (with the clip's duration) and one fragment per GOP. */
  data: Uint8Array;
  codec: string;
  width: number;
  height: number;
  frames: number;
  durationMs: number;
  /** Frames before the first SPS/PPS and keyframe, left out. */
  skipped: number;
}

/**
 * A recorded clip as one playable MP4 file. A fragmented file is what a live stream's segments
 * already are, so a clip is the same muxer's output with the init segment written last-known:
 * with the total duration, which players show before reading the fragments.
 */
export function muxH264Clip(units: Iterable<AccessUnit>, options: { timescale?: number } = {}): H264Clip {
  const muxer = createH264Muxer({ timescale: options.timescale ?? 90_000, fragment: 'gop' });
  const fragments: Uint8Array[] = [];
  let durationMs = 0;
  let index = 0;
  const take = (segments: ReturnType<typeof muxer.push>) => {
    for (const s of segments) {
      if (s.kind === 'init') {
        if (s.reset) throw new EdgeError('EDGE_VIDEO_CLIP_CHANGE', `parameter sets change at frame ${index} (${s.width}x${s.height}, ${s.codec}); split the clip there`);
        continue;
      }
      fragments.push(s.data);
      durationMs = s.startMs + s.durationMs;
    }
  };
  for (const au of units) {
    take(muxer.push(au));
    index++;
  }
  take(muxer.flush());
  const init = muxer.init;
  if (!init || muxer.stats.frames === 0) throw new EdgeError('EDGE_VIDEO_AVC_INVALID', `clip of ${index} access units has no frame after an SPS, a PPS and a keyframe`);
  const head = initSegment(init.config, muxer.timescale, durationMs);
  const data = new Uint8Array(head.length + fragments.reduce((n, f) => n + f.length, 0));
  data.set(head, 0);
  let at = head.length;
  for (const f of fragments) {
    data.set(f, at);
    at += f.length;
  }
  return { data, codec: init.codec, width: init.width, height: init.height, frames: muxer.stats.frames, durationMs, skipped: muxer.stats.skipped };
}
