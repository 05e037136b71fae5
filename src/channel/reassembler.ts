/**
 * Parts of messages that a protocol splits over several frames (`reassemble` decode effects, e.g.
 * JT/T 808 sub-packages), kept per connection on the main thread until every part is there. The
 * decoder stays pure: it names the key, the part's index and the count; the runtime joins the parts
 * and decodes the whole as a frame of its own.
 *
 * Missing parts are asked for, not only waited for: when a part carries `resend` bytes (the decoder's
 * context for a re-send request), the reassembler says when to ask and for which indices, and the
 * pipeline has the protocol build the request (`FramePart.resendRequest`). It asks
 *   - when the part it waits for last arrives with others missing: the highest index at first (a
 *     device sends its parts in order), then the highest index of the previous request;
 *   - when nothing arrived for `resendAfterMs` (the last part itself may be the lost one);
 * at most `maxRequests` times per message. Bytes stay bounded by `maxBytes` per connection and time
 * by `maxAgeMs` per message (from its first part): past either, the message is dropped (reported,
 * never a crash), so a device that never resends cannot hold memory.
 *
 * A part of a message completed less than `maxAgeMs` ago (a late copy, e.g. a device answering a
 * request that crossed the last part) is a `duplicate`: without this it would start the message
 * again, be asked for in full and be decoded (stored, announced) twice.
 */
interface Pending {
  count: number;
  parts: (Uint8Array | undefined)[];
  have: number;
  bytes: number;
  firstAtMs: number;
  /** Last part or last request, whichever is later (the idle request counts from here). */
  lastAtMs: number;
  /** The decoder's re-send context of the lowest index received that carried one. */
  resend: Uint8Array | null;
  resendIndex: number;
  /** The index whose arrival, with parts still missing, triggers a request. */
  askAt: number;
  requests: number;
}

/** A request to make: the 0-based indices still missing, and the decoder's context for the frame. */
export interface ResendAsk {
  key: string;
  missing: number[];
  count: number;
  context: Uint8Array;
}

export type ReassemblyResult = { kind: 'partial'; ask?: ResendAsk } | { kind: 'complete'; bytes: Buffer } | { kind: 'dropped'; reason: string } | { kind: 'duplicate' };

export interface ReassemblerLimits {
  maxBytes: number;
  maxAgeMs: number;
  /** Ask again when no part came for this long (0: only on arrival). */
  resendAfterMs: number;
  /** Requests per message (0: never ask). */
  maxRequests: number;
}

/** Completed keys remembered per connection (oldest forgotten first). */
const MAX_COMPLETED = 256;
/** A request lists at most this many parts (JT/T 808's 0x8800 count is one byte); the rest go in the next one. */
const MAX_LISTED = 255;

export class Reassembler {
  private readonly pending = new Map<string, Pending>();
  /** Keys completed recently → when (insertion order = completion order). */
  private readonly completed = new Map<string, number>();
  private held = 0;

  constructor(private readonly limits: ReassemblerLimits) {}

  get heldBytes(): number {
    return this.held;
  }

  /** Unfinished messages held. */
  get size(): number {
    return this.pending.size;
  }

  add(key: string, index: number, count: number, bytes: Uint8Array, nowMs: number, resend?: Uint8Array): ReassemblyResult {
    this.expire(nowMs);
    if (!Number.isInteger(count) || count < 1 || count > 65535 || !Number.isInteger(index) || index < 0 || index >= count) return { kind: 'dropped', reason: `part ${index} of ${count} is not a valid part number` };
    const doneAt = this.completed.get(key);
    if (doneAt !== undefined) {
      if (nowMs - doneAt <= this.limits.maxAgeMs) return { kind: 'duplicate' };
      this.completed.delete(key);
    }
    let p = this.pending.get(key);
    if (p && p.count !== count) {
      this.drop(key, p);
      p = undefined;
    }
    if (!p) {
      p = { count, parts: new Array<Uint8Array | undefined>(count), have: 0, bytes: 0, firstAtMs: nowMs, lastAtMs: nowMs, resend: null, resendIndex: count, askAt: count - 1, requests: 0 };
      this.pending.set(key, p);
    }
    const old = p.parts[index];
    const grow = bytes.length - (old ? old.length : 0);
    if (this.held + grow > this.limits.maxBytes) {
      this.drop(key, p);
      return { kind: 'dropped', reason: `more than ${this.limits.maxBytes} bytes of unfinished multi-frame messages on one connection` };
    }
    // a part sent again (its ACK was lost) replaces the first copy
    p.parts[index] = Buffer.from(bytes);
    if (!old) p.have++;
    p.bytes += grow;
    this.held += grow;
    p.lastAtMs = nowMs;
    if (resend && index < p.resendIndex) {
      p.resend = Buffer.from(resend);
      p.resendIndex = index;
    }
    if (p.have === p.count) {
      this.drop(key, p);
      this.completed.set(key, nowMs);
      if (this.completed.size > MAX_COMPLETED) this.completed.delete(this.completed.keys().next().value!);
      return { kind: 'complete', bytes: Buffer.concat(p.parts as Uint8Array[]) };
    }
    if (index === p.askAt) {
      const ask = this.ask(key, p, nowMs);
      if (ask) return { kind: 'partial', ask };
    }
    return { kind: 'partial' };
  }

  /**
   * The periodic sweep: drops messages past their age (returned as `dropped`) and returns the
   * requests due because no part came for resendAfterMs.
   */
  sweep(nowMs: number): { asks: ResendAsk[]; dropped: number } {
    const dropped = this.expire(nowMs);
    const asks: ResendAsk[] = [];
    if (this.limits.resendAfterMs > 0) {
      for (const [key, p] of this.pending) {
        if (nowMs - p.lastAtMs < this.limits.resendAfterMs) continue;
        const a = this.ask(key, p, nowMs);
        if (a) asks.push(a);
      }
    }
    return { asks, dropped };
  }

  /** Drops messages older than maxAgeMs; returns how many. */
  expire(nowMs: number): number {
    let n = 0;
    for (const [key, p] of this.pending) {
      if (nowMs - p.firstAtMs > this.limits.maxAgeMs) {
        this.drop(key, p);
        n++;
      }
    }
    return n;
  }

  private ask(key: string, p: Pending, nowMs: number): ResendAsk | null {
    if (!p.resend || p.requests >= this.limits.maxRequests) return null;
    const missing: number[] = [];
    for (let i = 0; i < p.count && missing.length < MAX_LISTED; i++) if (!p.parts[i]) missing.push(i);
    if (missing.length === 0) return null;
    p.requests++;
    p.lastAtMs = nowMs;
    p.askAt = missing[missing.length - 1]!;
    return { key, missing, count: p.count, context: p.resend };
  }

  private drop(key: string, p: Pending): void {
    this.pending.delete(key);
    this.held -= p.bytes;
  }
}
