import { CLOSE_CODES, type CloseCode } from '../net/close-codes.js';
import type { ChannelConfig } from '../config/schema.js';
import type { Logger } from '../util/log.js';
import type { ChannelStats } from './channel-stats.js';
import type { DeviceLink } from './device-link.js';

/**
 * Time bounds of a channel's connections, checked by one sweep (not a timer per socket) over the
 * links that have one running:
 *   - frame_timeout_s from the moment a frame started until it is complete (slow drip: close 23);
 *   - frame_timeout_s from the moment a peer stopped reading its replies (close 22);
 *   - CLOSE_DEADLINE_MS from the start of a close until the socket is gone: frames still
 *     unconfirmed then are not acknowledged (the device sends them again), so a close always ends
 *     even when the broker never answers.
 */
export interface DeadlineHost {
  readonly cfg: ChannelConfig;
  readonly stats: ChannelStats;
  /** Device sockets are paused channel-wide (backpressure). */
  readonly readingPaused: boolean;
  now(): number;
  close(link: DeviceLink, code: CloseCode, reason: string): void;
  linkLog(link: DeviceLink): Logger;
}

export const CLOSE_DEADLINE_MS = 10_000;

export class Deadlines {
  private readonly watched = new Set<DeviceLink>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly host: DeadlineHost) {}

  start(): void {
    const periodMs = Math.max(100, Math.min(1000, (this.host.cfg.frame_timeout_s * 1000) / 4));
    this.timer = setInterval(() => this.sweep(), periodMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  watch(link: DeviceLink): void {
    this.watched.add(link);
  }

  /** Notes when an incomplete frame starts being held (the frame deadline runs until it completes). */
  partialFrame(link: DeviceLink, partial: boolean, at: number): void {
    if (!partial) link.partialSinceMs = 0;
    else if (link.partialSinceMs === 0) {
      link.partialSinceMs = at;
      this.watched.add(link);
    }
  }

  /**
   * The peer does not read its replies. Past the cap we stop reading its frames (no frames, no new
   * replies); past twice the cap (replies of frames already in flight), or when it has not drained
   * within frame_timeout_s, the connection closes with code 22 and its buffers are released.
   */
  outboundOverCap(link: DeviceLink, watchDrain: () => void): void {
    if (link.closed) return;
    const pending = link.io.pendingBytes();
    const cap = this.host.cfg.max_outbound_bytes;
    if (pending > 2 * cap) {
      this.overflow(link, `${pending} unsent bytes (limit ${2 * cap})`);
      return;
    }
    if (link.pausedByOutbound) return;
    link.pausedByOutbound = true;
    link.outboundStallSinceMs = this.host.now();
    this.watched.add(link);
    link.io.pause();
    watchDrain();
  }

  private overflow(link: DeviceLink, detail: string): void {
    this.host.stats.counters.outboundOverflows++;
    if (this.host.stats.unacked.add('EDGE_OUTBOUND_OVERFLOW')) this.host.linkLog(link).warn({ code: 'EDGE_OUTBOUND_OVERFLOW', detail }, 'EDGE_OUTBOUND_OVERFLOW: the peer does not read its replies; closing (further ones are counted per stats interval)');
    this.host.close(link, CLOSE_CODES.OUTBOUND_OVERFLOW, `EDGE_OUTBOUND_OVERFLOW: ${detail}`);
  }

  private sweep(): void {
    const host = this.host;
    const nowMs = host.now();
    const frameMs = host.cfg.frame_timeout_s * 1000;
    for (const link of this.watched) {
      if (link.closed) {
        this.watched.delete(link);
        continue;
      }
      if (link.closing) {
        if (nowMs - link.closingSinceMs >= CLOSE_DEADLINE_MS) {
          link.io.destroy();
          this.watched.delete(link);
        }
        continue;
      }
      // While we are not reading a peer (our backpressure, or its unread replies) its frame cannot
      // complete: the frame deadline restarts from when reading resumes, so it only ever blames the peer.
      if (link.partialSinceMs > 0 && (link.pausedByLink || link.pausedByOutbound || host.readingPaused)) link.partialSinceMs = nowMs;
      if (link.outboundStallSinceMs > 0 && nowMs - link.outboundStallSinceMs >= frameMs) {
        this.overflow(link, `no replies read for ${host.cfg.frame_timeout_s} s`);
      } else if (link.partialSinceMs > 0 && nowMs - link.partialSinceMs >= frameMs) {
        host.stats.counters.frameTimeouts++;
        if (host.stats.unacked.add('EDGE_FRAME_TIMEOUT')) host.linkLog(link).info({ code: 'EDGE_FRAME_TIMEOUT' }, 'EDGE_FRAME_TIMEOUT: a frame did not complete in time; closing (further ones are counted per stats interval)');
        host.close(link, CLOSE_CODES.FRAME_TIMEOUT, `EDGE_FRAME_TIMEOUT: a frame started ${host.cfg.frame_timeout_s} s ago is still incomplete`);
      } else if (link.outboundStallSinceMs === 0 && link.partialSinceMs === 0) {
        this.watched.delete(link);
      }
    }
  }
}
