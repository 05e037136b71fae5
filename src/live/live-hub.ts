import { EdgeError } from '../errors.js';
import type { StoredMedia } from '../media/media-store.js';
import type { MediaStreamPacket, MediaStreamSpec } from '../protocol/types.js';
import type { Logger } from '../util/log.js';
import { FrameAssembler, type MediaFrame } from '../video/frame-assembler.js';
import { ClipRecorder, type RecordedClip } from './clip-recorder.js';
import { LiveStream, type LiveInfo, type Viewer } from './live-stream.js';

/** A stream connection as the hub sees it (the channel's StreamListener gives these). */
export interface StreamConn {
  readonly id: number;
  readonly peer: string;
  close(reason: string): void;
}

export interface LiveSettings {
  idleS: number;
  maxLiveS: number;
  startTimeoutS: number;
  maxViewers: number;
  viewerBufferBytes: number;
  gopCacheBytes: number;
  maxClipBytes: number;
  clipToleranceMs: number;
  ffmpegPath: string | null;
}

export interface LivePorts {
  /** Sends a protocol command to the device now (start_videostream / stop_videostream); rejects when offline or not encodable. */
  command(channelId: string, ident: string, name: string, properties: Record<string, unknown>): Promise<void>;
  isOnline(channelId: string, ident: string): boolean;
  /** The device's playback_video to this server waiting for its clip, if any: its camera channel and range. */
  playback(channelId: string, ident: string): { commandId: string; camera: number; startS: number; endS: number } | null;
  storeClip(channelId: string, ident: string, camera: number, bytes: Uint8Array): Promise<StoredMedia>;
  clipDone(channelId: string, ident: string, camera: number, outcome: { ok: true; clip: RecordedClip } | { ok: false; error: EdgeError }): void;
}

interface Entry {
  stream: LiveStream;
  channelId: string;
  ident: string;
  camera: number;
  conns: Set<StreamConn>;
  /** Viewers waiting for the first picture: the idle stop waits for them. */
  waiting: number;
  idle: NodeJS.Timeout | null;
  max: NodeJS.Timeout;
}

/** What one stream connection's frames go to, per camera channel. */
type Consumer = { kind: 'live'; entry: Entry } | { kind: 'clip'; recorder: ClipRecorder };

/**
 * Live streams and recorded clips of the JT/T 1078 stream port (README "Video"). A viewer asks for
 * a device's camera channel: the stream is shared if it runs, else started (start_videostream to
 * this server) and the viewer waits for its first picture (`start_timeout_s`). A camera connection
 * is bound, per camera channel, to the live stream of that channel, or to a recorder when the
 * device has a playback_video to this server waiting for its clip. A live stream stops (stop_videostream,
 * the connection closed) when nobody watched it for `idle_s` or after `max_live_s`.
 */
export class LiveHub {
  private readonly streams = new Map<string, Entry>();
  private stopped = false;
  readonly counters = { streamsStarted: 0, streamsStopped: 0, clipsStored: 0, clipsFailed: 0, framesDropped: 0, packetsLost: 0 };

  constructor(
    private readonly s: LiveSettings,
    private readonly ports: LivePorts,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  get liveStreams(): number {
    return this.streams.size;
  }

  /** The live stream of a camera channel, for the read API. */
  status(channelId: string, ident: string, camera: number): { viewers: number; info: LiveInfo | null; since: number; frames: number } | null {
    const e = this.streams.get(key(channelId, ident, camera));
    return e ? { viewers: e.stream.viewerCount, info: e.stream.info, since: e.stream.startedAtMs / 1000, frames: e.stream.counters.frames } : null;
  }

  /**
   * A viewer for a device's camera channel: resolves with the stream's codec once its first picture
   * is there (the viewer then gets bytes), rejects with a typed error (device offline, no picture in
   * time, too many viewers). The caller removes the viewer with the returned function when it leaves.
   */
  async watch(channelId: string, ident: string, camera: number, viewer: Viewer): Promise<{ info: LiveInfo; leave: () => void }> {
    if (this.stopped) throw new EdgeError('EDGE_STREAM_ENDED', 'the server is stopping');
    let e = this.streams.get(key(channelId, ident, camera));
    if (!e) {
      if (!this.ports.isOnline(channelId, ident)) throw new EdgeError('EDGE_DEVICE_OFFLINE', `device ${ident} is not connected to channel ${channelId}`);
      e = this.open(channelId, ident, camera);
      const started = e;
      await this.ports.command(channelId, ident, 'start_videostream', { channel: camera, data_type: 1, stream: 0 }).catch((err: unknown) => {
        this.stop(started, err instanceof EdgeError ? err : new EdgeError('EDGE_STREAM_UNSUPPORTED', String(err)), false);
        throw err;
      });
    }
    const entry = e;
    let timer: NodeJS.Timeout | null = null;
    entry.waiting++;
    this.viewersChanged(entry, entry.stream.viewerCount);
    const info = await Promise.race([
      entry.stream.ready(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new EdgeError('EDGE_STREAM_TIMEOUT', `no picture from camera ${camera} of ${ident} within ${this.s.startTimeoutS} s (video.start_timeout_s)`)), this.s.startTimeoutS * 1000);
      }),
    ]).finally(() => {
      if (timer) clearTimeout(timer);
      entry.waiting--;
      // a viewer that gave up (timeout) leaves a stream nobody watches: the idle stop applies
      if (entry.stream.viewerCount === 0) this.viewersChanged(entry, 0);
    });
    entry.stream.checkRoom();
    viewer.begin?.(info);
    entry.stream.addViewer(viewer);
    return { info, leave: () => entry.stream.removeViewer(viewer) };
  }

  /** A camera connected to the stream port (the channel's StreamListener calls this through the hook). */
  connection(channelId: string, spec: MediaStreamSpec, conn: StreamConn): { packets(p: MediaStreamPacket[]): void; closed(reason: string): void } {
    const assembler = new FrameAssembler();
    const consumers = new Map<number, Consumer>();
    let ident: string | null = null;
    const deliver = (f: MediaFrame) => {
      if (ident === null) return;
      let c = consumers.get(f.channel);
      if (!c) {
        c = this.bind(channelId, ident, f.channel, conn);
        consumers.set(f.channel, c);
      }
      if (c.kind === 'live') c.entry.stream.frame(f);
      else if (!c.recorder.frame(f)) conn.close('the clip passed video.max_clip_bytes');
    };
    const take = (out: ReturnType<FrameAssembler['push']>) => {
      for (const f of out.frames) deliver(f);
      this.counters.framesDropped += out.drops.length;
    };
    return {
      packets: (packets) => {
        for (const p of packets) {
          ident ??= spec.identOf(p.sim);
          take(assembler.push(p));
        }
      },
      closed: (reason) => {
        take(assembler.flush());
        this.counters.packetsLost += assembler.stats.lostPackets;
        this.log.debug({ conn: conn.id, peer: conn.peer, ident, reason, ...assembler.stats }, 'stream connection closed');
        for (const c of consumers.values()) {
          if (c.kind === 'clip') c.recorder.closed(reason);
          else {
            c.entry.conns.delete(conn);
            // the camera hung up a live stream: its viewers end (the camera may be asked again by a new viewer)
            if (c.entry.conns.size === 0 && this.streams.get(key(c.entry.channelId, c.entry.ident, c.entry.camera)) === c.entry) this.stop(c.entry, new EdgeError('EDGE_STREAM_ENDED', `the camera closed the stream (${reason})`), false);
          }
        }
      },
    };
  }

  /** The device went offline: its live streams end. */
  deviceOffline(channelId: string, ident: string): void {
    for (const e of [...this.streams.values()]) if (e.channelId === channelId && e.ident === ident) this.stop(e, new EdgeError('EDGE_STREAM_ENDED', `device ${ident} went offline`), false);
  }

  close(): void {
    this.stopped = true;
    for (const e of [...this.streams.values()]) this.stop(e, new EdgeError('EDGE_STREAM_ENDED', 'the server is stopping'), true);
  }

  private bind(channelId: string, ident: string, camera: number, conn: StreamConn): Consumer {
    const pb = this.ports.playback(channelId, ident);
    if (pb && pb.camera === camera) {
      this.log.info({ channel: channelId, ident, camera, command: pb.commandId }, `recording the clip of command ${pb.commandId}`);
      const recorder = new ClipRecorder({
        camera,
        startMs: pb.startS * 1000,
        endMs: pb.endS * 1000,
        maxBytes: this.s.maxClipBytes,
        toleranceMs: this.s.clipToleranceMs,
        ffmpegPath: this.s.ffmpegPath,
        store: (bytes) => this.ports.storeClip(channelId, ident, camera, bytes),
        done: (outcome) => {
          if (outcome.ok) this.counters.clipsStored++;
          else this.counters.clipsFailed++;
          this.ports.clipDone(channelId, ident, camera, outcome);
        },
      });
      return { kind: 'clip', recorder };
    }
    // a live stream: the one a viewer asked for, or one started over MQTT (nobody watching yet: the idle stop applies)
    const e = this.streams.get(key(channelId, ident, camera)) ?? this.open(channelId, ident, camera);
    e.conns.add(conn);
    return { kind: 'live', entry: e };
  }

  private open(channelId: string, ident: string, camera: number): Entry {
    const k = key(channelId, ident, camera);
    const entry: Entry = {
      channelId,
      ident,
      camera,
      conns: new Set(),
      waiting: 0,
      idle: null,
      max: setTimeout(() => this.stop(entry, new EdgeError('EDGE_STREAM_ENDED', `the stream reached video.max_live_s (${this.s.maxLiveS} s)`), true), this.s.maxLiveS * 1000),
      stream: new LiveStream(
        k,
        {
          ffmpegPath: this.s.ffmpegPath,
          maxViewers: this.s.maxViewers,
          viewerBufferBytes: this.s.viewerBufferBytes,
          gopCacheBytes: this.s.gopCacheBytes,
          onViewers: (n) => this.viewersChanged(entry, n),
          onFailure: (err) => this.stop(entry, err, true),
        },
        this.now(),
      ),
    };
    entry.max.unref();
    this.streams.set(k, entry);
    this.counters.streamsStarted++;
    // nobody watching from the start (started over MQTT): the idle stop applies at once
    this.viewersChanged(entry, 0);
    return entry;
  }

  private viewersChanged(e: Entry, n: number): void {
    if (n > 0 || e.waiting > 0) {
      if (e.idle) clearTimeout(e.idle);
      e.idle = null;
      return;
    }
    if (e.idle) return;
    e.idle = setTimeout(() => this.stop(e, null, true), this.s.idleS * 1000);
    e.idle.unref();
  }

  /** Ends a live stream: viewers, the camera connections, and (`tellDevice`) stop_videostream to the device. */
  private stop(e: Entry, error: EdgeError | null, tellDevice: boolean): void {
    const k = key(e.channelId, e.ident, e.camera);
    if (this.streams.get(k) !== e) return;
    this.streams.delete(k);
    this.counters.streamsStopped++;
    if (e.idle) clearTimeout(e.idle);
    clearTimeout(e.max);
    e.stream.end(error);
    for (const c of e.conns) c.close(error ? error.message : 'the stream was stopped (nobody watching)');
    e.conns.clear();
    this.log.info({ channel: e.channelId, ident: e.ident, camera: e.camera, reason: error?.message ?? 'idle' }, `live stream of camera ${e.camera} of ${e.ident} stopped`);
    if (tellDevice && this.ports.isOnline(e.channelId, e.ident)) {
      this.ports.command(e.channelId, e.ident, 'stop_videostream', { channel: e.camera, control: 0, close_type: 0 }).catch((err: unknown) => this.log.debug({ ident: e.ident, err: String(err) }, 'stop_videostream not sent'));
    }
  }
}

function key(channelId: string, ident: string, camera: number): string {
  return `${channelId}\u0000${ident}\u0000${camera}`;
}
