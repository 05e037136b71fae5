import type { ErrorInfo } from '../errors.js';
import type { DownloadOutcome } from '../tacho/ddd/download-messages.js';
import type { CommandReply, CommandRequest, DecodeEffect, DecodeWarning, SessionState, Transport } from '../protocol/types.js';

/**
 * What crosses the worker boundary. Frame bytes travel in one transferred ArrayBuffer per task
 * (no copy into the worker) and per-frame metadata in one transferred Float64Array: numbers only,
 * nothing per frame to structure-clone. A connection's context (peer, transport, session) is cached
 * in each worker under its version and sent only when a worker lacks that version (context-cache.ts):
 * results come back as ready-to-publish JSON strings, because cloning strings is far cheaper than
 * cloning message objects (see bench/pool), and a task's outcomes travel as columns
 * (packed-outcomes.ts), not as one object per frame.
 */
export const META_FIELDS = 6;
/** Per frame in `DecodeTask.meta`: [offset, length, conn, receivedAtMs, contextVersion, flags]. */
export const M_OFFSET = 0;
export const M_LENGTH = 1;
export const M_CONN = 2;
export const M_RECEIVED = 3;
export const M_VERSION = 4;
export const M_FLAGS = 5;
/** Flag: the frame was joined from parts (DecodeContext.reassembled). */
export const FLAG_REASSEMBLED = 1;

/** A connection as the decoder sees it. Versions start at 1 and grow with every change. */
export interface ConnContext {
  conn: number;
  version: number;
  peer: string;
  transport: Transport;
  session: SessionState;
  /** DecodeContext.nonce: random per connection, fixed for its lifetime. */
  nonce?: string;
}

export interface DecodeTask {
  protocolId: string;
  /** Which listener of the protocol family cut these frames ('' = the main one). */
  part: string;
  channelId: string;
  options: Record<string, unknown>;
  buffer: ArrayBuffer;
  meta: Float64Array;
  /** Contexts the worker may lack (a retry after a miss, or a connection new to the pool). */
  contexts: ConnContext[];
  /**
   * Parameter names whose values the main thread needs per message (automatic asset assignment),
   * or null: the worker then returns only the JSON text. See `WatchedValues`.
   */
  watch?: readonly string[] | null;
}

export type WatchedValue = string | number | boolean | null;

/**
 * Per message of a frame, its device time and the values of the watched names, flat:
 * `values[k * (names.length + 1)]` is message k's `timestamp`, then one value per name (null when
 * absent; objects as JSON text). Read in the worker from the message object before it becomes text,
 * so the main thread never parses a payload to learn a parameter.
 */
export interface WatchedValues {
  names: readonly string[];
  values: WatchedValue[];
}

export interface FrameOutcome {
  /** Topic ident of each payload, in order. */
  idents: string[];
  /** JSON text of each message, envelope (server.timestamp, channel.id, protocol.id, peer, message.id) included. */
  payloads: string[];
  replies: Uint8Array[];
  session?: Partial<SessionState>;
  warnings?: DecodeWarning[];
  commandReplies?: CommandReply[];
  effects?: DecodeEffect[];
  error?: ErrorInfo;
  /** When the task had a watch list: device time and watched values of each message. */
  watched?: WatchedValues;
  /** The worker did not hold this connection's context version: send it and decode the frame again. */
  contextMiss?: true;
}

export interface EncodeTask {
  protocolId: string;
  command: CommandRequest;
  session: SessionState;
}

export type EncodeOutcome = { bytes: Uint8Array; replyKey: string | null; then?: string; error?: undefined } | { error: ErrorInfo };

/** A stored tachograph file to parse (DecodePool.parseDdd): its bytes transferred, the ERCA roots cloned (a few hundred bytes). */
export interface DddTask {
  bytes: Uint8Array;
  roots: Uint8Array[];
  strict: boolean;
  activities: boolean;
}

export type DddTaskOutcome = { ok: DownloadOutcome } | { error: ErrorInfo };
