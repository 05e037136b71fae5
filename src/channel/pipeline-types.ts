import type { EdgeError, ErrorInfo } from '../errors.js';
import type { CredentialStore } from '../credentials/credential-store.js';
import type { MediaStore, StoredMedia } from '../media/media-store.js';
import type { UploadTracker } from '../media/upload-tracker.js';
import type { MessageSink } from '../message/message-sink.js';
import type { CloseCode } from '../net/close-codes.js';
import type { DecodePool } from '../pool/decode-pool.js';
import type { WatchedValues } from '../pool/task-types.js';
import type { CommandReply, DecodeEffect, MessageValue, ProtocolModule, RelayEffect } from '../protocol/types.js';
import type { Logger } from '../util/log.js';
import type { ChannelLog } from './channel-log.js';
import type { ChannelStats } from './channel-stats.js';
import type { DeviceLink, Slot } from './device-link.js';
import type { ReassemblerLimits } from './reassembler.js';

/**
 * The contracts between the frame pipeline, the channel that hosts it and the effect handlers
 * (src/channel/effects/). Interfaces only: the pipeline and every handler import this file and
 * never each other, so the effects can grow without an import circle.
 */

export interface PipelineHooks {
  /** A decoded command reply; returns the command it closed (its id/name are added to the frame's messages). */
  commandReply?(channelId: string, ident: string, reply: CommandReply): { id: string; name: string } | null;
  /** A device's uploaded file is complete and stored (its announcement, if any, is published too). */
  mediaStored?(channelId: string, ident: string, stored: StoredMedia, meta: Readonly<Record<string, MessageValue>>): void;
  /**
   * The command waiting for a file of this kind from the device (reply key `media:<kind>`, e.g. a
   * tachograph download), if any: its id and raw `meta` go into the stored file's announcement.
   */
  mediaCommand?(channelId: string, ident: string, kind: string): { id: string; meta: string | null } | null;
  /** A piece of a device's upload could not be stored: the frame is not acknowledged and the upload ends. */
  mediaFailed?(channelId: string, ident: string, key: string, err: EdgeError): void;
  /** A device's question for an outside service (`relay` effect): publish it, call `done` once it is safe. */
  relay?(channelId: string, ident: string, e: RelayEffect, done: (err?: Error | null) => void): void;
  /**
   * A decoded message's device time and watched values (the pool's watch list), before it is
   * published (automatic asset assignment). `k` is the message's index in `w`. Returns true when it
   * started a durable write: it then calls `done` once, never synchronously, and the frame's ACK waits for it.
   */
  observe?(channelId: string, ident: string, w: WatchedValues, k: number, done: (err?: Error | null) => void): boolean;
}

export interface PipelineHost {
  readonly id: string;
  readonly proto: ProtocolModule;
  readonly options: Record<string, unknown>;
  readonly stats: ChannelStats;
  readonly events: ChannelLog;
  readonly log: Logger;
  now(): number;
  close(link: DeviceLink, code: CloseCode, reason: string): void;
  /** The link's ident changed (identification): ident table, events, queued commands. */
  identChanged(link: DeviceLink, before: string | undefined, nowMs: number): void;
  /** The link's session changed: if the protocol now says it may receive commands, queued ones can go. */
  sessionChanged(link: DeviceLink): void;
  errorEvent(link: DeviceLink, nowMs: number, info: ErrorInfo, bytes: Uint8Array): void;
  linkLog(link: DeviceLink): Logger;
  maybeResume(link: DeviceLink): void;
  /** The link has nothing in flight any more (shutdown waits for this). */
  idle?(link: DeviceLink): void;
  /** A frame was acknowledged; `receivedAtMs` is when its bytes arrived (ACK latency metrics). */
  readonly acked?: (receivedAtMs: number) => void;
}

export interface PipelineDeps {
  pool: DecodePool;
  sink: MessageSink;
  media: MediaStore | null;
  hooks: PipelineHooks;
  /** Credentials the server issues to devices (credential effects); null: such frames fail. */
  credentials?: CredentialStore | null;
  /** Bounds and re-send requests of multi-frame reassembly (channel config `reassembly`). */
  reassembly?: ReassemblerLimits;
  /** Uploads tracked across frames (`upload` effects); absent: such effects fail their frame. */
  uploads?: UploadTracker | null;
  /** Signed download links (an HTTP listener is configured): each stored file's link goes into its message and event. */
  links?: { url(id: string): string } | null;
}

/** A frame's slot as effects see it: durable work counts up `remaining`, each `confirm` counts one down. */
export interface FrameSlot extends Slot {
  readonly connection: DeviceLink;
  confirm(err?: Error | null): void;
}

/** What the pipeline lends its effect handlers. */
export interface PipelineOps {
  /** The frame cannot be acknowledged (see FramePipeline.fail). */
  fail(link: DeviceLink, slot: Slot | null, info: ErrorInfo, code: CloseCode): void;
  /** Frames for the link's queue (a reassembled message is decoded like any frame). */
  enqueue(link: DeviceLink, frames: Buffer[], at: number, reassembled: boolean): void;
}

/**
 * What applying an effect gives the frame: fields its messages carry (credential checks), null for
 * none, false when the frame failed (nothing after it is applied; the handler already called `fail`).
 */
export type EffectResult = Record<string, MessageValue> | null | false;

/** One kind of decode effect: how it is applied, and whether it can hold the frame's ACK. */
export interface EffectHandler<E extends DecodeEffect = DecodeEffect> {
  readonly kind: E['kind'];
  /**
   * True when applying it may start durable work the frame's ACK waits for (it then counts
   * `slot.remaining` up and confirms later); false for effects done on the spot.
   */
  readonly durable: boolean;
  apply(link: DeviceLink, slot: FrameSlot, e: E, nowMs: number): EffectResult;
}

/** Exactly one handler per effect kind the protocol contract knows (the compiler checks it). */
export type EffectHandlers = { [K in DecodeEffect['kind']]: EffectHandler<Extract<DecodeEffect, { kind: K }>> };
