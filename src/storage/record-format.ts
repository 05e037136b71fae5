import { crc32 } from 'node:zlib';

/**
 * On-disk record of the spool's segment files (all integers little-endian):
 *
 * ```
 *  0        4        8        12                20        22           22+t
 *  | magic  | bodyLen| crc32  | appendedAtMs f64 | topicLen | topic utf8 | payload bytes |
 *  |<----- header ---------->|<------------------- body (bodyLen bytes, crc32 over it) ------->|
 * ```
 *
 * The magic lets recovery resynchronise after a damaged record (a record is valid only when its
 * magic, length and CRC all check); a torn tail left by a crash mid-write fails the length or CRC
 * check and is cut off. crc32 is zlib's (IEEE), native in Node ≥ 20.15.
 */
export const MAGIC = 0x50534445; // "EDSP" read as little-endian bytes
export const HEADER_BYTES = 12;
const BODY_FIXED = 10;
/** A body longer than this is a damaged length field, not a record. */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;
const MAGIC_BYTES = Buffer.from([0x45, 0x44, 0x53, 0x50]);

export interface ParsedRecord {
  /** File offset of the record's first byte and one past its last. */
  off: number;
  end: number;
  topic: string;
  payload: Buffer;
  appendedAtMs: number;
}

export function encodeRecord(topic: string, payload: string | Buffer, appendedAtMs: number): Buffer {
  const topicLen = Buffer.byteLength(topic);
  const payloadLen = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  const bodyLen = BODY_FIXED + topicLen + payloadLen;
  const b = Buffer.allocUnsafe(HEADER_BYTES + bodyLen);
  b.writeUInt32LE(MAGIC, 0);
  b.writeUInt32LE(bodyLen, 4);
  b.writeDoubleLE(appendedAtMs, 12);
  b.writeUInt16LE(topicLen, 20);
  b.write(topic, 22, 'utf8');
  if (typeof payload === 'string') b.write(payload, 22 + topicLen, 'utf8');
  else payload.copy(b, 22 + topicLen);
  b.writeUInt32LE(crc32(b.subarray(HEADER_BYTES)), 8);
  return b;
}

type Check = { ok: true; end: number } | { ok: false; needMore: boolean };

/** Checks the record at `p` of `buf` (buf[0] is file offset `base`). */
function check(buf: Buffer, p: number): Check {
  if (buf.length - p < HEADER_BYTES) return { ok: false, needMore: true };
  if (buf.readUInt32LE(p) !== MAGIC) return { ok: false, needMore: false };
  const bodyLen = buf.readUInt32LE(p + 4);
  if (bodyLen < BODY_FIXED || bodyLen > MAX_BODY_BYTES) return { ok: false, needMore: false };
  const end = p + HEADER_BYTES + bodyLen;
  if (end > buf.length) return { ok: false, needMore: true };
  if (crc32(buf.subarray(p + HEADER_BYTES, end)) !== buf.readUInt32LE(p + 8)) return { ok: false, needMore: false };
  const topicLen = buf.readUInt16LE(p + 20);
  if (BODY_FIXED + topicLen > bodyLen) return { ok: false, needMore: false };
  return { ok: true, end };
}

function decodeAt(buf: Buffer, p: number, end: number, base: number): ParsedRecord {
  const topicLen = buf.readUInt16LE(p + 20);
  return {
    off: base + p,
    end: base + end,
    appendedAtMs: buf.readDoubleLE(p + 12),
    topic: buf.toString('utf8', p + 22, p + 22 + topicLen),
    // a copy: the read buffer is reused and records outlive it while in flight
    payload: Buffer.from(buf.subarray(p + 22 + topicLen, end)),
  };
}

export interface ParseResult {
  records: ParsedRecord[];
  /** Bytes of buf consumed (whole records and skipped damage); the rest needs more data. */
  consumed: number;
  /** File ranges [from, to) that are not records (damage skipped by resynchronising on the magic). */
  damaged: [number, number][];
}

/**
 * Parses complete records from `buf`. `atEof`: no more bytes follow, so an incomplete or invalid
 * tail with no valid record after it is damage to report (the caller truncates it).
 */
export function parseRecords(buf: Buffer, base: number, atEof: boolean, decode = true): ParseResult {
  const records: ParsedRecord[] = [];
  const damaged: [number, number][] = [];
  let p = 0;
  while (p < buf.length) {
    const c = check(buf, p);
    if (c.ok) {
      if (decode) records.push(decodeAt(buf, p, c.end, base));
      else records.push({ off: base + p, end: base + c.end, topic: '', payload: EMPTY, appendedAtMs: buf.readDoubleLE(p + 12) });
      p = c.end;
      continue;
    }
    if (c.needMore && !atEof) break;
    // damage: find the next magic that starts a valid record
    let q = buf.indexOf(MAGIC_BYTES, p + 1);
    while (q >= 0) {
      const cq = check(buf, q);
      if (cq.ok) break;
      if (cq.needMore && !atEof) break;
      q = buf.indexOf(MAGIC_BYTES, q + 1);
    }
    if (q < 0) {
      if (!atEof) break; // maybe the resync point is in bytes not read yet
      damaged.push([base + p, base + buf.length]);
      p = buf.length;
      break;
    }
    const cq = check(buf, q);
    if (!cq.ok) break; // needs more bytes to decide
    damaged.push([base + p, base + q]);
    p = q;
  }
  return { records, consumed: p, damaged };
}

const EMPTY = Buffer.alloc(0);
