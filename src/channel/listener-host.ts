import type { ChannelConfig } from '../config/schema.js';
import type { ErrorInfo } from '../errors.js';
import type { CloseCode } from '../net/close-codes.js';
import type { Logger } from '../util/log.js';
import type { ChannelGuards } from './channel-guards.js';
import type { ChannelLog } from './channel-log.js';
import type { ChannelStats } from './channel-stats.js';
import type { DeviceLink } from './device-link.js';
import type { FramePipeline } from './frame-pipeline.js';

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
