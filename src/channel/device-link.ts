import type { SessionState, Transport } from '../protocol/types.js';
import type { ErrorInfo } from '../errors.js';
import type { CloseCode } from '../net/close-codes.js';
import type { Logger } from '../util/log.js';

/**
 * One device's ordered frame pipeline: a TCP connection or a UDP peer (ip:port).
 *
 * Every frame gets a slot in arrival order. A slot becomes ready once its messages are confirmed
 * by the broker (PUBACK); replies are written strictly in slot order, so a device never sees the
 * ACK of frame n+1 before frame n's data is safe. A failed slot (decode error, publish failure)
 * is never acknowledged; on TCP everything after it is abandoned and the connection closes once
 * the earlier slots are answered, so the device resends from the failed frame.
 */
export interface Slot {
  /** Messages not yet confirmed; -1 while decoding. */
  remaining: number;
  replies: Uint8Array[] | null;
  failed: ErrorInfo | null;
  frame: Buffer;
  receivedAtMs: number;
}

export interface LinkIo {
  write(bytes: Uint8Array): void;
  /** Close the transport (TCP) — UDP peers just forget. */
  end(): void;
  pause(): void;
  resume(): void;
}

let nextLinkNum = 1;

export class DeviceLink {
  readonly num = nextLinkNum++;
  readonly id: string;
  readonly openedAtMs: number;
  session: SessionState = {};
  slots: Slot[] = [];
  backlog: Slot[] = [];
  decoding = false;
  closing: { code: CloseCode; reason: string } | null = null;
  closed = false;
  bytesIn = 0;
  bytesOut = 0;
  messages = 0;
  pausedByLink = false;
  /** Reading stopped because the peer does not read its replies (outbound bytes over the cap). */
  pausedByOutbound = false;
  /** When the framer started holding an incomplete frame (0: none); frame_timeout_s counts from here. */
  partialSinceMs = 0;
  /** When the peer stopped reading (0: it reads); a stall longer than frame_timeout_s closes it. */
  outboundStallSinceMs = 0;
  /** When the close began (0: open); in-flight frames get until the close deadline, then it is forced. */
  closingSinceMs = 0;
  log: Logger | null = null;
  /** Recently sent bytes, decayed (decode priority: lower goes first). */
  attained = 0;
  attainedAtMs = 0;
  /** Remote IP address (no port), for guards. */
  address = '';
  lastSeenMs = 0;

  constructor(
    readonly transport: Transport,
    readonly peer: string,
    readonly io: LinkIo,
    nowMs: number,
  ) {
    this.id = `${transport}-${this.num}`;
    this.openedAtMs = nowMs;
  }

  get ident(): string | undefined {
    return this.session.ident;
  }
}
