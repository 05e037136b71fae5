/**
 * Cutting a JT/T 1078 media stream into packets: `splitStream` (pure, one verdict per call),
 * `StreamCutter` (one TCP connection: buffer, learned SIM width, counters) and `decodeDatagram`
 * (UDP: one packet per datagram).
 *
 * The SIM width rule (6 bytes 2013-style, 10 bytes 2019-style; no byte tells): both readings of the
 * header are tried. A reading is plausible when its data type is 0–4, its sub-package mark 0–3, its
 * timestamp below 2^53 ms and its body length at most the body limit. One plausible reading decides. When both are plausible
 * (rare: a 6-byte packet with a device-uptime timestamp whose top bytes are zero can look like a
 * 10-byte one), the evidence is, in order: which reading's packet end is followed by the next
 * packet's magic (TCP) or ends exactly at the datagram's end (UDP); then which SIM is packed BCD.
 * Still undecided on TCP: wait for more bytes (the next magic settles it); on UDP: an error. The
 * width found on a connection's first packet is kept for the rest of it (a device does not change
 * its header version mid-stream), and a caller that knows the device's JT/T 808 header version can
 * pass the width and skip the guess. Traccar's heuristic (10 bytes when the first two SIM bytes are
 * zero) is not used: it misreads 6-byte SIMs starting with 0000.
 *
 * Garbage (bytes that are not a plausible packet start) is skipped up to the next magic, and every
 * skip is reported as EDGE_FRAME_GARBAGE with its stream offset and counted, so the listener can
 * decide when a peer is too noisy; a skip never loses a plausible packet start.
 */
import { EdgeError, type ErrorInfo } from '../../../src/errors.js';
import { DATA_TYPE, MAX_BODY_BYTES, PRE_SIM_BYTES, STREAM_MAGIC, decodePacket, headerBytes, type SimWidth, type StreamPacket } from './packet.js';

export type StreamSplit =
  | { kind: 'need-more' }
  | { kind: 'packet'; length: number; simWidth: SimWidth }
  /** Skip `length` bytes (not a packet start); `error.offset` is relative to `start`. */
  | { kind: 'skip'; length: number; error: ErrorInfo };

export interface SplitOptions {
  /** Known SIM width of this connection; undefined = detect (see the file comment). */
  simWidth?: SimWidth | undefined;
  maxBodyBytes?: number;
  /** No more bytes will follow `end` (a UDP datagram, a closed connection): never answer need-more for evidence. */
  final?: boolean;
}

type Reading = { kind: 'short' } | { kind: 'bad'; reason: string } | { kind: 'ok'; length: number };

function hasMagicAt(buf: Uint8Array, at: number): boolean {
  return buf[at] === STREAM_MAGIC[0] && buf[at + 1] === STREAM_MAGIC[1] && buf[at + 2] === STREAM_MAGIC[2] && buf[at + 3] === STREAM_MAGIC[3];
}

/** The packet length that a header read with this SIM width announces, if the header is plausible. */
function readAt(buf: Uint8Array, start: number, end: number, w: SimWidth, maxBody: number): Reading {
  const typeAt = start + PRE_SIM_BYTES + w + 1;
  if (typeAt >= end) return { kind: 'short' };
  const dataType = buf[typeAt]! >> 4;
  const sub = buf[typeAt]! & 0x0f;
  if (dataType > DATA_TYPE.TRANSPARENT) return { kind: 'bad', reason: `data type ${dataType}` };
  if (sub > 3) return { kind: 'bad', reason: `sub-package mark ${sub}` };
  const head = headerBytes(w, dataType);
  if (start + head > end) return { kind: 'short' };
  // a timestamp needs at most 53 bits (decodePacket's limit): more is garbage, and evidence on the SIM width
  if (dataType !== DATA_TYPE.TRANSPARENT && (buf[typeAt + 1] !== 0 || (buf[typeAt + 2]! & 0xe0) !== 0)) return { kind: 'bad', reason: 'a timestamp beyond 2^53 ms' };
  const len = (buf[start + head - 2]! << 8) | buf[start + head - 1]!;
  if (len > maxBody) return { kind: 'bad', reason: `body length ${len}` };
  return { kind: 'ok', length: head + len };
}

function isBcd(buf: Uint8Array, from: number, n: number): boolean {
  for (let i = from; i < from + n; i++) if ((buf[i]! & 0x0f) > 9 || buf[i]! >> 4 > 9) return false;
  return true;
}

/**
 * Which evidence a complete reading has: 2 = its end is the next packet's magic or the datagram's
 * end; 1 = unknown yet (not enough bytes); 0 = its end holds other bytes.
 */
function endEvidence(buf: Uint8Array, start: number, end: number, length: number, final: boolean): number {
  const at = start + length;
  if (at === end && final) return 2;
  if (at + 4 <= end) return hasMagicAt(buf, at) ? 2 : 0;
  if (final) return 0;
  return 1;
}

/** The SIM width of the packet at `start`, 'need-more', or null when neither reading is a packet. */
export function detectSimWidth(buf: Uint8Array, start: number, end: number, maxBodyBytes = MAX_BODY_BYTES, final = false): SimWidth | 'need-more' | null {
  const r6 = readAt(buf, start, end, 6, maxBodyBytes);
  const r10 = readAt(buf, start, end, 10, maxBodyBytes);
  if (r6.kind === 'bad' && r10.kind === 'bad') return null;
  if (r6.kind === 'ok' && r10.kind === 'bad') return 6;
  if (r10.kind === 'ok' && r6.kind === 'bad') return 10;
  if (r6.kind === 'short' || r10.kind === 'short') {
    if (!final) return 'need-more';
    return r6.kind === 'ok' ? 6 : r10.kind === 'ok' ? 10 : null;
  }
  // both plausible (both 'ok' here): the bytes after each reading's end decide
  const e6 = endEvidence(buf, start, end, (r6 as { length: number }).length, final);
  const e10 = endEvidence(buf, start, end, (r10 as { length: number }).length, final);
  if (e6 === 2 && e10 !== 2) return 6;
  if (e10 === 2 && e6 !== 2) return 10;
  if (e6 === 1 || e10 === 1) return 'need-more';
  const bcd6 = isBcd(buf, start + PRE_SIM_BYTES, 6);
  const bcd10 = isBcd(buf, start + PRE_SIM_BYTES, 10);
  if (bcd10 !== bcd6) return bcd10 ? 10 : 6;
  return null;
}

/** Bytes from `start` up to the next possible packet start (a full magic, or a partial one at the end). */
function garbageLength(buf: Uint8Array, start: number, end: number): number {
  for (let i = start + 1; i < end; i++) {
    if (buf[i] !== STREAM_MAGIC[0]) continue;
    if (i + 4 > end) {
      // a tail that could be the start of a magic stays buffered
      let partial = true;
      for (let k = 1; i + k < end; k++) if (buf[i + k] !== STREAM_MAGIC[k]) partial = false;
      if (partial) return i - start;
      continue;
    }
    if (hasMagicAt(buf, i)) return i - start;
  }
  return end - start;
}

function skip(buf: Uint8Array, start: number, end: number, why: string): StreamSplit {
  const length = garbageLength(buf, start, end);
  return { kind: 'skip', length, error: { code: 'EDGE_FRAME_GARBAGE', reason: `${length} byte(s) skipped: ${why}`, offset: 0 } };
}

/** One verdict for the bytes at `start`: a packet of `length` bytes, need more, or skip garbage. */
export function splitStream(buf: Uint8Array, start: number, end: number, opts: SplitOptions = {}): StreamSplit {
  const maxBody = opts.maxBodyBytes ?? MAX_BODY_BYTES;
  const final = opts.final ?? false;
  const have = end - start;
  if (have <= 0) return { kind: 'need-more' };
  for (let i = 0; i < Math.min(4, have); i++) {
    if (buf[start + i] !== STREAM_MAGIC[i]) return skip(buf, start, end, 'no packet magic (30 31 63 64)');
  }
  if (have < 4) return final ? skip(buf, start, end, 'a stream ends inside a packet magic') : { kind: 'need-more' };
  let width = opts.simWidth;
  if (width === undefined) {
    const d = detectSimWidth(buf, start, end, maxBody, final);
    if (d === 'need-more') return { kind: 'need-more' };
    if (d === null) return skip(buf, start, end, 'a magic whose header is no packet with a 6- or 10-byte SIM');
    width = d;
  }
  const r = readAt(buf, start, end, width, maxBody);
  if (r.kind === 'bad') return skip(buf, start, end, `a magic whose header is no packet (${r.reason} with a ${width}-byte SIM)`);
  if (r.kind === 'short' || start + r.length > end) {
    return final ? skip(buf, start, end, 'the stream ends inside a packet') : { kind: 'need-more' };
  }
  return { kind: 'packet', length: r.length, simWidth: width };
}

/** A UDP datagram: exactly one packet (its SIM width detected unless given). Throws EdgeError. */
export function decodeDatagram(msg: Uint8Array, simWidth?: SimWidth, maxBodyBytes = MAX_BODY_BYTES): StreamPacket {
  const v = splitStream(msg, 0, msg.length, { simWidth, maxBodyBytes, final: true });
  if (v.kind === 'skip') {
    // decode anyway when the magic is there, for the precise reason (a truncated or over-long field)
    if (hasMagicAt(msg, 0) && simWidth !== undefined) decodePacket(msg, simWidth, maxBodyBytes);
    throw EdgeError.fromInfo(v.error);
  }
  if (v.kind === 'need-more') throw new EdgeError('EDGE_DECODE_TRUNCATED', `datagram of ${msg.length} bytes is shorter than a packet`, 0);
  if (v.length !== msg.length) throw new EdgeError('EDGE_FRAME_LENGTH', `datagram of ${msg.length} bytes holds a ${v.length}-byte packet`, 0);
  return decodePacket(msg, v.simWidth, maxBodyBytes);
}

export interface CutterStats {
  packets: number;
  /** Times garbage was skipped, and how many bytes in all. */
  resyncs: number;
  skippedBytes: number;
}

export interface CutResult {
  packets: StreamPacket[];
  /** EDGE_FRAME_GARBAGE per skip, offset = position in the connection's byte stream. */
  errors: EdgeError[];
}

/**
 * One TCP connection's cutter. Memory is bounded: it holds at most one incomplete packet (header +
 * `maxBodyBytes` + the 4 bytes of evidence for the SIM width) plus the chunk being cut. Packet bodies
 * are views of the pushed chunk or of arrays the cutter made and never writes again (no copy per packet).
 */
export class StreamCutter {
  private rest: Uint8Array = new Uint8Array(0);
  private restOffset = 0;
  private width: SimWidth | undefined;
  private readonly maxBody: number;
  readonly stats: CutterStats = { packets: 0, resyncs: 0, skippedBytes: 0 };

  constructor(opts: { simWidth?: SimWidth; maxBodyBytes?: number } = {}) {
    this.width = opts.simWidth;
    this.maxBody = opts.maxBodyBytes ?? MAX_BODY_BYTES;
  }

  /** The connection's SIM width, once known. */
  get simWidth(): SimWidth | undefined {
    return this.width;
  }

  get buffered(): number {
    return this.rest.length;
  }

  push(chunk: Uint8Array): CutResult {
    let buf: Uint8Array;
    if (this.rest.length === 0) buf = chunk;
    else {
      buf = new Uint8Array(this.rest.length + chunk.length);
      buf.set(this.rest);
      buf.set(chunk, this.rest.length);
    }
    return this.cut(buf, false);
  }

  /** The connection closed: bytes left over are an incomplete packet (EDGE_FRAME_GARBAGE, counted). */
  end(): CutResult {
    return this.cut(this.rest, true);
  }

  private cut(buf: Uint8Array, final: boolean): CutResult {
    const out: CutResult = { packets: [], errors: [] };
    let pos = 0;
    while (pos < buf.length) {
      const v = splitStream(buf, pos, buf.length, { simWidth: this.width, maxBodyBytes: this.maxBody, final });
      if (v.kind === 'need-more') break;
      if (v.kind === 'skip') {
        this.stats.resyncs++;
        this.stats.skippedBytes += v.length;
        out.errors.push(new EdgeError(v.error.code, v.error.reason, this.restOffset + pos));
        pos += v.length;
        continue;
      }
      let packet: StreamPacket;
      try {
        packet = decodePacket(buf.subarray(pos, pos + v.length), v.simWidth, this.maxBody);
      } catch (e) {
        // splitStream checks what decodePacket checks; should they ever disagree, the packet is garbage, not a crash
        const reason = e instanceof EdgeError ? e.reason : String(e);
        this.stats.resyncs++;
        this.stats.skippedBytes += v.length;
        out.errors.push(new EdgeError('EDGE_FRAME_GARBAGE', `${v.length} byte(s) skipped: ${reason}`, this.restOffset + pos));
        pos += v.length;
        continue;
      }
      this.width ??= v.simWidth;
      out.packets.push(packet);
      this.stats.packets++;
      pos += v.length;
    }
    this.restOffset += pos;
    // copy the tail: the caller may reuse its chunk's memory after push returns
    this.rest = buf.slice(pos);
    return out;
  }
}
