/**
 * Parts of messages that a protocol splits over several frames (`reassemble` decode effects, e.g.
 * JT/T 808 sub-packages), kept per connection on the main thread until every part is there. The
 * decoder stays pure: it names the key, the part's index and the count; the runtime joins the parts
 * and decodes the whole as a frame of its own.
 *
 * Bounded: at most `maxBytes` held per connection and `maxAgeMs` per message; a part that would
 * exceed the bytes, or a message that is too old, drops that message (reported, never a crash).
 */
interface Pending {
  count: number;
  parts: (Uint8Array | undefined)[];
  have: number;
  bytes: number;
  firstAtMs: number;
}

export type ReassemblyResult = { kind: 'partial' } | { kind: 'complete'; bytes: Buffer } | { kind: 'dropped'; reason: string };

export class Reassembler {
  private readonly pending = new Map<string, Pending>();
  private held = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly maxAgeMs: number,
  ) {}

  get heldBytes(): number {
    return this.held;
  }

  add(key: string, index: number, count: number, bytes: Uint8Array, nowMs: number): ReassemblyResult {
    this.expire(nowMs);
    if (!Number.isInteger(count) || count < 1 || count > 65535 || !Number.isInteger(index) || index < 0 || index >= count) return { kind: 'dropped', reason: `part ${index} of ${count} is not a valid part number` };
    let p = this.pending.get(key);
    if (p && p.count !== count) {
      this.drop(key, p);
      p = undefined;
    }
    if (!p) {
      p = { count, parts: new Array<Uint8Array | undefined>(count), have: 0, bytes: 0, firstAtMs: nowMs };
      this.pending.set(key, p);
    }
    const old = p.parts[index];
    const grow = bytes.length - (old ? old.length : 0);
    if (this.held + grow > this.maxBytes) {
      this.drop(key, p);
      return { kind: 'dropped', reason: `more than ${this.maxBytes} bytes of unfinished multi-frame messages on one connection` };
    }
    // a part sent again (its ACK was lost) replaces the first copy
    p.parts[index] = Buffer.from(bytes);
    if (!old) p.have++;
    p.bytes += grow;
    this.held += grow;
    if (p.have < p.count) return { kind: 'partial' };
    this.drop(key, p);
    return { kind: 'complete', bytes: Buffer.concat(p.parts as Uint8Array[]) };
  }

  /** Drops messages older than maxAgeMs; returns how many. */
  expire(nowMs: number): number {
    let n = 0;
    for (const [key, p] of this.pending) {
      if (nowMs - p.firstAtMs > this.maxAgeMs) {
        this.drop(key, p);
        n++;
      }
    }
    return n;
  }

  private drop(key: string, p: Pending): void {
    this.pending.delete(key);
    this.held -= p.bytes;
  }
}
