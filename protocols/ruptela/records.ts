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
import type { ByteReader } from '../../src/codec/byte-reader.js';
import { EdgeError } from '../../src/errors.js';
import type { DecodeWarning, Message } from '../../src/protocol/types.js';
import { applyIo } from './io-values.js';
import { DELETED, IdStamps, IoStore } from './io-store.js';

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
  /** This record's IO elements: STORE entries [ioStart, ioEnd), wire order. */
  ioStart: number;
  ioEnd: number;
}

/** No-fix sentinels of "collect without fix" mode B (ref §6.4). */
const NO_COORD = -0x80000000;
const NO_ALT = -0x8000;
const NO_U16 = 0xffff;
const NO_U8 = 0xff;
/** HDOP 254: the position comes from the GSM network, not GNSS [V]. */
const HDOP_GSM = 254;

const WIDTHS = [1, 2, 4, 8] as const;

/** Fixed record header sizes (see the layout above). */
const HEADER_CLASSIC = 23;
const HEADER_EXTENDED = 25;

/**
 * IO elements of the frame being decoded, and "id already seen in this record" stamps (any u16 id).
 * Module-level and reused: decode is synchronous and never re-entered, and nothing outside
 * decodeRecords keeps a reference to them (messages hold plain values only).
 */
const STORE = new IoStore();
const SEEN = new IdStamps(0x10000);

// Big-endian reads on a range already bounds-checked by the caller (plain byte arithmetic: no
// DataView to allocate per frame, and V8 inlines these).
const u16at = (b: Uint8Array, p: number): number => (b[p]! << 8) | b[p + 1]!;
const i16at = (b: Uint8Array, p: number): number => (((b[p]! << 8) | b[p + 1]!) << 16) >> 16;
const i32at = (b: Uint8Array, p: number): number => (b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!;
const u32at = (b: Uint8Array, p: number): number => i32at(b, p) >>> 0;

/**
 * Reads one record at r.pos, appending its IO elements to STORE.
 *
 * Fast path: one bounds check for the header (+ the first IO count byte) and one per IO group
 * (its entries + the next count byte), then unchecked byte arithmetic. Any check that fails hands
 * over to throwTruncated(), which re-reads the record field by field through the ByteReader so the
 * EDGE_DECODE_TRUNCATED error names the same field at the same offset as a checked read would.
 */
function readRecord(r: ByteReader, extended: boolean, warnings: DecodeWarning[]): RawRecord {
  const b = r.buf;
  const end = r.end;
  const start = r.pos;
  const x = extended ? 1 : 0; // extended records have the extra recordExt byte after tsExt
  const header = extended ? HEADER_EXTENDED : HEADER_CLASSIC;
  if (start + header + 1 > end) throwTruncated(r, start, extended);
  const ts = u32at(b, start);
  const tsExt = b[start + 4]!;
  const ext = extended ? b[start + 5]! : 0;
  const priority = b[start + 5 + x]!;
  const lon = i32at(b, start + 6 + x);
  const lat = i32at(b, start + 10 + x);
  const alt = i16at(b, start + 14 + x);
  const angle = u16at(b, start + 16 + x);
  const satellites = b[start + 18 + x]!;
  const speed = u16at(b, start + 19 + x);
  const hdop = b[start + 21 + x]!;
  const event = extended ? u16at(b, start + 23) : b[start + 22]!;
  let p = start + header;

  const idBytes = extended ? 2 : 1;
  const ioStart = STORE.length;
  SEEN.next();
  for (const width of WIDTHS) {
    const n = b[p++]!; // in bounds: checked with the header or the previous group
    const size = n * (idBytes + width);
    if (p + size + (width === 8 ? 0 : 1) > end) throwTruncated(r, start, extended);
    STORE.reserve(n);
    const ids = STORE.ids;
    const widths = STORE.widths;
    const values = STORE.values;
    for (let i = 0; i < n; i++) {
      const id = extended ? u16at(b, p) : b[p]!;
      p += idBytes;
      // 8-byte values stay in the frame: store their offset, publish them as hex later
      const value = width === 1 ? b[p]! : width === 2 ? u16at(b, p) : width === 4 ? u32at(b, p) : p;
      p += width;
      if (SEEN.mark(id)) dropEarlier(ioStart, id, warnings);
      const k = STORE.length++;
      ids[k] = id;
      widths[k] = width;
      values[k] = value;
    }
  }
  r.pos = p;
  return { ts, tsExt, ext, priority, lon, lat, alt, angle, satellites, speed, hdop, event, ioStart, ioEnd: STORE.length };
}

/** A duplicate id in one record: the last value is kept, at the end (as Map delete + set would). */
function dropEarlier(ioStart: number, id: number, warnings: DecodeWarning[]): void {
  warnings.push({ code: 'EDGE_DECODE_INVALID', reason: `IO ${id} appears twice in one record; the last value is kept` });
  for (let k = STORE.length - 1; k >= ioStart; k--) {
    if (STORE.ids[k] === id && STORE.widths[k] !== DELETED) {
      STORE.widths[k] = DELETED;
      return;
    }
  }
}

/** Header fields in wire order, for the field-by-field re-read of a truncated record. */
const HEADER_FIELDS_CLASSIC: readonly (readonly [string, number])[] = [
  ['record timestamp', 4], ['timestamp extension', 1], ['priority', 1], ['longitude', 4], ['latitude', 4], ['altitude', 2],
  ['angle', 2], ['satellites', 1], ['speed', 2], ['hdop', 1], ['event id', 1],
];
const HEADER_FIELDS_EXTENDED: readonly (readonly [string, number])[] = [
  ['record timestamp', 4], ['timestamp extension', 1], ['record extension', 1], ['priority', 1], ['longitude', 4], ['latitude', 4],
  ['altitude', 2], ['angle', 2], ['satellites', 1], ['speed', 2], ['hdop', 1], ['event id', 2],
];

/**
 * Slow path of readRecord for a record that runs past the frame end: re-reads it from `start`
 * with checked reads, which throw EDGE_DECODE_TRUNCATED at the first field that does not fit.
 */
function throwTruncated(r: ByteReader, start: number, extended: boolean): never {
  r.pos = start;
  for (const [what, size] of extended ? HEADER_FIELDS_EXTENDED : HEADER_FIELDS_CLASSIC) r.skip(size, what);
  for (const width of WIDTHS) {
    const n = r.u8(`${width}-byte IO count`);
    for (let i = 0; i < n; i++) {
      const id = extended ? r.u16('IO id') : r.u8('IO id');
      r.skip(width, `IO ${id} value`);
    }
  }
  // not reached: the fast path only gets here when some field does not fit
  throw new EdgeError('EDGE_DECODE_TRUNCATED', 'record runs past the end of the frame', r.offset);
}

interface Group {
  head: RawRecord;
  parts: number;
  seen: number;
  /**
   * Split records only (undefined for standalone ones): the merged IO as STORE entry indices in
   * Map order (first appearance; a later part's value replaces in place), and id → index in slots.
   */
  slots: number[] | undefined;
  slotOf: Map<number, number> | undefined;
}

/** Adds a later part's IO to a split-record group: union by id, the last value kept. */
function mergePart(g: Group, rec: RawRecord, buf: Uint8Array, warnings: DecodeWarning[]): void {
  let slots = g.slots;
  let slotOf = g.slotOf;
  if (slots === undefined || slotOf === undefined) {
    slots = [];
    slotOf = new Map();
    for (let k = g.head.ioStart; k < g.head.ioEnd; k++) {
      if (STORE.widths[k] === DELETED) continue;
      slotOf.set(STORE.ids[k]!, slots.length);
      slots.push(k);
    }
    g.slots = slots;
    g.slotOf = slotOf;
  }
  for (let k = rec.ioStart; k < rec.ioEnd; k++) {
    if (STORE.widths[k] === DELETED) continue;
    const id = STORE.ids[k]!;
    const at = slotOf.get(id);
    if (at === undefined) {
      slotOf.set(id, slots.length);
      slots.push(k);
      continue;
    }
    if (!STORE.sameEntry(buf, slots[at]!, k)) {
      warnings.push({ code: 'EDGE_DECODE_INVALID', reason: `IO ${id} differs between parts of split record ${rec.ts}/${rec.tsExt}; the last value is kept` });
    }
    slots[at] = k;
  }
}

/** Parses the records payload (reader positioned after the command byte) into messages. */
export function decodeRecords(r: ByteReader, extended: boolean, ident: string, warnings: DecodeWarning[]): Message[] {
  r.u8('records left'); // recordsLeft: a "more to come" flag; the device simply sends the next packet after our ACK
  const count = r.u8('record count');
  const buf = r.buf;
  STORE.length = 0;
  const groups: Group[] = [];
  let byKey: Map<number, Group> | undefined;
  for (let i = 0; i < count; i++) {
    const rec = readRecord(r, extended, warnings);
    const parts = (rec.ext >>> 4) + 1;
    const index = rec.ext & 0x0f;
    if (!extended && rec.tsExt >= 100) {
      warnings.push({ code: 'EDGE_DECODE_UNSUPPORTED', reason: `classic record tsExt ${rec.tsExt} ≥ 100 (vendor split scheme) is not merged` });
    }
    if (parts === 1 || index >= parts) {
      if (index >= parts) warnings.push({ code: 'EDGE_DECODE_INVALID', reason: `record extension 0x${rec.ext.toString(16)}: part ${index} of ${parts}; kept as a standalone record` });
      groups.push({ head: rec, parts: 1, seen: 1, slots: undefined, slotOf: undefined });
      continue;
    }
    const key = rec.ts * 256 + rec.tsExt;
    byKey ??= new Map();
    const g = byKey.get(key);
    if (g === undefined) {
      const fresh: Group = { head: rec, parts, seen: 1 << index, slots: undefined, slotOf: undefined };
      byKey.set(key, fresh);
      groups.push(fresh);
      continue;
    }
    g.seen |= 1 << index;
    mergePart(g, rec, buf, warnings);
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
    let start = g.head.ioStart;
    let end = g.head.ioEnd;
    if (g.slots !== undefined) {
      // lay the merged IO out as one range at the end of the store, in merged order
      start = STORE.length;
      for (const k of g.slots) STORE.copyEntry(k);
      end = STORE.length;
    }
    messages.push(recordMessage(g.head, buf, start, end, ident, warnings));
  }
  return messages;
}

function popcount(v: number): number {
  let n = 0;
  for (; v !== 0; v &= v - 1) n++;
  return n;
}

function recordMessage(h: RawRecord, buf: Uint8Array, ioStart: number, ioEnd: number, ident: string, warnings: DecodeWarning[]): Message {
  const hasCoords = h.lat !== NO_COORD && h.lon !== NO_COORD;
  // Mode A repeats the last fix with 0 satellites; mode B uses sentinels; 254 is a GSM position.
  const valid = hasCoords && h.satellites > 0 && h.satellites !== NO_U8 && h.hdop !== HDOP_GSM;
  let msg: Message;
  if (hasCoords && h.alt !== NO_ALT && h.angle !== NO_U16 && h.speed !== NO_U16 && h.satellites !== NO_U8 && h.hdop !== NO_U8 && h.hdop !== HDOP_GSM) {
    // The common case, every header field present, as ONE literal (same keys, same order as the
    // general path below). Why: V8 gives a literal in-object slots for all its properties; a
    // message grown from a 5-key literal by keyed stores switches to slow dictionary mode after
    // ~20 keys, which made a typical 12-IO record ~4× slower to build (and slower to JSON).
    msg = {
      ident,
      timestamp: h.ts,
      'timestamp.key': h.tsExt,
      'event.enum': h.event,
      'event.priority.enum': h.priority,
      'position.latitude': h.lat / 1e7,
      'position.longitude': h.lon / 1e7,
      'position.altitude': h.alt / 10,
      'position.direction': h.angle / 100,
      'position.speed': h.speed,
      'position.satellites': h.satellites,
      'position.hdop': h.hdop / 10,
      'position.valid': valid,
    };
  } else {
    msg = {
      ident,
      timestamp: h.ts,
      // tsExt orders records within one second; it is not a fraction of the second (ref §6.2)
      'timestamp.key': h.tsExt,
      'event.enum': h.event,
      'event.priority.enum': h.priority,
    };
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
    msg['position.valid'] = valid;
  }
  applyIo(STORE, buf, ioStart, ioEnd, msg, warnings);
  return msg;
}
