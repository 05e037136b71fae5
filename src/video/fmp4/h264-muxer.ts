import { codecString, type H264Config } from './avcc.js';
import { initSegment } from './init-segment.js';
import { mediaSegment, type Sample } from './media-segment.js';
import { annexBNalUnits, NAL, nalType } from './nal-units.js';
import { ParameterSets, sameConfig } from './parameter-sets.js';
import { Timeline } from './timeline.js';

/** One H.264 frame as the camera sent it: Annex B NAL units (parameter sets and AUD allowed). */
export interface AccessUnit {
  data: Uint8Array;
  /** Camera time in milliseconds (any origin; JT/T 1078 gives relative ms). */
  timestampMs: number;
  /** The sender's I-frame mark; an IDR NAL unit makes a frame a keyframe whatever this says. */
  keyframe?: boolean;
}

/**
 * How frames are grouped into fragments: 'gop' — one per keyframe interval (recorded clips, and
 * live with a GOP of latency); { everyMs } — cut once that much is buffered and at every keyframe;
 * 'frame' — each frame is its own fragment at once (lowest latency; its duration is the last
 * interval seen, the next fragment's tfdt sets the real time).
 */
export type FragmentMode = 'gop' | 'frame' | { everyMs: number };

export interface H264MuxerOptions {
  /** Track timescale, ticks per second (default 90,000, the RTP video clock). */
  timescale?: number;
  fragment?: FragmentMode;
  /** Bound of one fragment's length in any mode (default 10,000 ms): a stream without keyframes still flows. */
  maxFragmentMs?: number;
  /** Bound of one fragment's size (default 32 MiB): memory per stream stays bounded. */
  maxFragmentBytes?: number;
}

/** ftyp + moov for a SourceBuffer (or a file's start). `reset`: the parameter sets changed, the player must take this one before the next fragment. */
export interface InitSegment {
  kind: 'init';
  data: Uint8Array;
  /** RFC 6381 codec, e.g. avc1.42C01E; `mimeType` is the full MediaSource type. */
  codec: string;
  mimeType: string;
  width: number;
  height: number;
  reset: boolean;
  config: H264Config;
}

/** moof + mdat: some frames, starting at `startMs` of the muxer's timeline (0 = the first frame). */
export interface MediaSegment {
  kind: 'media';
  data: Uint8Array;
  sequence: number;
  startMs: number;
  durationMs: number;
  frames: number;
  /** Whether the fragment starts with a keyframe (a player can start here). */
  keyframe: boolean;
}

export type MuxSegment = InitSegment | MediaSegment;

export interface MuxerStats {
  frames: number;
  fragments: number;
  inits: number;
  /** Frames dropped before the first SPS/PPS and keyframe (a live stream joined mid-GOP) or before the keyframe after a change. */
  skipped: number;
}

export interface H264Muxer {
  /** Segments this frame completes, in order (old fragments before a new init segment). Throws EDGE_VIDEO_AVC_INVALID on bytes that are not H.264. */
  push(au: AccessUnit): MuxSegment[];
  /** The buffered frames as a last fragment (end of stream or clip). */
  flush(): MuxSegment[];
  /** The init segment in force, once the parameter sets are known. */
  readonly init: InitSegment | undefined;
  readonly codecString: string | undefined;
  readonly timescale: number;
  readonly stats: Readonly<MuxerStats>;
}

/** Remuxes H.264 access units into fragmented MP4 (init segment + moof/mdat fragments) for MSE and files. Pure: no I/O, no clock. */
export function createH264Muxer(options: H264MuxerOptions = {}): H264Muxer {
  const timescale = options.timescale ?? 90_000;
  const mode = options.fragment ?? 'gop';
  const ticks = (ms: number) => (ms * timescale) / 1000;
  const everyTicks = typeof mode === 'object' ? ticks(mode.everyMs) : Infinity;
  const maxTicks = ticks(options.maxFragmentMs ?? 10_000);
  const maxBytes = options.maxFragmentBytes ?? 32 * 1024 * 1024;
  const params = new ParameterSets();
  const timeline = new Timeline(timescale);
  const stats: MuxerStats = { frames: 0, fragments: 0, inits: 0, skipped: 0 };
  let init: InitSegment | undefined;
  let awaitingSync = true;
  let pending: Sample[] = [];
  let pendingBytes = 0;
  let sequence = 0;

  function cut(): MediaSegment {
    const samples = pending;
    pending = [];
    pendingBytes = 0;
    const first = samples[0]!;
    let duration = 0;
    for (const s of samples) duration += s.duration;
    stats.fragments++;
    return { kind: 'media', data: mediaSegment(++sequence, samples), sequence, startMs: (first.dts * 1000) / timescale, durationMs: (duration * 1000) / timescale, frames: samples.length, keyframe: first.sync };
  }

  function flush(): MuxSegment[] {
    const last = pending.at(-1);
    if (!last) return [];
    if (last.duration === 0) last.duration = timeline.frameTicks;
    return [cut()];
  }

  function announce(config: H264Config): InitSegment {
    const codec = codecString(config.info);
    timeline.hintFps(config.info.fps);
    stats.inits++;
    awaitingSync = true;
    init = { kind: 'init', data: initSegment(config, timescale), codec, mimeType: `video/mp4; codecs="${codec}"`, width: config.info.width, height: config.info.height, reset: init !== undefined, config };
    return init;
  }

  function push(au: AccessUnit): MuxSegment[] {
    const out: MuxSegment[] = [];
    const kept: Uint8Array[] = [];
    let sawParameterSet = false;
    let vcl = false;
    let idr = false;
    for (const unit of annexBNalUnits(au.data)) {
      const type = nalType(unit);
      if (type === NAL.SPS) params.setSps(unit);
      else if (type === NAL.PPS) params.setPps(unit);
      else if (type !== NAL.AUD) {
        kept.push(unit);
        if (type >= NAL.SLICE && type <= NAL.IDR) vcl = true;
        if (type === NAL.IDR) idr = true;
        continue;
      }
      if (type !== NAL.AUD) sawParameterSet = true;
    }
    if (sawParameterSet) {
      const config = params.config();
      // frames of the old configuration end before the new init segment
      if (config && !sameConfig(config, init?.config)) out.push(...flush(), announce(config));
    }
    if (!vcl) return out;
    const sync = idr || au.keyframe === true;
    if (!init || (awaitingSync && !sync)) {
      stats.skipped++;
      return out;
    }
    awaitingSync = false;
    const sample: Sample = { data: lengthPrefixed(kept), dts: timeline.next(au.timestampMs), duration: 0, sync };
    const last = pending.at(-1);
    if (last) last.duration = sample.dts - last.dts;
    const first = pending[0];
    if (first && ((mode !== 'frame' && sync) || sample.dts - first.dts >= Math.min(everyTicks, maxTicks) || pendingBytes + sample.data.length > maxBytes)) out.push(cut());
    pending.push(sample);
    pendingBytes += sample.data.length;
    stats.frames++;
    if (mode === 'frame') {
      sample.duration = timeline.frameTicks;
      out.push(cut());
    }
    return out;
  }

  return {
    push,
    flush,
    get init() {
      return init;
    },
    get codecString() {
      return init?.codec;
    },
    timescale,
    stats,
  };
}

/** NAL units as MP4 sample data: each behind its 4-byte big-endian length (avcC lengthSizeMinusOne = 3). */
function lengthPrefixed(units: Uint8Array[]): Uint8Array {
  let size = 0;
  for (const u of units) size += 4 + u.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const u of units) {
    const n = u.length;
    out[at] = n >>> 24;
    out[at + 1] = (n >>> 16) & 0xff;
    out[at + 2] = (n >>> 8) & 0xff;
    out[at + 3] = n & 0xff;
    out.set(u, at + 4);
    at += 4 + n;
  }
  return out;
}
