import type { CommandService } from '../../commands/command-service.js';
import { EdgeError } from '../../errors.js';
import { LiveHub, type LivePorts } from '../../live/live-hub.js';
import { mediaId } from '../../media/media-catalog.js';
import type { StoredMedia } from '../../media/media-store.js';
import { detectFfmpeg } from '../../media/transcoder.js';
import { commandEventFields, commandFieldsText, storedFileFields } from '../../channel/effects/runtime-messages.js';
import { DeviceMessages } from '../device-messages.js';
import type { MessageValue, ProtocolModule } from '../../protocol/types.js';
import type { LiveSource } from '../../http/live-routes.js';
import { channelDevicePort } from '../command-ports.js';
import { storedFileResult } from './commands.js';
import type { Feature } from '../feature.js';
import type { Runtime } from '../runtime.js';

export interface VideoFeature extends Feature {
  readonly hub: LiveHub;
  /** The HTTP side (live route, player page). */
  readonly live: LiveSource;
}

/**
 * JT/T 1078 video (README "Video"): the channels' stream ports feed the live hub; viewers come over
 * HTTP; a playback_video to this server ends with its clip stored (or a typed failure); ffmpeg, when
 * present, converts H.265. `links`: the signed media links (the ops feature, built later, has them).
 */
export function videoFeature(rt: Runtime, protos: readonly ProtocolModule[], commands: CommandService, links: () => { url(id: string): string } | null): VideoFeature {
  const { config, log } = rt;
  const v = config.video;
  const vlog = log.child({ component: 'video' });
  const device = channelDevicePort(rt.channels);
  const protoOf = new Map(config.channels.map((c, i) => [String(c.id), protos[i]!]));
  const settings = {
    idleS: v.idle_s,
    maxLiveS: v.max_live_s,
    startTimeoutS: v.start_timeout_s,
    maxViewers: v.max_viewers,
    viewerBufferBytes: v.viewer_buffer_bytes,
    gopCacheBytes: v.gop_cache_bytes,
    maxClipBytes: v.max_clip_bytes,
    clipToleranceMs: v.clip_tolerance_ms,
    ffmpegPath: null as string | null,
  };

  const out = new DeviceMessages(rt);

  const ports: LivePorts = {
    async command(ch, ident, name, properties) {
      const enc = await device.encode(ch, ident, { name, properties: properties as Record<string, MessageValue> });
      await device.send(ch, ident, enc.bytes);
    },
    // connected is not enough: a JT/T 808 terminal takes commands once authenticated
    isOnline: (ch, ident) => rt.channels.get(ch)?.acceptsCommands(ident) ?? false,
    playback(ch, ident) {
      const c = commands.inflight(ch, ident);
      // a playback to this server (no server_ip of the user's): its clip is recorded here
      if (!c || c.name !== 'playback_video' || c.properties.server_ip !== undefined) return null;
      return { commandId: c.id, camera: Number(c.properties.channel), startS: Number(c.properties.start ?? 0), endS: Number(c.properties.end ?? 0) };
    },
    storeClip(ch, ident, camera, bytes) {
      const c = commands.inflight(ch, ident);
      const meta: Record<string, MessageValue> = { 'video.channel': camera, ...(c ? { 'command.id': c.id } : {}) };
      return new Promise<StoredMedia>((resolve, reject) =>
        rt.media.write(ch, ident, `clip-${camera}-${Date.now()}`, 0, bytes, true, { kind: 'video', name: 'clip.mp4', meta }, (err, stored) => (err ? reject(err) : stored ? resolve(stored) : reject(new EdgeError('EDGE_MEDIA_WRITE_FAILED', 'the clip was not stored')))),
      );
    },
    clipDone(ch, ident, camera, outcome) {
      const waiting = commands.waiting(ch, ident, 'stream:playback');
      if (!outcome.ok) {
        vlog.warn({ code: outcome.error.code, channel: ch, ident, camera }, `${outcome.error.code}: clip of camera ${camera} of ${ident}: ${outcome.error.reason}`);
        commands.complete(ch, ident, 'stream:playback', { executed: false, code: outcome.error.code, reason: outcome.error.reason });
        return;
      }
      const { clip } = outcome;
      const s = clip.stored;
      const prefix = `media.video.${camera}`;
      const url = links()?.url(mediaId(ch, ident, s.name));
      const facts: Record<string, MessageValue> = {
        ...storedFileFields(prefix, s, url),
        [`${prefix}.frames`]: clip.frames,
        [`${prefix}.duration`]: clip.durationMs / 1000,
        [`${prefix}.width`]: clip.width,
        [`${prefix}.height`]: clip.height,
        [`${prefix}.codec.source`]: clip.sourceCodec,
        [`${prefix}.begin`]: clip.firstMs / 1000,
        [`${prefix}.end`]: clip.lastMs / 1000,
      };
      out.publish(ch, ident, facts, (err) => err && vlog.warn({ ident, err: err.message }, 'clip message not published'), waiting ? commandFieldsText(waiting) : undefined);
      out.mediaEvent(ch, ident, 'stored', { kind: 'video', ...facts, ...(waiting ? commandEventFields(waiting) : {}) }, s.storedAtMs / 1000);
      commands.complete(ch, ident, 'stream:playback', {
        executed: true,
        response: s.name,
        result: { ...storedFileResult(s, {}), ...(url ? { 'file.url': url } : {}), 'video.channel': camera, 'video.frames': clip.frames, 'video.duration': clip.durationMs / 1000, 'video.width': clip.width, 'video.height': clip.height, 'video.codec.source': clip.sourceCodec },
      });
    },
  };
  const hub = new LiveHub(settings, ports, vlog);
  const live: LiveSource = {
    hasChannel: (ch) => rt.channels.get(ch) !== undefined,
    watch: (ch, ident, camera, viewer) => hub.watch(ch, ident, camera, viewer),
  };
  return {
    name: 'video',
    hub,
    live,
    hooks: {
      offline: (ch, ident) => hub.deviceOffline(ch, ident),
      mediaStream: (ch, conn) => {
        const spec = protoOf.get(ch)?.mediaStream;
        if (!spec) throw new EdgeError('EDGE_STREAM_UNSUPPORTED', `channel ${ch}'s protocol has no media stream`);
        const c = hub.connection(ch, spec, conn);
        return { packets: (p) => c.packets(p), garbage: (errs) => vlog.debug({ channel: ch, conn: conn.id, first: errs[0]?.message }, 'stream garbage skipped'), closed: (r) => c.closed(r) };
      },
    },
    async start() {
      const withStream = config.channels.filter((c) => c.stream_tcp_port !== null);
      for (const c of withStream) if (!protoOf.get(String(c.id))?.mediaStream) throw new EdgeError('EDGE_CONFIG_INVALID', `channels[${config.channels.indexOf(c)}].stream_tcp_port: protocol ${c.protocol} has no media stream (jt808 has)`);
      if (!withStream.length) return;
      const ff = await detectFfmpeg(v.ffmpeg);
      if (ff.ok) {
        settings.ffmpegPath = ff.path;
        vlog.info({ ffmpeg: ff.path, version: ff.version }, 'ffmpeg found: H.265 streams are converted to H.264 for browsers');
      } else vlog.warn({ code: ff.error.code }, `${ff.error.code}: ${ff.error.reason}; H.264 streams play, H.265 streams are refused (install ffmpeg, or set video.ffmpeg)`);
    },
    async stop() {
      hub.close();
    },
  };
}
