import type { ChannelConfig } from '../config/schema.js';
import type { ErrorInfo } from '../errors.js';
import type { CloseCode } from '../net/close-codes.js';
import type { Logger } from '../util/log.js';
import type { ChannelGuards } from './channel-guards.js';
import type { ChannelLog } from './channel-log.js';
import type { ChannelStats } from './channel-stats.js';
import type { DeviceLink } from './device-link.js';
import type { FramePipeline } from './frame-pipeline.js';

/**
 * How this process opens the channels' ports: alone (the default), or as one of several processes
 * of one box on the same ports (config `processes`, src/processes/).
 */
export interface ListenMode {
  /** Each process binds its own socket with SO_REUSEPORT; the kernel spreads TCP connections and UDP sources over them. */
  reusePort: boolean;
  /**
   * Whether this process opens the UDP ports. Without reusePort only one process may: a UDP socket
   * shared through the cluster primary hands one device's datagrams to any process, and each would
   * take the device over from the other (one peer table per process).
   */
  udp: boolean;
}

/** What a channel offers its listeners (TCP and UDP, main protocol and family parts). */
export interface ListenerHost {
  readonly id: string;
  readonly cfg: ChannelConfig;
  readonly guards: ChannelGuards;
  readonly events: ChannelLog;
  readonly stats: ChannelStats;
  readonly pipeline: FramePipeline;
  readonly log: Logger;
  readonly stopping: boolean;
  /** Device sockets are paused channel-wide (backpressure from the pool, publisher or spool). */
  readonly readingPaused: boolean;
  /** Open TCP connections across the channel's listeners (the `max_connections` cap). */
  readonly connectionCount: number;
  readonly closeLingerMs: number;
  now(): number;
  opened(link: DeviceLink): void;
  finalize(link: DeviceLink, code: CloseCode, reason: string): void;
  close(link: DeviceLink, code: CloseCode, reason: string): void;
  /** Queued outbound bytes passed the cap; `watchDrain` arms the resume. */
  outboundOverCap(link: DeviceLink, watchDrain: () => void): void;
  outboundDrained(link: DeviceLink): void;
  partialFrame(link: DeviceLink, partial: boolean, at: number): void;
  errorEvent(link: DeviceLink, nowMs: number, info: ErrorInfo, bytes: Uint8Array): void;
  linkLog(link: DeviceLink): Logger;
}
