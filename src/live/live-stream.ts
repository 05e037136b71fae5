import { EdgeError } from '../errors.js';
import { Transcoder } from '../media/transcoder.js';
import { createH264Muxer, type H264Muxer, type InitSegment, type MediaSegment, type MuxSegment } from '../video/fmp4/index.js';
import type { MediaFrame } from '../video/frame-assembler.js';
import { AccessUnitStream } from '../video/access-unit-stream.js';

/**
 * A browser viewer of a live stream (an HTTP response, a WebSocket): bytes of one fragmented MP4 in
 * order. `backlog` is what it has not taken yet; a viewer over the stream's bound is dropped
 * (EDGE_VIEWER_TOO_SLOW), never the stream or the other viewers.
 */
export interface Viewer {
  /** Called once, with the stream's codec, right before the first bytes. */
  begin?(info: LiveInfo): void;
  write(bytes: Uint8Array): void;
  backlog(): number;
  end(error: EdgeError | null): void;
}

export interface LiveStreamOptions {
  /** ffmpeg for H.265 (converted to H.264, which browsers play); null = not available. */
  ffmpegPath: string | null;
  maxViewers: number;
  viewerBufferBytes: number;
  gopCacheBytes: number;
  /** Viewers went to 0 (the hub arms the idle stop), or the first one came (it disarms it). */
  onViewers(count: number): void;
  /** The stream failed on its own (transcoder exit): the hub stops it. */
  onFailure(error: EdgeError): void;
}

export interface LiveInfo {
  codec: string;
  mimeType: string;
  width: number;
  height: number;
}

/**
 * One camera channel's live picture, shared by all its viewers. Video frames in (access units from
 * the assembler), fragmented MP4 out: remuxed in process for H.264 (one fragment per frame, the
 * lowest latency MSE allows), converted by ffmpeg first for H.265. A viewer that joins gets the init
 * segment and the current GOP (kept up to `gopCacheBytes`), so its picture starts at once from a
 * keyframe; without the cache it waits for the next keyframe. Audio is not played yet (the muxer has
 * one video track; README "Video" says so).
 */
export class LiveStream {
  private readonly muxer: H264Muxer = createH264Muxer({ fragment: 'frame' });
  private readonly viewers = new Set<Viewer>();
  private init: InitSegment | null = null;
  private gop: MediaSegment[] = [];
  private gopBytes = 0;
  private transcoder: Transcoder | null = null;
  private h265: AccessUnitStream | null = null;
  private readonly pendingTimes: number[] = [];
  private ended = false;
  private readyWaiters: { resolve: (i: LiveInfo) => void; reject: (e: EdgeError) => void }[] = [];
  readonly startedAtMs: number;
  /** Counters for the API and the bench. */
  readonly counters = { frames: 0, fragments: 0, bytesOut: 0, viewersDropped: 0, framesBeforeKeyframe: 0 };

  constructor(
    readonly key: string,
    private readonly o: LiveStreamOptions,
    nowMs: number,
  ) {
    this.startedAtMs = nowMs;
  }

  get viewerCount(): number {
    return this.viewers.size;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  get info(): LiveInfo | null {
    const i = this.init;
    return i ? { codec: i.codec, mimeType: i.mimeType, width: i.width, height: i.height } : null;
  }

  /** Resolves once the first picture can be played (the init segment is known). */
  ready(): Promise<LiveInfo> {
    const i = this.info;
    if (i) return Promise.resolve(i);
    if (this.ended) return Promise.reject(new EdgeError('EDGE_STREAM_ENDED', 'the stream ended before its first picture'));
    return new Promise((resolve, reject) => this.readyWaiters.push({ resolve, reject }));
  }

  /** Throws when a viewer could not be added now (ended, full): asked before the viewer's response begins. */
  checkRoom(): void {
    if (this.ended) throw new EdgeError('EDGE_STREAM_ENDED', 'the stream has ended');
    if (this.viewers.size >= this.o.maxViewers) throw new EdgeError('EDGE_STREAM_LIMIT', `this stream has its ${this.o.maxViewers} viewers (video.max_viewers)`);
  }

  /** Adds a viewer: it gets the init segment and the current GOP now, the rest as it comes. */
  addViewer(v: Viewer): void {
    this.checkRoom();
    this.viewers.add(v);
    if (this.init) {
      v.write(this.init.data);
      for (const s of this.gop) v.write(s.data);
    }
    if (this.viewers.size === 1) this.o.onViewers(1);
  }

  removeViewer(v: Viewer): void {
    if (!this.viewers.delete(v)) return;
    if (this.viewers.size === 0 && !this.ended) this.o.onViewers(0);
  }

  /** A frame of this camera channel from the assembler. */
  frame(f: MediaFrame): void {
    if (this.ended || f.kind !== 'video') return;
    this.counters.frames++;
    const t = f.timestampMs ?? 0;
    if (f.codec === 'h264') return this.take(this.muxer.push({ data: f.data, timestampMs: t, keyframe: f.keyframe }));
    if (f.codec === 'h265') return this.transcode(f.data, t);
    this.fail(new EdgeError('EDGE_STREAM_UNSUPPORTED', `the camera streams ${f.codec} video, which is not played (H.264 and H.265 are)`));
  }

  /** Ends the stream and every viewer (null: a normal end, e.g. stopped for idleness). */
  end(error: EdgeError | null): void {
    if (this.ended) return;
    this.ended = true;
    this.transcoder?.stop();
    const err = error ?? new EdgeError('EDGE_STREAM_ENDED', 'the stream ended');
    for (const w of this.readyWaiters.splice(0)) w.reject(err);
    for (const v of this.viewers) v.end(error);
    this.viewers.clear();
    this.gop = [];
  }

  private fail(e: EdgeError): void {
    if (this.ended) return;
    this.o.onFailure(e);
  }

  /**
   * H.265: ffmpeg converts to H.264; its output is cut into access units again, each given the
   * camera time of the input picture it came from (one out per one in: no B-frames, passthrough).
   */
  private transcode(data: Uint8Array, t: number): void {
    if (!this.transcoder) {
      if (!this.o.ffmpegPath) return this.fail(new EdgeError('EDGE_TRANSCODER_UNAVAILABLE', 'the camera streams H.265, which browsers do not play, and no ffmpeg was found to convert it (video.ffmpeg)'));
      this.h265 = new AccessUnitStream('h264', (au) => {
        const ts = this.pendingTimes.shift() ?? t;
        this.take(this.muxer.push({ data: au.data, timestampMs: ts, keyframe: au.keyframe }));
      });
      const units = this.h265;
      this.transcoder = new Transcoder({
        ffmpegPath: this.o.ffmpegPath,
        job: { kind: 'h265-to-h264' },
        onData: (chunk) => units.push(chunk),
        onExit: (err) => {
          if (err) this.fail(err);
        },
      });
    }
    this.pendingTimes.push(t);
    // a backlog past the transcoder's bound fails the stream there (bounded memory)
    this.transcoder.write(data);
  }

  private take(segments: MuxSegment[]): void {
    for (const s of segments) {
      if (s.kind === 'init') {
        this.init = s;
        this.gop = [];
        this.gopBytes = 0;
        const info = this.info!;
        for (const w of this.readyWaiters.splice(0)) w.resolve(info);
        // a new picture size: every viewer takes the new init segment before the next fragment
        if (s.reset) for (const v of this.viewers) this.send(v, s.data);
        continue;
      }
      this.counters.fragments++;
      if (s.keyframe) {
        this.gop = [];
        this.gopBytes = 0;
      }
      if (this.gopBytes + s.data.length <= this.o.gopCacheBytes) {
        this.gop.push(s);
        this.gopBytes += s.data.length;
      }
      for (const v of this.viewers) this.send(v, s.data);
    }
  }

  private send(v: Viewer, bytes: Uint8Array): void {
    if (v.backlog() + bytes.length > this.o.viewerBufferBytes) {
      this.counters.viewersDropped++;
      this.removeViewer(v);
      v.end(new EdgeError('EDGE_VIEWER_TOO_SLOW', `the viewer did not take its video: over ${this.o.viewerBufferBytes} bytes queued (video.viewer_buffer_bytes)`));
      return;
    }
    this.counters.bytesOut += bytes.length;
    v.write(bytes);
  }
}
