/**
 * The AVL data array of Codec 8, 8 Extended and 16 (ref §3), shared by TCP frames and UDP datagrams:
 *
 * ```
 *  codec u8 | N1 u8 | N1 × record | N2 u8 (= N1)
 *  record: ts u64 ms | priority u8 | lon i32 | lat i32 (deg × 1e7) | alt i16 m | angle u16 | sats u8 | speed u16 km/h
 *          | IO part:
 *                         Codec 8      Codec 8E        Codec 16
 *     event IO id         u8           u16             u16
 *     generation type     -            -               u8
 *     N, N1, N2, N4, N8   u8 each      u16 each        u8 each
 *     IO id               u8           u16             u16
 *     NX group            -            u16 NX, NX × (u16 id, u16 len, len bytes)
 *     N16 group (option)  u8 + (u8 id, 16 bytes) each, after N8: a firmware variant Traccar reads
 * ```
 *
 * One message per record, in wire order. The array must account for every byte up to N2: leftover
 * bytes mean the records were not read as sent, so the frame is refused (no ACK), never half-read.
 */
import type { ByteReader } from '../../src/codec/byte-reader.js';
import { EdgeError } from '../../src/errors.js';
import type { DecodeWarning, Message } from '../../src/protocol/types.js';
import { CODEC } from './constants.js';
import type { IoSpec, IoWidth } from './io-names.js';
import { applyIo, type IoElement } from './io-values.js';

/** The record-carrying codecs. */
export function isAvlCodec(codec: number): boolean {
  return codec === CODEC.c8 || codec === CODEC.c8e || codec === CODEC.c16;
}

export interface AvlData {
  messages: Message[];
  /** Number of records (N1 = N2), the value the ACK carries. */
  count: number;
}

/** Reads `codec .. N2`, `r` positioned on the codec byte and ending after N2. */
export interface AvlOptions {
  dict: ReadonlyMap<number, IoSpec>;
  /** Codec 8 records with a fifth IO group of 16-byte values after N8 (option `codec8_16_byte_group`). */
  codec8Group16: boolean;
}

export function decodeAvlData(r: ByteReader, ident: string, opts: AvlOptions, warnings: DecodeWarning[]): AvlData {
  const codec = r.u8('codec id');
  if (!isAvlCodec(codec)) throw new EdgeError('EDGE_DECODE_INVALID', `codec 0x${codec.toString(16)} carries no AVL records`, r.offset - 1);
  const n1 = r.u8('number of data 1');
  if (n1 === 0) throw new EdgeError('EDGE_DECODE_INVALID', 'number of data 1 is 0: an AVL packet carries at least one record', r.offset - 1);
  const messages: Message[] = [];
  for (let i = 0; i < n1; i++) messages.push(decodeRecord(r, codec, ident, opts, warnings));
  const n2At = r.end - 1;
  if (r.pos !== n2At) {
    throw new EdgeError('EDGE_DECODE_INVALID', `${n1} record(s) end at offset ${r.offset}, but number of data 2 is at offset ${r.offset + n2At - r.pos}`, r.offset);
  }
  const n2 = r.u8('number of data 2');
  if (n2 !== n1) throw new EdgeError('EDGE_DECODE_INVALID', `number of data 2 (${n2}) differs from number of data 1 (${n1})`, r.offset - 1);
  return { messages, count: n1 };
}

function decodeRecord(r: ByteReader, codec: number, ident: string, opts: AvlOptions, warnings: DecodeWarning[]): Message {
  // two u32 halves instead of a BigInt read: this runs for every record
  const tsHigh = r.u32('timestamp');
  const tsMs = tsHigh * 0x1_0000_0000 + r.u32('timestamp');
  if (tsHigh > 0x1fffff) throw new EdgeError('EDGE_DECODE_INVALID', `timestamp ${tsMs} ms is beyond 2^53`, r.offset - 8);
  const priority = r.u8('priority');
  const lon = r.i32('longitude');
  const lat = r.i32('latitude');
  const alt = r.i16('altitude');
  const angle = r.u16('angle');
  const sats = r.u8('satellites');
  const speed = r.u16('speed');
  const wide = codec !== CODEC.c8; // 8E and 16 have 2-byte ids
  const count = codec === CODEC.c8e ? () => r.u16('IO count') : () => r.u8('IO count');
  const ioId = wide ? () => r.u16('IO id') : () => r.u8('IO id');
  const m: Message = { ident, timestamp: tsMs / 1000, 'event.priority.enum': priority };
  m['event.enum'] = ioId();
  if (codec === CODEC.c16) m['event.generation.type.enum'] = r.u8('generation type');
  const total = count();
  // no fix since power-up: the device sends 0/0 (a lost fix repeats the last position instead, ref §3.1)
  if (lat !== 0 || lon !== 0) {
    const latitude = lat / 1e7;
    const longitude = lon / 1e7;
    if (latitude < -90 || latitude > 90 || longitude < -180 || longitude > 180) {
      throw new EdgeError('EDGE_DECODE_INVALID', `position ${latitude}, ${longitude} is outside the globe`, r.offset);
    }
    m['position.latitude'] = latitude;
    m['position.longitude'] = longitude;
  }
  m['position.altitude'] = alt;
  m['position.direction'] = angle;
  m['position.satellites'] = sats;
  m['position.speed'] = speed;
  m['position.valid'] = sats > 0 && (lat !== 0 || lon !== 0);

  const elements: IoElement[] = [];
  for (const width of [1, 2, 4, 8] as const) {
    const n = count();
    for (let i = 0; i < n; i++) {
      const id = ioId();
      const value = width === 1 ? r.u8('IO value') : width === 2 ? r.u16('IO value') : width === 4 ? r.u32('IO value') : r.bytes(8, 'IO value');
      elements.push({ id, width, value });
    }
  }
  if (codec === CODEC.c8 && opts.codec8Group16) {
    const n = count();
    for (let i = 0; i < n; i++) elements.push({ id: ioId(), width: 16, value: r.bytes(16, 'IO value') });
  }
  if (codec === CODEC.c8e) {
    const nx = r.u16('NX count');
    for (let i = 0; i < nx; i++) {
      const id = r.u16('NX IO id');
      const len = r.u16('NX length');
      elements.push({ id, width: 0 as IoWidth, value: r.bytes(len, 'NX value') });
    }
  }
  if (elements.length !== total) {
    warnings.push({ code: 'EDGE_DECODE_INVALID', reason: `record announces ${total} IO elements, its groups hold ${elements.length} (the groups were read)` });
  }
  applyIo(elements, opts.dict, m);
  return m;
}
