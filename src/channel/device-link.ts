import { randomBytes } from 'node:crypto';
import type { SessionState, Transport } from '../protocol/types.js';
import type { ErrorInfo } from '../errors.js';
import { CLOSE_CODES, type CloseCode } from '../net/close-codes.js';
import type { Logger } from '../util/log.js';
import type { PoolConnection } from '../pool/decode-pool.js';
import type { ConnContext } from '../pool/task-types.js';
import type { LinkTap } from './traffic-capture.js';

/**
 * One device's ordered frame pipeline and its outbound side: a TCP connection or a UDP peer (ip:port).
 *
 * Every frame gets a slot in arrival order. A slot becomes ready once everything durable its
 * decode asked for is done (messages confirmed by the broker or spooled, file chunks stored);
 * replies are written strictly in slot order, so a device never sees the ACK of frame n+1 before
 * frame n's data is safe. A failed slot (decode error, publish failure) is never acknowledged; on
 * TCP everything after it is abandoned and the connection closes once the earlier slots are
 * answered, so the device resends from the failed frame.
 *
 * Outbound: every byte to the device goes through `write` (replies, server frames, commands), the
 * one place that counts and bounds what is queued for a peer. `send` puts a frame between two
 * frames' reply sequences, never inside one.
 *
 * Closing: `beginClose` fixes the close code once; `finishClose` may be called any number of
 * times and closes the transport as soon as nothing confirmed is left to answer.
 */
export interface Slot {
  /** Durable effects (publishes, file chunks) not yet confirmed; -1 while decoding. */
  remaining: number;
  replies: Uint8Array[] | null;
  /** Server-initiated frames to write right after this slot's replies. */
  after: Uint8Array[] | null;
  failed: ErrorInfo | null;
  frame: Buffer;
  receivedAtMs: number;
  /** The frame is the concatenation of parts the decoder asked to reassemble. */
  reassembled: boolean;
}

export interface LinkIo {
  write(bytes: Uint8Array): void;
  /** Bytes handed to the transport but not yet sent (TCP: socket.writableLength; UDP: 0). */
  pendingBytes(): number;
  pause(): void;
  resume(): void;
  /** Graceful close after pending writes (TCP); UDP peers have nothing to close. */
  end(): void;
  /** Close now, dropping whatever is still buffered. */
  destroy(): void;
}

let nextLinkNum = 1;

/** Codes that close at once, without waiting for in-flight frames to be answered. */
const IMMEDIATE_CLOSE = new Set<CloseCode>([CLOSE_CODES.INACTIVITY_TIMEOUT, CLOSE_CODES.IDENT_COLLISION, CLOSE_CODES.WHITELIST_MISMATCH, CLOSE_CODES.BLACKLIST_MATCH, CLOSE_CODES.OUTBOUND_OVERFLOW]);

/**
 * Ident changes one connection may make after its first identification. A connection is one
 * device, or a gateway for some (and `edge-channel replay` of a fixture file sends the frames of
 * dozens of devices over one); one that keeps changing ident (a fuzzer, a broken ident field)
 * would otherwise make an `identified` event and a retained `connected` topic per frame. The frame
 * that goes over it is not acknowledged and the connection is closed with close code 25.
 */
export const MAX_IDENT_CHANGES_PER_CONNECTION = 100;

export class DeviceLink implements PoolConnection {
  readonly num = nextLinkNum++;
  readonly id: string;
  readonly openedAtMs: number;
  session: SessionState = {};
  /** The protocol said this identified link may receive commands (`commandsReady`); reset when the ident changes. */
  commandsReady = false;
  /** The server address this connection reached (TCP; '' for UDP): the default address of family parts. */
  localAddress = '';
  contextVersion = 1;
  contextSent = 0;
  slots: Slot[] = [];
  /**
   * Frames read but not yet submitted to the pool; null when there are none. Made when the first
   * frame arrives, not in advance: an empty array left on the link until the device's next frame
   * lives long enough that V8 starts allocating that array in the old generation, and the frames
   * pushed into it then stayed reachable from it, dead, until a full collection (issue #31).
   */
  backlog: Slot[] | null = null;
  decoding = false;
  /** Frames of the submitted batch still to come back from the pool. */
  decodingLeft = 0;
  closing: { code: CloseCode; reason: string } | null = null;
  closed = false;
  bytesIn = 0;
  bytesOut = 0;
  messages = 0;
  /** Times this connection's ident changed after its first identification (bounded: close code 25). */
  identChanges = 0;
  /** Reading stopped because too many frames of this link await their ACK. */
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
  lastSeenMs = 0;
  /** Server frames waiting for the current reply sequence to end. */
  private pendingSends: Uint8Array[] = [];
  /** Traffic capture of this link (config capture): null when not captured, the common case. */
  tap: LinkTap | null = null;
  /** What to do when queued outbound bytes pass the cap (the channel's policy: pause, then close). */
  onOverCap: ((link: DeviceLink) => void) | null = null;

  constructor(
    readonly transport: Transport,
    readonly peer: string,
    /** Remote IP address (no port), for guards. */
    readonly address: string,
    readonly io: LinkIo,
    nowMs: number,
    /** Which listener of the protocol family this link came in on ('' = the main one). */
    readonly part = '',
    private readonly outboundCap = Infinity,
  ) {
    this.id = `${transport}-${this.num}`;
    this.openedAtMs = nowMs;
    this.lastSeenMs = nowMs;
  }

  get ident(): string | undefined {
    return this.session.ident;
  }

  /** DecodeContext.nonce: drawn when the context first goes to a worker (8 random bytes; cheap, so every link has one). */
  private nonceHex: string | null = null;

  context(): ConnContext {
    this.nonceHex ??= randomBytes(8).toString('hex');
    return { conn: this.num, version: this.contextVersion, peer: this.peer, transport: this.transport, session: this.session, nonce: this.nonceHex };
  }

  setSession(next: SessionState): void {
    if (next === this.session) return;
    this.session = next;
    this.contextVersion++;
  }

  /** Every outbound byte goes through here. */
  write(bytes: Uint8Array): void {
    if (this.closed) return;
    this.io.write(bytes);
    this.tap?.outbound(bytes);
    this.bytesOut += bytes.length;
    if (this.io.pendingBytes() > this.outboundCap) this.onOverCap?.(this);
  }

  /** A server-initiated frame: now if no reply sequence is pending, else right after the next one. */
  send(bytes: Uint8Array): void {
    if (this.slots.length === 0) this.write(bytes);
    else this.pendingSends.push(bytes);
  }

  /**
   * Writes the replies of ready slots in order and stops at the first slot still waiting (UDP: a
   * failed slot is dropped and the rest go on; TCP: a failed slot stops everything). Returns how
   * many frames were acknowledged.
   */
  flushReady(onAck?: (receivedAtMs: number) => void): number {
    let acked = 0;
    while (this.slots.length > 0) {
      const head = this.slots[0]!;
      if (head.failed) {
        if (this.transport === 'udp') {
          this.slots.shift();
          continue;
        }
        break;
      }
      if (head.remaining !== 0) break;
      this.slots.shift();
      if (head.replies) for (const r of head.replies) this.write(r);
      if (head.after) for (const r of head.after) this.write(r);
      acked++;
      onAck?.(head.receivedAtMs);
    }
    if (this.pendingSends.length > 0 && (acked > 0 || this.slots.length === 0)) {
      const sends = this.pendingSends;
      this.pendingSends = [];
      for (const b of sends) this.write(b);
    }
    return acked;
  }

  /** Records the close reason (the first one wins). Returns false when the link was already closing. */
  beginClose(code: CloseCode, reason: string, nowMs: number): boolean {
    if (this.closed || this.closing) return false;
    this.closing = { code, reason };
    this.closingSinceMs = nowMs;
    this.io.pause();
    return true;
  }

  /** Closes the transport once nothing confirmed is left to answer (or at once for the immediate codes). */
  finishClose(): void {
    if (this.transport !== 'tcp' || !this.closing || this.closed) return;
    const code = this.closing.code;
    // a peer that does not read gets nothing more: its buffers are dropped at once
    if (code === CLOSE_CODES.OUTBOUND_OVERFLOW) this.io.destroy();
    else if (IMMEDIATE_CLOSE.has(code) || this.slots.length === 0 || this.slots[0]!.failed) this.io.end();
  }
}
