import type { ErrorInfo } from '../errors.js';
import type { CommandReply, DecodeWarning, SessionState, Transport } from '../protocol/types.js';

/**
 * What crosses the worker boundary. Frame bytes travel in one transferred ArrayBuffer per task
 * (no copy into the worker); results come back as ready-to-publish JSON strings, because
 * cloning strings is far cheaper than cloning message objects (see bench/pool).
 */
export interface FrameMeta {
  offset: number;
  length: number;
  /** Frames with the same conn id in one task are decoded in order with a shared session. */
  conn: number;
  peer: string;
  transport: Transport;
  receivedAtMs: number;
  session: SessionState;
}

export interface DecodeTask {
  protocolId: string;
  channelId: string;
  options: Record<string, unknown>;
  buffer: ArrayBuffer;
  frames: FrameMeta[];
}

export interface FrameOutcome {
  /** Topic ident of each payload, in order. */
  idents: string[];
  /** JSON text of each message, envelope (server.timestamp, channel.id, protocol.id, peer) included. */
  payloads: string[];
  replies: Uint8Array[];
  session?: Partial<SessionState>;
  warnings?: DecodeWarning[];
  commandReplies?: CommandReply[];
  error?: ErrorInfo;
}
