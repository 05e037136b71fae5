/**
 * Minimal hand-written reference decoders: the same frame, every field read, nothing named and
 * nothing serialised (values land in a preallocated Float64Array). The decode bench puts them
 * next to the full decode so the report shows what naming and JSON cost. They check length and
 * CRC like the real decoder (validation is not naming), but skip error reporting and warnings.
 *
 * A protocol without an entry here is benchmarked without a reference column.
 */
import { crc16Kermit } from '../../src/codec/crc.js';

export type ReferenceDecoder = (frame: Uint8Array, sink: Float64Array) => number;

/** Ruptela records (cmd 1 classic / cmd 68 extended): returns the record count, 0 for other commands. */
function ruptelaRecords(f: Uint8Array, sink: Float64Array): number {
  const len = (f[0]! << 8) | f[1]!;
  if (len + 4 !== f.length) throw new Error('length');
  if (crc16Kermit(f, 2, 2 + len) !== ((f[2 + len]! << 8) | f[3 + len]!)) throw new Error('crc');
  const dv = new DataView(f.buffer, f.byteOffset, f.byteLength);
  let k = 0;
  sink[k++] = dv.getUint32(2) * 4294967296 + dv.getUint32(6); // IMEI (exact below 2^53)
  const cmd = f[10]!;
  if (cmd !== 1 && cmd !== 68) return 0;
  const ext = cmd === 68;
  const count = f[12]!;
  let p = 13;
  for (let r = 0; r < count; r++) {
    sink[k++] = dv.getUint32(p); // timestamp
    sink[k++] = f[p + 4]!; // tsExt
    p += 5;
    if (ext) sink[k++] = f[p++]!; // record extension
    sink[k++] = f[p]!; // priority
    sink[k++] = dv.getInt32(p + 1) / 1e7; // lon
    sink[k++] = dv.getInt32(p + 5) / 1e7; // lat
    sink[k++] = dv.getInt16(p + 9) / 10; // alt
    sink[k++] = dv.getUint16(p + 11) / 100; // angle
    sink[k++] = f[p + 13]!; // satellites
    sink[k++] = dv.getUint16(p + 14); // speed
    sink[k++] = f[p + 16]! / 10; // hdop
    p += 17;
    sink[k++] = ext ? dv.getUint16(p) : f[p]!; // event
    p += ext ? 2 : 1;
    for (let w = 1; w <= 8; w <<= 1) {
      const n = f[p++]!;
      for (let i = 0; i < n; i++) {
        sink[k++] = ext ? dv.getUint16(p) : f[p]!;
        p += ext ? 2 : 1;
        if (w === 1) sink[k++] = f[p]!;
        else if (w === 2) sink[k++] = dv.getUint16(p);
        else if (w === 4) sink[k++] = dv.getUint32(p);
        else {
          sink[k++] = dv.getUint32(p);
          sink[k++] = dv.getUint32(p + 4);
        }
        p += w;
      }
      if (k > sink.length - 64) k = 16; // a long frame wraps the sink: only the reads matter
    }
  }
  if (p > 2 + len) throw new Error('truncated');
  return count;
}

export const REFERENCE_DECODERS: Record<string, ReferenceDecoder> = {
  ruptela: ruptelaRecords,
};
