/**
 * Records: cmd 1 (classic, 1-byte IO ids) and cmd 68 (extended, 2-byte IO ids), ref §6.
 *
 * ```
 * payload: recordsLeft u8 | count u8 | record × count
 * record header (classic 23 B / extended 25 B):
 *   ts u32 | tsExt u8 | [recordExt u8: ext only] | priority u8 | lon i32 | lat i32 | alt i16
 *   | angle u16 | satellites u8 | speed u16 | hdop u8 | event u8 (classic) / u16 (ext)
 * then four IO groups, always present, in this order (id u8 classic / u16 ext, values BE):
 *   n1 {id, 1 B}×n1 | n2 {id, 2 B}×n2 | n4 {id, 4 B}×n4 | n8 {id, 8 B}×n8
 * ```
 *
 * Split extended records (recordExt high nibble = parts − 1, low nibble = part index) are merged by
 * the key (timestamp, tsExt) with the union of their IO maps — never by adjacency, because parts
 * of two groups can interleave (ref §6.3; T#11 must give 2 messages, T#1 and T#10 one each).
 * Decoders are pure and keep no state between frames, so a group whose parts do not all arrive in
 * this frame is emitted with the parts present and a warning; flespi-style storage merges messages
 * that share a timestamp, which reunites the halves downstream.
 * Classic records are never merged (T#3 has two distinct records with equal ts and tsExt); the
 * vendor's decimal tsExt "1bc" split scheme has never been seen, so tsExt ≥ 100 is only reported.
 */
import { ByteReader } from '../../src/codec/byte-reader.js';
import type { DecodeWarning, Message } from '../../src/protocol/types.js';
import { applyIo, type IoEntry } from './io-values.js';

interface RawRecord {
  ts: number;
  tsExt: number;
  /** recordExtension byte (extended only; 0 = standalone). */
  ext: number;
  priority: number;
  lon: number;
  lat: number;
  alt: number;
  angle: number;
  satellites: number;
  speed: number;
  hdop: number;
  event: number;
  io: Map<number, IoEntry>;
}

/** No-fix sentinels of "collect without fix" mode B (ref §6.4). */
const NO_COORD = -0x80000000;
const NO_ALT = -0x8000;
const NO_U16 = 0xffff;
const NO_U8 = 0xff;
/** HDOP 254: the position comes from the GSM network, not GNSS [V]. */
const HDOP_GSM = 254;

const WIDTHS = [1, 2, 4, 8] as const;

function readRecord(r: ByteReader, extended: boolean, warnings: DecodeWarning[]): RawRecord {
  const ts = r.u32('record timestamp');
  const tsExt = r.u8('timestamp extension');
  const ext = extended ? r.u8('record extension') : 0;
  const priority = r.u8('priority');
  const lon = r.i32('longitude');
  const lat = r.i32('latitude');
  const alt = r.i16('altitude');
  const angle = r.u16('angle');
  const satellites = r.u8('satellites');
  const speed = r.u16('speed');
  const hdop = r.u8('hdop');
  const event = extended ? r.u16('event id') : r.u8('event id');
  const io = new Map<number, IoEntry>();
  for (const width of WIDTHS) {
    const n = r.u8(`${width}-byte IO count`);
    for (let i = 0; i < n; i++) {
      const id = extended ? r.u16('IO id') : r.u8('IO id');
      let entry: IoEntry;
      if (width === 8) entry = { width, value: 0, bytes: r.bytes(8, `IO ${id} value`) };
      else entry = { width, value: width === 1 ? r.u8(`IO ${id} value`) : width === 2 ? r.u16(`IO ${id} value`) : r.u32(`IO ${id} value`), bytes: undefined };
      if (io.has(id)) {
        warnings.push({ code: 'EDGE_DECODE_INVALID', reason: `IO ${id} appears twice in one record; the last value is kept` });
        io.delete(id);
      }
      io.set(id, entry);
    }
  }
  return { ts, tsExt, ext, priority, lon, lat, alt, angle, satellites, speed, hdop, event, io };
}

function sameEntry(a: IoEntry, b: IoEntry): boolean {
  if (a.width !== b.width) return false;
  if (a.bytes === undefined || b.bytes === undefined) return a.value === b.value;
  for (let i = 0; i < 8; i++) if (a.bytes[i] !== b.bytes[i]) return false;
  return true;
}

interface Group {
  head: RawRecord;
  io: Map<number, IoEntry>;
  parts: number;
  seen: number;
}

/** Parses the records payload (reader positioned after the command byte) into messages. */
export function decodeRecords(r: ByteReader, extended: boolean, ident: string, warnings: DecodeWarning[]): Message[] {
  r.u8('records left'); // recordsLeft: a "more to come" flag; the device simply sends the next packet after our ACK
  const count = r.u8('record count');
  const groups: Group[] = [];
  const byKey = new Map<number, Group>();
  for (let i = 0; i < count; i++) {
    const rec = readRecord(r, extended, warnings);
    const parts = (rec.ext >>> 4) + 1;
    const index = rec.ext & 0x0f;
    if (!extended && rec.tsExt >= 100) {
      warnings.push({ code: 'EDGE_DECODE_UNSUPPORTED', reason: `classic record tsExt ${rec.tsExt} ≥ 100 (vendor split scheme) is not merged` });
    }
    if (parts === 1 || index >= parts) {
      if (index >= parts) warnings.push({ code: 'EDGE_DECODE_INVALID', reason: `record extension 0x${rec.ext.toString(16)}: part ${index} of ${parts}; kept as a standalone record` });
      groups.push({ head: rec, io: rec.io, parts: 1, seen: 1 });
      continue;
    }
    const key = rec.ts * 256 + rec.tsExt;
    const g = byKey.get(key);
    if (g === undefined) {
      const fresh: Group = { head: rec, io: rec.io, parts, seen: 1 << index };
      byKey.set(key, fresh);
      groups.push(fresh);
      continue;
    }
    g.seen |= 1 << index;
    for (const [id, e] of rec.io) {
      const prev = g.io.get(id);
      if (prev !== undefined && !sameEntry(prev, e)) {
        warnings.push({ code: 'EDGE_DECODE_INVALID', reason: `IO ${id} differs between parts of split record ${rec.ts}/${rec.tsExt}; the last value is kept` });
      }
      g.io.set(id, e);
    }
  }
  if (r.remaining > 0) {
    warnings.push({ code: 'EDGE_DECODE_TRAILING', reason: `${r.remaining} byte(s) after ${count} record(s) ignored` });
  }
  const messages: Message[] = [];
  for (const g of groups) {
    if (g.parts > 1 && g.seen !== (1 << g.parts) - 1) {
      warnings.push({
        code: 'EDGE_DECODE_PARTIAL',
        reason: `split record ${g.head.ts}/${g.head.tsExt} has ${popcount(g.seen)} of ${g.parts} parts in this frame; emitted as is`,
      });
    }
    messages.push(recordMessage(g.head, g.io, ident, warnings));
  }
  return messages;
}

function popcount(v: number): number {
  let n = 0;
  for (; v !== 0; v &= v - 1) n++;
  return n;
}

function recordMessage(h: RawRecord, io: ReadonlyMap<number, IoEntry>, ident: string, warnings: DecodeWarning[]): Message {
  const msg: Message = {
    ident,
    timestamp: h.ts,
    // tsExt orders records within one second; it is not a fraction of the second (ref §6.2)
    'timestamp.key': h.tsExt,
    'event.enum': h.event,
    'event.priority.enum': h.priority,
  };
  const hasCoords = h.lat !== NO_COORD && h.lon !== NO_COORD;
  if (hasCoords) {
    msg['position.latitude'] = h.lat / 1e7;
    msg['position.longitude'] = h.lon / 1e7;
  }
  if (h.alt !== NO_ALT) msg['position.altitude'] = h.alt / 10;
  if (h.angle !== NO_U16) msg['position.direction'] = h.angle / 100;
  if (h.speed !== NO_U16) msg['position.speed'] = h.speed;
  if (h.satellites !== NO_U8) msg['position.satellites'] = h.satellites;
  if (h.hdop === HDOP_GSM) msg['position.gsm.status'] = true;
  else if (h.hdop !== NO_U8) msg['position.hdop'] = h.hdop / 10;
  // Mode A repeats the last fix with 0 satellites; mode B uses sentinels; 254 is a GSM position.
  msg['position.valid'] = hasCoords && h.satellites > 0 && h.satellites !== NO_U8 && h.hdop !== HDOP_GSM;
  applyIo(io, msg, warnings);
  return msg;
}
