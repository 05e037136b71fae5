import { EdgeError } from '../errors.js';
import type { StoredMedia } from '../media/media-store.js';
import { Transcoder } from '../media/transcoder.js';
import { AccessUnitStream } from '../video/access-unit-stream.js';
import { muxH264Clip } from '../video/fmp4/index.js';
import type { MediaFrame } from '../video/frame-assembler.js';

export interface RecordedClip {
  stored: StoredMedia;
  frames: number;
  durationMs: number;
  width: number;
  height: number;
  /** The camera's codec; the file is H.264 (H.265 is converted). */
  sourceCodec: string;
  firstMs: number;
  lastMs: number;
}

export interface ClipRecorderOptions {
  camera: number;
  /** The requested range, ms of the camera's clock (0 = no limit). */
  startMs: number;
  endMs: number;
  maxBytes: number;
  toleranceMs: number;
  ffmpegPath: string | null;
  /** Stores the MP4 (the media store, kind video). */
  store(bytes: Uint8Array): Promise<StoredMedia>;
  /** Called once: the stored clip, or why there is none. */
  done(outcome: { ok: true; clip: RecordedClip } | { ok: false; error: EdgeError }): void;
}

interface Frame {
  data: Uint8Array;
  timestampMs: number;
  keyframe: boolean;
}

/**
 * A recorded clip that a playback_video asked the camera for (0x9201 to this server): the frames of
 * that camera channel are collected until the camera hangs up (the end of a recording), then the clip
 * is checked, muxed to one MP4 (H.265 converted by ffmpeg first) and stored. A clip is complete only
 * when its frames reach the requested end (within `toleranceMs` and one frame): a camera that stops
 * mid-clip gives EDGE_STREAM_INCOMPLETE with how far it got, never a short file called complete.
 * Memory is bounded by `maxBytes` (the clip is held until it is whole, to be checked and muxed once).
 */
export class ClipRecorder {
  private readonly frames: Frame[] = [];
  private bytes = 0;
  private codec: string | null = null;
  private finished = false;

  constructor(private readonly o: ClipRecorderOptions) {}

  get frameCount(): number {
    return this.frames.length;
  }

  /** A frame of the camera channel; false when the recording must stop (over its size bound). */
  frame(f: MediaFrame): boolean {
    if (this.finished || f.kind !== 'video') return !this.finished;
    this.codec ??= f.codec;
    this.bytes += f.data.length;
    if (this.bytes > this.o.maxBytes) {
      this.fail(`the clip passed video.max_clip_bytes (${this.o.maxBytes} bytes) after ${this.frames.length} frames`);
      return false;
    }
    this.frames.push({ data: f.data, timestampMs: f.timestampMs ?? 0, keyframe: f.keyframe });
    return true;
  }

  /** The camera hung up (or the connection broke): check, mux, store. */
  closed(reason: string): void {
    if (this.finished) return;
    const fs = this.frames;
    if (fs.length === 0) return this.fail(`the camera sent no video frame (${reason})`);
    const first = fs[0]!.timestampMs;
    const last = fs[fs.length - 1]!.timestampMs;
    const step = fs.length > 1 ? (last - first) / (fs.length - 1) : 0;
    if (this.o.endMs > 0 && last + step + this.o.toleranceMs < this.o.endMs) {
      const got = (last + step - (this.o.startMs || first)) / 1000;
      const want = (this.o.endMs - (this.o.startMs || first)) / 1000;
      return this.fail(`the camera stopped ${(got).toFixed(1)} s into a ${want.toFixed(1)} s clip (${fs.length} frames; ${reason})`);
    }
    if (this.codec === 'h264') return void this.mux(fs);
    if (this.codec === 'h265') return void this.convert(fs);
    this.fail(`the camera recorded ${this.codec} video, which is not stored as a clip (H.264 and H.265 are)`);
  }

  private fail(reason: string, code: 'EDGE_STREAM_INCOMPLETE' | 'EDGE_TRANSCODER_UNAVAILABLE' | 'EDGE_TRANSCODER_FAILED' | 'EDGE_VIDEO_AVC_INVALID' | 'EDGE_VIDEO_CLIP_CHANGE' | 'EDGE_MEDIA_WRITE_FAILED' = 'EDGE_STREAM_INCOMPLETE'): void {
    if (this.finished) return;
    this.finished = true;
    this.frames.length = 0;
    this.o.done({ ok: false, error: new EdgeError(code, reason) });
  }

  private async mux(fs: Frame[]): Promise<void> {
    this.finished = true;
    try {
      const clip = muxH264Clip(fs.map((f) => ({ data: f.data, timestampMs: f.timestampMs, keyframe: f.keyframe })));
      if (clip.frames === 0) throw new EdgeError('EDGE_STREAM_INCOMPLETE', 'no frame of the clip is playable (no keyframe with its parameter sets)');
      const stored = await this.o.store(clip.data);
      this.o.done({ ok: true, clip: { stored, frames: clip.frames, durationMs: clip.durationMs, width: clip.width, height: clip.height, sourceCodec: this.codec ?? 'h264', firstMs: fs[0]!.timestampMs, lastMs: fs[fs.length - 1]!.timestampMs } });
    } catch (e) {
      const err = e instanceof EdgeError ? e : new EdgeError('EDGE_MEDIA_WRITE_FAILED', (e as Error).message);
      this.o.done({ ok: false, error: err });
    } finally {
      this.frames.length = 0;
    }
  }

  /** H.265: the whole clip through ffmpeg, each output picture given its input picture's time (one out per one in). */
  private convert(fs: Frame[]): void {
    if (!this.o.ffmpegPath) return this.fail('the clip is H.265 and no ffmpeg was found to convert it (video.ffmpeg)', 'EDGE_TRANSCODER_UNAVAILABLE');
    const out: Frame[] = [];
    const units = new AccessUnitStream('h264', (au) => {
      const src = fs[out.length];
      out.push({ data: au.data, timestampMs: src?.timestampMs ?? (out.at(-1)?.timestampMs ?? 0), keyframe: au.keyframe });
    });
    let pending = fs.length;
    const t = new Transcoder({
      ffmpegPath: this.o.ffmpegPath,
      job: { kind: 'h265-to-h264' },
      maxBufferedBytes: this.o.maxBytes + 1024 * 1024,
      highWaterBytes: this.o.maxBytes + 1024 * 1024,
      onData: (c) => units.push(c),
      onExit: (err) => {
        if (err) return this.fail(err.message, 'EDGE_TRANSCODER_FAILED');
        units.end();
        void this.mux(out);
      },
    });
    for (const f of fs) {
      t.write(f.data);
      pending--;
    }
    if (pending === 0) t.end();
  }
}
